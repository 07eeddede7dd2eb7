package dev.emailrouter.imap;

import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.support.internal.RawHeaders;
import jakarta.mail.MessagingException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.eclipse.angus.mail.iap.Response;
import org.eclipse.angus.mail.imap.protocol.FetchResponse;
import org.eclipse.angus.mail.imap.protocol.UID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lists a session's new messages from its cursor and fetches their headers: the job behind {@link
 * dev.emailrouter.api.MailboxReader.Session#fetchNew}. Looks for new UIDs only where SELECT's UIDNEXT
 * or an {@code EXISTS} says there may be some, applies {@code processReceivedAfter} on a first sync,
 * and fetches headers, size and INTERNALDATE in one bulk {@code UID FETCH} per set of UIDs.
 *
 * <p>One per session, for one thread at a time.
 */
final class HeaderFetcher {

  private static final Logger log = LoggerFactory.getLogger(HeaderFetcher.class);

  private static final String HEADER_FIELDS =
      String.join(" ", MessageHeaders.WANTED).toUpperCase(Locale.ROOT);
  private static final DateTimeFormatter SEARCH_DATE = DateTimeFormatter.ofPattern("d-MMM-yyyy", Locale.ENGLISH);

  private final ImapSettings settings;
  private final String mailbox;
  /** Where the RFC822.SIZE of each message whose headers were fetched goes, for the download. */
  private final Map<Long, Long> sizes;
  /** The UIDVALIDITY the session's UIDs belong to, -1 before the first fetch; a reconnect must find the same. */
  private long uidValidity = -1;

  /**
   * @param sizes the session's sizes by UID, which this fetcher fills
   */
  HeaderFetcher(ImapSettings settings, Map<Long, Long> sizes) {
    this.settings = settings;
    this.mailbox = settings.describe();
    this.sizes = sizes;
  }

  /** The UIDVALIDITY the UIDs this session returned belong to, or -1 when it returned none yet. */
  long uidValidity() {
    return uidValidity;
  }

  /**
   * The messages after the cursor, at most {@code max}, plus those in {@code retryRefs} that still
   * exist; see {@link dev.emailrouter.api.MailboxReader.Session#fetchNew}.
   */
  NewMessages fetchNew(ImapConnection connection, String cursorText, Set<String> retryRefs, int max,
      Consumer<MessageHeaders> arriving) throws MessagingException {
    long validity = connection.folder().getUIDValidity();
    if (validity < 0) {
      throw new PermanentRouterException("IMAP server " + settings.server() + " did not report the UIDVALIDITY of "
          + mailbox + ", which incremental reading requires");
    }
    uidValidity = validity;
    boolean firstSync = cursorText.isEmpty();
    ImapCursor cursor = null;
    boolean reset = false;
    if (!firstSync) {
      try {
        cursor = ImapCursor.parse(cursorText);
      } catch (IllegalArgumentException e) {
        log.warn("{}: cursor '{}' was not written by this reader; starting over from the first message",
            mailbox, cursorText);
        reset = true;
      }
      if (cursor != null && cursor.uidValidity() != validity) {
        log.debug("{}: UIDVALIDITY changed from {} to {}; starting over", mailbox, cursor.uidValidity(), validity);
        cursor = null;
        reset = true;
      }
    }
    long last = cursor == null ? 0 : cursor.lastUid();
    ImapConnection.Watch watch = connection.watch();
    if (watch.validityChanged) {
      throw new TransientRouterException("UIDVALIDITY of " + mailbox + " changed to " + watch.newValidity
          + " while the connection was open; the next tick starts over");
    }
    // SELECT's UIDNEXT, or on a kept connection what the last look found, unless the server reported
    // new messages (EXISTS) since: no round trip. -1 when unknown, and then UID SEARCH looks.
    long uidNext = watch.changed ? -1 : watch.noneFrom;
    watch.changed = false; // cleared before looking: an EXISTS during the search counts for the next look
    Instant after = settings.processReceivedAfter();

    long filterEnd = 0; // UIDs below it are subject to processReceivedAfter
    if (after != null && firstSync) {
      filterEnd = uidNext > 0 ? uidNext : highestUid(connection) + 1;
    } else if (after != null && cursor != null) {
      filterEnd = cursor.filterEnd();
    }
    boolean filtering = filterEnd > last + 1;

    List<Long> candidates = new ArrayList<>();
    int filtered = 0;
    if (filtering) {
      candidates.addAll(searchReceivedSince(connection, last + 1, filterEnd - 1, after));
      filtered = candidates.size();
    }
    long from = filtering ? filterEnd : last + 1;
    if ((uidNext < 0 || uidNext > from) && from <= UidSets.MAX_UID) {
      List<Long> found = uidsFrom(connection, from);
      candidates.addAll(found);
      watch.noneFrom = found.isEmpty() ? from : found.get(found.size() - 1) + 1;
    } else if (uidNext < 0) {
      watch.changed = true; // nothing looked: keep the doubt for the next tick
    }
    List<Long> chosen = candidates.subList(0, Math.min(max, candidates.size()));
    boolean more = candidates.size() > chosen.size();
    long newLast = chosen.isEmpty() ? last : chosen.get(chosen.size() - 1);
    long newFilterEnd = 0;
    if (filtering) {
      if (chosen.size() >= filtered) {
        newLast = Math.max(newLast, filterEnd - 1); // every message below the end was taken or skipped
      } else {
        newFilterEnd = filterEnd;
      }
    }

    TreeSet<Long> wanted = new TreeSet<>(chosen);
    if (cursor != null) {
      for (String ref : retryRefs) {
        long uid = UidSets.parseRef(ref, mailbox);
        if (uid > 0) {
          wanted.add(uid);
        }
      }
    }
    Set<Long> chosenBeforeEnd = filtering ? new HashSet<>(chosen.subList(0, Math.min(filtered, chosen.size())))
        : Set.of();
    List<MessageHeaders> messages = new ArrayList<>(wanted.size());
    for (MessageHeaders headers : fetchHeaders(connection, wanted, arriving)) {
      long uid = Long.parseLong(headers.ref());
      if (chosenBeforeEnd.contains(uid) && headers.receivedAt() != null && headers.receivedAt().isBefore(after)) {
        log.trace("{}: UID {} skipped, received {} before {}", mailbox, uid, headers.receivedAt(), after);
        continue;
      }
      messages.add(headers);
    }
    String newCursor = new ImapCursor(validity, newLast, newFilterEnd).format();
    log.debug("{}: {} new messages and {} asked again, from cursor '{}' to '{}'{}{}", mailbox,
        chosen.size(), wanted.size() - chosen.size(), cursorText, newCursor, more ? ", more waiting" : "",
        reset ? ", reset" : "");
    return new NewMessages(messages, newCursor, reset, more);
  }

