package dev.emailrouter.spring;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.core.RouterEngine;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Runs Test Access ({@link RouterEngine#testAccess()}) when the application has started and then
 * every {@code emailrouter.health.test-access-interval}, and keeps the latest result for the health
 * indicator: Test Access logs in to every server, too costly for each health request.
 *
 * <p>The first run starts when the context has been refreshed, on the scheduler's thread, so it
 * delays neither the startup nor the first tick. An interval of zero turns it off: it then never
 * runs and {@link #latest()} stays empty. Stopping (the application's shutdown) cancels the
 * schedule without waiting for a run in progress. Thread-safe.
 */
final class TestAccessRunner implements SmartLifecycle {
  private static final Logger LOG = LoggerFactory.getLogger(TestAccessRunner.class);

  private final RouterEngine engine;
  private final Duration interval;
  private final Clock clock;
  private final TestAccessScheduler scheduler;
  private TestAccessScheduler.Cancellable schedule;
  private volatile Result latest;

  /**
   * The outcome of one Test Access.
   *
   * @param checkedAt when it ended, by the scheduler's clock
   * @param reports the engine's reports: {@code "transport"}, then each mailbox by name
   */
  record Result(Instant checkedAt, Map<String, AccessReport> reports) {
    Result {
      Objects.requireNonNull(checkedAt, "checkedAt");
      reports = Map.copyOf(reports);
    }

    /**
     * One target's report.
     *
     * @param target {@code "transport"} or a mailbox's name
     * @return its report, or empty when this run had none for it
     */
    Optional<AccessReport> report(String target) {
      return Optional.ofNullable(reports.get(target));
    }
  }

  TestAccessRunner(RouterEngine engine, Duration interval, TestAccessScheduler scheduler) {
    this.engine = Objects.requireNonNull(engine, "engine");
    this.interval = Objects.requireNonNull(interval, "interval");
    if (interval.isNegative()) {
      throw new IllegalArgumentException("interval must be zero (off) or positive, was " + interval);
    }
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.clock = Objects.requireNonNull(scheduler.clock(), "scheduler.clock()");
  }

  /**
   * Whether Test Access runs at all.
   *
   * @return {@code false} when the interval is zero
   */
  boolean enabled() {
    return !interval.isZero();
  }

  /**
   * The delay from the end of one run to the start of the next.
   *
   * @return the interval; zero when off
   */
  Duration interval() {
    return interval;
  }

  @Override
  public synchronized void start() {
    if (schedule != null || !enabled()) {
      return;
    }
    schedule = scheduler.start(this::runNow, interval);
  }

  @Override
  public synchronized void stop() {
    if (schedule != null) {
      schedule.cancel();
      schedule = null;
    }
  }

  @Override
  public synchronized boolean isRunning() {
    return schedule != null;
  }

  /** Runs Test Access now, on the calling thread, and keeps its result; never throws. */
  void runNow() {
    Map<String, AccessReport> reports;
    try {
      reports = engine.testAccess();
    } catch (RuntimeException e) {
      // testAccess() turns every adapter's failure into its report: this is a bug or a closed engine.
      LOG.warn("Test Access threw, the previous result stays: {}", e.toString(), e);
      return;
    }
    Result previous = latest;
    latest = new Result(clock.instant(), reports);
    for (Map.Entry<String, AccessReport> e : reports.entrySet()) {
      Optional<AccessStep> failed = e.getValue().firstFailure();
      boolean failedBefore = previous != null && previous.report(e.getKey()).map(r -> !r.ok()).orElse(false);
      if (failed.isPresent() && !failedBefore) {
        // Once per change, not once per run: the health indicator shows it for as long as it lasts.
        LOG.warn("Test Access of {} failed: {}", e.getKey(), failed.get());
      }
    }
    LOG.debug("Test Access ran: {} target(s), {} failed", reports.size(),
        reports.values().stream().filter(r -> !r.ok()).count());
  }

  /**
   * The latest Test Access.
   *
   * @return empty before the first run ends, and always when off
   */
  Optional<Result> latest() {
    return Optional.ofNullable(latest);
  }
}
