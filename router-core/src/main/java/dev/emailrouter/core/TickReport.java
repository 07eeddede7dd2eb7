package dev.emailrouter.core;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one {@link RouterEngine#tick()} did: every event, in the order they happened, with typed
 * views for counting. {@link RouterEvent.EmailPartlySent} and {@link RouterEvent.MessageGone} are
 * in {@link #events()} alone. Immutable and thread-safe.
 *
 * @param startedAt when the tick started, by the engine's clock
 * @param duration how long it took, by the engine's clock
 * @param events every event
 * @param outgoingDuration how long the outgoing flow took, by the engine's clock; zero for an engine
 *     without a transport
 * @param incomingDuration how long the incoming flow took (every mailbox due), by the engine's clock
 */
public record TickReport(Instant startedAt, Duration duration, List<RouterEvent> events, Duration outgoingDuration,
    Duration incomingDuration) {

  /**
   * Validates and copies.
   *
   * @param startedAt when the tick started, by the engine's clock
   * @param duration how long it took, by the engine's clock
   * @param events every event
   * @param outgoingDuration how long the outgoing flow took
   * @param incomingDuration how long the incoming flow took
   */
  public TickReport {
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(duration, "duration");
    Objects.requireNonNull(outgoingDuration, "outgoingDuration");
    Objects.requireNonNull(incomingDuration, "incomingDuration");
    events = List.copyOf(events);
  }

  /**
   * A report without the flows' durations (both zero), as built before they were measured.
   *
   * @param startedAt when the tick started, by the engine's clock
   * @param duration how long it took, by the engine's clock
   * @param events every event
   */
  public TickReport(Instant startedAt, Duration duration, List<RouterEvent> events) {
    this(startedAt, duration, events, Duration.ZERO, Duration.ZERO);
  }

  /** @return the emails sent */
  public List<RouterEvent.EmailSent> sent() {
    return of(RouterEvent.EmailSent.class);
  }

  /** @return the emails returned to Pending Send (not those partly sent) */
  public List<RouterEvent.EmailRetried> retried() {
    return of(RouterEvent.EmailRetried.class);
  }

  /** @return the emails that failed */
  public List<RouterEvent.EmailFailed> failed() {
    return of(RouterEvent.EmailFailed.class);
  }

  /** @return the incoming messages tracked */
  public List<RouterEvent.MessageTracked> tracked() {
    return of(RouterEvent.MessageTracked.class);
  }

  /**
   * The incoming messages not tracked, with their reasons, including {@code DUPLICATE} (already
   * an activity, to which the tracked post-action is applied) and {@code LOOP}.
   *
   * @return the incoming messages rejected, with their reasons
   */
  public List<RouterEvent.MessageRejected> rejected() {
    return of(RouterEvent.MessageRejected.class);
  }

  /**
   * The delivery status notifications read and recorded on the emails they are about: bounces
   * (5.x.x), delays (4.x.x), deliveries and relays.
   *
   * @return the delivery reports recorded
   */
  public List<RouterEvent.DeliveryReported> deliveryReports() {
    return of(RouterEvent.DeliveryReported.class);
  }

  /** @return the incoming messages that could not be processed */
  public List<RouterEvent.MessageFailed> messageFailures() {
    return of(RouterEvent.MessageFailed.class);
  }

  /**
   * Copies to the Sent folder that failed this tick (the emails stay Sent).
   *
   * @return the failed copies, whether tried again later or given up
   */
  public List<RouterEvent.SentCopyFailed> sentCopyFailures() {
    return of(RouterEvent.SentCopyFailed.class);
  }

  /**
   * The emails whose Message-ID or outcome the store failed to record this tick: each waits for
   * its claim's lease to end and is claimed again then ({@link RouterEvent.OutcomeNotRecorded}
   * says what follows for each outcome).
   *
   * @return the outcomes not recorded
   */
  public List<RouterEvent.OutcomeNotRecorded> outcomesNotRecorded() {
    return of(RouterEvent.OutcomeNotRecorded.class);
  }

  /**
   * Problems with a server, the store or a mailbox as a whole, lost claims, outcomes the store did
   * not record, lost mailbox leases, an unavailable checkpoint or lease store, and a used-up tick
   * budget.
   *
   * @return server, store, mailbox, claim, recording, lease and budget problems
   */
  public List<RouterEvent> problems() {
    return events.stream()
        .filter(e -> e instanceof RouterEvent.ServerUnavailable || e instanceof RouterEvent.StoreUnavailable
            || e instanceof RouterEvent.MailboxFailed
            || e instanceof RouterEvent.MailboxDisabled || e instanceof RouterEvent.ClaimLost
            || e instanceof RouterEvent.OutcomeNotRecorded
            || e instanceof RouterEvent.TickBudgetUsedUp
            || e instanceof RouterEvent.MailboxLeaseLost || e instanceof RouterEvent.MailboxStateUnavailable)
        .toList();
  }

  private <T extends RouterEvent> List<T> of(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  @Override
  public String toString() {
    return "TickReport[sent=" + sent().size() + ", retried=" + retried().size() + ", failed=" + failed().size()
        + ", tracked=" + tracked().size() + ", rejected=" + rejected().size() + ", messageFailures="
        + messageFailures().size() + ", problems=" + problems().size() + ", duration=" + duration + ", outgoing="
        + outgoingDuration + ", incoming=" + incomingDuration + "]";
  }
}
