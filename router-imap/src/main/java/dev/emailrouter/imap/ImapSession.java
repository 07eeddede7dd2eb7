package dev.emailrouter.imap;

import static java.util.Objects.requireNonNull;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.support.internal.OAuth2Sasl;
import dev.emailrouter.support.internal.Secrets;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Folder;
import jakarta.mail.MessagingException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.eclipse.angus.mail.iap.Argument;
import org.eclipse.angus.mail.iap.ByteArray;
import org.eclipse.angus.mail.iap.CommandFailedException;
import org.eclipse.angus.mail.iap.ProtocolException;
import org.eclipse.angus.mail.iap.Response;
import org.eclipse.angus.mail.iap.ResponseHandler;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.eclipse.angus.mail.imap.protocol.BASE64MailboxEncoder;
import org.eclipse.angus.mail.imap.protocol.BODY;
import org.eclipse.angus.mail.imap.protocol.FetchResponse;
import org.eclipse.angus.mail.imap.protocol.IMAPProtocol;
import org.eclipse.angus.mail.imap.protocol.IMAPResponse;
import org.eclipse.angus.mail.imap.protocol.INTERNALDATE;
import org.eclipse.angus.mail.imap.protocol.ListInfo;
import org.eclipse.angus.mail.imap.protocol.RFC822SIZE;
import org.eclipse.angus.mail.imap.protocol.UID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One open IMAP folder for the length of an engine tick. Its connection is its own, or the one its
 * reader kept from the previous session ({@code keepConnection}), which it hands back on
 * {@link #close()} unless something failed.
 *
 * <p>Jakarta Mail logs in, upgrades to TLS and selects the folder (which yields UIDVALIDITY and
 * UIDNEXT); the reading itself goes through {@link IMAPFolder#doCommand} as raw UID commands, so that
 * every step is one bulk command over UIDs, bodies are fetched with {@code BODY.PEEK} (never setting
 * {@code \Seen}), header values are exactly what the server sent, and nothing read is cached in
 * Jakarta Mail's message objects for the rest of the session. Untagged responses other than FETCH
 * are passed on to the folder so its view of the mailbox (EXPUNGE, EXISTS) stays right.
 *
 * <p>Every answer is attributed by UID, never by message sequence number: RFC 3501 (7.4.1) lets a
 * server send EXPUNGE in the middle of a UID command, which shifts the sequence numbers of the
 * responses after it, and other clients' flag changes arrive as unsolicited FETCH responses among
 * the answers. A message asked for that got no answer is taken for gone only once {@code UID SEARCH}
 * confirms it no longer exists.
 *
 * <p>For one thread at a time.
 */
final class ImapSession implements MailboxReader.Session {

  private static final Logger log = LoggerFactory.getLogger(ImapSession.class);

  /** Messages larger than this are streamed to a temporary file rather than held in memory. */
  static final int LARGE_MESSAGE_BYTES = 1 << 20;
  /** The piece size in which a large message is downloaded. */
  static final int PARTIAL_FETCH_BYTES = 1 << 20;
  /** The most small messages downloaded by one command. */
  static final int BULK_FETCH_MESSAGES = 100;
  /** The most bytes of small messages downloaded by one command. */
  static final long BULK_FETCH_BYTES = 16L << 20;
  /** The most UIDs named in one command, which keeps command lines short. */
  static final int UIDS_PER_COMMAND = 1000;

  private static final long MAX_UID = 0xFFFF_FFFFL;
  private static final String HEADER_FIELDS =
      String.join(" ", MessageHeaders.WANTED).toUpperCase(Locale.ROOT);
  private static final DateTimeFormatter SEARCH_DATE = DateTimeFormatter.ofPattern("d-MMM-yyyy", Locale.ENGLISH);

  private final ImapMailboxReader reader;
  private final ImapFailures failures;
  private IMAPStore store;
  private IMAPFolder folder;
  private String secret;
  /** The UIDVALIDITY the session's UIDs belong to; a reconnect must find the same. */
  private long uidValidity = -1;
  /** RFC822.SIZE of messages whose headers this session fetched. */
  private final Map<Long, Long> sizes = new HashMap<>();
  private final Set<String> createdFolders = new HashSet<>();
  private final List<Path> temporaryFiles = new ArrayList<>();
  private boolean closed;
  /** What the server reported on this session's connection since the last look for new mail. */
  private Watch watch;
  /** Set when an operation failed: the connection is then not kept for the next session. */
  private boolean failed;

  ImapSession(ImapMailboxReader reader) {
    this.reader = reader;
    this.failures = new ImapFailures(reader);
  }

  /**
   * Takes over a connection a previous session left to its reader, and asks the server with one
   * {@code NOOP} what changed since (new messages come back as {@code EXISTS}). Gives the connection
   * up, without a command, when the server closed it meanwhile, the NOOP fails, or the folder's
   * UIDVALIDITY changed under it; then the caller connects afresh.
   *
   * @return whether the session is open on the kept connection
   */
  boolean resume(Kept kept) {
    store = kept.store();
    folder = kept.folder();
    secret = kept.secret();
    watch = kept.watch();
    String problem;
    try {
      if (folder.isOpen()) {
        command("NOOP", null);
      }
      problem = !folder.isOpen() ? "closed by the server"
          : watch.validityChanged ? "on a folder whose UIDVALIDITY changed to " + watch.newValidity : null;
    } catch (MessagingException | RuntimeException e) {
      problem = "failing its NOOP: " + ImapFailures.detail(e, secret);
    }
    if (problem == null) {
      return true;
    }
    log.debug("{}: the kept connection is {}; connecting again", reader.describe(), problem);
    disconnect();
    return false;
  }

  /**
   * Logs out of a connection the reader kept, e.g. once it stayed unused longer than its idle
   * timeout or when the reader closes.
   */
  static void logout(ImapMailboxReader reader, Kept kept) {
    ImapSession s = new ImapSession(reader);
    s.store = kept.store();
    s.folder = kept.folder();
    s.secret = kept.secret();
    s.watch = kept.watch();
    s.closed = true;
    s.disconnect();
  }

  /**
   * Logs in and selects the folder; on failure nothing stays open. The credentials supplier is
   * asked at every call, so a reconnect of a long session logs in with a fresh OAuth2 token. A
   * token the server refuses is reported to a {@link dev.emailrouter.api.TokenSource} supplier and
   * the login is tried once more with the fresh token it hands out.
   */
  void connect() {
    Credentials credentials = reader.loginCredentials();
    IMAPStore newStore;
    for (int attempt = 1; ; attempt++) {
      secret = credentials.secret();
      boolean oauth2 = credentials.kind() == Credentials.Kind.OAUTH2_TOKEN;
      jakarta.mail.Session mail = reader.mailSession(credentials);
      OAuth2ImapStore.Outcome outcome = oauth2 ? new OAuth2ImapStore.Outcome(reader.host, reader.port) : null;
      newStore = oauth2 ? new OAuth2ImapStore(mail, outcome) : new PasswordImapStore(mail, reader.host, reader.port);
      try {
        newStore.connect(reader.host, reader.port, credentials.username(), credentials.secret());
        break;
      } catch (MessagingException | RuntimeException e) {
        closeQuietly(newStore);
        if (outcome == null || !(e instanceof AuthenticationFailedException)
            || (outcome.mechanism == null && outcome.offeredInstead == null)) {
          throw Secrets.withoutSecretInCause(failures.login(e, credentials.username(), secret), secret);
        }
        if (failures.tokenRefused(outcome) && attempt == 1 && OAuth2Sasl.invalidate(reader.credentials, credentials)) {
          log.debug("{}: the server refused the OAuth2 token ({}); logging in once more with a fresh one",
              reader.describe(), outcome.reply);
          credentials = reader.loginCredentials();
          continue;
        }
        throw Secrets.withoutSecretInCause(
            failures.tokenLogin(e, credentials.username(), secret, outcome, attempt > 1), secret);
      }
    }
    IMAPFolder newFolder;
    try {
      newFolder = (IMAPFolder) newStore.getFolder(reader.folder);
      newFolder.open(Folder.READ_WRITE);
    } catch (MessagingException | RuntimeException e) {
      closeQuietly(newStore);
      throw Secrets.withoutSecretInCause(failures.openFolder(e, secret), secret);
    }
    Watch newWatch;
    try {
      newWatch = new Watch(newFolder.getUIDNext(), newFolder.getUIDValidity());
      newFolder.doCommand(p -> {
        p.addResponseHandler(newWatch);
        return null;
      });
    } catch (MessagingException | RuntimeException e) {
      closeQuietly(newStore);
      throw Secrets.withoutSecretInCause(failures.openFolder(e, secret), secret);
    }
    store = newStore;
    folder = newFolder;
    watch = newWatch;
  }

  @Override
  public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
    requireNonNull(cursor, "cursor");
    requireNonNull(retry, "retry");
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, was " + max);
    }
    return run("fetching new messages", () -> doFetchNew(cursor, retry, max));
  }

  private NewMessages doFetchNew(String cursorText, Set<String> retryRefs, int max) throws MessagingException {
    long validity = folder.getUIDValidity();
    if (validity < 0) {
      throw new PermanentRouterException("IMAP server " + reader.server() + " did not report the UIDVALIDITY of "
          + reader.describe() + ", which incremental reading requires");
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
            reader.describe(), cursorText);
        reset = true;
      }
      if (cursor != null && cursor.uidValidity() != validity) {
        log.debug("{}: UIDVALIDITY changed from {} to {}; starting over", reader.describe(), cursor.uidValidity(),
            validity);
        cursor = null;
        reset = true;
      }
    }
    long last = cursor == null ? 0 : cursor.lastUid();
    if (watch.validityChanged) {
      throw new TransientRouterException("UIDVALIDITY of " + reader.describe() + " changed to " + watch.newValidity
          + " while the connection was open; the next tick starts over");
    }
    // SELECT's UIDNEXT, or on a kept connection what the last look found, unless the server reported
    // new messages (EXISTS) since: no round trip. -1 when unknown, and then UID SEARCH looks.
    long uidNext = watch.changed ? -1 : watch.noneFrom;
    watch.changed = false; // cleared before looking: an EXISTS during the search counts for the next look
    Instant after = reader.processReceivedAfter;

    long filterEnd = 0; // UIDs below it are subject to processReceivedAfter
    if (after != null && firstSync) {
      filterEnd = uidNext > 0 ? uidNext : highestUid() + 1;
    } else if (after != null && cursor != null) {
      filterEnd = cursor.filterEnd();
    }
    boolean filtering = filterEnd > last + 1;

    List<Long> candidates = new ArrayList<>();
    int filtered = 0;
    if (filtering) {
      candidates.addAll(searchReceivedSince(last + 1, filterEnd - 1, after));
      filtered = candidates.size();
    }
    long from = filtering ? filterEnd : last + 1;
    if ((uidNext < 0 || uidNext > from) && from <= MAX_UID) {
      List<Long> found = uidsFrom(from);
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
        long uid = parseUid(ref);
        if (uid > 0) {
          wanted.add(uid);
        }
      }
    }
    Set<Long> chosenBeforeEnd = filtering ? new HashSet<>(chosen.subList(0, Math.min(filtered, chosen.size())))
        : Set.of();
    List<MessageHeaders> messages = new ArrayList<>(wanted.size());
    for (MessageHeaders headers : fetchHeaders(wanted)) {
      long uid = Long.parseLong(headers.ref());
      if (chosenBeforeEnd.contains(uid) && headers.receivedAt() != null && headers.receivedAt().isBefore(after)) {
        log.trace("{}: UID {} skipped, received {} before {}", reader.describe(), uid, headers.receivedAt(), after);
        continue;
      }
      messages.add(headers);
    }
    String newCursor = new ImapCursor(validity, newLast, newFilterEnd).format();
    log.debug("{}: {} new messages and {} asked again, from cursor '{}' to '{}'{}{}", reader.describe(),
        chosen.size(), wanted.size() - chosen.size(), cursorText, newCursor, more ? ", more waiting" : "",
        reset ? ", reset" : "");
    return new NewMessages(messages, newCursor, reset, more);
  }

  /**
   * The UIDs from {@code from} on, by {@code UID SEARCH}: one line of numbers, where {@code UID
   * FETCH n:* (UID)} would answer with a response per message.
   */
  private List<Long> uidsFrom(long from) throws MessagingException {
    TreeSet<Long> uids = new TreeSet<>();
    for (Response r : command("UID SEARCH UID " + from + ":*", null)) {
      if (r instanceof IMAPResponse ir && ir.keyEquals("SEARCH")) {
        for (long uid = ir.readLong(); uid != -1; uid = ir.readLong()) {
          // "n:*" names the last message even when its UID is below n
          if (uid >= from) {
            uids.add(uid);
          }
        }
      }
    }
    return new ArrayList<>(uids);
  }

  /** The highest UID in the folder, for a server whose SELECT did not tell UIDNEXT. */
  private long highestUid() throws MessagingException {
    if (folder.getMessageCount() == 0) {
      return 0;
    }
    long highest = 0;
    for (Response r : command("FETCH * (UID)", null)) {
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
  private List<Long> searchReceivedSince(long from, long to, Instant after) throws MessagingException {
    String day = SEARCH_DATE.format(LocalDate.ofInstant(after, ZoneOffset.UTC).minusDays(1));
    TreeSet<Long> uids = new TreeSet<>();
    for (Response r : command("UID SEARCH UID " + from + ":" + to + " SINCE " + day, null)) {
      if (r instanceof IMAPResponse ir && ir.keyEquals("SEARCH")) {
        for (long uid = ir.readLong(); uid != -1; uid = ir.readLong()) {
          if (uid >= from && uid <= to) {
            uids.add(uid);
          }
        }
      }
    }
    return new ArrayList<>(uids);
  }

  /** Headers, size and INTERNALDATE of the messages that exist among {@code uids}, in UID order. */
  private List<MessageHeaders> fetchHeaders(TreeSet<Long> uids) throws MessagingException {
    TreeMap<Long, MessageHeaders> found = new TreeMap<>();
    for (String set : UidSets.of(uids, UIDS_PER_COMMAND)) {
      Response[] responses = command("UID FETCH " + set
          + " (UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (" + HEADER_FIELDS + ")])", null);
      for (Fetched f : Fetched.byUid(responses, uids, reader.describe()).values()) {
        if (f.header != null) {
          ByteArray bytes = f.header.getByteArray();
          Map<String, List<String>> headers = bytes == null ? Map.of()
              : HeaderBlock.parse(bytes.getBytes(), bytes.getStart(), bytes.getCount());
          found.put(f.uid, new MessageHeaders(Long.toString(f.uid), f.size, f.receivedAt, headers));
          if (f.size >= 0) {
            sizes.put(f.uid, f.size);
          }
          log.trace("{}: UID {} has {} bytes", reader.describe(), f.uid, f.size);
        }
      }
    }
    requireGone(uids, found.keySet(), "headers");
    return new ArrayList<>(found.values());
  }

  /**
   * Makes sure the messages among {@code asked} that got no answer are gone (expunged or moved by
   * another client), by one {@code UID SEARCH}: the reader skips them, so a live one among them would
   * be lost. A server that leaves a live message's answer out, or sends it without its UID, fails
   * the operation instead; nothing is skipped and the next tick asks again.
   */
  private void requireGone(Set<Long> asked, Set<Long> answered, String what) throws MessagingException {
    TreeSet<Long> unanswered = new TreeSet<>(asked);
    unanswered.removeAll(answered);
    if (unanswered.isEmpty()) {
      return;
    }
    TreeSet<Long> live = new TreeSet<>();
    for (String set : UidSets.of(unanswered, UIDS_PER_COMMAND)) {
      for (Response r : command("UID SEARCH UID " + set, null)) {
        if (r instanceof IMAPResponse ir && ir.keyEquals("SEARCH")) {
          for (long uid = ir.readLong(); uid != -1; uid = ir.readLong()) {
            if (unanswered.contains(uid)) {
              live.add(uid);
            }
          }
        }
      }
    }
    log.debug("{}: no {} for UIDs {}: {} gone", reader.describe(), what, unanswered, unanswered.size() - live.size());
    if (!live.isEmpty()) {
      throw new TransientRouterException("IMAP server " + reader.server() + " left out the " + what + " of UIDs "
          + UidSets.of(live, UIDS_PER_COMMAND).get(0) + " of " + reader.describe() + " in its answer to UID FETCH "
          + "(or sent them without the UID), although the messages exist; nothing was skipped, the next tick "
          + "asks again");
    }
  }

  @Override
  public List<RawMessage> fetchMessages(List<String> refs) {
    requireNonNull(refs, "refs");
    LinkedHashSet<Long> asked = new LinkedHashSet<>();
    for (String ref : refs) {
      long uid = parseUid(ref);
      if (uid > 0) {
        asked.add(uid);
      }
    }
    if (asked.isEmpty()) {
      return List.of();
    }
    return run("downloading messages", () -> doFetchMessages(asked));
  }

  private List<RawMessage> doFetchMessages(LinkedHashSet<Long> asked) throws MessagingException, IOException {
    TreeSet<Long> unknown = new TreeSet<>();
    for (long uid : asked) {
      if (!sizes.containsKey(uid)) {
        unknown.add(uid);
      }
    }
    Map<Long, Long> askedSizes = new HashMap<>(sizes);
    if (!unknown.isEmpty()) {
      askedSizes.putAll(fetchSizes(unknown));
    }
    Map<Long, RawMessage> downloaded = new HashMap<>();
    TreeSet<Long> chunk = new TreeSet<>();
    long chunkBytes = 0;
    for (long uid : new TreeSet<>(asked)) {
      Long size = askedSizes.get(uid);
      if (size == null) {
        continue; // gone (or never there)
      }
      if (size < 0 || size > LARGE_MESSAGE_BYTES) {
        RawMessage large = downloadToFile(uid);
        if (large != null) {
          downloaded.put(uid, large);
        }
        continue;
      }
      if (!chunk.isEmpty() && (chunk.size() == BULK_FETCH_MESSAGES || chunkBytes + size > BULK_FETCH_BYTES)) {
        downloadInMemory(chunk, downloaded);
        chunk.clear();
        chunkBytes = 0;
      }
      chunk.add(uid);
      chunkBytes += size;
    }
    if (!chunk.isEmpty()) {
      downloadInMemory(chunk, downloaded);
    }
    requireGone(asked, downloaded.keySet(), "content");
    List<RawMessage> result = new ArrayList<>(downloaded.size());
    for (long uid : asked) {
      RawMessage message = downloaded.get(uid);
      if (message != null) {
        result.add(message);
      }
    }
    log.debug("{}: downloaded {} of {} messages", reader.describe(), result.size(), asked.size());
    return result;
  }

  private Map<Long, Long> fetchSizes(TreeSet<Long> uids) throws MessagingException {
    Map<Long, Long> found = new HashMap<>();
    for (String set : UidSets.of(uids, UIDS_PER_COMMAND)) {
      for (Fetched f : Fetched.byUid(command("UID FETCH " + set + " (UID RFC822.SIZE)", null), uids,
          reader.describe()).values()) {
        found.put(f.uid, f.size); // a size of -1 (not said) takes the large-message path
      }
    }
    return found;
  }

  /** One {@code UID FETCH set (UID BODY.PEEK[])} for a chunk of small messages. */
  private void downloadInMemory(TreeSet<Long> uids, Map<Long, RawMessage> into) throws MessagingException {
    Response[] responses = command("UID FETCH " + UidSets.of(uids, UIDS_PER_COMMAND).get(0) + " (UID BODY.PEEK[])",
        null);
    for (Fetched f : Fetched.byUid(responses, uids, reader.describe()).values()) {
      if (f.body != null && f.body.getByteArray() != null) {
        ByteArray ba = f.body.getByteArray();
        byte[] bytes = Arrays.copyOfRange(ba.getBytes(), ba.getStart(), ba.getStart() + ba.getCount());
        into.put(f.uid, new RawMessage(Long.toString(f.uid), bytes.length, ContentSource.ofBytes(bytes)));
      }
    }
  }

  /**
   * Downloads a large message in pieces ({@code BODY.PEEK[]<offset.length>}) into a temporary file
   * deleted when the session closes.
   *
   * @return the message, or {@code null} if it no longer exists
   */
  private RawMessage downloadToFile(long uid) throws MessagingException, IOException {
    Path file = Files.createTempFile("emailrouter-imap-", ".eml");
    temporaryFiles.add(file);
    long offset = 0;
    try (OutputStream out = Files.newOutputStream(file)) {
      while (true) {
        BODY piece = null;
        String partial = "<" + offset + "." + PARTIAL_FETCH_BYTES + ">";
        Fetched f = Fetched.byUid(command("UID FETCH " + uid + " (UID BODY.PEEK[]" + partial + ")", null),
            Set.of(uid), reader.describe()).get(uid);
        if (f != null) {
          piece = f.body;
        }
        if (piece == null) {
          Files.deleteIfExists(file);
          temporaryFiles.remove(file);
          return null; // expunged meanwhile, which the caller makes sure of
        }
        ByteArray ba = piece.getByteArray();
        int count = ba == null ? 0 : ba.getCount();
        if (count > 0) {
          out.write(ba.getBytes(), ba.getStart(), count);
        }
        offset += count;
        if (count < PARTIAL_FETCH_BYTES) {
          break;
        }
      }
    }
    log.trace("{}: UID {} ({} bytes) downloaded to a temporary file", reader.describe(), uid, offset);
    return new RawMessage(Long.toString(uid), offset, new TemporaryFileSource(file, uid, reader.describe()));
  }

  @Override
  public void dispose(Map<String, Disposition> dispositions) {
    requireNonNull(dispositions, "dispositions");
    TreeSet<Long> markSeen = new TreeSet<>();
    TreeSet<Long> delete = new TreeSet<>();
    Map<String, TreeSet<Long>> moves = new TreeMap<>();
    dispositions.forEach((ref, disposition) -> {
      requireNonNull(disposition, "disposition of " + ref);
      long uid = parseUid(ref);
      if (uid <= 0) {
        return;
      }
      ImapMailboxReader.PostAction action = switch (disposition) {
        case TRACKED -> reader.afterTracked;
        case REJECTED -> reader.afterRejected;
        case QUARANTINED -> ImapMailboxReader.PostAction.moveTo(reader.quarantineFolder);
      };
      switch (action.kind) {
        case LEAVE -> { }
        case MARK_SEEN -> markSeen.add(uid);
        case DELETE -> delete.add(uid);
        case MOVE -> moves.computeIfAbsent(action.folder, f -> new TreeSet<>()).add(uid);
        default -> throw new IllegalStateException("unknown post-action " + action);
      }
    });
    if (markSeen.isEmpty() && delete.isEmpty() && moves.isEmpty()) {
      return;
    }
    run("applying post-actions", () -> {
      applyPostActions(markSeen, delete, moves);
      return null;
    });
  }

  private void applyPostActions(TreeSet<Long> markSeen, TreeSet<Long> delete, Map<String, TreeSet<Long>> moves)
      throws MessagingException {
    boolean canMove = hasCapability("MOVE");
    TreeSet<Long> expunge = new TreeSet<>(delete);
    for (String set : UidSets.of(markSeen, UIDS_PER_COMMAND)) {
      command("UID STORE " + set + " +FLAGS.SILENT (\\Seen)", null);
    }
    for (Map.Entry<String, TreeSet<Long>> move : moves.entrySet()) {
      for (String set : UidSets.of(move.getValue(), UIDS_PER_COMMAND)) {
        transfer(canMove ? "UID MOVE " : "UID COPY ", set, move.getKey());
      }
      if (!canMove) {
        expunge.addAll(move.getValue());
      }
    }
    if (!expunge.isEmpty()) {
      for (String set : UidSets.of(expunge, UIDS_PER_COMMAND)) {
        command("UID STORE " + set + " +FLAGS.SILENT (\\Deleted)", null);
      }
      if (hasCapability("UIDPLUS")) {
        for (String set : UidSets.of(expunge, UIDS_PER_COMMAND)) {
          command("UID EXPUNGE " + set, null);
        }
      } else {
        command("EXPUNGE", null);
      }
    }
    log.debug("{}: {} marked seen, {} moved, {} deleted", reader.describe(), markSeen.size(),
        moves.values().stream().mapToInt(Set::size).sum(), delete.size());
  }

  /** {@code UID MOVE} or {@code UID COPY} to a folder, created first if the server says it is missing. */
  private void transfer(String verb, String set, String destination) throws MessagingException {
    try {
      command(verb + set, mailboxName(destination));
    } catch (MessagingException e) {
      if (!(e.getCause() instanceof CommandFailedException) || createdFolders.contains(destination)
          || folderExists(destination)) {
        throw e;
      }
      log.debug("{}: creating folder '{}'", reader.describe(), destination);
      folder.doCommand(p -> {
        p.create(destination);
        return null;
      });
      createdFolders.add(destination);
      command(verb + set, mailboxName(destination));
    }
  }

  private boolean folderExists(String name) throws MessagingException {
    ListInfo[] found = (ListInfo[]) folder.doCommand(p -> p.list("", name));
    return found != null && found.length > 0;
  }

  private boolean hasCapability(String capability) throws MessagingException {
    return (Boolean) folder.doCommand(p -> p.hasCapability(capability));
  }

  private Argument mailboxName(String name) throws MessagingException {
    boolean utf8 = (Boolean) folder.doCommand(IMAPProtocol::supportsUtf8);
    Argument args = new Argument();
    return utf8 ? args.writeString(name, StandardCharsets.UTF_8) : args.writeString(BASE64MailboxEncoder.encode(name));
  }

  /**
   * Sends one command on the folder's connection and checks its result; untagged responses other than
   * FETCH go to the folder's own handlers, as Angus does for its commands.
   */
  private Response[] command(String command, Argument args) throws MessagingException {
    return (Response[]) folder.doCommand(p -> {
      Response[] responses = p.command(command, args);
      List<Response> others = new ArrayList<>();
      for (Response r : responses) {
        if (!(r instanceof FetchResponse)) {
          others.add(r);
        }
      }
      p.notifyResponseHandlers(others.toArray(new Response[0]));
      p.handleResult(responses[responses.length - 1]);
      return responses;
    });
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (!failed && folder != null && folder.isOpen() && !watch.validityChanged && reader.keep(this::kept)) {
      store = null;
      folder = null;
    } else {
      disconnect();
    }
    for (Path file : temporaryFiles) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        log.warn("{}: temporary file {} could not be deleted: {}", reader.describe(), file, e.toString());
      }
    }
    temporaryFiles.clear();
  }

  /**
   * Ends the session. A server that offers UNSELECT (RFC 3691; Dovecot, Exchange, Gmail) gets a
   * single LOGOUT, with no UNSELECT or CLOSE before it: LOGOUT never expunges (RFC 3501 6.1.3) and
   * ends the selected state with the connection, and the messages a post-action deleted were
   * expunged by {@link #dispose} already, so an idle tick costs three round trips (login, SELECT,
   * LOGOUT). A server without UNSELECT gets the folder closed first without expunging (Angus's
   * EXAMINE and CLOSE), as before: GreenMail, the in-JVM server hosts test with, offers no
   * UNSELECT and keeps a logged-out session attached to the folder it had selected, which later
   * breaks deleting that folder.
   */
  private void disconnect() {
    if (folder != null) {
      try {
        // Asked of the folder's own connection: the store's would open a second one.
        if (folder.isOpen() && !Boolean.TRUE.equals(folder.doCommand(p -> p.hasCapability("UNSELECT")))) {
          folder.close(false);
        }
      } catch (MessagingException | RuntimeException e) {
        log.debug("{}: closing the folder failed: {}", reader.describe(), ImapFailures.detail(e, secret));
      }
      try {
        if (folder.isOpen()) {
          folder.doCommand(p -> {
            p.logout(); // disconnects, whatever the answer
            return null;
          });
        }
      } catch (MessagingException | RuntimeException e) {
        log.debug("{}: logging out failed: {}", reader.describe(), ImapFailures.detail(e, secret));
      }
      try {
        if (folder.isOpen()) {
          folder.forceClose(); // the connection is gone: only Angus's bookkeeping is left, no command
        }
      } catch (MessagingException | RuntimeException e) {
        log.debug("{}: closing the folder failed: {}", reader.describe(), ImapFailures.detail(e, secret));
      }
      folder = null;
    }
    closeQuietly(store);
    store = null;
  }

  /** The connection as the reader keeps it for the next session. */
  private Kept kept(Instant lastUsed) {
    return new Kept(store, folder, secret, watch, lastUsed);
  }

  private void closeQuietly(IMAPStore s) {
    if (s == null) {
      return;
    }
    try {
      s.close();
    } catch (MessagingException | RuntimeException e) {
      log.debug("{}: logging out failed: {}", reader.describe(), ImapFailures.detail(e, secret));
    }
  }

  /**
   * Runs an operation, reconnecting once if the connection was lost, and translates its failures.
   * An {@link IOException} here comes from a local temporary file, never from the server (Angus
   * reports those as {@link MessagingException}s).
   */
  private <T> T run(String what, Operation<T> operation) {
    if (closed) {
      throw new IllegalStateException("the IMAP session of " + reader.describe() + " is closed");
    }
    for (int attempt = 1; ; attempt++) {
      try {
        if (folder == null || !folder.isOpen()) {
          reconnect(what);
        }
        return operation.run();
      } catch (IOException e) {
        failed = true;
        throw new TransientRouterException("a temporary file for " + reader.describe() + " could not be written "
            + "while " + what + ": " + e, e);
      } catch (RuntimeException e) {
        failed = true;
        throw e;
      } catch (MessagingException e) {
        if (attempt > 1 || !ImapFailures.connectionLost(e)) {
          failed = true;
          throw Secrets.withoutSecretInCause(failures.during(what, e, secret), secret);
        }
        log.debug("{}: connection lost while {}, reconnecting: {}", reader.describe(), what,
            ImapFailures.detail(e, secret));
        disconnect();
      }
    }
  }

  private void reconnect(String what) throws MessagingException {
    disconnect();
    connect();
    long validity = folder.getUIDValidity();
    if (uidValidity >= 0 && validity != uidValidity) {
      throw new TransientRouterException("UIDVALIDITY of " + reader.describe() + " changed from " + uidValidity
          + " to " + validity + " while " + what + "; the next tick starts over");
    }
  }

  private long parseUid(String ref) {
    try {
      long uid = Long.parseLong(ref);
      if (uid > 0 && uid <= MAX_UID) {
        return uid;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    log.warn("{}: '{}' is not an IMAP UID this reader returned; ignored", reader.describe(), ref);
    return -1;
  }

  /**
   * A logged-in connection with the folder selected, as a reader keeps it between sessions.
   *
   * @param lastUsed when the session that used it last closed, by the reader's clock
   */
  record Kept(IMAPStore store, IMAPFolder folder, String secret, Watch watch, Instant lastUsed) {
    Kept {
      requireNonNull(store, "store");
      requireNonNull(folder, "folder");
      requireNonNull(watch, "watch");
      requireNonNull(lastUsed, "lastUsed");
    }

    @Override
    public String toString() {
      return "Kept[lastUsed=" + lastUsed + "]"; // never the secret
    }
  }

  /**
   * Watches the untagged responses of one connection, Angus's and ours alike: an {@code EXISTS}
   * means new messages may have arrived since the last look, an {@code OK [UIDVALIDITY n]} with
   * another value means the UIDs no longer name the same messages. Used by one session at a time;
   * the reader's lock hands it from one to the next.
   */
  static final class Watch implements ResponseHandler {
    /** No message has a UID at or above this, unless {@link #changed}; -1 if unknown. */
    long noneFrom;
    boolean changed;
    final long validity;
    boolean validityChanged;
    long newValidity = -1;

    Watch(long uidNext, long validity) {
      this.noneFrom = uidNext;
      this.validity = validity;
    }

    /** Notes what an untagged response says about new messages or the UIDVALIDITY. */
    @Override
    public void handleResponse(Response r) {
      if (r instanceof IMAPResponse ir && ir.keyEquals("EXISTS")) {
        changed = true;
      } else if (r.isOK() || r.isNO() || r.isBAD()) {
        // toString() is the line as received, and leaves the response's read position to Angus
        String line = r.toString();
        int at = line.indexOf("[UIDVALIDITY ");
        if (at >= 0) {
          int start = at + "[UIDVALIDITY ".length();
          int end = start;
          while (end < line.length() && Character.isDigit(line.charAt(end))) {
            end++;
          }
          try {
            long value = Long.parseLong(line.substring(start, end));
            if (value != validity) {
              newValidity = value;
              validityChanged = true;
            }
          } catch (NumberFormatException e) {
            changed = true; // unreadable: look again rather than trust what we knew
          }
        }
      }
    }
  }

  @FunctionalInterface
  private interface Operation<T> {
    T run() throws MessagingException, IOException;
  }

  /** The items of one message's FETCH responses (a server may split them over several). */
  private static final class Fetched {
    final long uid;
    long size = -1;
    Instant receivedAt;
    BODY header;
    BODY body;

    private Fetched(long uid) {
      this.uid = uid;
    }

    /**
     * The items of the FETCH responses among {@code responses} that name a UID in {@code asked},
     * by UID. A message's sequence number is no key: an EXPUNGE amid the answer renumbers the
     * messages after it, so two messages would share one. A response without a UID can't be
     * attributed: an unsolicited flag change is ignored, data we asked for is left out (and
     * logged), so the message it belongs to counts as unanswered rather than taking another's place.
     */
    static Map<Long, Fetched> byUid(Response[] responses, Set<Long> asked, String mailbox) {
      Map<Long, Fetched> messages = new TreeMap<>();
      int unattributed = 0;
      String example = null;
      for (Response r : responses) {
        if (!(r instanceof FetchResponse f)) {
          continue;
        }
        UID uid = f.getItem(UID.class);
        if (uid == null || !asked.contains(uid.uid)) {
          // e.g. "* 7 FETCH (FLAGS (\\Seen))": another client changed flags meanwhile, nothing to take
          if (carriesData(f) && unattributed++ == 0) {
            example = "message " + f.getNumber() + (uid == null ? " without its UID" : " as UID " + uid.uid);
          }
          continue;
        }
        Fetched m = messages.computeIfAbsent(uid.uid, Fetched::new);
        for (int i = 0; i < f.getItemCount(); i++) {
          Object item = f.getItem(i);
          if (item instanceof RFC822SIZE s) {
            m.size = s.size;
          } else if (item instanceof INTERNALDATE d && d.getDate() != null) {
            m.receivedAt = d.getDate().toInstant();
          } else if (item instanceof BODY b) {
            if (b.isHeader()) {
              m.header = b;
            } else {
              m.body = b;
            }
          }
        }
      }
      if (unattributed > 0) {
        log.warn("{}: {} FETCH responses with data came for messages not asked for or without their UID "
            + "(first: {}); not attributed", mailbox, unattributed, example);
      }
      return messages;
    }

    private static boolean carriesData(FetchResponse f) {
      return f.getItem(BODY.class) != null || f.getItem(RFC822SIZE.class) != null;
    }
  }

  /** Opens a downloaded large message; valid until the session closes. */
  private record TemporaryFileSource(Path file, long uid, String mailbox) implements ContentSource {
    @Override
    public InputStream open() throws IOException {
      try {
        return Files.newInputStream(file);
      } catch (NoSuchFileException e) {
        throw new IOException("message UID " + uid + " of " + mailbox + " was downloaded by an IMAP session that is "
            + "closed now; fetch it again", e);
      }
    }
  }
}
