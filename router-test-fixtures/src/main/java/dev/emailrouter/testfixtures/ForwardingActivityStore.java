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
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An {@link ActivityStore} that passes every call on to another store; a test subclasses it (often
 * anonymously) and overrides the one call it wants to fail, count or change.
 *
 * <p>Every method of the SPI is passed on, the ones with a default too ({@code nextTrackingNumbers},
 * {@code recordIdentities}, {@code markSentAll}, {@code markPartlySent}, {@code
 * recordDeliveryReport}): the SPI's defaults would loop over this wrapper's single forms, bypass the
 * delegate's own batch forms, or drop delivery reports. A test that wants the SPI's default behaviour
 * for one of them (a store written before the method existed) overrides it to say so.
 *
 * <p>Thread-safe when the delegate is and the subclass's overrides are: this class holds no state
 * beyond the delegate.
 */
public class ForwardingActivityStore implements ActivityStore {
  private final ActivityStore delegate;

  /**
   * A store that passes every call on.
   *
   * @param delegate the store that does the work, not null
   */
  public ForwardingActivityStore(ActivityStore delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /**
   * The store every call is passed on to.
   *
   * @return the delegate given to the constructor
   */
  protected final ActivityStore delegate() {
    return delegate;
  }

  /** {@inheritDoc} */
  @Override
  public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
    return delegate.claimPendingSend(request);
  }

  /** {@inheritDoc} */
  @Override
  public long nextTrackingNumber() {
    return delegate.nextTrackingNumber();
  }

  /** {@inheritDoc} */
  @Override
  public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
    delegate.recordIdentity(claim, messageId, trackingToken, subject);
  }

  /** {@inheritDoc} */
  @Override
  public List<Long> nextTrackingNumbers(int count) {
    return delegate.nextTrackingNumbers(count);
  }

  /** {@inheritDoc} */
  @Override
  public List<String> recordIdentities(List<EmailIdentity> identities) {
    return delegate.recordIdentities(identities);
  }

  /** {@inheritDoc} */
  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    delegate.markSent(claim, sentAt, result);
  }

  /** {@inheritDoc} */
  @Override
  public List<String> markSentAll(List<SentOutcome> outcomes) {
    return delegate.markSentAll(outcomes);
  }

  /** {@inheritDoc} */
  @Override
  public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
    delegate.markRetry(claim, nextAttemptAt, attempts, reason);
  }

  /** {@inheritDoc} */
  @Override
  public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    delegate.markPartlySent(claim, nextAttemptAt, attempts, result);
  }

  /** {@inheritDoc} */
  @Override
  public void markFailed(Claim claim, int attempts, SendResult result) {
    delegate.markFailed(claim, attempts, result);
  }

  /** {@inheritDoc} */
  @Override
  public Optional<ActivityRef> findByMessageId(String messageId) {
    return delegate.findByMessageId(messageId);
  }

  /** {@inheritDoc} */
  @Override
  public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
    return delegate.findByTrackingToken(trackingToken);
  }

  /** {@inheritDoc} */
  @Override
  public List<Party> resolve(EmailAddress address) {
    return delegate.resolve(address);
  }

  /** {@inheritDoc} */
  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    return delegate.createReceived(email);
  }

  /** {@inheritDoc} */
  @Override
  public void recordDeliveryReport(ActivityRef email, DeliveryReport report) {
    delegate.recordDeliveryReport(email, report);
  }
}
