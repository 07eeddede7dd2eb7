package dev.emailrouter.imap;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An {@link IdleTimer} on a clock the test advances: {@link #advance(Duration)} runs the tasks due by
 * then, in order, on the test's thread. No task runs by itself.
 */
final class ManualIdleTimer implements IdleTimer {

  private record Task(Duration due, Runnable task, long order) {}

  private final List<Task> tasks = new ArrayList<>();
  private Duration now = Duration.ZERO;
  private long scheduled;
  private boolean shutdown;

  @Override
  public synchronized Runnable schedule(Runnable task, Duration delay) {
    if (shutdown) {
      throw new IllegalStateException("the timer is shut down");
    }
    Task t = new Task(now.plus(delay), task, scheduled++);
    tasks.add(t);
    return () -> {
      synchronized (this) {
        tasks.remove(t);
      }
    };
  }

  @Override
  public synchronized void shutdown() {
    shutdown = true;
    tasks.clear();
  }

  /** The delays, from now, of the tasks waiting, soonest first. */
  synchronized List<Duration> pending() {
    return tasks.stream().sorted(Comparator.comparing(Task::due).thenComparing(Task::order))
        .map(t -> t.due().minus(now)).toList();
  }

  /** Moves the clock on by {@code by}, running every task due meanwhile. */
  void advance(Duration by) {
    Duration until;
    synchronized (this) {
      until = now.plus(by);
    }
    while (true) {
      Task next;
      synchronized (this) {
        next = tasks.stream().filter(t -> t.due().compareTo(until) <= 0)
            .min(Comparator.comparing(Task::due).thenComparing(Task::order)).orElse(null);
        if (next == null) {
          now = until;
          return;
        }
        tasks.remove(next);
        now = next.due();
      }
      next.task().run();
    }
  }
}
