package dev.emailrouter.core;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.RawMessage;
import jakarta.mail.BodyPart;
import jakarta.mail.Header;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.util.SharedByteArrayInputStream;
import jakarta.mail.util.SharedFileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * A downloaded message, parsed: bodies, attachments (streamed from the message, not copied), and
 * for forward mailboxes the original message inside. Large messages are spooled to a temporary
 * file and parsed from there, so they are never held in memory whole. Close it to delete the file.
 */
final class MessageContent implements AutoCloseable {
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
  MimeMessage forwarded;

  private MessageContent(MimeMessage message, InputStream shared, Path spool) {
    this.message = message;
    this.shared = shared;
    this.spool = spool;
  }

  private static Session newSession() {
    Properties p = new Properties();
    p.setProperty("mail.mime.address.strict", "false");
    p.setProperty("mail.mime.decodetext.strict", "false");
    p.setProperty("mail.mime.decodefilename", "true");
    p.setProperty("mail.mime.parameters.strict", "false");
    p.setProperty("mail.mime.multipart.ignoremissingendboundary", "true");
    p.setProperty("mail.mime.multipart.allowempty", "true");
    p.setProperty("mail.mime.base64.ignoreerrors", "true");
    return Session.getInstance(p);
  }

  /**
   * Parses a downloaded message.
   *
   * @param findForward {@code true} in a forward mailbox: the first message/rfc822 part is the
   *     forwarded original ({@link #forwarded}) rather than an attachment
   */
  static MessageContent parse(RawMessage raw, long maxAttachmentSize, Set<String> blocked, boolean findForward)
      throws IOException, MessagingException {
    Path spool = null;
    InputStream shared;
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
        shared = new SharedByteArrayInputStream(in.readAllBytes());
      }
    }
    MessageContent content;
    try {
      content = new MessageContent(new MimeMessage(SESSION, shared), shared, spool);
    } catch (MessagingException | RuntimeException e) {
      shared.close();
      if (spool != null) {
        Files.deleteIfExists(spool);
      }
      throw e;
    }
    try {
      content.walk(content.message, 0, maxAttachmentSize, blocked, findForward);
    } catch (IOException | MessagingException | RuntimeException e) {
      content.close();
      throw e;
    }
    return content;
  }

  /** Parses the original message of a forward-mailbox message, sharing this one's bytes. */
  MessageContent unwrapped(long maxAttachmentSize, Set<String> blocked) throws IOException, MessagingException {
    MessageContent inner = new MessageContent(forwarded, null, null);
    inner.walk(forwarded, 0, maxAttachmentSize, blocked, false);
    return inner;
  }

  private void walk(Part part, int depth, long maxAttachmentSize, Set<String> blocked, boolean findForward)
      throws IOException, MessagingException {
    if (depth > 20) {
      dropped.add("(parts nested deeper than 20 levels were skipped)");
      return;
    }
    String type = lowerType(part);
    String disposition = safeDisposition(part);
    String fileName = safeFileName(part);
    if (type.startsWith("multipart/")) {
      Object body = part.getContent();
      if (body instanceof Multipart mp) {
        for (int i = 0; i < mp.getCount(); i++) {
          BodyPart child = mp.getBodyPart(i);
          walk(child, depth + 1, maxAttachmentSize, blocked, findForward);
        }
      }
      return;
    }
    if (findForward && forwarded == null && type.equals("message/rfc822")) {
      Object body = part.getContent();
      if (body instanceof MimeMessage inner) {
        forwarded = inner;
        return;
      }
    }
    boolean inline = disposition == null || disposition.equals(Part.INLINE);
    if (inline && fileName == null && type.equals("text/plain") && text == null) {
      text = readText(part);
      return;
    }
    if (inline && fileName == null && type.equals("text/html") && html == null) {
      html = readText(part);
      return;
    }
    String name = fileName != null ? fileName : defaultName(type, attachments.size() + dropped.size() + 1);
    long size = estimatedSize(part);
    String contentType = type.matches("[!#$&^_.+a-z0-9-]+/[!#$&^_.+a-z0-9-]+") ? type : "application/octet-stream";
    Attachment attachment;
    try {
      attachment = new Attachment(name, contentType, size, source(part));
    } catch (IllegalArgumentException e) {
      attachment = new Attachment(defaultName(type, attachments.size() + 1), contentType, size,
          source(part));
    }
    if (blocked.contains(attachment.extension())) {
      dropped.add(attachment.fileName() + ": blocked file type ." + attachment.extension());
    } else if (size > maxAttachmentSize) {
      dropped.add(attachment.fileName() + ": " + size + " bytes, over the limit of " + maxAttachmentSize);
    } else {
      attachments.add(attachment);
    }
  }

  private static dev.emailrouter.api.ContentSource source(Part part) {
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

  private static String safeFileName(Part part) {
    try {
      String name = part.getFileName();
      if (name == null) {
        return null;
      }
      name = MimeUtility.decodeText(name).replaceAll("[\\p{Cntrl}/\\\\]", "_").strip();
      return name.isEmpty() ? null : name;
    } catch (IOException | MessagingException | RuntimeException e) {
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

  /** Decodes a text part leniently: an unknown or wrong charset falls back to UTF-8 with replacement. */
  private static String readText(Part part) throws MessagingException {
    Charset charset = StandardCharsets.UTF_8;
    try {
      String name = new ContentType(part.getContentType()).getParameter("charset");
      if (name != null) {
        charset = Charset.forName(MimeUtility.javaCharset(name.strip()));
      }
    } catch (RuntimeException | MessagingException e) {
      charset = StandardCharsets.UTF_8;
    }
    try (InputStream in = part.getInputStream()) {
      return new String(in.readAllBytes(), charset);
    } catch (IOException e) {
      throw new MessagingException("the text body can't be decoded: " + e.getMessage(), e);
    }
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
