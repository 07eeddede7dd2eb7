package dev.emailrouter.spring;

import dev.emailrouter.testfixtures.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * A scheduler that runs nothing by itself: a test runs the scheduled Test Access when it wants,
 * and sets the time the results are dated by.
 */
final class ManualTestAccessScheduler implements TestAccessScheduler {
  /** Where the clock starts. */
  static final Instant T0 = Instant.parse("2030-01-01T08:00:00Z");

  private final MutableClock clock = new MutableClock(T0);
  private volatile Runnable task;
  private volatile Duration interval;
  private volatile boolean cancelled;

  @Override
  public Cancellable start(Runnable task, Duration interval) {
    this.task = task;
    this.interval = interval;
    return () -> cancelled = true;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  /** Moves the clock on. */
  void advance(Duration d) {
    clock.advance(d);
  }

  /** Runs the scheduled task once, as the scheduler's thread would when it is due. */
  void runDue() {
    if (task == null || cancelled) {
      throw new IllegalStateException("nothing scheduled");
    }
    task.run();
  }

  boolean started() {
    return task != null;
  }

  Duration interval() {
    return interval;
  }

  boolean cancelled() {
    return cancelled;
  }
}
