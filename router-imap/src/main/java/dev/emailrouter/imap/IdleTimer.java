package dev.emailrouter.imap;

import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs an {@link ImapIdleWatcher}'s timed tasks (ending an IDLE to start the next, reconnecting after
 * a backoff): one daemon thread in production, a clock the test advances in tests.
 */
interface IdleTimer {

  /**
   * Runs {@code task} once after {@code delay}.
   *
   * @return cancels the task if it has not run yet; does nothing otherwise
   */
  Runnable schedule(Runnable task, Duration delay);

  /** Drops every task not run yet; no task is accepted afterwards. */
  void shutdown();

  /** The production timer: one daemon thread. */
  static IdleTimer daemon() {
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "imap-idle-timer");
      t.setDaemon(true);
      return t;
    });
    executor.setRemoveOnCancelPolicy(true);
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    return new IdleTimer() {
      @Override
      public Runnable schedule(Runnable task, Duration delay) {
        ScheduledFuture<?> f = executor.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
      }

      @Override
      public void shutdown() {
        executor.shutdownNow();
      }
    };
  }
}
