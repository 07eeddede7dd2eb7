package dev.emailrouter.core;

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

/** An {@link ActivityStore} that passes every call on; tests override a method to inject a failure. */
class DelegatingStore implements ActivityStore {
  final ActivityStore delegate;

  DelegatingStore(ActivityStore delegate) {
    this.delegate = delegate;
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

  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    return delegate.createReceived(email);
  }
}
