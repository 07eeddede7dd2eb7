package dev.emailrouter.benchmarks;

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
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * A store that counts the engine's calls and passes them on, so a run can say how many store round
 * trips an email costs. Thread-safe as its delegate. Every method of {@link ActivityStore} is
 * passed on explicitly, defaults included, so the delegate's own implementations are the ones used.
 */
final class CountingStore implements ActivityStore {
  private final ActivityStore delegate;
  private final LongAdder calls = new LongAdder();

  CountingStore(ActivityStore delegate) {
    this.delegate = delegate;
  }

  long calls() {
    return calls.sum();
  }

  @Override
  public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
    calls.increment();
    return delegate.claimPendingSend(request);
  }

  @Override
  public long nextTrackingNumber() {
    calls.increment();
    return delegate.nextTrackingNumber();
  }

  @Override
  public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
    calls.increment();
    delegate.recordIdentity(claim, messageId, trackingToken, subject);
  }

  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    calls.increment();
    delegate.markSent(claim, sentAt, result);
  }

  @Override
  public List<Long> nextTrackingNumbers(int count) {
    calls.increment();
    return delegate.nextTrackingNumbers(count);
  }

  @Override
  public List<String> recordIdentities(List<EmailIdentity> identities) {
    calls.increment();
    return delegate.recordIdentities(identities);
  }

  @Override
  public List<String> markSentAll(List<SentOutcome> outcomes) {
    calls.increment();
    return delegate.markSentAll(outcomes);
  }

  @Override
  public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
    calls.increment();
    delegate.markRetry(claim, nextAttemptAt, attempts, reason);
  }

  @Override
  public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    calls.increment();
    delegate.markPartlySent(claim, nextAttemptAt, attempts, result);
  }

  @Override
  public void markFailed(Claim claim, int attempts, SendResult result) {
    calls.increment();
    delegate.markFailed(claim, attempts, result);
  }

  @Override
  public Optional<ActivityRef> findByMessageId(String messageId) {
    calls.increment();
    return delegate.findByMessageId(messageId);
  }

  @Override
  public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
    calls.increment();
    return delegate.findByTrackingToken(trackingToken);
  }

  @Override
  public List<Party> resolve(EmailAddress address) {
    calls.increment();
    return delegate.resolve(address);
  }

  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    calls.increment();
    return delegate.createReceived(email);
  }
}