  /**
   * The UIDs from {@code from} on, by {@code UID SEARCH}: one line of numbers, where {@code UID
   * FETCH n:* (UID)} would answer with a response per message.
   */
  private static List<Long> uidsFrom(ImapConnection connection, long from) throws MessagingException {
    // "n:*" names the last message even when its UID is below n
    return within(connection.searchUids("UID SEARCH UID " + from + ":*"), from, Long.MAX_VALUE);
  }

  /** The highest UID in the folder, for a server whose SELECT did not tell UIDNEXT. */
  private static long highestUid(ImapConnection connection) throws MessagingException {
    if (connection.folder().getMessageCount() == 0) {
      return 0;
    }
    long highest = 0;
    for (Response r : connection.command("FETCH * (UID)", null)) {
      if (r instanceof FetchResponse f && f.getItem(UID.class) != null) {
        highest = Math.max(highest, f.getItem(UID.class).uid);
      }
    }
    return highest;
  }

  /**
   * The UIDs in {@code [from, to]} received on or after the day before {@code after}: IMAP's SINCE
   * has day granularity in the server's time zone, so the exact filter on INTERNALDATE follows.
   */
  private static List<Long> searchReceivedSince(ImapConnection connection, long from, long to, Instant after)
      throws MessagingException {
    String day = SEARCH_DATE.format(LocalDate.ofInstant(after, ZoneOffset.UTC).minusDays(1));
    return within(connection.searchUids("UID SEARCH UID " + from + ":" + to + " SINCE " + day), from, to);
  }

  /** The UIDs of an ascending array within {@code [from, to]}. */
  private static List<Long> within(long[] uids, long from, long to) {
    List<Long> within = new ArrayList<>(uids.length);
    for (long uid : uids) {
      if (uid >= from && uid <= to) {
        within.add(uid);
      }
    }
    return within;
  }

