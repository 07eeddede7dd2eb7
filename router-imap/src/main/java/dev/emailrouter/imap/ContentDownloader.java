package dev.emailrouter.imap;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.RawMessage;
import jakarta.mail.MessagingException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.angus.mail.iap.ByteArray;
import org.eclipse.angus.mail.iap.Response;
import org.eclipse.angus.mail.imap.protocol.BODY;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads whole messages: the job behind {@link dev.emailrouter.api.MailboxReader.Session#fetchMessages}.
 * Small messages come in bulk {@code UID FETCH BODY.PEEK[]} commands, bounded in count and bytes;
 * large ones (over 1 MiB, or of unknown size) are streamed in pieces into temporary files that
 * {@link #deleteTemporaryFiles()} removes when the session closes. Reading never sets {@code \Seen}.
 *
 * <p>One per session, for one thread at a time.
 */
final class ContentDownloader {

  private static final Logger log = LoggerFactory.getLogger(ContentDownloader.class);

  /** Messages larger than this are streamed to a temporary file rather than held in memory. */
  static final int LARGE_MESSAGE_BYTES = 1 << 20;
  /** The piece size in which a large message is downloaded. */
  static final int PARTIAL_FETCH_BYTES = 1 << 20;
  /** The most small messages downloaded by one command. */
  static final int BULK_FETCH_MESSAGES = 100;
  /** The most bytes of small messages downloaded by one command. */
  static final long BULK_FETCH_BYTES = 16L << 20;

  private final ImapSettings settings;
  private final String mailbox;
  /** The sizes the session's header fetch found, by UID; read only here. */
  private final Map<Long, Long> sizes;
  private final List<Path> temporaryFiles = new ArrayList<>();

  /**
   * @param sizes the session's sizes by UID, as its {@link HeaderFetcher} fills them
   */
  ContentDownloader(ImapSettings settings, Map<Long, Long> sizes) {
    this.settings = settings;
    this.mailbox = settings.describe();
    this.sizes = sizes;
  }

  /**
   * The messages among {@code asked} that exist, in the order asked; a message without an answer is
   * left out once {@code UID SEARCH} confirmed it gone.
   *
   * @throws IOException if a temporary file can't be written
   */
  List<RawMessage> download(ImapConnection connection, LinkedHashSet<Long> asked)
      throws MessagingException, IOException {
    // Only the asked messages' sizes: copying every size the session listed (10,000 in a big
    // first tick) for each batch was a tenth of the CPU of tracking mail.
    TreeSet<Long> unknown = new TreeSet<>();
    Map<Long, Long> askedSizes = new HashMap<>(asked.size() * 2);
    for (long uid : asked) {
      Long size = sizes.get(uid);
      if (size == null) {
        unknown.add(uid);
      } else {
        askedSizes.put(uid, size);
      }
    }
    if (!unknown.isEmpty()) {
      askedSizes.putAll(fetchSizes(connection, unknown));
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
        RawMessage large = downloadToFile(connection, uid);
        if (large != null) {
          downloaded.put(uid, large);
        }
        continue;
      }
      if (!chunk.isEmpty() && (chunk.size() == BULK_FETCH_MESSAGES || chunkBytes + size > BULK_FETCH_BYTES)) {
        downloadInMemory(connection, chunk, downloaded);
        chunk.clear();
        chunkBytes = 0;
      }
      chunk.add(uid);
      chunkBytes += size;
    }
    if (!chunk.isEmpty()) {
      downloadInMemory(connection, chunk, downloaded);
    }
    FetchResponses.requireGone(connection, settings, asked, downloaded.keySet(), "content");
    List<RawMessage> result = new ArrayList<>(downloaded.size());
    for (long uid : asked) {
      RawMessage message = downloaded.get(uid);
      if (message != null) {
        result.add(message);
      }
    }
    log.debug("{}: downloaded {} of {} messages", mailbox, result.size(), asked.size());
    return result;
  }

  /** Deletes the session's temporary files; a file that can't be deleted is logged. */
  void deleteTemporaryFiles() {
    for (Path file : temporaryFiles) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        log.warn("{}: temporary file {} could not be deleted: {}", mailbox, file, e.toString());
      }
    }
    temporaryFiles.clear();
  }

  private Map<Long, Long> fetchSizes(ImapConnection connection, TreeSet<Long> uids) throws MessagingException {
    Map<Long, Long> found = new HashMap<>();
    for (String set : UidSets.of(uids, UidSets.PER_COMMAND)) {
      for (FetchResponses.Fetched f : FetchResponses.byUid(
          connection.command("UID FETCH " + set + " (UID RFC822.SIZE)", null), uids, mailbox).values()) {
        found.put(f.uid, f.size); // a size of -1 (not said) takes the large-message path
      }
    }
    return found;
  }

  /** One {@code UID FETCH set (UID BODY.PEEK[])} for a chunk of small messages. */
  private void downloadInMemory(ImapConnection connection, TreeSet<Long> uids, Map<Long, RawMessage> into)
      throws MessagingException {
    Response[] responses = connection.command(
        "UID FETCH " + UidSets.of(uids, UidSets.PER_COMMAND).get(0) + " (UID BODY.PEEK[])", null);
    for (FetchResponses.Fetched f : FetchResponses.byUid(responses, uids, mailbox).values()) {
      if (f.body != null && f.body.getByteArray() != null) {
        // Not copied out: the literal lies in its own response's buffer (Angus reads each response
        // of a command into a new array), which nothing else writes or keeps.
        ByteArray ba = f.body.getByteArray();
        byte[] buffer = ba.getBytes();
        int start = ba.getStart();
        int count = ba.getCount();
        into.put(f.uid, new RawMessage(Long.toString(f.uid), count,
            () -> new ByteArrayInputStream(buffer, start, count)));
      }
    }
  }

  /**
   * Downloads a large message in pieces ({@code BODY.PEEK[]<offset.length>}) into a temporary file
   * deleted when the session closes.
   *
   * @return the message, or {@code null} if it no longer exists
   */
  private RawMessage downloadToFile(ImapConnection connection, long uid) throws MessagingException, IOException {
    Path file = Files.createTempFile("emailrouter-imap-", ".eml");
    temporaryFiles.add(file);
    long offset = 0;
    try (OutputStream out = Files.newOutputStream(file)) {
      while (true) {
        BODY piece = null;
        String partial = "<" + offset + "." + PARTIAL_FETCH_BYTES + ">";
        FetchResponses.Fetched f = FetchResponses.byUid(
            connection.command("UID FETCH " + uid + " (UID BODY.PEEK[]" + partial + ")", null),
            Set.of(uid), mailbox).get(uid);
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
    log.trace("{}: UID {} ({} bytes) downloaded to a temporary file", mailbox, uid, offset);
    return new RawMessage(Long.toString(uid), offset, new TemporaryFileSource(file, uid, mailbox));
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
