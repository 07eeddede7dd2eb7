package dev.emailrouter.micrometer;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.InMemoryActivityStore;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An {@link InMemoryActivityStore} that can go down as a whole (every call throws {@link
 * TransientRouterException}) and can lose the claim on chosen emails when they are marked Sent.
 */
final class SwitchableStore implements ActivityStore {
  final InMemoryActivityStore delegate = new InMemoryActivityStore();
  private final Set<String> staleOnSent = ConcurrentHashMap.newKeySet();
  private volatile boolean down;

  void down(boolean value) {
    down = value;
  }

  void loseClaimWhenSent(String activityId) {
    staleOnSent.add(activityId);
  }

  private void check() {
    if (down) {
      throw new TransientRouterException("CRM unavailable: HTTP 503 from crm.example.test");
    }
  }

  @Override
  public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
    check();
    return delegate.claimPendingSend(request);
  }

  @Override
  public long nextTrackingNumber() {
    check();
    return delegate.nextTrackingNumber();
  }

  @Override
  public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
    check();
    delegate.recordIdentity(claim, messageId, trackingToken, subject);
  }

  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    check();
    if (staleOnSent.contains(claim.activityId())) {
      throw new StaleClaimException(claim);
    }
    delegate.markSent(claim, sentAt, result);
  }

  @Override
  public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
    check();
    delegate.markRetry(claim, nextAttemptAt, attempts, reason);
  }

  @Override
  public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    check();
    delegate.markPartlySent(claim, nextAttemptAt, attempts, result);
  }

  @Override
  public void markFailed(Claim claim, int attempts, SendResult result) {
    check();
    delegate.markFailed(claim, attempts, result);
  }

  @Override
  public Optional<ActivityRef> findByMessageId(String messageId) {
    check();
    return delegate.findByMessageId(messageId);
  }

  @Override
  public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
    check();
    return delegate.findByTrackingToken(trackingToken);
  }

  @Override
  public List<Party> resolve(EmailAddress address) {
    check();
    return delegate.resolve(address);
  }

  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    check();
    return delegate.createReceived(email);
  }
}
