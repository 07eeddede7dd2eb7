package dev.emailrouter.support.internal.mime;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.support.internal.Checks;
import dev.emailrouter.support.internal.Idna;
import jakarta.activation.DataHandler;
import jakarta.mail.Address;
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
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
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
 * {@code MimeWire} (Jakarta Mail would encode each body twice, byte by byte); those with
 * attachments by Jakarta Mail, which streams the attachments. Either way every header line the
 * router writes stays within 998 octets (folded near 78 where it can be; a subject or display
 * name too long to fold is encoded).
 *
 * <p>Domains go out as A-labels by IDNA2008 ({@link Idna}): {@code kunde@straße.de} is sent to
 * {@code kunde@xn--strae-oqa.de}. Messages are not written for SMTPUTF8, so a recipient whose local
 * part is not ASCII can't be addressed: it is refused for good, on its own, and left out of the
 * envelope and the headers, while the others get the email. Thread-safe.
 *
 * <p>One composer serves every transport that hands a service the message's bytes: {@code
 * router-smtp} writes them after DATA (the envelope beside them), {@code router-graph} posts them
 * to Graph's {@code sendMail} (with {@link Composed#bccField()} put in front, since Graph takes the
 * recipients from the headers). Jakarta Mail composes here only (MIME), never speaks a protocol.
 */
