package dev.emailrouter.api;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The host's CRM, as the router sees it: email activities to send, and where received ones go.
 *
 * <p>This is the one interface a host must implement. The router keeps its promises (no email sent
 * twice by two engines, nothing lost, no duplicate activities) only if the store keeps the
 * contract written on each method; {@code InMemoryActivityStore} in router-core is a reference
 * implementation.
 *
 * <h2>Outgoing</h2>
 * An email moves Pending Send → (claim) Sending → Sent, Failed, or back to Pending Send with a later
 * attempt time. A claim is exclusive and carries a lease and a token; every state change after it
 * names the claim and is refused with {@link StaleClaimException} when the claim no longer holds.
 * When the server accepts an email for some recipients and refuses others only for now, {@link
 * #markPartlySent} returns it to Pending Send with the accepted recipients recorded, and the next
 * attempt goes to the others alone.
 * When a lease expires (the engine died mid-send) the email is claimable again: so delivery is at
 * least once — an email the server accepted just before the engine died may be sent again, with
 * the same Message-ID, which lets recipients' systems drop the copy.
 *
 * <h2>Batches</h2>
 * Three calls have batch forms the engine uses so that an email costs fewer round trips: {@link
 * #nextTrackingNumbers} and {@link #recordIdentities} for a tick's claimed emails at once before any
 * is sent, and {@link #markSentAll} for a group of a send session's accepted emails (half of the
 * engine's {@code sentBatchSize}, default 16; called on another thread while the session sends the
 * next emails). Their defaults loop over the single forms, so a store written
 * before them keeps working unchanged; a database store overrides them with one statement or one
 * transaction per batch. A batch form reports the claims that no longer hold by returning their
 * activity ids (one lost claim does not stop the rest) and throws only for the batch as a whole:
 * {@link TransientRouterException} is an outage as below; any other exception makes the engine
 * repeat the batch with the single forms, to find the email at fault. A store should apply a batch
 * all or nothing (one transaction): after a throw the engine takes nothing in it as recorded.
 *
 * <p>Recording Sent in groups widens the at-least-once window: a send session leaves up to {@code
 * sentBatchSize} accepted emails unrecorded (one group being recorded, the next filling), so an
 * engine that dies in between sends up to {@code sentBatchSize} emails per send session again after
 * the lease expires (with the same Message-IDs), not one. {@code sentBatchSize(1)} records each email
 * as soon as it is accepted, as before.
 *
 * <h2>Incoming</h2>
 * Lookups by Message-ID and tracking token find the CRM email an incoming message answers;
 * addresses resolve to CRM parties; {@link #createReceived} is idempotent by the email's
 * {@link ReceivedEmail#dedupKey() dedupKey}.
 *
 * <h2>Threads</h2>
 * The engine calls a store from several threads at once (parallel send sessions, several
 * mailboxes), and several engines may share one store: every method must be thread-safe, and
 * claims and creation must be atomic across engines (in a database: a conditional update or a
 * unique key).
 *
 * <h2>Failures</h2>
 * Throw {@link TransientRouterException} only when the CRM itself is unavailable (the database
 * can't be reached, a timeout, a failover): the engine takes it as an outage of the whole store,
 * not a failure of the message or email at hand. It stops the pass that met it at once, counts no
 * attempt against any message or email, leaves the mailbox's checkpoint where the last whole batch
 * left it (the batch is read again later, without post-actions until then), sends no further
 * email, backs the store off (the engine's {@code retryDelay}, doubling up to {@code
 * maxRetryDelay}) for every mailbox and both flows, and reports it ({@code
 * RouterEvent.StoreUnavailable}). A failure tied to one message or email (a constraint violation,
 * a value the CRM refuses) should be a {@link PermanentRouterException} or any other unchecked
 * exception: it counts as that message's or email's attempt, and the others carry on. Such a
 * failure thrown as transient would stop every pass at that message for as long as it lasts. An
 * attachment stream of the message that fails while {@link #createReceived} reads it is the
 * message's fault whatever the store throws.
 */
public interface ActivityStore {

  /**
   * Claims due Pending Send emails: atomically moves each to Sending under a new claim.
   *
   * <p>Due means status Pending Send with no next attempt time or one at or before {@code
   * request.now()}, or status Sending with an expired lease. At most {@code request.perSender()}
   * per sender and {@code request.max()} in all; senders in order of their normalised address,
   * starting after {@code request.resumeAfterSender()} and wrapping around; each sender's emails
   * oldest first. An email another claim holds under a live lease is never returned. A row that
   * can't be turned into an {@link OutgoingEmail} (a malformed address) should be marked Failed by
   * the store with that reason rather than stop the claim.
   *
   * @param request the limits and the lease
   * @return the claimed emails, possibly none
   */
  List<ClaimedEmail> claimPendingSend(ClaimRequest request);

  /**
   * A number for a new tracking token, unique among this store's emails (a database sequence, an
   * atomic counter).
   *
   * @return a positive number never returned before
   */
  long nextTrackingNumber();

  /**
   * Records, before the first attempt, the Message-ID, the tracking token and the subject (with
   * the token) the email will be sent with, so a retry reuses them.
   *
   * @param claim the claim on the email
   * @param messageId the Message-ID, with angle brackets
   * @param trackingToken the tracking token, or {@code null} when tokens are off
   * @param subject the subject as it will be sent
   * @throws StaleClaimException if the claim no longer holds
   */
  void recordIdentity(Claim claim, String messageId, String trackingToken, String subject);

  /**
   * {@code count} numbers for new tracking tokens, each unique among this store's emails, in one
   * call (a database: one query over its sequence).
   *
   * <p><b>The default implementation</b> calls {@link #nextTrackingNumber} {@code count} times.
   *
   * @param count how many numbers, 0 or more
   * @return {@code count} positive numbers never returned before, in no particular order
   * @throws IllegalArgumentException if {@code count} is negative
   */
  default List<Long> nextTrackingNumbers(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count must be 0 or more: " + count);
    }
    List<Long> numbers = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      numbers.add(nextTrackingNumber());
    }
    return numbers;
  }

  /**
   * Records the identities of several claimed emails, each as {@link #recordIdentity} does; one
   * whose claim no longer holds is left unchanged and reported, the others are recorded.
   *
   * <p>The activity ids in one call are distinct. A database store records them in one
   * transaction (one {@code UPDATE ... FROM (VALUES ...)} or one JDBC batch, each row fenced by
   * its claim token) and reports a row the update did not match as stale.
   *
   * <p><b>The default implementation</b> calls {@link #recordIdentity} for each in order and
   * collects the activity ids of those that threw {@link StaleClaimException}; any other exception
   * ends it (the identities before it are recorded then).
   *
   * @param identities what to record, possibly empty
   * @return the activity ids of the claims that no longer held (nothing recorded for them), in
   *     the order given; empty when all were recorded
   * @throws TransientRouterException if the store is unavailable (an outage: see the type's
   *     Javadoc)
   */
  default List<String> recordIdentities(List<EmailIdentity> identities) {
    List<String> stale = new ArrayList<>();
    for (EmailIdentity i : identities) {
      try {
        recordIdentity(i.claim(), i.messageId(), i.trackingToken(), i.subject());
      } catch (StaleClaimException e) {
        stale.add(i.claim().activityId());
      }
    }
    return stale;
  }

  /**
   * Records that the server accepted the email: status Sent.
   *
   * @param claim the claim on the email
   * @param sentAt when the server accepted it
   * @param result the server's answer (with any refused recipients)
   * @throws StaleClaimException if the claim no longer holds
   */
  void markSent(Claim claim, Instant sentAt, SendResult result);

  /**
   * Records that the server accepted several emails, each as {@link #markSent} does; one whose
   * claim no longer holds is left unchanged and reported, the others become Sent.
   *
   * <p>The activity ids in one call are distinct. A database store records them in one
   * transaction (one fenced {@code UPDATE ... FROM (VALUES ...)} or one JDBC batch) and reports a
   * row the update did not match as stale. See the type's Javadoc for what grouping does to the
   * at-least-once window.
   *
   * <p><b>The default implementation</b> calls {@link #markSent} for each in order and collects
   * the activity ids of those that threw {@link StaleClaimException}; any other exception ends it
   * (the emails before it are Sent then).
   *
   * @param outcomes the accepted emails, possibly empty
   * @return the activity ids of the claims that no longer held (nothing recorded for them), in
   *     the order given; empty when all were recorded
   * @throws TransientRouterException if the store is unavailable (an outage: see the type's
   *     Javadoc)
   */
  default List<String> markSentAll(List<SentOutcome> outcomes) {
    List<String> stale = new ArrayList<>();
    for (SentOutcome o : outcomes) {
      try {
        markSent(o.claim(), o.sentAt(), o.result());
      } catch (StaleClaimException e) {
        stale.add(o.claim().activityId());
      }
    }
    return stale;
  }

  /**
   * Returns the email to Pending Send, due again at {@code nextAttemptAt}. The recipients that
   * accepted it in an earlier attempt ({@link #markPartlySent}) stay recorded: the engine also
   * calls this for a partly sent email when the server could not be used at all.
   *
   * @param claim the claim on the email
   * @param nextAttemptAt the earliest time to claim it again
   * @param attempts the number of attempts made so far
   * @param reason why it was not sent, e.g. the server's 4xx reply
   * @throws StaleClaimException if the claim no longer holds
   */
  void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason);

  /**
   * Records that the server accepted the email for some recipients and refused others only for now
   * (450 greylisting, say): the email goes back to Pending Send, due again at {@code nextAttemptAt},
   * and the next attempt sends it to the others alone, with the same Message-ID.
   *
   * <p>The store adds the {@link SendResult.Outcome#ACCEPTED ACCEPTED} recipients of {@code result}
   * to the email's accepted recipients (the union over every partial send, compared by {@link
   * EmailAddress#normalized()}), keeps the per-recipient outcomes for the CRM to show, stores
   * {@code attempts}, and hands the accepted recipients back in {@link
   * OutgoingEmail#acceptedRecipients()} when it claims the email again. The status stays Pending
   * Send: an email is not final while one of its recipients is still pending. In a database: one
   * fenced {@code UPDATE ... WHERE id = ? AND status = SENDING AND claim_token = ?} that also
   * writes the new accepted set (read in the same transaction).
   *
   * <p><b>The default implementation</b>, for stores written before this method existed, calls
   * {@link #markRetry markRetry(claim, nextAttemptAt, attempts, reason)}: nothing is lost, but the
   * store forgets who accepted, so the next attempt sends the email to <em>every</em> recipient
   * again — those who got it already get it a second time (with the same Message-ID, which lets
   * their systems drop the copy). Override it to send each recipient the email once.
   *
   * @param claim the claim on the email
   * @param nextAttemptAt the earliest time to claim it again
   * @param attempts the number of attempts made so far
   * @param result this attempt's answer: the recipients it accepted, and those still pending
   *     ({@link SendResult.Outcome#TRANSIENT}) or refused for good, each with the server's reply
   * @throws StaleClaimException if the claim no longer holds (nothing is changed then)
   */
  default void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    StringBuilder reason = new StringBuilder("accepted for ")
        .append(result.recipientsWith(SendResult.Outcome.ACCEPTED).size()).append(" recipients (")
        .append(result.serverReply()).append("), pending:");
    for (SendResult.RecipientResult r : result.recipients()) {
      if (r.outcome() == SendResult.Outcome.TRANSIENT) {
        reason.append(' ').append(r.recipient().address()).append(" (").append(r.serverReply()).append(')');
      }
    }
    markRetry(claim, nextAttemptAt, attempts, reason.toString());
  }

  /**
   * Records that the email can't be sent: status Failed.
   *
   * @param claim the claim on the email
   * @param attempts the number of attempts made
   * @param result the refusal, with the server's reply
   * @throws StaleClaimException if the claim no longer holds
   */
  void markFailed(Claim claim, int attempts, SendResult result);

  /**
   * Finds the email activity (sent or received) with a Message-ID.
   *
   * @param messageId the Message-ID with angle brackets
   * @return the activity, or empty
   */
  Optional<ActivityRef> findByMessageId(String messageId);

  /**
   * Finds the email activity that was sent with a tracking token.
   *
   * @param trackingToken the token, e.g. {@code CRM:0001234}
   * @return the activity, or empty
   */
  Optional<ActivityRef> findByTrackingToken(String trackingToken);

  /**
   * Finds the CRM records an address belongs to (case-insensitively).
   *
   * @param address the address
   * @return the records, empty when none; one address may belong to several
   */
  List<Party> resolve(EmailAddress address);

  /**
   * Creates a Received email activity, once: when an activity with the same {@link
   * ReceivedEmail#dedupKey() dedupKey} exists (also one created concurrently), returns it instead.
   * Attachment streams are valid only during this call.
   *
   * <p>A store that can should keep the email's {@link ReceivedEmail#contentDigest() contentDigest}
   * with the activity and return it in the result when the activity existed already: a message
   * with the Message-ID of another one but different content is then reported (it is still not
   * created twice: Message-IDs are the key, as in Dynamics). A store that keeps no digest returns
   * {@code null} there and loses nothing else.
   *
   * @param email the message to record
   * @return the activity, whether this call created it, and its stored content digest if any
   */
  ReceiveResult createReceived(ReceivedEmail email);

  /**
   * Records a delivery status notification about an email the CRM sent: per recipient, whether it
   * failed (a bounce, status 5.x.x), is delayed (4.x.x), or was delivered or relayed, with the
   * remote server's diagnostic, so the CRM can show "bounced: 550 5.1.1 user unknown" on the email.
   *
   * <p>The engine calls it after it found the email by {@link #findByMessageId} (the report's
   * envelope id, else the Message-ID in the returned headers, else one in the returned text), and
   * before the mailbox's post-action runs on the report. The report message itself becomes a
   * Received activity only when the tracking policy tracks it for a reason other than correlation
   * ({@link #createReceived} is then called too). The same report may be recorded more than once
   * (a mailbox read again after a reset, an engine that died before the post-action): a store that
   * wants each once keys it by {@link DeliveryReport#reportMessageId()} and the recipient. The
   * email's status is the store's to change or keep (the router leaves a Sent email Sent).
   *
   * <p><b>The default implementation</b> does nothing, so a store written before this method
   * existed keeps working: reports are then only in the engine's events.
   *
   * @param email the email the report is about, as {@link #findByMessageId} returned it
   * @param report the report, with at least one recipient
   * @throws TransientRouterException if the store is unavailable (an outage: see the type's
   *     Javadoc); any other exception counts as a failure of the report message
   */
  default void recordDeliveryReport(ActivityRef email, DeliveryReport report) {
    // Stores written before this method know nothing of reports: the engine still reports them in events.
  }
}
