package dev.emailrouter.graph;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.support.internal.Checks;
import dev.emailrouter.support.internal.Idna;
import jakarta.activation.DataHandler;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentDisposition;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.internet.ParameterList;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UnsupportedEncodingException;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

/**
 * Writes an {@link OutgoingEmail} as the MIME message {@code sendMail} takes, with the Message-ID
 * the engine recorded, refusing header values that would inject a header before anything is sent.
 *
 * <p>Graph takes the recipients from the To, Cc and Bcc headers (there is no separate envelope), so
 * a recipient that accepted the email in an earlier attempt is left out of the headers too: not
 * getting the email twice matters more than seeing every name in To. Thread-safe.
 */
final class GraphMime {
  private static final String UTF_8 = "UTF-8";
  private static final DateTimeFormatter RFC_5322_DATE =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.US);

  private final Session session = Session.getInstance(new Properties());
  private final Clock clock;
  private final long maxBytes;

  GraphMime(Clock clock, long maxBytes) {
    this.clock = clock;
    this.maxBytes = maxBytes;
  }

  /** The email can't be sent as it is; the message says why. */
  static final class InvalidEmailException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidEmailException(String message) {
      super(message);
    }
  }

  /**
   * The whole message, CRLF line ends, Bcc header included (Graph reads it and leaves it out of
   * what recipients get).
   */
  byte[] compose(OutgoingEmail email) throws InvalidEmailException, IOException {
    String messageId = email.messageId();
    if (messageId == null) {
      throw new InvalidEmailException("no Message-ID recorded for activity " + email.activityId()
          + "; one must be recorded before the first attempt");
    }
    checkNoLineBreak("Subject", email.subject());
    checkMessageId("Message-ID", messageId);
    if (email.inReplyTo() != null) {
      checkMessageId("In-Reply-To", email.inReplyTo());
    }
    for (String reference : email.references()) {
      checkMessageId("References", reference);
    }
    long known = 0;
    for (Attachment a : email.attachments()) {
      known += Math.max(0, a.size());
    }
    // Base64 makes 3 bytes 4: an attachment larger than that can't fit, whatever the rest.
    if (known * 4 / 3 > maxBytes) {
      throw new TooLargeException(known);
    }
    try {
      MimeMessage message = new FixedIdMessage(session, messageId);
      message.setFrom(internet("From", email.from()));
      Set<String> pending = new HashSet<>();
      for (EmailAddress a : email.pendingRecipients()) {
        pending.add(a.normalized());
      }
      setRecipients(message, "To", email.to(), pending);
      setRecipients(message, "Cc", email.cc(), pending);
      setRecipients(message, "Bcc", email.bcc(), pending);
      message.setHeader("Subject", MimeUtility.fold(9, MimeUtility.encodeText(email.subject(), UTF_8, null)));
      message.setHeader("Date", RFC_5322_DATE.format(ZonedDateTime.ofInstant(clock.instant(), clock.getZone())));
      if (email.inReplyTo() != null) {
        message.setHeader("In-Reply-To", email.inReplyTo());
      }
      if (!email.references().isEmpty()) {
        message.setHeader("References", MimeUtility.fold("References: ".length(), String.join(" ",
            email.references())));
      }
      if (email.attachments().isEmpty()) {
        body(message, email.textBody(), email.htmlBody());
      } else {
        MimeMultipart mixed = new MimeMultipart("mixed");
        if (email.textBody() != null || email.htmlBody() != null) {
          MimeBodyPart bodyPart = new MimeBodyPart();
          body(bodyPart, email.textBody(), email.htmlBody());
          mixed.addBodyPart(bodyPart);
        }
        for (Attachment attachment : email.attachments()) {
          mixed.addBodyPart(attachmentPart(attachment));
        }
        message.setContent(mixed);
      }
      message.saveChanges();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      message.writeTo(out);
      return out.toByteArray();
    } catch (MessagingException e) {
      throw new InvalidEmailException("the email of activity " + email.activityId() + " can't be put into MIME: "
          + e.getMessage());
    }
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

  private void setRecipients(MimeMessage message, String header, List<EmailAddress> addresses, Set<String> pending)
      throws InvalidEmailException, MessagingException {
    List<InternetAddress> out = new ArrayList<>();
    for (EmailAddress a : addresses) {
      if (pending.contains(a.normalized())) {
        out.add(internet(header, a));
      }
    }
    if (!out.isEmpty()) {
      message.setRecipients(switch (header) {
        case "To" -> MimeMessage.RecipientType.TO;
        case "Cc" -> MimeMessage.RecipientType.CC;
        default -> MimeMessage.RecipientType.BCC;
      }, out.toArray(new InternetAddress[0]));
    }
  }

  private static InternetAddress internet(String header, EmailAddress address) throws InvalidEmailException {
    checkNoLineBreak(header + " display name", address.displayName());
    String bare = address.address();
    int at = bare.lastIndexOf('@');
    String domain;
    try {
      domain = Idna.toAscii(bare.substring(at + 1));
    } catch (IllegalArgumentException e) {
      throw new InvalidEmailException("address " + Checks.quote(bare) + " in " + header + " can't be sent: "
          + e.getMessage());
    }
    try {
      return new InternetAddress(bare.substring(0, at) + "@" + domain,
          address.displayName().isEmpty() ? null : address.displayName(), UTF_8);
    } catch (UnsupportedEncodingException e) {
      throw new IllegalStateException("UTF-8 is always supported", e);
    }
  }

  private static void body(MimePart part, String text, String html) throws MessagingException {
    if (text != null && html != null) {
      MimeMultipart alternative = new MimeMultipart("alternative");
      MimeBodyPart plain = new MimeBodyPart();
      plain.setText(text, UTF_8, "plain");
      alternative.addBodyPart(plain);
      MimeBodyPart rich = new MimeBodyPart();
      rich.setText(html, UTF_8, "html");
      alternative.addBodyPart(rich);
      part.setContent(alternative);
    } else if (html != null) {
      part.setText(html, UTF_8, "html");
    } else {
      part.setText(text == null ? "" : text, UTF_8, "plain");
    }
  }

  private MimeBodyPart attachmentPart(Attachment attachment) throws MessagingException, IOException {
    byte[] bytes;
    try (InputStream in = attachment.content().open()) {
      // Never more than the limit allows: a larger attachment is refused, not held in memory whole.
      bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
    }
    if (bytes.length > maxBytes * 3 / 4) {
      throw new TooLargeException(bytes.length);
    }
    MimeBodyPart part = new MimeBodyPart();
    part.setDataHandler(new DataHandler(new ByteArrayDataSource(bytes, attachment.contentType())));
    String[] type = attachment.contentType().split("/", 2);
    ParameterList typeParameters = new ParameterList();
    typeParameters.set("name", attachment.fileName(), UTF_8);
    part.setHeader("Content-Type", new ContentType(type[0], type[1], typeParameters).toString());
    ParameterList dispositionParameters = new ParameterList();
    dispositionParameters.set("filename", attachment.fileName(), UTF_8);
    part.setHeader("Content-Disposition", new ContentDisposition(Part.ATTACHMENT, dispositionParameters).toString());
    part.setHeader("Content-Transfer-Encoding", "base64");
    return part;
  }

  private static void checkNoLineBreak(String header, String value) throws InvalidEmailException {
    if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
      throw new InvalidEmailException("header " + header + " contains CR/LF, which would inject a header; refused"
          + " before sending: " + Checks.quote(value));
    }
  }

  /** A msg-id as RFC 5322 has it, roughly: {@code <left@right>}, printable ASCII, no spaces. */
  private static void checkMessageId(String header, String value) throws InvalidEmailException {
    checkNoLineBreak(header, value);
    boolean valid = value.length() >= 5 && value.length() <= 900 && value.charAt(0) == '<'
        && value.charAt(value.length() - 1) == '>';
    int at = value.lastIndexOf('@');
    valid = valid && at > 1 && at < value.length() - 2;
    for (int i = 1; valid && i < value.length() - 1; i++) {
      char c = value.charAt(i);
      valid = c > ' ' && c < 0x7f && c != '<' && c != '>';
    }
    if (!valid) {
      throw new InvalidEmailException("header " + header + " must be a Message-ID like <id@domain> without spaces,"
          + " was " + Checks.quote(value));
    }
  }

  /** Keeps the recorded Message-ID: {@code saveChanges} would otherwise make a new one. */
  private static final class FixedIdMessage extends MimeMessage {
    private final String messageId;

    FixedIdMessage(Session session, String messageId) {
      super(session);
      this.messageId = messageId;
    }

    @Override
    protected void updateMessageID() throws MessagingException {
      setHeader("Message-ID", messageId);
    }
  }
}
