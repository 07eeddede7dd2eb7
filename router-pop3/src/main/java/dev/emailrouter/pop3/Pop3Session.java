package dev.emailrouter.pop3;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.support.internal.RawHeaders;
import jakarta.mail.FetchProfile;
import jakarta.mail.Flags;
import jakarta.mail.Message;
import jakarta.mail.MessageRemovedException;
import jakarta.mail.MessagingException;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import jakarta.mail.internet.MailDateFormat;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.eclipse.angus.mail.pop3.POP3Folder;
import org.eclipse.angus.mail.pop3.POP3Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One open POP3 maildrop: UIDL once, LIST once, then per selected message RETR (small ones, kept for
 * the download) or TOP (large ones), RETR per tracked large message,
 * DELE and QUIT at close. RETR, TOP and the closing RSET, DELEs and QUIT go through {@link
 * Pop3Pipeline} a window at a time where the server offers PIPELINING, else one at a time through
 * Angus.
 *
 * <p>POP3 message numbers are stable for the whole session (RFC 1939: the maildrop is locked, and
 * a deleted message keeps its number until QUIT), so the UIDL-to-number index built once serves
 * every later call.
 *
 * <p>For one thread at a time, as {@link MailboxReader.Session} requires.
 */
final class Pop3Session implements MailboxReader.Session {

  /** Messages larger than this are spooled to a temp file instead of memory. */
  static final int SPOOL_THRESHOLD = 1024 * 1024;
  /**
   * Messages LIST reports at or below this size are downloaded whole (RETR) when their headers are
   * read, and kept for {@link #fetchMessages}: one round trip instead of TOP now and RETR later.
   */
  static final int WHOLE_MESSAGE_BYTES = 256 * 1024;
  /** The most bytes of whole messages a session keeps waiting for {@link #fetchMessages}. */
  static final long RETRIEVED_BUDGET_BYTES = 32L * 1024 * 1024;
  /** The most header bytes kept when a server without TOP makes us read a whole message for them. */
  private static final int MAX_HEADER_BYTES = 1024 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(Pop3Session.class);

  private final String mailbox;
  private final Store store;
  private final POP3Folder folder;
  private final boolean deleteTracked;
  private final boolean deleteRejected;
  private final Set<String> pendingDeletes;
  private final int spoolThreshold;
  private final List<Path> tempFiles = new ArrayList<>();

  /**
   * Ref by message number - 1: the UIDL, or for a UIDL the server gave to several messages, the UIDL
   * and a digest of the headers (see {@link #duplicateRefs}); null where the server gave none.
   */
  private List<String> uidls;
  private Map<String, Integer> numbers;
  /** Sizes from LIST by message number, once asked. */
  private Map<Integer, Long> sizes;
  private boolean topWorks = true;
  /** Messages up to this size are downloaded whole when their headers are read. */
  private final long wholeMessageBytes;
  /** Whole messages downloaded while reading their headers, by message number, until fetched. */
  private final Map<Integer, byte[]> retrieved = new HashMap<>();
  private long retrievedBytes;
  private final MailDateFormat dates = new MailDateFormat();
  /** RETR and TOP several at a time, where the server offers PIPELINING; {@code null}: one at a time. */
  private final Pop3Pipeline pipeline;
  /**
   * Header blocks (TOP n 0) read ahead by the pipeline in {@link #fetchNew}, by message number,
   * until {@link #headers} takes them.
   */
  private final Map<Integer, byte[]> topped = new HashMap<>();
  /** With the pipeline: the message numbers to delete, sent as DELEs at close, in one window. */
  private final Set<Integer> toDelete = new LinkedHashSet<>();
  private int deletions;
  private boolean closed;

  Pop3Session(String mailbox, Store store, POP3Folder folder, boolean deleteTracked, boolean deleteRejected,
      Set<String> pendingDeletes, int spoolThreshold, long wholeMessageBytes, Pop3Pipeline pipeline) {
    this.mailbox = mailbox;
    this.store = store;
    this.folder = folder;
    this.deleteTracked = deleteTracked;
    this.deleteRejected = deleteRejected;
    this.pendingDeletes = pendingDeletes;
    this.spoolThreshold = spoolThreshold;
    this.wholeMessageBytes = wholeMessageBytes;
    this.pipeline = pipeline;
    LOG.debug("mailbox {}: RETR, TOP and DELE {}", mailbox,
        pipeline != null ? "pipelined (the server offers PIPELINING)" : "one at a time");
  }