  /**
   * Headers, size and INTERNALDATE of the messages that exist among {@code uids}, in UID order. Each
   * FETCH response is parsed as it is read, so our parsing runs while the server is still writing.
   */
  private List<MessageHeaders> fetchHeaders(ImapConnection connection, TreeSet<Long> uids,
      Consumer<MessageHeaders> arriving) throws MessagingException {
    Answers answers = new Answers(uids, arriving);
    for (String set : UidSets.ofRanges(uids, UidSets.RANGES_PER_COMMAND)) {
      connection.fetch("UID FETCH " + set
          + " (UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (" + HEADER_FIELDS + ")])", answers);
    }
    if (answers.unattributed > 0) {
      log.warn("{}: {} FETCH responses with data came for messages not asked for, without their UID or "
          + "unreadable (first: {}); not attributed", mailbox, answers.unattributed, answers.example);
    }
    List<MessageHeaders> found = new ArrayList<>(answers.byUid.size());
    for (Long uid : uids) { // in UID order
      Answer a = answers.byUid.get(uid);
      if (a != null && a.headers != null) {
        found.add(a.headers);
        if (a.size >= 0) {
          sizes.put(uid, a.size);
        }
        log.trace("{}: UID {} has {} bytes", mailbox, a.uid, a.size);
      }
    }
    // Only UIDs asked for are answers (Answers drops the others): as many answered as asked means
    // every one was, and no UID SEARCH is needed to tell the unanswered apart.
    if (found.size() < uids.size()) {
      Set<Long> answered = new HashSet<>();
      for (Answer a : answers.byUid.values()) {
        if (a.headers != null) {
          answered.add(a.uid);
        }
      }
      FetchResponses.requireGone(connection, settings, uids, answered, "headers");
    }
    return found;
  }

  /**
   * The answers to the header FETCH commands by UID, never by sequence number (see {@link
   * FetchResponses}): a response without a UID, for a UID not asked, or that does not parse, is not
   * attributed, and the message it may belong to counts as unanswered.
   */
  private static final class Answers implements Consumer<FetchItems> {
    private final Set<Long> asked;
    final Map<Long, Answer> byUid;
    int unattributed;
    String example;

    /** Takes each message's headers once its size, date and header section came; see fetchNew. */
    private final Consumer<MessageHeaders> arriving;

    Answers(Set<Long> asked, Consumer<MessageHeaders> arriving) {
      this.asked = asked;
      this.arriving = arriving;
      this.byUid = new HashMap<>(asked.size() * 4 / 3 + 1);
    }

    @Override
    public void accept(FetchItems f) {
      if (f == null || f.uid < 0 || !asked.contains(f.uid)) {
        // e.g. "* 7 FETCH (FLAGS (\\Seen))": another client changed flags meanwhile, nothing to take
        if (f == null || f.carriesData()) {
          if (unattributed++ == 0) {
            example = f == null ? "a response that does not follow RFC 3501"
                : "message " + f.number + (f.uid < 0 ? " without its UID" : " as UID " + f.uid);
          }
        }
        return;
      }
      Answer a = byUid.computeIfAbsent(f.uid, Answer::new);
      boolean changed = false;
      if (f.size >= 0 && f.size != a.size) {
        a.size = f.size;
        changed = true;
      }
      if (f.receivedAt != null && !f.receivedAt.equals(a.receivedAt)) {
        a.receivedAt = f.receivedAt;
        changed = true;
      }
      if (f.header) {
        // Parsed now: the bytes are in the read buffer, which the next response overwrites. The
        // message's headers are built at once, so the parsed fields are garbage before the next
        // response: only one copy of each message's headers lives through the whole answer.
        Map<String, List<String>> fields = f.headerBytes == null ? Map.of()
            : RawHeaders.parse(f.headerBytes, f.headerStart, f.headerLength);
        a.headers = new MessageHeaders(Long.toString(a.uid), a.size, a.receivedAt, fields);
      } else if (changed && a.headers != null) {
        // The size or date came in a later response than the headers (RFC 3501 allows the split)
        a.headers = new MessageHeaders(a.headers.ref(), a.size, a.receivedAt, a.headers.headers());
      } else {
        return;
      }
      if (a.size >= 0 && a.receivedAt != null && !a.handedEarly) {
        // Once per message: a server that repeats a message's answer makes no more work and holds no
        // more memory in the engine than one answer does (the repeat comes with the answer).
        a.handedEarly = true;
        try {
          arriving.accept(a.headers);
        } catch (RuntimeException e) {
          log.debug("handing the headers of UID {} early failed; they come with the answer", a.uid, e);
        }
      }
    }
  }

  /** What came for one message, possibly over several FETCH responses. */
  private static final class Answer {
    final long uid;
    long size = -1;
    Instant receivedAt;
    /** The message's headers with the size and date known so far, {@code null} until the header section came. */
    MessageHeaders headers;
    /** Whether {@link #headers} were handed early (at most once). */
    boolean handedEarly;

    Answer(long uid) {
      this.uid = uid;
    }
  }
}
