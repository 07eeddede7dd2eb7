package dev.emailrouter.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An incoming message the policy decided to track, for {@link ActivityStore#createReceived}.
 *
 * @param dedupKey the key that makes creation idempotent: the Message-ID, or, when the message has
 *     none, its {@code contentDigest} (so two different messages without a Message-ID never share
 *     a key, and the same bytes read again always do)
 * @param messageId the Message-ID with angle brackets, or {@code null} when it has none
 * @param mailbox the description of the mailbox it came from
 * @param owner the user or queue it is tracked for
 * @param from the sender, or {@code null} when the policy tracks mail without a valid one
 * @param to the To recipients
 * @param cc the Cc recipients
 * @param subject the decoded subject, or the empty string
 * @param sentAt the Date header, or {@code null}
 * @param receivedAt when the mail server received it (or, failing that, when it was read)
 * @param textBody the plain-text body, or {@code null}
 * @param htmlBody the HTML body, or {@code null}
 * @param attachments the attachments kept, read as streams; valid during the call only
 * @param droppedAttachments one line per attachment not kept (blocked type, too large), with why
 * @param inReplyTo the In-Reply-To Message-ID, or {@code null}
 * @param references the References Message-IDs, oldest first
 * @param correlation the CRM email it answers, or {@code null}
 * @param decision why it is tracked
 * @param contentDigest {@code sha256:} and the 64 hex digits of the SHA-256 of the whole message
 *     as it was downloaded, every byte of its headers and body; or {@code null} when unknown. A
 *     store that keeps it with the activity lets the engine tell a different message reusing a
 *     Message-ID from a copy of the same one (see {@link ReceiveResult#contentDigest()})
 */
public record ReceivedEmail(
    String dedupKey,
    String messageId,
    String mailbox,
    Party owner,
    EmailAddress from,
    List<EmailAddress> to,
    List<EmailAddress> cc,
    String subject,
    Instant sentAt,
    Instant receivedAt,
    String textBody,
    String htmlBody,
    List<Attachment> attachments,
    List<String> droppedAttachments,
    String inReplyTo,
    List<String> references,
    Correlation correlation,
    TrackingDecision decision,
    String contentDigest) {

  /**
   * Validates the components and copies the lists.
   *
   * @param dedupKey the key that makes creation idempotent: the Message-ID, or, when the message has none,
   *     its {@code contentDigest} (so two different messages without a Message-ID never share a key, and the same
   *     bytes read again always do)
   * @param messageId the Message-ID with angle brackets, or {@code null} when it has none
   * @param mailbox the description of the mailbox it came from
   * @param owner the user or queue it is tracked for
   * @param from the sender, or {@code null} when the policy tracks mail without a valid one
   * @param to the To recipients
   * @param cc the Cc recipients
   * @param subject the decoded subject, or the empty string
   * @param sentAt the Date header, or {@code null}
   * @param receivedAt when the mail server received it (or, failing that, when it was read)
   * @param textBody the plain-text body, or {@code null}
   * @param htmlBody the HTML body, or {@code null}
   * @param attachments the attachments kept, read as streams; valid during the call only
   * @param droppedAttachments one line per attachment not kept (blocked type, too large), with why
   * @param inReplyTo the In-Reply-To Message-ID, or {@code null}
   * @param references the References Message-IDs, oldest first
   * @param correlation the CRM email it answers, or {@code null}
   * @param decision why it is tracked
   * @param contentDigest {@code sha256:} and the 64 hex digits of the SHA-256 of the whole message as it was
   *     downloaded, every byte of its headers and body; or {@code null} when unknown. A store that keeps it with
   *     the activity lets the engine tell a different message reusing a Message-ID from a copy of the same one
   *     (see {@link ReceiveResult#contentDigest()})
   */
  public ReceivedEmail {
    Objects.requireNonNull(dedupKey, "dedupKey");
    Objects.requireNonNull(mailbox, "mailbox");
    Objects.requireNonNull(owner, "owner");
    to = List.copyOf(Objects.requireNonNull(to, "to"));
    cc = List.copyOf(Objects.requireNonNull(cc, "cc"));
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(receivedAt, "receivedAt");
    attachments = List.copyOf(Objects.requireNonNull(attachments, "attachments"));
    droppedAttachments = List.copyOf(Objects.requireNonNull(droppedAttachments, "droppedAttachments"));
    references = List.copyOf(Objects.requireNonNull(references, "references"));
    Objects.requireNonNull(decision, "decision");
    if (dedupKey.isBlank()) {
      throw new IllegalArgumentException("dedupKey must not be blank");
    }
    if (contentDigest != null && !isSha256Digest(contentDigest)) {
      throw new IllegalArgumentException("contentDigest must be sha256: and 64 lower-case hex digits, was "
          + EmailAddress.quote(contentDigest));
    }
  }

  /**
   * Creates a received email without a content digest, as before digests were kept.
   *
   * @param dedupKey the key that makes creation idempotent
   * @param messageId the Message-ID with angle brackets, or {@code null}
   * @param mailbox the description of the mailbox it came from
   * @param owner the user or queue it is tracked for
   * @param from the sender, or {@code null}
   * @param to the To recipients
   * @param cc the Cc recipients
   * @param subject the decoded subject, or the empty string
   * @param sentAt the Date header, or {@code null}
   * @param receivedAt when the mail server received it
   * @param textBody the plain-text body, or {@code null}
   * @param htmlBody the HTML body, or {@code null}
   * @param attachments the attachments kept
   * @param droppedAttachments one line per attachment not kept, with why
   * @param inReplyTo the In-Reply-To Message-ID, or {@code null}
   * @param references the References Message-IDs, oldest first
   * @param correlation the CRM email it answers, or {@code null}
   * @param decision why it is tracked
   */
  public ReceivedEmail(String dedupKey, String messageId, String mailbox, Party owner, EmailAddress from,
      List<EmailAddress> to, List<EmailAddress> cc, String subject, Instant sentAt, Instant receivedAt,
      String textBody, String htmlBody, List<Attachment> attachments, List<String> droppedAttachments,
      String inReplyTo, List<String> references, Correlation correlation, TrackingDecision decision) {
    this(dedupKey, messageId, mailbox, owner, from, to, cc, subject, sentAt, receivedAt, textBody, htmlBody,
        attachments, droppedAttachments, inReplyTo, references, correlation, decision, null);
  }

  /**
   * Starts a builder with no lists, an empty subject and nothing else set. The dedup key, mailbox,
   * owner, received time and decision are required; {@link Builder#build()} says which is missing.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts a builder holding every component of this email, to make a changed copy.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.dedupKey = dedupKey;
    b.messageId = messageId;
    b.mailbox = mailbox;
    b.owner = owner;
    b.from = from;
    b.to = to;
    b.cc = cc;
    b.subject = subject;
    b.sentAt = sentAt;
    b.receivedAt = receivedAt;
    b.textBody = textBody;
    b.htmlBody = htmlBody;
    b.attachments = attachments;
    b.droppedAttachments = droppedAttachments;
    b.inReplyTo = inReplyTo;
    b.references = references;
    b.correlation = correlation;
    b.decision = decision;
    b.contentDigest = contentDigest;
    return b;
  }

  /**
   * Builds a {@link ReceivedEmail} by name instead of by position. Each setter's meaning is the
   * component of the same name. Not thread-safe; a builder can build several emails.
   */
  public static final class Builder {
    private String dedupKey;
    private String messageId;
    private String mailbox;
    private Party owner;
    private EmailAddress from;
    private List<EmailAddress> to = List.of();
    private List<EmailAddress> cc = List.of();
    private String subject = "";
    private Instant sentAt;
    private Instant receivedAt;
    private String textBody;
    private String htmlBody;
    private List<Attachment> attachments = List.of();
    private List<String> droppedAttachments = List.of();
    private String inReplyTo;
    private List<String> references = List.of();
    private Correlation correlation;
    private TrackingDecision decision;
    private String contentDigest;

    private Builder() {}

    /**
     * Sets {@link ReceivedEmail#dedupKey()}.
     *
     * @param value the key, not blank
     * @return this builder
     */
    public Builder dedupKey(String value) {
      dedupKey = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#messageId()}.
     *
     * @param value the Message-ID with angle brackets, or {@code null}
     * @return this builder
     */
    public Builder messageId(String value) {
      messageId = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#mailbox()}.
     *
     * @param value the description of the mailbox it came from
     * @return this builder
     */
    public Builder mailbox(String value) {
      mailbox = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#owner()}.
     *
     * @param value the user or queue it is tracked for
     * @return this builder
     */
    public Builder owner(Party value) {
      owner = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#from()}.
     *
     * @param value the sender, or {@code null}
     * @return this builder
     */
    public Builder from(EmailAddress value) {
      from = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#to()}. Default: none.
     *
     * @param value the To recipients
     * @return this builder
     */
    public Builder to(List<EmailAddress> value) {
      to = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#cc()}. Default: none.
     *
     * @param value the Cc recipients
     * @return this builder
     */
    public Builder cc(List<EmailAddress> value) {
      cc = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#subject()}. Default: the empty string.
     *
     * @param value the decoded subject
     * @return this builder
     */
    public Builder subject(String value) {
      subject = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#sentAt()}.
     *
     * @param value the Date header, or {@code null}
     * @return this builder
     */
    public Builder sentAt(Instant value) {
      sentAt = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#receivedAt()}.
     *
     * @param value when the mail server received it
     * @return this builder
     */
    public Builder receivedAt(Instant value) {
      receivedAt = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#textBody()}.
     *
     * @param value the plain-text body, or {@code null}
     * @return this builder
     */
    public Builder textBody(String value) {
      textBody = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#htmlBody()}.
     *
     * @param value the HTML body, or {@code null}
     * @return this builder
     */
    public Builder htmlBody(String value) {
      htmlBody = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#attachments()}. Default: none.
     *
     * @param value the attachments kept
     * @return this builder
     */
    public Builder attachments(List<Attachment> value) {
      attachments = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#droppedAttachments()}. Default: none.
     *
     * @param value one line per attachment not kept, with why
     * @return this builder
     */
    public Builder droppedAttachments(List<String> value) {
      droppedAttachments = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#inReplyTo()}.
     *
     * @param value the In-Reply-To Message-ID, or {@code null}
     * @return this builder
     */
    public Builder inReplyTo(String value) {
      inReplyTo = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#references()}. Default: none.
     *
     * @param value the References Message-IDs, oldest first
     * @return this builder
     */
    public Builder references(List<String> value) {
      references = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#correlation()}.
     *
     * @param value the CRM email it answers, or {@code null}
     * @return this builder
     */
    public Builder correlation(Correlation value) {
      correlation = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#decision()}.
     *
     * @param value why it is tracked
     * @return this builder
     */
    public Builder decision(TrackingDecision value) {
      decision = value;
      return this;
    }

    /**
     * Sets {@link ReceivedEmail#contentDigest()}.
     *
     * @param value {@code sha256:} and 64 lower-case hex digits, or {@code null}
     * @return this builder
     */
    public Builder contentDigest(String value) {
      contentDigest = value;
      return this;
    }

    /**
     * Builds the email.
     *
     * @return the email
     * @throws NullPointerException naming the required component that is missing
     * @throws IllegalArgumentException if the dedup key is blank or the digest malformed
     */
    public ReceivedEmail build() {
      return new ReceivedEmail(dedupKey, messageId, mailbox, owner, from, to, cc, subject, sentAt, receivedAt,
          textBody, htmlBody, attachments, droppedAttachments, inReplyTo, references, correlation, decision,
          contentDigest);
    }
  }

  /**
   * Whether the text is {@code sha256:} and 64 lower-case hex digits, checked without {@link
   * String#matches}, which compiles its pattern on every call (twice per received email).
   */
  private static boolean isSha256Digest(String s) {
    if (s.length() != 7 + 64 || !s.startsWith("sha256:")) {
      return false;
    }
    for (int i = 7; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }
}
