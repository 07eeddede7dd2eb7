package dev.emailrouter.api;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An email activity to send, as the {@link ActivityStore} hands it to the engine.
 *
 * <p>Header values that come from the CRM (subject, Message-ID, In-Reply-To, References) are not
 * refused here, so one bad row can't stop a whole claim; they are checked before they reach the
 * wire, and an email with CR or LF in one of them fails permanently with the reason. Addresses are
 * checked when they are built ({@link EmailAddress}).
 *
 * <p>Immutable. Build one with {@link #builder(String, EmailAddress)}.
 *
 * @param activityId the CRM's id for the activity
 * @param from the sender; the engine batches and limits per sender
 * @param to the To recipients
 * @param cc the Cc recipients
 * @param bcc the Bcc recipients (never written into a header)
 * @param subject the subject, without a tracking token unless one was added before
 * @param textBody the plain-text body, or {@code null}
 * @param htmlBody the HTML body, or {@code null}; with a text body the two become alternatives
 * @param attachments the attachments, read as streams
 * @param inReplyTo the Message-ID this email answers, or {@code null}
 * @param references the Message-IDs of the thread, oldest first
 * @param messageId the Message-ID recorded before the first attempt, or {@code null} before it
 * @param trackingToken the tracking token recorded before the first attempt, or {@code null}
 * @param attempts how many delivery attempts were made so far (0 for a new email)
 * @param acceptedRecipients the recipients that accepted this email in an earlier attempt, which a
 *     transport leaves out of the envelope (empty on the first attempt; see {@link
 *     ActivityStore#markPartlySent}); compared by {@link EmailAddress#normalized()}, kept once each
 */
public record OutgoingEmail(
    String activityId,
    EmailAddress from,
    List<EmailAddress> to,
    List<EmailAddress> cc,
    List<EmailAddress> bcc,
    String subject,
    String textBody,
    String htmlBody,
    List<Attachment> attachments,
    String inReplyTo,
    List<String> references,
    String messageId,
    String trackingToken,
    int attempts,
    List<EmailAddress> acceptedRecipients) {

  /**
   * Validates the components and copies the lists; accepted recipients are kept once per normalised address.
   *
   * @param activityId the CRM's id for the activity
   * @param from the sender; the engine batches and limits per sender
   * @param to the To recipients
   * @param cc the Cc recipients
   * @param bcc the Bcc recipients (never written into a header)
   * @param subject the subject, without a tracking token unless one was added before
   * @param textBody the plain-text body, or {@code null}
   * @param htmlBody the HTML body, or {@code null}; with a text body the two become alternatives
   * @param attachments the attachments, read as streams
   * @param inReplyTo the Message-ID this email answers, or {@code null}
   * @param references the Message-IDs of the thread, oldest first
   * @param messageId the Message-ID recorded before the first attempt, or {@code null} before it
   * @param trackingToken the tracking token recorded before the first attempt, or {@code null}
   * @param attempts how many delivery attempts were made so far (0 for a new email)
   * @param acceptedRecipients the recipients that accepted this email in an earlier attempt, which a
   *     transport leaves out of the envelope (empty on the first attempt; see {@link
   *     ActivityStore#markPartlySent}); compared by {@link EmailAddress#normalized()}, kept once each
   */
  public OutgoingEmail {
    Objects.requireNonNull(activityId, "activityId");
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(subject, "subject");
    to = List.copyOf(Objects.requireNonNull(to, "to"));
    cc = List.copyOf(Objects.requireNonNull(cc, "cc"));
    bcc = List.copyOf(Objects.requireNonNull(bcc, "bcc"));
    attachments = List.copyOf(Objects.requireNonNull(attachments, "attachments"));
    references = List.copyOf(Objects.requireNonNull(references, "references"));
    acceptedRecipients = distinct(Objects.requireNonNull(acceptedRecipients, "acceptedRecipients"));
    if (activityId.isBlank()) {
      throw new IllegalArgumentException("activityId must not be blank");
    }
    if (to.isEmpty() && cc.isEmpty() && bcc.isEmpty()) {
      throw new IllegalArgumentException("an email needs at least one recipient in to, cc or bcc; activity " + activityId
          + " has none");
    }
    if (attempts < 0) {
      throw new IllegalArgumentException("attempts must be at least 0, was " + attempts);
    }
  }

  /**
   * An email no recipient has accepted yet: the constructor as it was before {@code
   * acceptedRecipients} existed.
   *
   * @param activityId the CRM's id for the activity
   * @param from the sender
   * @param to the To recipients
   * @param cc the Cc recipients
   * @param bcc the Bcc recipients
   * @param subject the subject
   * @param textBody the plain-text body, or {@code null}
   * @param htmlBody the HTML body, or {@code null}
   * @param attachments the attachments
   * @param inReplyTo the Message-ID this email answers, or {@code null}
   * @param references the Message-IDs of the thread, oldest first
   * @param messageId the recorded Message-ID, or {@code null}
   * @param trackingToken the recorded tracking token, or {@code null}
   * @param attempts the attempts made so far
   */
  public OutgoingEmail(String activityId, EmailAddress from, List<EmailAddress> to, List<EmailAddress> cc,
      List<EmailAddress> bcc, String subject, String textBody, String htmlBody, List<Attachment> attachments,
      String inReplyTo, List<String> references, String messageId, String trackingToken, int attempts) {
    this(activityId, from, to, cc, bcc, subject, textBody, htmlBody, attachments, inReplyTo, references, messageId,
        trackingToken, attempts, List.of());
  }

  private static List<EmailAddress> distinct(Collection<EmailAddress> addresses) {
    if (addresses.isEmpty()) {
      // Nearly every email (and every copy withIdentity makes of one): no map to build.
      return List.of();
    }
    Map<String, EmailAddress> byAddress = new LinkedHashMap<>();
    for (EmailAddress a : addresses) {
      byAddress.putIfAbsent(Objects.requireNonNull(a, "acceptedRecipients element").normalized(), a);
    }
    return List.copyOf(byAddress.values());
  }

  /**
   * All envelope recipients: To, then Cc, then Bcc.
   *
   * @return the recipients, unmodifiable
   */
  public List<EmailAddress> recipients() {
    List<EmailAddress> all = new ArrayList<>(to.size() + cc.size() + bcc.size());
    all.addAll(to);
    all.addAll(cc);
    all.addAll(bcc);
    return List.copyOf(all);
  }

  /**
   * Whether this recipient accepted the email in an earlier attempt (compared by {@link
   * EmailAddress#normalized()}).
   *
   * @param recipient a recipient
   * @return true if it is among {@link #acceptedRecipients()}
   */
  public boolean isAccepted(EmailAddress recipient) {
    Objects.requireNonNull(recipient, "recipient");
    String key = recipient.normalized();
    for (EmailAddress a : acceptedRecipients) {
      if (a.normalized().equals(key)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The envelope recipients this attempt sends to: {@link #recipients()} without {@link
   * #acceptedRecipients()}, each address once. The headers (To, Cc) still name everybody.
   *
   * @return the recipients still to send to, To then Cc then Bcc, unmodifiable; empty when every
   *     recipient accepted the email already
   */
  public List<EmailAddress> pendingRecipients() {
    Set<String> accepted = new HashSet<>();
    for (EmailAddress a : acceptedRecipients) {
      accepted.add(a.normalized());
    }
    Map<String, EmailAddress> pending = new LinkedHashMap<>();
    for (EmailAddress r : recipients()) {
      if (!accepted.contains(r.normalized())) {
        pending.putIfAbsent(r.normalized(), r);
      }
    }
    return List.copyOf(pending.values());
  }

  /**
   * Returns a copy with these accepted recipients, as a store builds the email it hands out again
   * after {@link ActivityStore#markPartlySent}.
   *
   * @param accepted the recipients that accepted the email in earlier attempts
   * @return the copy
   */
  public OutgoingEmail withAcceptedRecipients(Collection<EmailAddress> accepted) {
    return new OutgoingEmail(activityId, from, to, cc, bcc, subject, textBody, htmlBody, attachments, inReplyTo,
        references, messageId, trackingToken, attempts, List.copyOf(Objects.requireNonNull(accepted, "accepted")));
  }

  /**
   * Returns a copy with the identity recorded before the first attempt.
   *
   * @param newMessageId the Message-ID, with angle brackets
   * @param newTrackingToken the tracking token, or {@code null} when tokens are off
   * @param newSubject the subject as it will be sent
   * @return the copy
   */
  public OutgoingEmail withIdentity(String newMessageId, String newTrackingToken, String newSubject) {
    return new OutgoingEmail(activityId, from, to, cc, bcc, newSubject, textBody, htmlBody, attachments, inReplyTo,
        references, Objects.requireNonNull(newMessageId, "newMessageId"), newTrackingToken, attempts,
        acceptedRecipients);
  }

  /**
   * Starts a builder.
   *
   * @param activityId the CRM's id for the activity
   * @param from the sender
   * @return a builder with no recipients, an empty subject, no body and 0 attempts
   */
  public static Builder builder(String activityId, EmailAddress from) {
    return new Builder(activityId, from);
  }

  /** Builds an {@link OutgoingEmail}; for one thread at a time. */
  public static final class Builder {
    private final String activityId;
    private final EmailAddress from;
    private final List<EmailAddress> to = new ArrayList<>();
    private final List<EmailAddress> cc = new ArrayList<>();
    private final List<EmailAddress> bcc = new ArrayList<>();
    private String subject = "";
    private String textBody;
    private String htmlBody;
    private final List<Attachment> attachments = new ArrayList<>();
    private String inReplyTo;
    private final List<String> references = new ArrayList<>();
    private String messageId;
    private String trackingToken;
    private int attempts;
    private final List<EmailAddress> accepted = new ArrayList<>();

    private Builder(String activityId, EmailAddress from) {
      this.activityId = activityId;
      this.from = from;
    }

    /**
     * Adds To recipients.
     *
     * @param addresses the recipients
     * @return this builder
     */
    public Builder to(EmailAddress... addresses) {
      to.addAll(List.of(addresses));
      return this;
    }

    /**
     * Adds Cc recipients.
     *
     * @param addresses the recipients
     * @return this builder
     */
    public Builder cc(EmailAddress... addresses) {
      cc.addAll(List.of(addresses));
      return this;
    }

    /**
     * Adds Bcc recipients.
     *
     * @param addresses the recipients
     * @return this builder
     */
    public Builder bcc(EmailAddress... addresses) {
      bcc.addAll(List.of(addresses));
      return this;
    }

    /**
     * Sets the subject.
     *
     * @param value the subject
     * @return this builder
     */
    public Builder subject(String value) {
      subject = value;
      return this;
    }

    /**
     * Sets the plain-text body.
     *
     * @param value the body, or {@code null}
     * @return this builder
     */
    public Builder textBody(String value) {
      textBody = value;
      return this;
    }

    /**
     * Sets the HTML body.
     *
     * @param value the body, or {@code null}
     * @return this builder
     */
    public Builder htmlBody(String value) {
      htmlBody = value;
      return this;
    }

    /**
     * Adds an attachment.
     *
     * @param attachment the attachment
     * @return this builder
     */
    public Builder attachment(Attachment attachment) {
      attachments.add(attachment);
      return this;
    }

    /**
     * Sets In-Reply-To.
     *
     * @param value a Message-ID, or {@code null}
     * @return this builder
     */
    public Builder inReplyTo(String value) {
      inReplyTo = value;
      return this;
    }

    /**
     * Adds References.
     *
     * @param ids Message-IDs, oldest first
     * @return this builder
     */
    public Builder references(String... ids) {
      references.addAll(List.of(ids));
      return this;
    }

    /**
     * Sets the recorded Message-ID.
     *
     * @param value the Message-ID, or {@code null}
     * @return this builder
     */
    public Builder messageId(String value) {
      messageId = value;
      return this;
    }

    /**
     * Sets the recorded tracking token.
     *
     * @param value the token, or {@code null}
     * @return this builder
     */
    public Builder trackingToken(String value) {
      trackingToken = value;
      return this;
    }

    /**
     * Sets the number of attempts made.
     *
     * @param value at least 0
     * @return this builder
     */
    public Builder attempts(int value) {
      attempts = value;
      return this;
    }

    /**
     * Adds recipients that accepted the email in an earlier attempt.
     *
     * @param addresses the recipients
     * @return this builder
     */
    public Builder acceptedRecipients(EmailAddress... addresses) {
      accepted.addAll(List.of(addresses));
      return this;
    }

    /**
     * Builds the email.
     *
     * @return the email
     * @throws IllegalArgumentException if a component is invalid (no recipient, say)
     */
    public OutgoingEmail build() {
      return new OutgoingEmail(activityId, from, to, cc, bcc, subject, textBody, htmlBody, attachments, inReplyTo,
          references, messageId, trackingToken, attempts, accepted);
    }
  }
}
