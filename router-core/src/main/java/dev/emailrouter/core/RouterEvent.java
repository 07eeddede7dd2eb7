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
 * as it happens and lists it in the {@link TickReport}. All events are immutable records. A
 * {@code ref} component is the reader's reference of a message: an IMAP UID; a POP3 UIDL (with a
 * digest of the header block when the server gave several messages one UIDL).
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
    /**
     * Validates and copies.
     *
     * @param activityId the email activity
     * @param messageId its Message-ID
     * @param serverReply the server's reply
     * @param refusedRecipients recipients the server refused although it accepted the email for others
     */
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
    /**
     * Validates and copies.
     *
     * @param activityId the email activity
     * @param attempts the attempts counted so far
     * @param nextAttemptAt when the pending recipients are tried again
     * @param pending the recipients still pending, each with the server's reply
     */
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
   * The engine's claim on an email no longer held when it recorded the email's Message-ID or
   * outcome: its lease had expired and another engine claimed the email (the store answered with
   * {@code StaleClaimException}, or listed the email as stale in a batch call). Nothing was changed
   * by this engine; the email is its new holder's.
   *
   * <p>Since 0.1.0 (issue 13, before the first release) this event means a lost claim only.
   * Earlier snapshots raised it as well when the store failed to record the Message-ID or the
   * outcome (it was unavailable, or threw for that email): that is {@link OutcomeNotRecorded} now. A
   * host that counted {@code ClaimLost} as "the store could not record" should count {@link
   * OutcomeNotRecorded} too.
   *
   * @param activityId the email activity
   * @param reason what happened
   */
  record ClaimLost(String activityId, String reason) implements RouterEvent {}

  /**
   * The store failed to record what became of a claimed email, though the claim still held: it was
   * unavailable ({@code TransientRouterException}, reported once per outage as {@link
   * StoreUnavailable} too) or threw for this email. (A claim that no longer held is {@link
   * ClaimLost}.) The email is not lost: it stays Sending under the engine's claim, and at {@code
   * claimableAt}, when the claim's lease ends, it becomes Pending Send work again that any engine
   * claims like an email due; what happens then depends on {@code outcome}:
   * <ul>
   *   <li>{@link Outcome#MESSAGE_ID}: it was not sent; it is sent then, under a Message-ID
   *       recorded then;
   *   <li>{@link Outcome#SENT}, {@link Outcome#PARTLY_SENT}: the server had accepted it (for some
   *       recipients): it is sent again then, with the same Message-ID, to the recipients not
   *       recorded as accepted (delivery is at least once);
   *   <li>{@link Outcome#RETRY}, {@link Outcome#FAILED}: it is tried again then, and this attempt
   *       is not counted.
   * </ul>
   *
   * @param activityId the email activity
   * @param outcome what could not be recorded
   * @param reason the store's failure
   * @param claimableAt when the claim's lease ends and the email may be claimed again
   * @since 0.1.0
   */
  record OutcomeNotRecorded(String activityId, Outcome outcome, String reason, Instant claimableAt)
      implements RouterEvent {
    /**
     * Validates the components.
     *
     * @param activityId the email activity
     * @param outcome what could not be recorded
     * @param reason the store's failure
     * @param claimableAt when the claim's lease ends and the email may be claimed again
     */
    public OutcomeNotRecorded {
      Objects.requireNonNull(activityId, "activityId");
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(claimableAt, "claimableAt");
    }

    /** What the engine asked the store to record. */
    public enum Outcome {
      /** The Message-ID and tracking token, before the first attempt ({@code recordIdentity}). */
      MESSAGE_ID,
      /** Sent: the server accepted the email ({@code markSent}, {@code markSentAll}). */
      SENT,
      /** Accepted by some recipients, pending for others ({@code markPartlySent}). */
      PARTLY_SENT,
      /** Back to Pending Send with a later attempt time ({@code markRetry}). */
      RETRY,
      /** Failed: refused permanently or out of attempts ({@code markFailed}). */
      FAILED
    }
  }

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
   * The host's {@code ActivityStore} threw {@code TransientRouterException}: the CRM is down, which
   * is no fault of a message, an email or a mailbox. The pass that met it stopped at once, and
   * neither flow calls the store again before {@code retryAt} (the engine's {@code retryDelay},
   * doubling per outage in a row up to {@code maxRetryDelay}): no mailbox is read, no email
   * claimed. Nothing counts an attempt and nothing moves: a mailbox's checkpoint stays where its
   * last whole batch left it and the batch is read again, without post-actions for it until then;
   * claimed emails not yet sent are returned to Pending Send while the store still answers, and
   * otherwise wait for their lease. Raised once per outage, by the first call that met it; never
   * advances a mailbox towards {@link MailboxDisabled}.
   *
   * @param flow {@code "incoming"} or {@code "outgoing"}
   * @param mailbox the mailbox whose pass stopped, or {@code null} in the outgoing flow
   * @param reason the store's message
   * @param retryAt when the store is called again
   */
  record StoreUnavailable(String flow, String mailbox, String reason, Instant retryAt) implements RouterEvent {
    /**
     * Validates the components.
     *
     * @param flow {@code "incoming"} or {@code "outgoing"}
     * @param mailbox the mailbox whose pass stopped, or {@code null} in the outgoing flow
     * @param reason the store's message
     * @param retryAt when the store is called again
     */
    public StoreUnavailable {
      if (!"incoming".equals(flow) && !"outgoing".equals(flow)) {
        throw new IllegalArgumentException("flow must be \"incoming\" or \"outgoing\", was " + flow);
      }
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(retryAt, "retryAt");
    }
  }

  /**
   * An incoming message is tracked: a Received activity exists for it.
   *
   * <p>When the activity existed already ({@code created} false) and the store returned the
   * content digest it was created with, a different digest means another message reused this
   * Message-ID: it is tracked as that activity (Message-IDs are the key, as in Dynamics) and its
   * own content is not stored; {@link #contentMismatch()} says so, and a WARN is logged. Only
   * messages that were downloaded are compared (both in one batch, or engines at once): a message
   * whose Message-ID already has an activity when its headers are read is a {@code DUPLICATE}
   * rejection, decided without downloading it.
   *
   * @param mailbox the mailbox it came from
   * @param ref the reader's reference
   * @param messageId its Message-ID, or {@code null}
   * @param activityId the activity
   * @param created {@code false} when the activity existed already (seen before)
   * @param decision why it was tracked
   * @param correlation the CRM email it answers, or {@code null}
   * @param droppedAttachments attachments not kept, with why
   * @param contentDigest this message's digest ({@code sha256:} and hex, over all its bytes), or
   *     {@code null} when unknown
   * @param storedContentDigest the digest the existing activity was created with, when {@code
   *     created} is false and the store keeps digests; otherwise {@code null}
   */
  record MessageTracked(String mailbox, String ref, String messageId, String activityId, boolean created,
      TrackingDecision decision, Correlation correlation, List<String> droppedAttachments, String contentDigest,
      String storedContentDigest) implements RouterEvent {
    /**
     * Validates and copies.
     *
     * @param mailbox the mailbox it came from
     * @param ref the reader's reference
     * @param messageId its Message-ID, or {@code null}
     * @param activityId the activity
     * @param created {@code false} when the activity existed already (seen before)
     * @param decision why it was tracked
     * @param correlation the CRM email it answers, or {@code null}
     * @param droppedAttachments attachments not kept, with why
     * @param contentDigest this message's digest ({@code sha256:} and hex, over all its bytes), or {@code
     *     null} when unknown
     * @param storedContentDigest the digest the existing activity was created with, when {@code created} is
     *     false and the store keeps digests; otherwise {@code null}
     */
    public MessageTracked {
      droppedAttachments = List.copyOf(droppedAttachments);
    }

    /**
     * An event without digests.
     *
     * @param mailbox the mailbox it came from
     * @param ref the reader's reference
     * @param messageId its Message-ID, or {@code null}
     * @param activityId the activity
     * @param created {@code false} when the activity existed already
     * @param decision why it was tracked
     * @param correlation the CRM email it answers, or {@code null}
     * @param droppedAttachments attachments not kept, with why
     */
    public MessageTracked(String mailbox, String ref, String messageId, String activityId, boolean created,
        TrackingDecision decision, Correlation correlation, List<String> droppedAttachments) {
      this(mailbox, ref, messageId, activityId, created, decision, correlation, droppedAttachments, null, null);
    }

    /**
     * Whether this message reused the Message-ID of an activity created from different content.
     *
     * @return {@code true} when the activity existed already and both digests are known and differ
     */
    public boolean contentMismatch() {
      return !created && contentDigest != null && storedContentDigest != null
          && !contentDigest.equals(storedContentDigest);
    }
  }

  /**
   * An incoming message was not tracked; it is left in the mailbox unless the mailbox's post-action
   * for rejected mail says otherwise. A {@code DUPLICATE} (its Message-ID has a Received activity
   * already) is the exception: it gets the post-action for tracked mail, and so does a delivery
   * report recorded on the email it is about ({@link DeliveryReported}) that the policy does not
   * track as an email.
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
    /**
     * Copies the list.
     *
     * @param budget the configured tick budget
     * @param emailsDeferred claimed emails returned to Pending Send unsent, without an attempt counted
     * @param mailboxesDeferred mailboxes not read, or not read to the end, this tick
     */
    public TickBudgetUsedUp {
      mailboxesDeferred = List.copyOf(mailboxesDeferred);
    }
  }
  /**
   * The engine lost a mailbox's lease while reading it ({@link MailboxLeases}): another engine
   * acquired it after it expired, or the checkpoint store refused a write fenced by an older token.
   * The engine stopped reading the mailbox at once, ran no further post-action and saved no
   * checkpoint for it; the engine that holds the lease now reads it, and what this one had created
   * already is found there as duplicates. A transient stop, never counted towards {@link
   * MailboxDisabled}.
   *
   * @param mailbox the mailbox
   * @param fencingToken the token of the lease that was lost
   * @param reason what showed the loss
   */
  record MailboxLeaseLost(String mailbox, long fencingToken, String reason) implements RouterEvent {
    /**
     * Validates the components.
     *
     * @param mailbox the mailbox
     * @param fencingToken the token of the lease that was lost
     * @param reason what showed the loss
     */
    public MailboxLeaseLost {
      Objects.requireNonNull(mailbox, "mailbox");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * The checkpoint store or the mailbox leases threw {@code TransientRouterException} (the database
   * that keeps them went away): reading stopped for this tick with nothing lost. The mailbox at hand
   * ran no further post-action and kept the checkpoint of its last whole batch; its next reading
   * sees the rest again. No mailbox is read before {@code retryAt} (the engine's {@code retryDelay},
   * doubling per outage in a row); sending goes on. Raised once per outage; never counted towards
   * {@link MailboxDisabled}.
   *
   * @param mailbox the mailbox whose pass stopped, or {@code null} when the outage met the tick
   *     before any mailbox
   * @param reason the store's message
   * @param retryAt when mailboxes are read again
   */
  record MailboxStateUnavailable(String mailbox, String reason, Instant retryAt) implements RouterEvent {
    /**
     * Validates the components.
     *
     * @param mailbox the mailbox whose pass stopped, or {@code null} when the outage met the tick before any mailbox
     * @param reason the store's message
     * @param retryAt when mailboxes are read again
     */
    public MailboxStateUnavailable {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(retryAt, "retryAt");
    }
  }

  /**
   * A delivery status notification (a bounce, a delay, a delivery receipt) was read from a mailbox
   * and tied to the email it is about, and {@code ActivityStore.recordDeliveryReport} recorded it.
   * The report message then gets the mailbox's post-action for tracked mail; it is also a Received
   * activity ({@link MessageTracked}) only when the policy tracks it for a reason other than
   * correlation. A report tied to no email is a {@link MessageRejected} instead, whose detail says so.
   *
   * @param mailbox the mailbox the report arrived in
   * @param ref the reader's reference to the report message
   * @param messageId the report message's own Message-ID, or {@code null}
   * @param activityId the email activity the report is about
   * @param report what it says, per recipient
   */
  record DeliveryReported(String mailbox, String ref, String messageId, String activityId,
      dev.emailrouter.api.DeliveryReport report) implements RouterEvent {
    /**
     * Validates the components.
     *
     * @param mailbox the mailbox the report arrived in
     * @param ref the reader's reference to the report message
     * @param messageId the report message's own Message-ID, or {@code null}
     * @param activityId the email activity the report is about
     * @param report what it says, per recipient
     */
    public DeliveryReported {
      Objects.requireNonNull(mailbox, "mailbox");
      Objects.requireNonNull(ref, "ref");
      Objects.requireNonNull(activityId, "activityId");
      Objects.requireNonNull(report, "report");
    }

    /**
     * Whether the email failed for at least one recipient (a bounce, status 5.x.x).
     *
     * @return {@code true} when a recipient's action is {@code FAILED}
     */
    public boolean bounced() {
      return report.recipients().stream().anyMatch(dev.emailrouter.api.DeliveryReport.Recipient::failed);
    }
  }

  /**
   * The copy of a sent email in its sender's Sent folder ({@code RouterEngine.Builder.sentFolder})
   * could not be made. The email stays Sent whatever happens to its copy. With {@code willRetry} the
   * copy (its bytes held in memory) is tried again on a later tick; otherwise it is given up: the
   * failure is permanent (login refused, no Sent folder), its attempts are used up, the queue of
   * copies to retry is full, or the bytes could not be read.
   *
   * @param activityId the email activity
   * @param sender the sender whose Sent folder it is
   * @param reason what failed
   * @param willRetry whether a later tick tries again
   */
  record SentCopyFailed(String activityId, String sender, String reason, boolean willRetry) implements RouterEvent {
    /**
     * Validates the components.
     *
     * @param activityId the email activity
     * @param sender the sender whose Sent folder it is
     * @param reason what failed
     * @param willRetry whether a later tick tries again
     */
    public SentCopyFailed {
      Objects.requireNonNull(activityId, "activityId");
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(reason, "reason");
    }
  }
}