public final class MimeComposer {
  private static final String UTF_8 = "UTF-8";
  private static final DateTimeFormatter RFC_5322_DATE =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.US);

  private final Session session;
  private final Clock clock;
  /** The Date header of the last second composed in; emails of the same second share it. */
  private volatile DateField lastDate;

  /** A Date header value and the second and zone it was written for; immutable, so safe to share. */
  private record DateField(long epochSecond, ZoneId zone, String value) {}

  /**
   * A composer.
   *
   * @param session the Jakarta Mail session the messages with attachments are made in (its
   *     properties are not read for composing)
   * @param clock the clock the Date header is read from, in its zone
   */
  public MimeComposer(Session session, Clock clock) {
    this.session = session;
    this.clock = clock;
  }

  /**
   * The message with its headers final ({@code saveChanges} done), the envelope recipients, and
   * the way back from an envelope address to the email's recipient.
   */
  public static final class Composed {
    private final Session session;
    private final InternetAddress from;
    private final String messageId;
    /** Made on first call of {@link #message()} for composed bytes, which a pipelining transport never asks for. */
    private MimeMessage message;
    private final String mailFrom;
    private final byte[] content;
    private final Address[] envelope;
    private final Map<String, EmailAddress> recipients;
    private final List<SendResult.RecipientResult> unaddressable;
    private final InternetAddress[] bcc;
    /** Whether a line of {@link #content} may start with "."; true when not known. */
    private final boolean leadingDot;
    /** Whether {@link #content} may hold 8-bit bytes; true when not known. */
    private final boolean eightBit;

    Composed(MimeMessage message, String mailFrom, byte[] content, Address[] envelope,
        Map<String, EmailAddress> recipients, List<SendResult.RecipientResult> unaddressable, InternetAddress[] bcc) {
      this(message, null, null, null, mailFrom, content, true, true, envelope, recipients, unaddressable, bcc);
    }

    /** Composed bytes (US-ASCII, as MimeWire writes them), their message made only when asked for. */
    Composed(Session session, InternetAddress from, String messageId, MimeWire.Wire wire, Address[] envelope,
        Map<String, EmailAddress> recipients, List<SendResult.RecipientResult> unaddressable, InternetAddress[] bcc) {
      this(null, session, from, messageId, from.getAddress(), wire.bytes(), wire.leadingDot(), false, envelope,
          recipients, unaddressable, bcc);
    }

    private Composed(MimeMessage message, Session session, InternetAddress from, String messageId, String mailFrom,
        byte[] content, boolean leadingDot, boolean eightBit, Address[] envelope, Map<String, EmailAddress> recipients,
        List<SendResult.RecipientResult> unaddressable, InternetAddress[] bcc) {
      this.message = message;
      this.leadingDot = leadingDot;
      this.eightBit = eightBit;
      this.session = session;
      this.from = from;
      this.messageId = messageId;
      this.bcc = bcc;
      this.mailFrom = mailFrom;
      this.content = content;
      this.envelope = envelope;
      this.recipients = recipients;
      this.unaddressable = List.copyOf(unaddressable);
    }

    /**
     * The recipients refused for good before sending (a non-ASCII local part without SMTPUTF8),
     * each with the reason; empty for most emails.
     *
     * @return the refused recipients, unmodifiable
     */
    public List<SendResult.RecipientResult> unaddressable() {
      return unaddressable;
    }

    /**
     * The server's result with the recipients refused before sending added, where the email was
     * decided for its recipients (accepted, or refused for good); a transient result is returned as
     * it is, since the email is tried again as a whole.
     *
     * @param result the service's result for the recipients it was given
     * @return that result, with the refused recipients where the email was decided
     */
    public SendResult withUnaddressable(SendResult result) {
      if (unaddressable.isEmpty() || result.outcome() == SendResult.Outcome.TRANSIENT) {
        return result;
      }
      List<SendResult.RecipientResult> all = new ArrayList<>(result.recipients());
      all.addAll(unaddressable);
      return new SendResult(result.outcome(), result.serverReply(), all);
    }

    /**
     * The message, its headers final: for an email without attachments one that writes {@link
     * #content()} as it is; else Jakarta Mail's, which streams the attachments from their source
     * each time it is written (a failure to read one surfaces as an {@link AttachmentReadException}
     * in the cause chain). It holds no Bcc header. For composed bytes the message is made on the
     * first call (a transport that writes {@link #content()} never pays for it), and the same one
     * returned after; safe to call from several threads.
     *
     * @return the message; not to be changed
     */
    public synchronized MimeMessage message() {
      if (message == null) {
        try {
          message = new WireMessage(session, from, messageId, content);
        } catch (MessagingException e) {
          // From and Message-ID were checked when composing; Jakarta has nothing left to refuse.
          throw new IllegalStateException("the composed message of " + messageId + " could not be made", e);
        }
      }
      return message;
    }

    /**
     * The envelope sender (MAIL FROM), domain in A-labels: the From address, or the service
     * account where one was given.
     *
     * @return the address, without angle brackets
     */
    public String mailFrom() {
      return mailFrom;
    }

    /** The same message with another envelope sender. */
    synchronized Composed withMailFrom(String envelopeFrom) {
      return new Composed(message, session, from, messageId, envelopeFrom, content, leadingDot, eightBit, envelope,
          recipients, unaddressable, bcc);
    }

    /**
     * Whether a line of {@link #content()} may start with ".", which the SMTP data doubles (RFC
     * 5321 4.5.2); {@code false} only where the composer knows none does, so a transport may then
     * write the bytes as they are instead of looking for dots.
     *
     * @return {@code false} if no line of the content starts with "."; {@code true} if one may, or
     *     when there is no {@link #content()}
     */
    public boolean mayHaveLeadingDot() {
      return leadingDot;
    }

    /**
     * Whether {@link #content()} may hold 8-bit bytes (BODY=8BITMIME, RFC 6152); {@code false} for
     * the bytes the composer writes itself, which are US-ASCII, so a transport need not look.
     *
     * @return {@code false} if every byte of the content is below 0x80; {@code true} if not known
     */
    public boolean mayBeEightBit() {
      return eightBit;
    }

    /**
     * The Bcc header field for a service that takes the recipients from the headers and removes
     * that field before delivering (Graph's {@code sendMail}): never part of {@link #content()} or
     * {@link #message()}, so a transport with an envelope never writes it.
     *
     * @return {@code "Bcc: "}, the addresses folded as the other address fields are, and CRLF; or
     *     {@code null} when the email has no Bcc recipient that can be addressed
     */
    public String bccField() {
      return bcc.length == 0 ? null : "Bcc: " + MimeWire.addresses("Bcc", bcc) + "\r\n";
    }

    /**
     * The message's bytes (CRLF line ends, not dot-stuffed, Bcc left out), or {@code null} when
     * only the message can write itself (an email with attachments, streamed from their source).
     * The array is the composer's own, handed over without a copy: not to be changed.
     *
     * @return the bytes, or {@code null}
     */
    public byte[] content() {
      return content;
    }

    /**
     * The envelope recipients: To, Cc, then Bcc, each address once, domains in A-labels, those
     * that can't be addressed left out.
     *
     * @return a copy of the envelope
     */
    public Address[] envelope() {
      return envelope.clone();
    }

    /**
     * The email's recipient an envelope address stands for.
     *
     * @param address an address of {@link #envelope()}
     * @return the recipient as the email names it, or {@code null} if none
     */
    public EmailAddress recipient(Address address) {
      if (address instanceof InternetAddress internet && internet.getAddress() != null) {
        return recipients.get(internet.getAddress().toLowerCase(Locale.ROOT));
      }
      return null;
    }
  }

  /** The email can't be sent as it is; the message says why, naming the header or value. */
  public static final class InvalidEmailException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidEmailException(String message) {
      super(message);
    }
  }

  /**
   * Composes the email as its From sends it.
   *
   * @param email the email, its Message-ID recorded
   * @return the message and its envelope
   * @throws InvalidEmailException if a header value would break the message (CR or LF, a malformed
   *     Message-ID), an address can't be written, no recipient can be addressed, or no Message-ID
   *     is recorded; the message names the header or value
   */
  public Composed compose(OutgoingEmail email) throws InvalidEmailException {
    return compose(email, null, false);
  }

  /**
   * Composes for a service account sending for the email's From.
   *
   * @param email the email, its Message-ID recorded
   * @param onBehalf the account to name in a {@code Sender} header (send on behalf), or {@code null}
   *     for none
   * @param envelopeFrom the envelope sender instead of From, or {@code null} for From
   * @return the message and its envelope
   * @throws InvalidEmailException as {@link #compose(OutgoingEmail)} does, and if an account's
   *     local part is not ASCII
   */
  public Composed compose(OutgoingEmail email, EmailAddress onBehalf, EmailAddress envelopeFrom) throws InvalidEmailException {
    Composed composed = compose(email, onBehalf, false);
    if (envelopeFrom == null) {
      return composed;
    }
    InternetAddress envelope = internet("MAIL FROM", envelopeFrom);
    if (envelope == null) {
      throw new InvalidEmailException("the service account " + Checks.quote(envelopeFrom.address())
          + " has non-ASCII characters before the @, which needs SMTPUTF8");
    }
    return composed.withMailFrom(envelope.getAddress());
  }

  /**
   * Composes as {@link #compose} does, but always with Jakarta Mail's own MIME writer; what the
   * bytes the composer writes itself are checked against.
   *
   * @param email the email, its Message-ID recorded
   * @return the message (its {@link Composed#content()} {@code null}) and its envelope
   * @throws InvalidEmailException as {@link #compose(OutgoingEmail)} does
   */
  public Composed composeWithJakarta(OutgoingEmail email) throws InvalidEmailException {
    return compose(email, null, true);
  }

  private Composed compose(OutgoingEmail email, EmailAddress onBehalf, boolean jakartaOnly)
      throws InvalidEmailException {
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
    if (from == null) {
      throw new InvalidEmailException("address " + Checks.quote(email.from().address()) + " in From has non-ASCII"
          + " characters before the @, which needs SMTPUTF8; this transport sends ASCII addresses only");
    }
    InternetAddress sender = onBehalf == null ? null : internet("Sender", onBehalf);
    if (onBehalf != null && sender == null) {
      throw new InvalidEmailException("the service account " + Checks.quote(onBehalf.address()) + " in Sender has"
          + " non-ASCII characters before the @, which needs SMTPUTF8");
    }
    List<SendResult.RecipientResult> unaddressable = new ArrayList<>();
    Map<String, EmailAddress> byAddress = new LinkedHashMap<>();
    List<Address> envelope = new ArrayList<>();
    InternetAddress[] to = recipients("To", email.to(), envelope, byAddress, unaddressable);
    InternetAddress[] cc = recipients("Cc", email.cc(), envelope, byAddress, unaddressable);
    InternetAddress[] bcc = recipients("Bcc", email.bcc(), envelope, byAddress, unaddressable);
    if (envelope.isEmpty() && !unaddressable.isEmpty()) {
      throw new InvalidEmailException(unaddressable.size() == 1 ? unaddressable.get(0).serverReply()
          : "no recipient can be addressed: " + unaddressable.get(0).serverReply() + " (and "
              + (unaddressable.size() - 1) + " more)");
    }

    String date = date();
    String references = email.references().isEmpty() ? null
        : MimeUtility.fold("References: ".length(), String.join(" ", email.references()));
    try {
      if (email.attachments().isEmpty() && !jakartaOnly) {
        MimeWire.Wire wire = MimeWire.write(new MimeWire.Headers(date, from, sender, to, cc, messageId,
            email.inReplyTo(), references, email.subject()), email.textBody(), email.htmlBody());
        return new Composed(session, from, messageId, wire, envelope.toArray(new Address[0]), byAddress,
            unaddressable, bcc);
      }
      MimeMessage message = new FixedIdMimeMessage(session, MimeWire.fitted("Message-ID", messageId));
      // Set as folded text: Jakarta's setFrom, setRecipients and setSubject leave a long display
      // name or subject on one line of any length.
      message.setHeader("From", MimeWire.addresses("From", from));
      if (sender != null) {
        message.setHeader("Sender", MimeWire.addresses("Sender", sender));
      }
      if (to.length > 0) {
        message.setHeader("To", MimeWire.addresses("To", to));
      }
      if (cc.length > 0) {
        message.setHeader("Cc", MimeWire.addresses("Cc", cc));
      }
      message.setHeader("Subject", MimeWire.subject(email.subject()));
      message.setHeader("Date", date);
      if (email.inReplyTo() != null) {
        message.setHeader("In-Reply-To", MimeWire.fitted("In-Reply-To", email.inReplyTo()));
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
      return new Composed(message, from.getAddress(), null, envelope.toArray(new Address[0]), byAddress, unaddressable,
          bcc);
    } catch (MessagingException e) {
      throw new InvalidEmailException("the email of activity " + email.activityId() + " can't be put into MIME: "
          + e.getMessage());
    }
  }

  /**
   * The Date header's value for now: formatted once per second (and zone) rather than for every
   * email, since DateTimeFormatter is costly next to the rest of a small email.
   */
  private String date() {
    Instant now = clock.instant();
    ZoneId zone = clock.getZone();
    DateField last = lastDate;
    if (last != null && last.epochSecond() == now.getEpochSecond() && last.zone().equals(zone)) {
      return last.value();
    }
    DateField field = new DateField(now.getEpochSecond(), zone,
        RFC_5322_DATE.format(ZonedDateTime.ofInstant(now, zone)));
    lastDate = field;
    return field.value();
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

  /**
   * The header's addresses that can be written; each new one is added to the envelope (the same
   * address twice, in To and Bcc say, is one RCPT TO), each with a non-ASCII local part refused.
   */
  private static InternetAddress[] recipients(String header, List<EmailAddress> addresses, List<Address> envelope,
      Map<String, EmailAddress> byAddress, List<SendResult.RecipientResult> unaddressable)
      throws InvalidEmailException {
    List<InternetAddress> out = new ArrayList<>(addresses.size());
    for (EmailAddress original : addresses) {
      InternetAddress converted = internet(header, original);
      if (converted == null) {
        unaddressable.add(new SendResult.RecipientResult(original, SendResult.Outcome.PERMANENT, "address "
            + Checks.quote(original.address()) + " in " + header + " has non-ASCII characters before the @, which"
            + " needs SMTPUTF8; this transport sends ASCII addresses only, so it was not sent to this recipient"));
        continue;
      }
      out.add(converted);
      if (byAddress.putIfAbsent(converted.getAddress().toLowerCase(Locale.ROOT), original) == null) {
        envelope.add(converted);
      }
    }
    return out.toArray(new InternetAddress[0]);
  }

  /** The address with its domain in A-labels; {@code null} if its local part is not ASCII. */
  private static InternetAddress internet(String header, EmailAddress address) throws InvalidEmailException {
    String name = address.displayName();
    if (name.indexOf('\r') >= 0 || name.indexOf('\n') >= 0) {
      // The header's name joined to " display name" only when it is to be said.
      checkNoLineBreak(header + " display name", name);
    }
    String bare = address.address();
    int at = bare.lastIndexOf('@');
    String local = bare.substring(0, at);
    String domain = bare.substring(at + 1);
    for (int i = 0; i < local.length(); i++) {
      if (local.charAt(i) >= 0x80) {
        return null;
      }
    }
    String ascii;
    try {
      ascii = Idna.toAscii(domain);
    } catch (IllegalArgumentException e) {
      throw new InvalidEmailException("address " + Checks.quote(bare) + " in " + header + " can't be sent: "
          + e.getMessage());
    }
    // Most domains are their own A-labels: the address as it is, not built again.
    String sent = ascii.equals(domain) ? bare : local + "@" + ascii;
    if (!name.isEmpty() && !PersonalAddress.isAscii(name)) {
      return new PersonalAddress(sent, name);
    }
    try {
      return new InternetAddress(sent, name.isEmpty() ? null : name, UTF_8);
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
    // 997: the value goes on a line of its own after a space when it does not fit after the name.
    boolean valid = value.length() >= 5 && value.length() <= 997 && value.charAt(0) == '<'
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
