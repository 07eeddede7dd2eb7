package dev.emailrouter.core;

import dev.emailrouter.api.Correlation;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.api.TrackingDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Something that happened during a tick. The engine hands each event to the {@link RouterListener}
 * as it happens and lists it in the {@link TickReport}. All events are immutable records.
 */
public sealed interface RouterEvent {

  /**
   * The outgoing server accepted an email; it is Sent now.
   *
   * @param activityId the email activity
   * @param messageId its Message-ID
   * @param serverReply the server's reply
   * @param refusedRecipients recipients the server refused although it accepted the email for others
   */
  record EmailSent(String activityId, String messageId, String serverReply, List<RecipientResult> refusedRecipients)
      implements RouterEvent {
    /** Validates and copies. */
    public EmailSent {
      Objects.requireNonNull(activityId, "activityId");
      refusedRecipients = List.copyOf(refusedRecipients);
    }
  }

  /**
   * An email was not sent now and is back in Pending Send, due again at {@code nextAttemptAt}.
   *
   * @param activityId the email activity
   * @param attempts the attempts counted so far (a server that could not be reached at all does not
   *     count against the email)
   * @param nextAttemptAt when it is due again
   * @param reason the server's reply or the failure
   */
  record EmailRetried(String activityId, int attempts, Instant nextAttemptAt, String reason) implements RouterEvent {}

  /**
   * The server accepted an email for some recipients and refused others only for now (450
   * greylisting, say): it is back in Pending Send, due again at {@code nextAttemptAt}, when it goes
   * to the pending recipients alone with the same Message-ID.
   *
   * @param activityId the email activity
   * @param attempts the attempts counted so far
   * @param nextAttemptAt when the pending recipients are tried again
   * @param pending the recipients still pending, each with the server's reply
   */
  record EmailPartlySent(String activityId, int attempts, Instant nextAttemptAt, List<RecipientResult> pending)
      implements RouterEvent {
    /** Validates and copies. */
    public EmailPartlySent {
      Objects.requireNonNull(activityId, "activityId");
      Objects.requireNonNull(nextAttemptAt, "nextAttemptAt");
      pending = List.copyOf(pending);
    }
  }

  /**
   * An email was refused permanently, or ran out of attempts; it is Failed now.
   *
   * @param activityId the email activity
   * @param attempts the attempts made
   * @param reason the server's reply or what was wrong
   */
  record EmailFailed(String activityId, int attempts, String reason) implements RouterEvent {}

  /**
   * The engine lost its claim on an email (the lease expired and another engine claimed it, or the
   * store failed); the email's state is left to its current holder or to lease expiry.
   *
   * @param activityId the email activity
   * @param reason what happened
   */
  record ClaimLost(String activityId, String reason) implements RouterEvent {}

  /**
   * The outgoing server could not be used at all (unreachable, TLS failure, login refused); the
   * claimed emails went back to Pending Send without counting an attempt.
   *
   * @param server the transport's description
   * @param reason the failure
   * @param retryAt when the emails are due again
   */
  record ServerUnavailable(String server, String reason, Instant retryAt) implements RouterEvent {}

  /**
   * An incoming message is tracked: a Received activity exists for it.
   *
   * @param mailbox the mailbox it came from
   * @param ref the reader's reference
   * @param messageId its Message-ID, or {@code null}
   * @param activityId the activity
   * @param created {@code false} when the activity existed already (seen before)
   * @param decision why it was tracked
   * @param correlation the CRM email it answers, or {@code null}
   * @param droppedAttachments attachments not kept, with why
   */
  record MessageTracked(String mailbox, String ref, String messageId, String activityId, boolean created,
      TrackingDecision decision, Correlation correlation, List<String> droppedAttachments) implements RouterEvent {
    /** Validates and copies. */
    public MessageTracked {
      droppedAttachments = List.copyOf(droppedAttachments);
    }
  }

  /**
   * An incoming message was not tracked; it is left in the mailbox unless the mailbox's post-action
   * for rejected mail says otherwise.
   *
   * @param mailbox the mailbox it came from
   * @param ref the reader's reference
   * @param messageId its Message-ID, or {@code null}
   * @param decision the reason
   */
  record MessageRejected(String mailbox, String ref, String messageId, TrackingDecision decision)
      implements RouterEvent {}

  /**
   * An incoming message could not be processed (unparseable, or the store failed); it will be tried
   * again on the next tick, or was moved to quarantine after its last attempt. Never deleted.
   *
   * @param mailbox the mailbox it came from
   * @param ref the reader's reference
   * @param messageId its Message-ID, or {@code null}
   * @param attempts the attempts made
   * @param reason the failure
   * @param quarantined {@code true} when this was the last attempt
   */
  record MessageFailed(String mailbox, String ref, String messageId, int attempts, String reason, boolean quarantined)
      implements RouterEvent {}

  /**
   * A mailbox could not be read this tick (unreachable, login refused); it is retried at {@code
   * retryAt}.
   *
   * @param mailbox the mailbox
   * @param consecutiveFailures failures in a row so far
   * @param reason the failure
   * @param retryAt when it is tried again
   */
  record MailboxFailed(String mailbox, int consecutiveFailures, String reason, Instant retryAt) implements RouterEvent {}

  /**
   * A mailbox failed too often in a row and is disabled until the host re-enables it ({@link
   * RouterEngine#enableMailbox(String)}) or restarts the engine. An alert.
   *
   * @param mailbox the mailbox
   * @param consecutiveFailures failures in a row
   * @param reason the last failure
   */
  record MailboxDisabled(String mailbox, int consecutiveFailures, String reason) implements RouterEvent {}

  /**
   * A message the policy had decided to track was gone when it was to be downloaded: another
   * client deleted or moved it in between. Nothing was created for it; if it was moved, it is
   * read where it went, in a mailbox the engine reads.
   *
   * @param mailbox the mailbox
   * @param ref the reader's reference of the message
   * @param messageId its Message-ID, or {@code null}
   */
  record MessageGone(String mailbox, String ref, String messageId) implements RouterEvent {}

  /**
   * The tick's {@code tickBudget} was used up before its work was done; what was left is done
   * first on the next tick.
   *
   * @param budget the configured tick budget
   * @param emailsDeferred claimed emails returned to Pending Send unsent, without an attempt counted
   * @param mailboxesDeferred mailboxes not read, or not read to the end, this tick
   */
  record TickBudgetUsedUp(Duration budget, int emailsDeferred, List<String> mailboxesDeferred)
      implements RouterEvent {
    /** Copies the list. */
    public TickBudgetUsedUp {
      mailboxesDeferred = List.copyOf(mailboxesDeferred);
    }
  }
}
