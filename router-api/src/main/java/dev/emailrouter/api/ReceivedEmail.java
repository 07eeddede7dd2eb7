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
    if (contentDigest != null && !contentDigest.matches("sha256:[0-9a-f]{64}")) {
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
}
