package dev.emailrouter.smtp;

import dev.emailrouter.core.internal.Checks;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import jakarta.activation.DataHandler;
import jakarta.mail.Address;
import jakarta.mail.Message.RecipientType;
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
import java.io.UnsupportedEncodingException;
import java.net.IDN;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns an {@link OutgoingEmail} into the MIME message and SMTP envelope to send, refusing header
 * values that would inject a header or break threading before anything reaches the wire.
 *
 * <p>Layout: text only → {@code text/plain}; HTML only → {@code text/html}; both → {@code
 * multipart/alternative}; with attachments → {@code multipart/mixed} holding the body, then each
 * attachment (base64, file name in UTF-8 per RFC 2231, content streamed). Text parts are UTF-8,
 * 7bit when plain ASCII, else quoted-printable or base64 as Jakarta Mail judges best. Bcc
 * recipients are in the envelope only. Emails without attachments are written to bytes at once by
 * {@link MimeWire} (Jakarta Mail would encode each body twice, byte by byte); those with
 * attachments by Jakarta Mail, which streams the attachments. Thread-safe.
 */
final class MimeComposer {
  private static final String UTF_8 = "UTF-8";
  private static final DateTimeFormatter RFC_5322_DATE =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.US);

  private final Session session;
  private final Clock clock;

  MimeComposer(Session session, Clock clock) {
    this.session = session;
    this.clock = clock;
  }

  /**
   * The message with its headers final ({@code saveChanges} done), the envelope recipients, and
   * the way back from an envelope address to the email's recipient.
   */
  static final class Composed {
    private final MimeMessage message;
    private final byte[] content;
    private final Address[] envelope;
    private final Map<String, EmailAddress> recipients;

    Composed(MimeMessage message, byte[] content, Address[] envelope, Map<String, EmailAddress> recipients) {
      this.message = message;
      this.content = content;
      this.envelope = envelope;
      this.recipients = recipients;
    }

    MimeMessage message() {
      return message;
    }

    /**
     * The message's bytes (CRLF line ends, not dot-stuffed, Bcc left out), or {@code null} when
     * only the message can write itself (an email with attachments, streamed from their source).
     */
    byte[] content() {
      return content;
    }

    Address[] envelope() {
      return envelope.clone();
    }

    /** The email's recipient an envelope address stands for, or {@code null} if none. */
    EmailAddress recipient(Address address) {
      if (address instanceof InternetAddress internet && internet.getAddress() != null) {
        return recipients.get(internet.getAddress().toLowerCase(Locale.ROOT));
      }
      return null;
    }
  }

  /** The email can't be sent as it is; the message says why, naming the header or value. */
  static final class InvalidEmailException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidEmailException(String message) {
      super(message);
    }
  }

  Composed compose(OutgoingEmail email) throws InvalidEmailException {
    return compose(email, false);
  }

  /**
   * Composes as {@link #compose} does, but always with Jakarta Mail's own MIME writer; what the
   * bytes {@link MimeWire} writes are checked against.
   */
  Composed composeWithJakarta(OutgoingEmail email) throws InvalidEmailException {
    return compose(email, true);
  }

  private Composed compose(OutgoingEmail email, boolean jakartaOnly) throws InvalidEmailException {
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

    InternetAddress from = internet("From", email.from());
    InternetAddress[] to = internet("To", email.to());
    InternetAddress[] cc = internet("Cc", email.cc());
    InternetAddress[] bcc = internet("Bcc", email.bcc());

    Map<String, EmailAddress> byAddress = new LinkedHashMap<>();
    List<Address> envelope = new ArrayList<>();
    addEnvelope(envelope, byAddress, to, email.to());
    addEnvelope(envelope, byAddress, cc, email.cc());
    addEnvelope(envelope, byAddress, bcc, email.bcc());

    String date = RFC_5322_DATE.format(ZonedDateTime.ofInstant(clock.instant(), clock.getZone()));
    String references = email.references().isEmpty() ? null
        : MimeUtility.fold("References: ".length(), String.join(" ", email.references()));
    try {
      if (email.attachments().isEmpty() && !jakartaOnly) {
        byte[] content = MimeWire.write(new MimeWire.Headers(date, from, to, cc, messageId, email.inReplyTo(),
            references, email.subject()), email.textBody(), email.htmlBody());
        return new Composed(new WireMessage(session, from, messageId, content), content,
            envelope.toArray(new Address[0]), byAddress);
      }
      MimeMessage message = new FixedIdMimeMessage(session, messageId);
      message.setFrom(from);
      if (to.length > 0) {
        message.setRecipients(RecipientType.TO, to);
      }
      if (cc.length > 0) {
        message.setRecipients(RecipientType.CC, cc);
      }
      message.setSubject(email.subject(), UTF_8);
      message.setHeader("Date", date);
      if (email.inReplyTo() != null) {
        message.setHeader("In-Reply-To", email.inReplyTo());
      }
      if (references != null) {
        message.setHeader("References", references);
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
      return new Composed(message, null, envelope.toArray(new Address[0]), byAddress);
    } catch (MessagingException e) {
      throw new InvalidEmailException("the email of activity " + email.activityId() + " can't be put into MIME: "
          + e.getMessage());
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

  private static MimeBodyPart attachmentPart(Attachment attachment) throws MessagingException {
    MimeBodyPart part = new MimeBodyPart();
    part.setDataHandler(new DataHandler(new AttachmentDataSource(attachment)));
    // Set by hand so the file name is encoded in UTF-8 whatever the JVM's default charset, and
    // so Jakarta Mail does not read the whole content once more to choose an encoding.
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

  private static void addEnvelope(List<Address> envelope, Map<String, EmailAddress> byAddress,
      InternetAddress[] converted, List<EmailAddress> originals) {
    for (int i = 0; i < converted.length; i++) {
      // The same address twice (in To and Bcc, say) is one RCPT TO.
      if (byAddress.putIfAbsent(converted[i].getAddress().toLowerCase(Locale.ROOT), originals.get(i)) == null) {
        envelope.add(converted[i]);
      }
    }
  }

  private static InternetAddress[] internet(String header, List<EmailAddress> addresses) throws InvalidEmailException {
    InternetAddress[] out = new InternetAddress[addresses.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = internet(header, addresses.get(i));
    }
    return out;
  }

  private static InternetAddress internet(String header, EmailAddress address) throws InvalidEmailException {
    checkNoLineBreak(header + " display name", address.displayName());
    String bare = address.address();
    int at = bare.lastIndexOf('@');
    String local = bare.substring(0, at);
    String domain = bare.substring(at + 1);
    if (!StandardCharsets.US_ASCII.newEncoder().canEncode(local)) {
      throw new InvalidEmailException("address " + Checks.quote(bare) + " in " + header + " has non-ASCII"
          + " characters before the @, which needs SMTPUTF8; this transport sends ASCII addresses only");
    }
    if (!StandardCharsets.US_ASCII.newEncoder().canEncode(domain)) {
      try {
        domain = IDN.toASCII(domain, IDN.ALLOW_UNASSIGNED);
      } catch (IllegalArgumentException e) {
        throw new InvalidEmailException("address " + Checks.quote(bare) + " in " + header
            + " has a domain that is not a valid internationalized domain name: " + e.getMessage());
      }
    }
    try {
      return new InternetAddress(local + "@" + domain, address.displayName().isEmpty() ? null : address.displayName(),
          UTF_8);
    } catch (UnsupportedEncodingException e) {
      throw new IllegalStateException("UTF-8 is always supported", e);
    }
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
    boolean valid = value.length() >= 5 && value.length() <= 998 && value.charAt(0) == '<'
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
}