  @Override
  public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
    Objects.requireNonNull(cursor, "cursor");
    Objects.requireNonNull(retry, "retry");
    if (max < 0) {
      throw new IllegalArgumentException("max must be at least 0, was " + max);
    }
    checkOpen();
    Set<String> handled;
    try {
      handled = Pop3Cursor.decode(cursor);
    } catch (IllegalArgumentException e) {
      throw new PermanentRouterException(mailbox + ": the stored cursor was not written by the POP3 reader ("
          + e.getMessage() + "); reset this mailbox's checkpoint to read the mailbox from the start", e);
    }
    index();

    List<Integer> selected = new ArrayList<>();
    List<String> next = new ArrayList<>();
    int fresh = 0;
    boolean more = false;
    for (int i = 0; i < uidls.size(); i++) {
      String uidl = uidls.get(i);
      if (uidl == null) {
        continue;
      }
      if (retry.contains(uidl)) {
        selected.add(i + 1);
      } else if (!handled.contains(uidl)) {
        if (fresh == max) {
          more = true;
          continue;
        }
        fresh++;
        selected.add(i + 1);
      }
      next.add(uidl);
    }

    List<MessageHeaders> messages = new ArrayList<>(selected.size());
    if (!selected.isEmpty()) {
      listSizes();
      if (pipeline != null) {
        readAhead(selected);
      }
      for (int number : selected) {
        String uidl = uidls.get(number - 1);
        MessageHeaders headers = headers(number, uidl);
        if (headers == null) {
          // Neither TOP nor RETR returns it: leave it out of the cursor, so a later session tries again.
          LOG.warn("mailbox {}: message {} (UIDL {}) could not be read; skipped this time", mailbox, number, uidl);
          next.remove(uidl);
        } else {
          messages.add(headers);
        }
      }
      topped.clear();
    }
    LOG.debug("mailbox {}: {} messages on the server, {} new and {} asked again returned, more: {}", mailbox,
        uidls.size(), fresh, selected.size() - fresh, more);
    return new NewMessages(messages, Pop3Cursor.encode(next), false, more);
  }

  @Override
  public List<RawMessage> fetchMessages(List<String> refs) {
    Objects.requireNonNull(refs, "refs");
    checkOpen();
    index();
    if (pipeline != null) {
      return fetchPipelined(refs);
    }
    List<RawMessage> messages = new ArrayList<>(refs.size());
    for (String ref : refs) {
      Integer number = numbers.get(ref);
      if (number == null) {
        LOG.trace("mailbox {}: message {} is gone", mailbox, ref);
        continue;
      }
      byte[] whole = retrieved.remove(number);
      if (whole != null) {
        retrievedBytes -= whole.length;
        LOG.trace("mailbox {}: message {} ({} bytes) was downloaded with its headers", mailbox, ref, whole.length);
        messages.add(new RawMessage(ref, whole.length, ContentSource.ofBytes(whole)));
        continue;
      }
      long expected = sizes == null ? -1 : sizes.getOrDefault(number, -1L);
      try (MessageSpool spool = new MessageSpool(spoolThreshold, expected, tempFiles::add)) {
        // POP3Message.writeTo streams RETR straight into the spool, undoing the dot-stuffing on the
        // way, without the copy (and soft-referenced cache) that getMimeStream() keeps.
        message(number).writeTo(spool);
        ContentSource content = spool.finish();
        LOG.trace("mailbox {}: downloaded message {} ({} bytes{})", mailbox, ref, spool.size(),
            spool.spilled() ? ", spooled to a temp file" : "");
        messages.add(new RawMessage(ref, spool.size(), content));
      } catch (MessageRemovedException e) {
        // Angus reports any -ERR to RETR this way. The message was listed by this session's UIDL, and
        // the maildrop is locked with stable numbers for the session (RFC 1939), so it has not gone
        // away: the server refused it. Leaving it out would read as "deleted meanwhile", and the
        // engine would move its cursor past a message it never read; failing it instead lets the
        // engine retry it on later ticks and quarantine it (left on the server) if it keeps failing.
        throw refused(ref, Pop3Errors.chainText(e), e);
      } catch (MessagingException | IOException e) {
        throw Pop3Errors.session(mailbox, "downloading message " + ref, e);
      }
    }
    return messages;
  }

  private PermanentRouterException refused(String ref, String said, Exception cause) {
    return new PermanentRouterException(mailbox + ": the server refused to download message " + ref + " ("
        + said + "); it is tried again later and set aside, never deleted, if it keeps failing", cause);
  }

  /**
   * {@link #fetchMessages} over the pipeline: one RETR per message not downloaded yet, a window at
   * a time, each streamed into its own spool (memory up to the spool threshold, then a temp file).
   * A refused RETR fails the call as in lock-step, but only once every reply of the run is read, so
   * the connection stays in step.
   */
  private List<RawMessage> fetchPipelined(List<String> refs) {
    RawMessage[] found = new RawMessage[refs.size()];
    List<String> commands = new ArrayList<>();
    List<Integer> positions = new ArrayList<>();
    for (int i = 0; i < refs.size(); i++) {
      String ref = refs.get(i);
      Integer number = numbers.get(ref);
      if (number == null) {
        LOG.trace("mailbox {}: message {} is gone", mailbox, ref);
        continue;
      }
      byte[] whole = retrieved.remove(number);
      if (whole != null) {
        retrievedBytes -= whole.length;
        found[i] = new RawMessage(ref, whole.length, ContentSource.ofBytes(whole));
      } else {
        commands.add("RETR " + number);
        positions.add(i);
      }
    }
    String[] refusedRef = new String[2];
    if (!commands.isEmpty()) {
      try {
        pipeline.run(commands, true, (k, ok, body) -> {
          int i = positions.get(k);
          String ref = refs.get(i);
          if (!ok) {
            if (refusedRef[0] == null) {
              refusedRef[0] = ref;
              refusedRef[1] = pipeline.lastError();
            }
            return;
          }
          long expected = sizes == null ? -1 : sizes.getOrDefault(numbers.get(ref), -1L);
          try (MessageSpool spool = new MessageSpool(spoolThreshold, expected, tempFiles::add)) {
            body.transferTo(spool);
            found[i] = new RawMessage(ref, spool.size(), spool.finish());
            LOG.trace("mailbox {}: downloaded message {} ({} bytes{})", mailbox, ref, spool.size(),
                spool.spilled() ? ", spooled to a temp file" : "");
          }
        });
      } catch (IOException e) {
        throw Pop3Errors.session(mailbox, "downloading messages", e);
      }
    }
    if (refusedRef[0] != null) {
      // See fetchMessages: a refused RETR is a failure of that message, not a message gone.
      throw refused(refusedRef[0], refusedRef[1], null);
    }
    List<RawMessage> messages = new ArrayList<>(refs.size());
    for (RawMessage message : found) {
      if (message != null) {
        messages.add(message);
      }
    }
    return messages;
  }

  /**
   * Reads ahead, over the pipeline, what {@link #headers} needs for the selected messages: the
   * whole message (RETR) where it will be kept for {@link #fetchMessages}, else the header block
   * (TOP n 0). What the server refuses, or a message far bigger than LIST said, is left to the
   * lock-step path in {@link #headers}, which knows the fallbacks.
   */
  private void readAhead(List<Integer> selected) {
    List<String> commands = new ArrayList<>(selected.size());
    List<Integer> wanted = new ArrayList<>(selected.size());
    long budget = retrievedBytes;
    boolean anyTop = false;
    for (int number : selected) {
      if (retrieved.containsKey(number)) {
        continue;
      }
      long size = sizes.getOrDefault(number, -1L);
      if (size >= 0 && size <= wholeMessageBytes && budget + size <= RETRIEVED_BUDGET_BYTES) {
        budget += size;
        commands.add("RETR " + number);
      } else if (topWorks) {
        commands.add("TOP " + number + " 0");
        anyTop = true;
      } else {
        continue;
      }
      wanted.add(number);
    }
    if (commands.isEmpty()) {
      return;
    }
    boolean[] topRefused = new boolean[1];
    try {
      pipeline.run(commands, true, (k, ok, body) -> {
        int number = wanted.get(k);
        boolean whole = commands.get(k).charAt(0) == 'R';
        if (!ok) {
          topRefused[0] |= !whole;
          return;
        }
        if (whole) {
          long size = sizes.getOrDefault(number, -1L);
          // LIST gives the exact size (RFC 1939); a little slack for servers that count loosely.
          // A server sending much more than it listed gets no copy kept (the message's headers
          // then come by TOP and its download streams into a spool), so the retrieved budget holds.
          byte[] bytes = readUpTo(body, (int) size, (int) (size + size / 8 + 1024));
          if (bytes != null) {
            retrieved.put(number, bytes);
            retrievedBytes += bytes.length;
          }
        } else {
          topped.put(number, body.readNBytes(MAX_HEADER_BYTES));
        }
      });
    } catch (IOException e) {
      throw Pop3Errors.session(mailbox, "reading new messages", e);
    }
    if (anyTop && topRefused[0]) {
      // headers() asks again in lock-step, where a refused TOP turns into headers from RETR.
      LOG.debug("mailbox {}: the server refused TOP in the pipeline; those messages are read one by one", mailbox);
    }
  }

  /**
   * The stream's bytes if there are at most {@code max}, else {@code null} (the rest is skipped).
   * The array is sized for {@code expected} bytes, so a message as long as LIST said (the usual
   * case) is read into its final array without a further copy.
   */
  private static byte[] readUpTo(InputStream in, int expected, int max) throws IOException {
    byte[] bytes = new byte[expected];
    int count = 0;
    while (true) {
      if (count == bytes.length) {
        int next = in.read();
        if (next < 0) {
          return bytes;
        }
        if (count >= max) {
          return null;
        }
        bytes = Arrays.copyOf(bytes, Math.min(max, Math.max(count * 2, 1024)));
        bytes[count++] = (byte) next;
        continue;
      }
      int n = in.read(bytes, count, bytes.length - count);
      if (n < 0) {
        return Arrays.copyOf(bytes, count);
      }
      count += n;
    }
  }

  @Override
  public void dispose(Map<String, Disposition> dispositions) {
    Objects.requireNonNull(dispositions, "dispositions");
    if (!deleteTracked) {
      return;
    }
    checkOpen();
    index();
    dispositions.forEach((ref, disposition) -> {
      boolean delete = switch (Objects.requireNonNull(disposition, "disposition")) {
        case TRACKED -> deleteTracked;
        case REJECTED -> deleteRejected;
        case QUARANTINED -> false;
      };
      Integer number = numbers.get(ref);
      if (delete && number != null) {
        markDeleted(number, ref);
      }
    });
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (pipeline != null && !toDelete.isEmpty()) {
      try {
        commitPipelined();
      } finally {
        pipeline.close();
        closeStore();
      }
      return;
    }
    try {
      // Angus swallows I/O failures of RSET, DELE and QUIT in close(), so a dead connection would
      // go unnoticed; a NOOP first (only when there is something to commit) makes it visible.
      if (deletions > 0 && !folder.isOpen()) {
        LOG.warn("mailbox {}: the connection was lost before QUIT, so {} deletions were not committed; they are "
            + "tried again in the next session", mailbox, deletions);
        return;
      }
      // With deletions to commit, close(true) sends a DELE for each and then QUIT; the server
      // applies them only on QUIT (RFC 1939 UPDATE state). rsetbeforequit first clears deletion
      // marks some servers set by themselves after RETR, so only ours are committed.
      folder.close(deletions > 0);
      if (deletions > 0) {
        LOG.debug("mailbox {}: {} deletions sent before QUIT", mailbox, deletions);
      }
    } catch (MessagingException | IllegalStateException e) {
      if (deletions > 0) {
        LOG.warn("mailbox {}: the connection failed before QUIT, so {} deletions were not committed; they are "
            + "tried again in the next session ({})", mailbox, deletions, Pop3Errors.chainText(e));
      } else {
        LOG.debug("mailbox {}: closing failed: {}", mailbox, Pop3Errors.chainText(e));
      }
    } finally {
      closeStore();
    }
  }

  /**
   * RSET, a DELE for each message to delete and QUIT, in one window: what Angus's close sends one
   * at a time with rsetbeforequit (RSET first clears the deletion marks some servers set by
   * themselves after RETR, so only ours are committed). The server applies the deletions only on
   * QUIT (RFC 1939 UPDATE state); a session that fails before QUIT's +OK leaves them to the next
   * one, as {@link #retryPendingDeletes} does.
   */
  private void commitPipelined() {
    List<Integer> numbers = List.copyOf(toDelete);
    List<String> commands = new ArrayList<>(numbers.size() + 2);
    commands.add("RSET");
    for (int number : numbers) {
      commands.add("DELE " + number);
    }
    commands.add("QUIT");
    boolean[] committed = new boolean[1];
    int[] refused = new int[1];
    try {
      pipeline.run(commands, false, (k, ok, body) -> {
        if (k == commands.size() - 1) {
          committed[0] = ok;
        } else if (!ok && k > 0) {
          refused[0]++;
        }
      });
    } catch (IOException e) {
      LOG.warn("mailbox {}: the connection failed before QUIT, so {} deletions were not committed; they are tried "
          + "again in the next session ({})", mailbox, numbers.size(), Pop3Errors.chainText(e));
      return;
    }
    if (!committed[0]) {
      LOG.warn("mailbox {}: the server refused QUIT, so {} deletions may not be committed; they are tried again in "
          + "the next session", mailbox, numbers.size());
    } else if (refused[0] > 0) {
      LOG.warn("mailbox {}: the server refused {} of {} DELE commands; those messages are tried again in the next "
          + "session", mailbox, refused[0], numbers.size());
    } else {
      LOG.debug("mailbox {}: {} deletions sent before QUIT", mailbox, numbers.size());
    }
  }

  private void closeStore() {
    try {
      // After our own QUIT the server has closed the connection; Angus's QUIT then fails quietly.
      store.close();
    } catch (MessagingException | RuntimeException e) {
      LOG.debug("mailbox {}: closing the store failed: {}", mailbox, Pop3Errors.chainText(e));
    }
    for (Path file : tempFiles) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        LOG.warn("mailbox {}: could not delete temp file {}: {}", mailbox, file, e.toString());
      }
    }
    tempFiles.clear();
  }


  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the session of mailbox " + mailbox + " is closed");
    }
  }

  /** One UIDL command for the whole maildrop, then the ref-to-number index. */
  private void index() {
    if (numbers != null) {
      return;
    }
    try {
      int total = folder.getMessageCount();
      List<String> list = new ArrayList<>(total);
      Map<String, List<Integer>> byUidl = new LinkedHashMap<>(Math.max(16, total * 4 / 3 + 1));
      if (total > 0) {
        FetchProfile profile = new FetchProfile();
        profile.add(UIDFolder.FetchProfileItem.UID);
        // POP3Folder.fetch sends one UIDL for every message, whatever array it is given.
        folder.fetch(new Message[0], profile);
        for (int number = 1; number <= total; number++) {
          String uidl = folder.getUID(folder.getMessage(number));
          if (uidl == null && number == 1) {
            throw new PermanentRouterException(mailbox + ": the server does not support UIDL, which the POP3 reader "
                + "needs to recognise messages from one session to the next; use IMAP for this mailbox");
          }
          if (uidl != null) {
            byUidl.computeIfAbsent(uidl, u -> new ArrayList<>(1)).add(number);
          }
          list.add(uidl);
        }
      }
      Map<String, Integer> byRef = new HashMap<>(Math.max(16, total * 4 / 3 + 1));
      for (Map.Entry<String, List<Integer>> entry : byUidl.entrySet()) {
        List<Integer> sharing = entry.getValue();
        if (sharing.size() == 1) {
          byRef.put(entry.getKey(), sharing.get(0));
        } else {
          for (Map.Entry<String, Integer> ref : duplicateRefs(entry.getKey(), sharing).entrySet()) {
            byRef.put(ref.getKey(), ref.getValue());
            list.set(ref.getValue() - 1, ref.getKey());
          }
        }
      }
      uidls = list;
      numbers = byRef;
    } catch (MessagingException | IOException e) {
      throw Pop3Errors.session(mailbox, "listing UIDLs", e);
    }
    retryPendingDeletes();
  }

  /**
   * Refs for messages the server lists under one UIDL, which RFC 1939 forbids but servers with a
   * damaged UIDL store do. Reading only one of them would drop the others for good; numbering
   * them ("the second message with this UIDL") would hand a handled message's ref to an unread one
   * as soon as the first is deleted. So each gets the UIDL, a space (never part of a UIDL) and a
   * digest of its header block, which stays with the message whatever else comes and goes: the
   * price is one TOP per such message per session. A ref changes when the UIDL stops (or starts)
   * being shared, so such a message is read once more then, and the store's idempotent creation
   * absorbs the repeat: read twice rather than never. Messages whose header blocks are identical
   * too are told apart by their order ({@code #2}, {@code #3}); as are any whose headers can't be
   * read.
   */
  private Map<String, Integer> duplicateRefs(String uidl, List<Integer> sharing)
      throws MessagingException, IOException {
    Map<String, Integer> refs = new LinkedHashMap<>();
    for (int number : sharing) {
      byte[] block = readHeaders(message(number));
      String base = uidl + " " + (block == null ? "unread" : digest(block));
      String ref = base;
      for (int k = 2; refs.containsKey(ref); k++) {
        ref = base + "#" + k;
      }
      refs.put(ref, number);
    }
    LOG.warn("mailbox {}: the server gave UIDL {} to {} messages ({}), which RFC 1939 forbids; each is read, "
        + "with refs {}", mailbox, uidl, sharing.size(), sharing, refs.keySet());
    return refs;
  }

  private static String digest(byte[] block) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(block);
      return HexFormat.of().formatHex(hash, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** Deletions a previous session sent without a confirmed QUIT are sent again. */
  private void retryPendingDeletes() {
    if (!deleteTracked || pendingDeletes.isEmpty()) {
      return;
    }
    for (String ref : List.copyOf(pendingDeletes)) {
      Integer number = numbers.get(ref);
      if (number == null) {
        pendingDeletes.remove(ref); // deleted (by us or by someone else)
      } else {
        LOG.debug("mailbox {}: message {} is still there after an earlier deletion; deleting again", mailbox, ref);
        markDeleted(number, ref);
      }
    }
  }

  private void markDeleted(int number, String ref) {
    if (pipeline != null) {
      toDelete.add(number);
    } else {
      try {
        message(number).setFlag(Flags.Flag.DELETED, true);
      } catch (MessagingException e) {
        throw Pop3Errors.session(mailbox, "marking message " + ref + " deleted", e);
      }
    }
    pendingDeletes.add(ref);
    deletions++;
    LOG.trace("mailbox {}: message {} marked for deletion", mailbox, ref);
  }

  /** One LIST for every message's size: one round trip, where LIST n would cost one per message. */
  private void listSizes() {
    if (sizes != null) {
      return;
    }
    Map<Integer, Long> map = new HashMap<>();
    try (InputStream in = folder.listCommand()) {
      if (in != null) {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
          // "number size": split by hand, as String.split with a regex compiles it for every line
          String trimmed = line.strip();
          int space = 0;
          while (space < trimmed.length() && !Character.isWhitespace(trimmed.charAt(space))) {
            space++;
          }
          int start = space;
          while (start < trimmed.length() && Character.isWhitespace(trimmed.charAt(start))) {
            start++;
          }
          int end = start;
          while (end < trimmed.length() && !Character.isWhitespace(trimmed.charAt(end))) {
            end++;
          }
          if (space > 0 && end > start) {
            try {
              map.put(Integer.parseInt(trimmed, 0, space, 10), Long.parseLong(trimmed, start, end, 10));
            } catch (NumberFormatException e) {
              // a line we can't read leaves that size unknown (-1)
            }
          }
        }
      }
    } catch (MessagingException | IOException e) {
      throw Pop3Errors.session(mailbox, "listing message sizes", e);
    }
    sizes = map;
  }

  private MessageHeaders headers(int number, String uidl) {
    try {
      long size = sizes.getOrDefault(number, -1L);
      byte[] block = retrieved.get(number);
      if (block == null) {
        block = topped.remove(number);
      }
      if (block == null && pipeline == null && size >= 0 && size <= wholeMessageBytes
          && retrievedBytes + size <= RETRIEVED_BUDGET_BYTES) {
        block = retrieve(number, size);
        if (block != null) {
          retrieved.put(number, block);
          retrievedBytes += block.length;
        }
      }
      if (block == null) {
        // A big message, or a RETR the server refused: headers alone. A refused RETR is then met
        // again by fetchMessages, which fails that one message (retried, then set aside), rather
        // than the message being taken for deleted and skipped here.
        block = readHeaders(message(number));
      }
      if (block == null) {
        return null;
      }
      // Our own parser rather than InternetHeaders + MimeUtility.unfold: raw values as the IMAP
      // reader gives them, without Jakarta Mail's stream machinery for every message.
      Map<String, List<String>> map = RawHeaders.parse(block, 0, block.length);
      LOG.trace("mailbox {}: headers of message {} (UIDL {}, {} bytes)", mailbox, number, uidl, size);
      return new MessageHeaders(uidl, size < 0 ? -1 : size, receivedAt(map.get("received")), map);
    } catch (MessagingException | IOException e) {
      throw Pop3Errors.session(mailbox, "reading the headers of message " + uidl, e);
    }
  }

  /** The whole message by one RETR, or {@code null} if the server refuses it. */
  private byte[] retrieve(int number, long size) throws MessagingException, IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) size + 64);
    try {
      message(number).writeTo(out);
    } catch (MessageRemovedException e) {
      return null;
    }
    return out.toByteArray();
  }

  /**
   * TOP n 0 where the server allows it. Angus decides from CAPA whether TOP exists and, when CAPA
   * doesn't list it (GreenMail, some others that do support it), loads headers with a whole RETR;
   * calling top(0) ourselves tries TOP whatever CAPA says, and only a refused TOP falls back.
   */
  private byte[] readHeaders(POP3Message message) throws MessagingException, IOException {
    if (topWorks) {
      InputStream top = message.top(0);
      if (top != null) {
        try (top) {
          return top.readNBytes(MAX_HEADER_BYTES);
        }
      }
    }
    HeaderCapture capture = new HeaderCapture();
    try {
      message.writeTo(capture);
    } catch (MessageRemovedException e) {
      return null;
    }
    if (topWorks) {
      topWorks = false;
      LOG.debug("mailbox {}: the server refused TOP; headers now come from whole messages (RETR)", mailbox);
    }
    return capture.headers();
  }

  /**
   * When the newest Received header says (the receiving server's own stamp), since POP3 has no
   * INTERNALDATE; {@code null} when there is none or it can't be read.
   */
  private Instant receivedAt(List<String> received) {
    if (received == null || received.isEmpty()) {
      return null;
    }
    String value = received.get(0);
    int semicolon = value.lastIndexOf(';');
    if (semicolon < 0) {
      return null;
    }
    try {
      Date date = dates.parse(value.substring(semicolon + 1).trim());
      return date == null ? null : date.toInstant();
    } catch (ParseException | RuntimeException e) {
      return null;
    }
  }

  private POP3Message message(int number) throws MessagingException {
    return (POP3Message) folder.getMessage(number);
  }

  /** Keeps the header block of a message streamed through it and drops the body. */
  private static final class HeaderCapture extends OutputStream {
    private final ByteArrayOutputStream headers = new ByteArrayOutputStream(4096);
    private int last1 = -1;
    private int last2 = -1;
    private boolean done;

    @Override
    public void write(int b) {
      if (done) {
        return;
      }
      headers.write(b);
      // the blank line ends the header: LF LF or LF CR LF
      boolean blankLine = b == '\n' && (last1 == '\n' || (last1 == '\r' && last2 == '\n'));
      if (blankLine || headers.size() >= MAX_HEADER_BYTES) {
        done = true;
      }
      last2 = last1;
      last1 = b;
    }

    byte[] headers() {
      return headers.toByteArray();
    }
  }
}
