package dev.emailrouter.testfixtures;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.DeliveryReport;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailIdentity;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.TransientRouterException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A store whose CRM goes down and comes back: while an outage is {@linkplain #start(Mode) on}, the
 * calls its {@link Mode} covers throw {@link TransientRouterException} (what the {@link ActivityStore}
 * Javadoc says a briefly unavailable CRM does) without reaching the delegate; otherwise every call is
 * passed on, as {@link ForwardingActivityStore} does.
 *
 * <p>It counts the calls it failed, and per email the calls that would have recorded an email the
 * server had accepted ({@code markSent}, {@code markSentAll}, {@code markPartlySent}): each is the
 * documented at-least-once repeat. A test subclasses it to start an outage at a chosen moment, e.g.
 * after the n-th created activity, by overriding a call and calling {@link #start(Mode)} before {@code
 * super}.
 *
 * <p>Thread-safe when the delegate is: the engine's workers may call it while the test thread starts
 * and stops outages; a call sees the outage as it stands when the call begins.
 */
public class StoreOutage extends ForwardingActivityStore {

  /** Which calls fail while the outage is on. */
  public enum Mode {
    /** Every call. */
    ALL,
    /**
     * The incoming flow's writes and lookups: {@code createReceived}, {@code findByMessageId} and
     * {@code recordDeliveryReport}.
     */
    RECEIVE,
    /** Only the calls that record an accepted email: {@code markSent}, {@code markSentAll}, {@code markPartlySent}. */
    MARK_SENT
  }

  private volatile Mode mode;
  private final AtomicInteger failed = new AtomicInteger();
  private final Map<String, AtomicInteger> markSentFailed = new ConcurrentHashMap<>();

  /**
   * A store that is up until a test starts an outage.
   *
   * @param delegate the store that does the work while the CRM is up, not null
   */
  public StoreOutage(ActivityStore delegate) {
    super(delegate);
  }

  /**
   * Starts an outage of the given calls, replacing one that is on.
   *
   * @param which the calls that fail from now on, not null
   */
  public void start(Mode which) {
    mode = Objects.requireNonNull(which, "which");
  }

  /** Ends the outage: every call reaches the delegate again. */
  public void stop() {
    mode = null;
  }

  /**
   * Whether an outage is on.
   *
   * @return true between {@link #start(Mode)} and {@link #stop()}
   */
  public boolean on() {
    return mode != null;
  }

  /**
   * The calls failed so far, all outages together.
   *
   * @return a count, zero before the first outage
   */
  public int failed() {
    return failed.get();
  }

  /**
   * Per email, how often recording it as (partly) sent failed: each is an email the server accepted
   * and the CRM did not record.
   *
   * @return a sorted snapshot by activity id, empty when none failed
   */
  public Map<String, Integer> markSentFailed() {
    Map<String, Integer> out = new TreeMap<>();
    markSentFailed.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  private void check(Mode covering, String call) {
    Mode m = mode;
    if (m == Mode.ALL || m != null && m == covering) {
      failed.incrementAndGet();
      throw new TransientRouterException("CRM database unavailable (" + call + "): connection refused, try again");
    }
  }

  private void checkRecording(String call, List<String> activityIds) {
    try {
      check(Mode.MARK_SENT, call);
    } catch (TransientRouterException e) {
      for (String id : activityIds) {
        markSentFailed.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
      }
      throw e;
    }
  }

  /** {@inheritDoc} */
  @Override
  public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
    check(null, "claimPendingSend");
    return super.claimPendingSend(request);
  }

  /** {@inheritDoc} */
  @Override
  public long nextTrackingNumber() {
    check(null, "nextTrackingNumber");
    return super.nextTrackingNumber();
  }

  /** {@inheritDoc} */
  @Override
  public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
    check(null, "recordIdentity");
    super.recordIdentity(claim, messageId, trackingToken, subject);
  }

  /** {@inheritDoc} */
  @Override
  public List<Long> nextTrackingNumbers(int count) {
    check(null, "nextTrackingNumbers");
    return super.nextTrackingNumbers(count);
  }

  /** {@inheritDoc} */
  @Override
  public List<String> recordIdentities(List<EmailIdentity> identities) {
    check(null, "recordIdentities");
    return super.recordIdentities(identities);
  }

  /** {@inheritDoc} */
  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    checkRecording("markSent", List.of(claim.activityId()));
    super.markSent(claim, sentAt, result);
  }

  /** {@inheritDoc} */
  @Override
  public List<String> markSentAll(List<SentOutcome> outcomes) {
    // The whole group was accepted and none of it recorded: each is a documented repeat.
    checkRecording("markSentAll", outcomes.stream().map(o -> o.claim().activityId()).toList());
    return super.markSentAll(outcomes);
  }

  /** {@inheritDoc} */
  @Override
  public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    checkRecording("markPartlySent", List.of(claim.activityId()));
    super.markPartlySent(claim, nextAttemptAt, attempts, result);
  }

  /** {@inheritDoc} */
  @Override
  public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
    check(null, "markRetry");
    super.markRetry(claim, nextAttemptAt, attempts, reason);
  }

  /** {@inheritDoc} */
  @Override
  public void markFailed(Claim claim, int attempts, SendResult result) {
    check(null, "markFailed");
    super.markFailed(claim, attempts, result);
  }

  /** {@inheritDoc} */
  @Override
  public Optional<ActivityRef> findByMessageId(String messageId) {
    check(Mode.RECEIVE, "findByMessageId");
    return super.findByMessageId(messageId);
  }

  /** {@inheritDoc} */
  @Override
  public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
    check(null, "findByTrackingToken");
    return super.findByTrackingToken(trackingToken);
  }

  /** {@inheritDoc} */
  @Override
  public List<Party> resolve(EmailAddress address) {
    check(null, "resolve");
    return super.resolve(address);
  }

  /** {@inheritDoc} */
  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    check(Mode.RECEIVE, "createReceived");
    return super.createReceived(email);
  }

  /** {@inheritDoc} */
  @Override
  public void recordDeliveryReport(ActivityRef email, DeliveryReport report) {
    check(Mode.RECEIVE, "recordDeliveryReport");
    super.recordDeliveryReport(email, report);
  }
}
