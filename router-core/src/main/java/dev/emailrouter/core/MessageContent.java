package dev.emailrouter.core;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.RawMessage;
import jakarta.mail.BodyPart;
import jakarta.mail.Header;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.util.SharedByteArrayInputStream;
import jakarta.mail.util.SharedFileInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A downloaded message, parsed: bodies, attachments (streamed from the message, not copied), and
 * for forward mailboxes the original message inside. Large messages are spooled to a temporary
 * file and parsed from there, so they are never held in memory whole. Close it to delete the file.
 */
final class MessageContent implements AutoCloseable {
  private static final Pattern DECODER_QUOTE = Pattern.compile("(?s), the \\d+ most recent characters were: .*");
  /** Above this a message is parsed from a temporary file instead of memory. */
  static final long SPOOL_THRESHOLD = 1024 * 1024;
  private static final Session SESSION = newSession();

  final MimeMessage message;
  private final InputStream shared;
  private final Path spool;
  String text;
  String html;
  final List<Attachment> attachments = new ArrayList<>();
  final List<String> dropped = new ArrayList<>();
  /** One line per part kept undecoded because it could not be split or decoded, with why. */
  final List<String> degraded = new ArrayList<>();
  /** In a forward mailbox, the forwarded originals (message/rfc822 parts), in order. */
  final List<MimeMessage> forwarded = new ArrayList<>();

  private MessageContent(MimeMessage message, InputStream shared, Path spool) {
    this.message = message;
    this.shared = shared;
    this.spool = spool;
  }

  /**
   * Only {@code mail.mime.address.strict} is read from the Session; Jakarta Mail reads the other
   * leniency switches ({@code mail.mime.base64.ignoreerrors}, {@code mail.mime.parameters.strict},
   * {@code mail.mime.multipart.*}, {@code mail.mime.decodetext.strict}, ...) from System properties
   * alone, and a library must not change those for its host. So leniency is done here instead, one
   * part at a time: a part that can't be split or decoded is kept undecoded (see {@link #degraded}).
   */
  private static Session newSession() {
    Properties p = new Properties();
    p.setProperty("mail.mime.address.strict", "false");
    return Session.getInstance(p);
  }

