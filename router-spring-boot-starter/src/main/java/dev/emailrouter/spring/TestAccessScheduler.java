package dev.emailrouter.spring;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Where and when {@link TestAccessRunner} runs its checks: at once, then again a fixed delay after
 * each run ends, off the caller's thread, and the clock that dates the results. The seam that lets
 * tests run the checks themselves and set the time instead of waiting for a thread.
 */
@FunctionalInterface
interface TestAccessScheduler {

  /**
   * Starts running a task: at once, then {@code interval} after each run ends, until cancelled.
   * Returns without waiting for the first run.
   *
   * @param task what to run; never throws
   * @param interval the delay from the end of one run to the start of the next; positive
   * @return what stops the schedule
   */
  Cancellable start(Runnable task, Duration interval);

  /**
   * The clock the results are dated by.
   *
   * @return the system's UTC clock, unless a test's scheduler says otherwise
   */
  default Clock clock() {
    return Clock.systemUTC();
  }

  /** Stops a schedule. */
  @FunctionalInterface
  interface Cancellable {
    /** Stops the schedule; a run in progress is interrupted (it only waits on sockets). */
    void cancel();
  }

  /**
   * A daemon thread of its own, named {@code emailrouter-test-access-1}, so that a slow server's
   * timeouts delay neither the startup nor the ticks.
   *
   * @return the scheduler
   */
  static TestAccessScheduler daemonThread() {
    return (task, interval) -> {
      ThreadPoolTaskScheduler s = new ThreadPoolTaskScheduler();
      s.setPoolSize(1);
      s.setThreadNamePrefix("emailrouter-test-access-");
      s.setDaemon(true);
      s.initialize();
      ScheduledFuture<?> future = s.scheduleWithFixedDelay(task, interval);
      return () -> {
        future.cancel(true);
        s.shutdown();
      };
    };
  }
}
