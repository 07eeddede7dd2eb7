package dev.emailrouter.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The time one tick may keep starting new work, and what it left for the next tick because the
 * time was used up. Shared by the send and read workers of one tick, so thread-safe.
 */
final class TickBudget {
  private final Clock clock;
  private final Instant deadline;
  private final Instant sendDeadline;
  private final AtomicInteger emailsDeferred = new AtomicInteger();
  private final List<String> mailboxesDeferred = new ArrayList<>();

  /**
   * @param clock the engine's clock
   * @param deadline when the tick stops starting new work
   * @param sendDeadline when the tick stops sending: earlier when there are mailboxes to read too,
   *     so a backlog of email to send never leaves the mailboxes unread
   */
  TickBudget(Clock clock, Instant deadline, Instant sendDeadline) {
    this.clock = clock;
    this.deadline = deadline;
    this.sendDeadline = sendDeadline;
  }

  /** Whether the tick's time is used up: no new work is started. */
  boolean usedUp() {
    return !clock.instant().isBefore(deadline);
  }

  /** Whether the tick's time for sending is used up. */
  boolean sendingUsedUp() {
    return !clock.instant().isBefore(sendDeadline);
  }

  void emailsDeferred(int count) {
    emailsDeferred.addAndGet(count);
  }

  synchronized void mailboxDeferred(String mailbox) {
    mailboxesDeferred.add(mailbox);
  }

  /** Raises {@link RouterEvent.TickBudgetUsedUp} when something was left for the next tick. */
  synchronized void report(Duration budget, EventSink sink) {
    if (emailsDeferred.get() > 0 || !mailboxesDeferred.isEmpty()) {
      sink.accept(new RouterEvent.TickBudgetUsedUp(budget, emailsDeferred.get(), mailboxesDeferred));
    }
  }
}