  /**
   * Parses a downloaded message.
   *
   * @param findForward {@code true} in a forward mailbox: each message/rfc822 part is a forwarded
   *     original ({@link #forwarded}) rather than an attachment
   */
  static MessageContent parse(RawMessage raw, long maxAttachmentSize, Set<String> blocked, boolean findForward)
      throws IOException, MessagingException {
    Path spool = null;
    InputStream shared;
    byte[] bytes = null;
    if (raw.size() < 0 || raw.size() > SPOOL_THRESHOLD) {
      spool = Files.createTempFile("email-router-", ".eml");
      try (InputStream in = raw.content().open()) {
        Files.copy(in, spool, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(spool);
        throw e;
      }
      shared = new SharedFileInputStream(spool.toFile());
    } else {
      try (InputStream in = raw.content().open()) {
        bytes = readAll(in, raw.size());
      }
      shared = new SharedByteArrayInputStream(bytes);
    }
    MessageContent content;
    try {
      content = new MessageContent(new MimeMessage(SESSION, shared), shared, spool);
    } catch (MessagingException | RuntimeException e) {
      shared.close();
      if (spool != null) {
        Files.deleteIfExists(spool);
        throw e;
      }
      // The header block itself is unreadable (a continuation line with no field before it, say): read
      // the whole message as a body without headers, so a human can still see it. The headers the
      // engine decides on come from the reader, not from here.
      byte[] headless = new byte[bytes.length + 2];
      headless[0] = '\r';
      headless[1] = '\n';
      System.arraycopy(bytes, 0, headless, 2, bytes.length);
      shared = new SharedByteArrayInputStream(headless);
      content = new MessageContent(new MimeMessage(SESSION, shared), shared, null);
      content.degraded.add("headers: " + reason(e) + "; the whole message kept as its text");
    }
    try {
      content.walk(content.message, 0, maxAttachmentSize, blocked, findForward);
    } catch (IOException | MessagingException | RuntimeException e) {
      content.close();
      throw e;
    }
    return content;
  }

  /** Parses one original message of a forward-mailbox message, sharing this one's bytes. */
  MessageContent unwrapped(int index, long maxAttachmentSize, Set<String> blocked)
      throws IOException, MessagingException {
    MimeMessage original = forwarded.get(index);
    MessageContent inner = new MessageContent(original, null, null);
    inner.walk(original, 0, maxAttachmentSize, blocked, false);
    return inner;
  }

  /**
   * Walks one part; if it can't be split or decoded, keeps its raw bytes instead (as the text body
   * when there is none yet, else as an attachment) and notes that in {@link #degraded}, so one bad
   * part does not cost the whole message.
   */
  private void walk(Part part, int depth, long maxAttachmentSize, Set<String> blocked, boolean findForward)
      throws IOException, MessagingException {
    try {
      walkStrict(part, depth, maxAttachmentSize, blocked, findForward);
    } catch (IOException | MessagingException | RuntimeException e) {
      AttachmentName names = AttachmentName.of(part);
      String blockedExtension = names.blockedExtension(blocked);
      if (blockedExtension != null) { // a blocked file is dropped even when it can't be decoded
        dropped.add(Objects.requireNonNullElse(names.display(), "part-" + (attachments.size() + dropped.size() + 1))
            + ": blocked file type ." + blockedExtension);
        return;
      }
      keepRaw(part, lowerType(part), reason(e), maxAttachmentSize);
    }
  }

  private void walkStrict(Part part, int depth, long maxAttachmentSize, Set<String> blocked, boolean findForward)
      throws IOException, MessagingException {
    if (depth > 20) {
      dropped.add("(parts nested deeper than 20 levels were skipped)");
      return;
    }
    String type = lowerType(part);
    String disposition = safeDisposition(part);
    AttachmentName names = AttachmentName.of(part);
    String fileName = names.display();
    if (type.startsWith("multipart/")) {
      Object body = part.getContent();
      if (body instanceof Multipart mp) {
        int count = mp.getCount(); // MimeMultipart splits the body here, lazily: a bad boundary throws now
        for (int i = 0; i < count; i++) {
          BodyPart child = mp.getBodyPart(i);
          walk(child, depth + 1, maxAttachmentSize, blocked, findForward);
        }
      }
      return;
    }
    if (findForward && type.equals("message/rfc822")) {
      Object body = part.getContent();
      if (body instanceof MimeMessage inner) {
        forwarded.add(inner);
        return;
      }
    }
    boolean inline = disposition == null || disposition.equals(Part.INLINE);
    if (inline && fileName == null && type.equals("text/plain") && text == null) {
      text = readText(part, "text body");
      return;
    }
    if (inline && fileName == null && type.equals("text/html") && html == null) {
      html = readText(part, "HTML body");
      return;
    }
    String name = fileName != null ? fileName : defaultName(type, attachments.size() + dropped.size() + 1);
    String blockedExtension = names.blockedExtension(blocked);
    if (blockedExtension != null) {
      dropped.add(name + ": blocked file type ." + blockedExtension);
      return;
    }
    long size = estimatedSize(part);
    String contentType = type.matches("[!#$&^_.+a-z0-9-]+/[!#$&^_.+a-z0-9-]+") ? type : "application/octet-stream";
    ContentSource source = source(part);
    String undecodable = undecodable(part, size);
    if (undecodable != null) {
      source = rawSource(part);
      degraded.add(name + ": " + undecodable + "; kept undecoded");
    }
    Attachment attachment;
    try {
      attachment = new Attachment(name, contentType, size, source);
    } catch (IllegalArgumentException e) {
      attachment = new Attachment(defaultName(type, attachments.size() + 1), contentType, size, source);
    }
    if (blocked.contains(attachment.extension())) {
      dropped.add(attachment.fileName() + ": blocked file type ." + attachment.extension());
    } else if (size > maxAttachmentSize) {
      dropped.add(attachment.fileName() + ": " + size + " bytes, over the limit of " + maxAttachmentSize);
    } else {
      attachments.add(attachment);
    }
  }

  private static ContentSource source(Part part) {
    return () -> {
      try {
        return part.getInputStream();
      } catch (MessagingException e) {
        throw new IOException("attachment can't be decoded: " + e.getMessage(), e);
      }
    };
  }

  private static String lowerType(Part part) {
    try {
      String raw = part.getContentType();
      return raw == null ? "text/plain" : new ContentType(raw).getBaseType().toLowerCase(Locale.ROOT);
    } catch (MessagingException | RuntimeException e) {
      return "application/octet-stream";
    }
  }

  private static String safeDisposition(Part part) {
    try {
      String d = part.getDisposition();
      return d == null ? null : d.toLowerCase(Locale.ROOT);
    } catch (MessagingException | RuntimeException e) {
      return null;
    }
  }

  private static String defaultName(String type, int n) {
    return switch (type) {
      case "message/rfc822" -> "message-" + n + ".eml";
      case "text/plain" -> "part-" + n + ".txt";
      case "text/html" -> "part-" + n + ".html";
      default -> "attachment-" + n + ".bin";
    };
  }

  private static long estimatedSize(Part part) throws MessagingException {
    long encoded = part.getSize();
    if (encoded < 0) {
      return -1;
    }
    String[] cte = part.getHeader("Content-Transfer-Encoding");
    boolean base64 = cte != null && cte.length > 0 && cte[0].strip().equalsIgnoreCase("base64");
    return base64 ? encoded * 3 / 4 : encoded;
  }

  /**
   * Decodes a text part leniently: an unknown or wrong charset falls back to UTF-8 with
   * replacement; a transfer encoding that can't be decoded (broken base64, unknown name) falls back
   * to the undecoded bytes, noted in {@link #degraded}.
   */
  private String readText(Part part, String what) throws MessagingException {
    try (InputStream in = part.getInputStream()) {
      // Sized by what the stream says it holds (exact for an undecoded part of the in-memory
      // message, an estimate through a decoder): one array, where readAllBytes() gathered 8 KB
      // chunks and copied them again; readAll copes with an estimate that is wrong.
      return text(readAll(in, in.available()), part);
    } catch (IOException | MessagingException | RuntimeException e) {
      degraded.add(what + ": " + reason(e) + "; kept undecoded");
      try (InputStream in = raw(part)) {
        return text(in.readAllBytes(), part);
      } catch (IOException raw) {
        throw new MessagingException("the " + what + " can't be read even undecoded: " + raw.getMessage(), raw);
      }
    }
  }

  /**
   * The whole stream, read straight into an array of the size the server gave: one copy, where
   * {@link InputStream#readAllBytes()} through a filtering stream (the digest's) gathers 8 KB
   * chunks and copies them again, about a sixth of the CPU of tracking a 20 KB message. A size
   * that was wrong costs only a second copy.
   */
  static byte[] readAll(InputStream in, long size) throws IOException {
    if (size < 0 || size > SPOOL_THRESHOLD) {
      return in.readAllBytes();
    }
    byte[] bytes = new byte[(int) size];
    int read = in.readNBytes(bytes, 0, bytes.length);
    if (read < bytes.length) {
      return Arrays.copyOf(bytes, read);
    }
    int next = in.read();
    if (next < 0) {
      return bytes;
    }
    ByteArrayOutputStream more = new ByteArrayOutputStream(bytes.length + 8192);
    more.write(bytes);
    more.write(next);
    in.transferTo(more);
    return more.toByteArray();
  }

  /**
   * A text part's bytes in its charset, UTF-7 included (the JDK has no charset for it); an
   * unknown or missing charset is read as UTF-8, malformed bytes as replacement characters.
   */
  private static String text(byte[] bytes, Part part) {
    String text = null;
    try {
      String name = new ContentType(part.getContentType()).getParameter("charset");
      text = name == null ? null : HeaderText.decode(bytes, name);
    } catch (RuntimeException | MessagingException e) {
      // read as UTF-8 below
    }
    return text != null ? text : new String(bytes, StandardCharsets.UTF_8);
  }

  /**
   * Keeps a part that could not be walked: its raw body becomes the text body when there is none
   * yet (a multipart whose boundary never occurs is usually just text), else an attachment.
   */
  private void keepRaw(Part part, String type, String why, long maxAttachmentSize) throws MessagingException {
    byte[] bytes;
    try (InputStream in = raw(part)) {
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new MessagingException("a " + type + " part can't be read even undecoded (" + why + "): " + e.getMessage(),
          e);
    }
    String name;
    if (new String(bytes, StandardCharsets.ISO_8859_1).isBlank()) {
      degraded.add("an empty " + type + " part: " + why + "; skipped");
      return;
    } else if (text == null && !type.startsWith("image/") && !type.startsWith("audio/")
        && !type.startsWith("video/")) {
      text = text(bytes, part);
      name = "text body";
    } else if (bytes.length > maxAttachmentSize) {
      dropped.add("part-" + (attachments.size() + dropped.size() + 1) + ".txt: " + bytes.length
          + " bytes, over the limit of " + maxAttachmentSize);
      return;
    } else {
      name = "part-" + (attachments.size() + dropped.size() + 1) + ".txt";
      attachments.add(new Attachment(name, "text/plain", bytes.length, () -> new ByteArrayInputStream(bytes)));
    }
    degraded.add(name + " (" + type + "): " + why + "; kept undecoded");
  }

  /** The part's body as it was on the wire, without transfer decoding. */
  private static InputStream raw(Part part) throws MessagingException {
    if (part instanceof MimeBodyPart p) {
      return p.getRawInputStream();
    }
    if (part instanceof MimeMessage m) {
      return m.getRawInputStream();
    }
    throw new MessagingException("no raw content for a " + part.getClass().getSimpleName());
  }

  private static ContentSource rawSource(Part part) {
    return () -> {
      try {
        return raw(part);
      } catch (MessagingException e) {
        throw new IOException("attachment can't be read: " + e.getMessage(), e);
      }
    };
  }

  /**
   * Why the part's transfer encoding can't be decoded, or null when it can. Decoding is lazy (the
   * store reads attachments later), so encodings that can fail are tried once here; parts above
   * {@link #SPOOL_THRESHOLD} are not, and would fail the message when read.
   */
  private static String undecodable(Part part, long size) {
    String cte;
    try {
      String[] values = part.getHeader("Content-Transfer-Encoding");
      cte = values == null || values.length == 0 ? "" : values[0].strip().toLowerCase(Locale.ROOT);
    } catch (MessagingException | RuntimeException e) {
      return null;
    }
    if (cte.isEmpty() || cte.equals("7bit") || cte.equals("8bit") || cte.equals("binary") || size > SPOOL_THRESHOLD) {
      return null;
    }
    try (InputStream in = part.getInputStream()) {
      in.transferTo(OutputStream.nullOutputStream());
      return null;
    } catch (IOException | MessagingException | RuntimeException e) {
      return reason(e);
    }
  }

  /** A short reason, without the decoders' quote of the message text. */
  private static String reason(Exception e) {
    String message = e.getMessage();
    String text = e.getClass().getSimpleName() + (message == null ? "" : ": " + withoutQuotedText(message));
    return text.length() > 200 ? text.substring(0, 200) + "..." : text;
  }

  /**
   * A failure's text without the part where Jakarta Mail's decoders quote the message they choked
   * on ("..., the 10 most recent characters were: ..."): message content stays out of logs and events.
   */
  static String withoutQuotedText(String text) {
    return DECODER_QUOTE.matcher(text).replaceFirst(" (the decoder's quote of the message left out)");
  }

  /** The message's headers in the reader's form, for forward-mailbox originals. */
  MessageHeaders headers(String ref, Instant receivedAt) throws MessagingException {
    Map<String, List<String>> map = new LinkedHashMap<>();
    Enumeration<Header> all = message.getAllHeaders();
    while (all.hasMoreElements()) {
      Header h = all.nextElement();
      map.computeIfAbsent(h.getName().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(h.getValue());
    }
    return new MessageHeaders(ref, message.getSize(), receivedAt, map);
  }

  @Override
  public void close() {
    try {
      if (shared != null) {
        shared.close();
      }
    } catch (IOException ignored) {
      // Nothing to lose: the stream was read-only.
    }
    if (spool != null) {
      try {
        Files.deleteIfExists(spool);
      } catch (IOException ignored) {
        spool.toFile().deleteOnExit();
      }
    }
  }
}
