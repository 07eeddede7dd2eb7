package dev.emailrouter.examples;

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
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.core.InMemoryActivityStore;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link InMemoryActivityStore} whose {@code createReceived} fails for one Message-ID, as a CRM
 * that chokes on one message does: a permanent failure tied to that message (a transient one would
 * mean the whole CRM is down, which the engine handles as an outage). Thread-safe.
 */
final class FailingStore implements ActivityStore {
  private final InMemoryActivityStore delegate;
  private final String poisonMessageId;
  private final AtomicInteger failures = new AtomicInteger();

  FailingStore(InMemoryActivityStore delegate, String poisonMessageId) {
    this.delegate = delegate;
    this.poisonMessageId = poisonMessageId;
  }

  int failures() {
    return failures.get();
  }

  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    if (poisonMessageId.equals(email.messageId())) {
      failures.incrementAndGet();
      throw new PermanentRouterException("CRM refused message " + email.messageId() + ": field too long");
    }
    return delegate.createReceived(email);
  }

  @Override
  public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
    return delegate.claimPendingSend(request);
  }

  @Override
  public long nextTrackingNumber() {
    return delegate.nextTrackingNumber();
  }

  @Override
  public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
    delegate.recordIdentity(claim, messageId, trackingToken, subject);
  }

  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    delegate.markSent(claim, sentAt, result);
  }

  @Override
  public List<Long> nextTrackingNumbers(int count) {
    return delegate.nextTrackingNumbers(count);
  }

  @Override
  public List<String> recordIdentities(List<EmailIdentity> identities) {
    return delegate.recordIdentities(identities);
  }

  @Override
  public List<String> markSentAll(List<SentOutcome> outcomes) {
    return delegate.markSentAll(outcomes);
  }

  @Override
  public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
    delegate.markRetry(claim, nextAttemptAt, attempts, reason);
  }

  @Override
  public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    delegate.markPartlySent(claim, nextAttemptAt, attempts, result);
  }

  @Override
  public void markFailed(Claim claim, int attempts, SendResult result) {
    delegate.markFailed(claim, attempts, result);
  }

  @Override
  public Optional<ActivityRef> findByMessageId(String messageId) {
    return delegate.findByMessageId(messageId);
  }

  @Override
  public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
    return delegate.findByTrackingToken(trackingToken);
  }

  @Override
  public List<Party> resolve(EmailAddress address) {
    return delegate.resolve(address);
  }
}
