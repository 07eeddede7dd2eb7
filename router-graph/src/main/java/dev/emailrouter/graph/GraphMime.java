package dev.emailrouter.graph;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.support.internal.mime.MimeComposer;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Properties;

/**
 * What Graph's {@code sendMail} adds to the shared {@link MimeComposer}: the message with the
 * Message-ID the engine recorded, whole in memory, and three things of Graph's own.
 *
 * <ul>
 *   <li>Graph takes the recipients from the To, Cc and Bcc headers (there is no separate envelope),
 *       so a recipient that accepted the email in an earlier attempt is left out of the headers
 *       too: not getting the email twice matters more than seeing every name in To.
 *   <li>The Bcc field goes in front of the composed bytes (Graph reads it and leaves it out of what
 *       recipients get); the composer never writes it.
 *   <li>Graph takes at most {@code maxBytes} of base64 a request: the message is refused as soon as
 *       it grows past that, before an attachment is held in memory whole.
 * </ul>
 *
 * <p>Thread-safe.
 */
final class GraphMime {
  private final MimeComposer composer;
  private final long maxBytes;
  /** Base64 makes 3 bytes 4: the most MIME that fits {@code maxBytes} once encoded. */
  private final long maxMessageBytes;

  GraphMime(Clock clock, long maxBytes) {
    this.composer = new MimeComposer(Session.getInstance(new Properties()), clock);
    this.maxBytes = maxBytes;
    this.maxMessageBytes = maxBytes / 4 * 3;
  }

  /**
   * The message to post and what the composer made of the email.
   *
   * @param bytes the whole message, CRLF line ends, the Bcc field included
   * @param composed the composer's result, for the recipients it refused before sending
   */
  record Message(byte[] bytes, MimeComposer.Composed composed) {}

  /**
   * The message for the recipients that have not accepted the email yet.
   *
   * @throws MimeComposer.InvalidEmailException if the email can't be sent as it is
   * @throws TooLargeException if the message would exceed Graph's limit
   * @throws IOException if an attachment can't be read (an {@code AttachmentReadException})
   */
  Message compose(OutgoingEmail email) throws MimeComposer.InvalidEmailException, IOException {
    long known = 0;
    for (Attachment a : email.attachments()) {
      known += Math.max(0, a.size());
    }
    // An attachment larger than fits once encoded can't be sent, whatever the rest.
    if (known * 4 / 3 > maxBytes) {
      throw new TooLargeException(known);
    }
    MimeComposer.Composed composed = composer.compose(pendingOnly(email));
    String bccField = composed.bccField();
    byte[] bcc = bccField == null ? new byte[0] : bccField.getBytes(StandardCharsets.US_ASCII);
    byte[] content = composed.content();
    if (content != null) {
      if (bcc.length + (long) content.length > maxMessageBytes) {
        throw new TooLargeException(bcc.length + (long) content.length);
      }
      if (bcc.length == 0) {
        return new Message(content, composed);
      }
      byte[] all = new byte[bcc.length + content.length];
      System.arraycopy(bcc, 0, all, 0, bcc.length);
      System.arraycopy(content, 0, all, bcc.length, content.length);
      return new Message(all, composed);
    }
    Bounded out = new Bounded(maxMessageBytes);
    out.write(bcc);
    try {
      composed.message().writeTo(out);
    } catch (MessagingException e) {
      for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
        if (t instanceof IOException io) {
          throw io;
        }
      }
      throw new IOException("the message could not be written: " + e.getMessage(), e);
    }
    return new Message(out.toByteArray(), composed);
  }

  /** The email with the recipients that accepted it in an earlier attempt left out of To, Cc and Bcc. */
  private static OutgoingEmail pendingOnly(OutgoingEmail email) {
    if (email.acceptedRecipients().isEmpty()) {
      return email;
    }
    return new OutgoingEmail(email.activityId(), email.from(), pending(email, email.to()),
        pending(email, email.cc()), pending(email, email.bcc()), email.subject(), email.textBody(),
        email.htmlBody(), email.attachments(), email.inReplyTo(), email.references(), email.messageId(),
        email.trackingToken(), email.attempts(), email.acceptedRecipients());
  }

  private static List<EmailAddress> pending(OutgoingEmail email, List<EmailAddress> addresses) {
    return addresses.stream().filter(a -> !email.isAccepted(a)).toList();
  }

  /** The message with its attachments is larger than Graph takes. */
  static final class TooLargeException extends IOException {
    private static final long serialVersionUID = 1L;
    final long bytes;

    TooLargeException(long bytes) {
      super("at least " + bytes + " bytes");
      this.bytes = bytes;
    }
  }

  /** A buffer that refuses to grow past the limit, so a message too large is never held whole. */
  private static final class Bounded extends OutputStream {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(8192);
    private final long limit;

    Bounded(long limit) {
      this.limit = limit;
    }

    @Override
    public void write(int b) throws IOException {
      room(1);
      bytes.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      room(len);
      bytes.write(b, off, len);
    }

    private void room(int more) throws TooLargeException {
      if (bytes.size() + (long) more > limit) {
        throw new TooLargeException(bytes.size() + (long) more);
      }
    }

    byte[] toByteArray() {
      return bytes.toByteArray();
    }
  }
}
