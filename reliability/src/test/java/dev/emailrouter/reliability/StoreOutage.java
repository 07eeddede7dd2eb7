package dev.emailrouter.reliability;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
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
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The CRM going down and coming back: while an outage is on, the chosen calls of the store throw
 * {@link TransientRouterException} (what the {@link ActivityStore} Javadoc says a briefly
 * unavailable CRM does) without reaching the store. Counts the calls it failed, and per email the
 * {@code markSent} calls it failed (each one is an email the server accepted and the CRM did not
 * record: the documented at-least-once repeat). Thread-safe.
 */
final class StoreOutage implements ActivityStore {

  /** Which calls fail while the outage is on. */
  enum Mode {
    /** Every call. */
    ALL,
    /** The incoming flow's writes and lookups: {@code createReceived} and {@code findByMessageId}. */
    RECEIVE,
    /** Only {@code markSent}: the server accepted, the CRM can't record it. */
    MARK_SENT
  }

  private final ActivityStore delegate;
  private volatile Mode mode;
  private final AtomicInteger failed = new AtomicInteger();
  private final Map<String, AtomicInteger> markSentFailed = new ConcurrentHashMap<>();

  StoreOutage(ActivityStore delegate) {
    this.delegate = delegate;
  }

  /** Starts an outage of {@code which} calls (replacing one that is on). */
  void start(Mode which) {
    mode = which;
  }

  /** The CRM is back. */
  void stop() {
    mode = null;
  }

  boolean on() {
    return mode != null;
  }

  /** Calls failed so far. */
  int failed() {
    return failed.get();
  }

  /** markSent calls failed, by activity id. */
  Map<String, Integer> markSentFailed() {
    Map<String, Integer> out = new TreeMap<>();
    markSentFailed.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  private void check(Mode needed, String call) {
    Mode m = mode;
    if (m == Mode.ALL || m != null && m == needed) {
      failed.incrementAndGet();
      throw new TransientRouterException("the CRM is unavailable (" + call + "): connection pool exhausted, try again");
    }
  }

  @Override
  public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
    check(null, "claimPendingSend");
    return delegate.claimPendingSend(request);
  }

  @Override
  public long nextTrackingNumber() {
    check(null, "nextTrackingNumber");
    return delegate.nextTrackingNumber();
  }

  @Override
  public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
    check(null, "recordIdentity");
    delegate.recordIdentity(claim, messageId, trackingToken, subject);
  }

  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    try {
      check(Mode.MARK_SENT, "markSent");
    } catch (TransientRouterException e) {
      markSentFailed.computeIfAbsent(claim.activityId(), k -> new AtomicInteger()).incrementAndGet();
      throw e;
    }
    delegate.markSent(claim, sentAt, result);
  }

  @Override
  public List<Long> nextTrackingNumbers(int count) {
    // Every batch form is passed on explicitly: the SPI's default would loop over this wrapper's
    // single forms and bypass the delegate's own batch form.
    check(null, "nextTrackingNumbers");
    return delegate.nextTrackingNumbers(count);
  }

  @Override
  public List<String> recordIdentities(List<EmailIdentity> identities) {
    check(null, "recordIdentities");
    return delegate.recordIdentities(identities);
  }

  @Override
  public List<String> markSentAll(List<SentOutcome> outcomes) {
    try {
      check(Mode.MARK_SENT, "markSentAll");
    } catch (TransientRouterException e) {
      // The whole group was accepted and none of it recorded: each is a documented repeat.
      for (SentOutcome o : outcomes) {
        markSentFailed.computeIfAbsent(o.claim().activityId(), k -> new AtomicInteger()).incrementAndGet();
      }
      throw e;
    }
    return delegate.markSentAll(outcomes);
  }

  @Override
  public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    // Passed on explicitly: the SPI's default would turn it into markRetry and forget who accepted.
    try {
      check(Mode.MARK_SENT, "markPartlySent");
    } catch (TransientRouterException e) {
      markSentFailed.computeIfAbsent(claim.activityId(), k -> new AtomicInteger()).incrementAndGet();
      throw e;
    }
    delegate.markPartlySent(claim, nextAttemptAt, attempts, result);
  }

  @Override
  public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
    check(null, "markRetry");
    delegate.markRetry(claim, nextAttemptAt, attempts, reason);
  }

  @Override
  public void markFailed(Claim claim, int attempts, SendResult result) {
    check(null, "markFailed");
    delegate.markFailed(claim, attempts, result);
  }

  @Override
  public Optional<ActivityRef> findByMessageId(String messageId) {
    check(Mode.RECEIVE, "findByMessageId");
    return delegate.findByMessageId(messageId);
  }

  @Override
  public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
    check(null, "findByTrackingToken");
    return delegate.findByTrackingToken(trackingToken);
  }

  @Override
  public List<Party> resolve(EmailAddress address) {
    check(null, "resolve");
    return delegate.resolve(address);
  }

  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    check(Mode.RECEIVE, "createReceived");
    return delegate.createReceived(email);
  }
}
