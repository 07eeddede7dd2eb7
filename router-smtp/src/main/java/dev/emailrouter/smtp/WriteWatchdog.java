package dev.emailrouter.smtp;

import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The write timeout of every connection of one transport, with one thread: {@link SmtpConnection}
 * schedules a task that closes the socket before each socket write and cancels it after.
 *
 * <p>A {@code ScheduledThreadPoolExecutor} (and its thread) per connection, as Angus Mail has it,
 * takes a lock and reorders a heap at every schedule and cancel. Here {@link #schedule} appends
 * to a lock-free queue and {@code cancel} is one compare-and-set; one thread, started on the first
 * write and ended after a quiet timeout, runs the tasks that are due; a cancelled task leaves the
 * queue at once, so the queue holds only the writes in progress.
 * It never runs a task late: it sleeps until the earliest pending deadline, and at most the
 * shortest delay ever asked for, so a task scheduled while it sleeps is due no sooner than it
 * wakes. A stalled write is thus aborted once its timeout has passed, give or take the scheduler's
 * wake-up latency.
 *
 * <p>Only {@link #schedule(Callable, long, TimeUnit)} is supported; the rest of {@link
 * ScheduledExecutorService} throws {@link UnsupportedOperationException}. Thread-safe.
 */
final class WriteWatchdog extends AbstractExecutorService implements ScheduledExecutorService {
  private final Queue<Task<?>> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean running = new AtomicBoolean();
  private final LongSupplier nanoTime;
  private final String threadName;
  private final boolean threaded;
  private volatile long shortestDelay = Long.MAX_VALUE;

  WriteWatchdog(String threadName) {
    this(threadName, System::nanoTime, true);
  }

  /**
   * With a controllable clock and no thread ({@code threaded} false), for tests that call {@link
   * #runDue()} themselves.
   */
  WriteWatchdog(String threadName, LongSupplier nanoTime, boolean threaded) {
    this.threadName = threadName;
    this.nanoTime = nanoTime;
    this.threaded = threaded;
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    long nanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1), unit.toNanos(delay));
    if (nanos < shortestDelay) {
      shortestDelay = nanos;
    }
    Task<V> task = new Task<>(tasks, callable, nanoTime.getAsLong() + nanos);
    tasks.add(task);
    if (threaded && !running.get() && running.compareAndSet(false, true)) {
      Thread thread = new Thread(this::loop, threadName);
      thread.setDaemon(true);
      thread.start();
    }
    return task;
  }

  private void loop() {
    while (true) {
      long wait = runDue();
      if (wait < 0) {
        // Nothing pending: stay one quiet period for the next write, then end unless one came.
        LockSupport.parkNanos(this, shortestDelay);
        if (tasks.isEmpty() || runDue() < 0) {
          running.set(false);
          if (tasks.isEmpty() || !running.compareAndSet(false, true)) {
            return;
          }
        }
        continue;
      }
      LockSupport.parkNanos(this, Math.min(wait, shortestDelay));
    }
  }

  /**
   * Runs every task that is due.
   *
   * @return nanoseconds until the earliest pending deadline, or -1 when nothing is pending
   */
  long runDue() {
    long now = nanoTime.getAsLong();
    long earliest = Long.MAX_VALUE;
    for (Iterator<Task<?>> it = tasks.iterator(); it.hasNext(); ) {
      Task<?> task = it.next();
      if (task.state != Task.PENDING) {
        it.remove();
      } else if (task.deadline - now <= 0) {
        it.remove();
        task.run();
      } else {
        earliest = Math.min(earliest, task.deadline - now);
      }
    }
    return earliest == Long.MAX_VALUE ? -1 : earliest;
  }

  /** A scheduled task: pending until it is cancelled or run, then done. */
  static final class Task<V> implements ScheduledFuture<V> {
    static final int PENDING = 0;
    static final int CANCELLED = 1;
    static final int RUNNING = 2;
    static final int DONE = 3;
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<Task> STATE =
        AtomicIntegerFieldUpdater.newUpdater(Task.class, "state");

    private final Queue<Task<?>> queue;
    private final Callable<V> callable;
    private final long deadline;
    volatile int state;
    private V result;
    private Exception failure;

    Task(Queue<Task<?>> queue, Callable<V> callable, long deadline) {
      this.queue = queue;
      this.callable = callable;
      this.deadline = deadline;
    }

    void run() {
      if (!STATE.compareAndSet(this, PENDING, RUNNING)) {
        return;
      }
      V value = null;
      Exception error = null;
      try {
        value = callable.call();
      } catch (Exception e) {
        error = e;
      }
      synchronized (this) {
        result = value;
        failure = error;
        state = DONE;
        notifyAll();
      }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      if (STATE.compareAndSet(this, PENDING, CANCELLED)) {
        // At once, so the queue holds only the writes in progress (a few, near its head).
        queue.remove(this);
        return true;
      }
      return state == CANCELLED;
    }

    @Override
    public boolean isCancelled() {
      return state == CANCELLED;
    }

    @Override
    public boolean isDone() {
      return state == CANCELLED || state == DONE;
    }

    @Override
    public V get() throws InterruptedException, ExecutionException {
      synchronized (this) {
        while (state < DONE && state != CANCELLED) {
          wait();
        }
      }
      return report();
    }

    @Override
    public V get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
      long end = System.nanoTime() + unit.toNanos(timeout);
      synchronized (this) {
        while (state < DONE && state != CANCELLED) {
          long left = end - System.nanoTime();
          if (left <= 0) {
            throw new TimeoutException();
          }
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
      }
      return report();
    }

    private synchronized V report() throws ExecutionException {
      if (state == CANCELLED) {
        throw new java.util.concurrent.CancellationException();
      }
      if (failure != null) {
        throw new ExecutionException(failure);
      }
      return result;
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed other) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
    }
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException("only schedule(Callable, long, TimeUnit)");
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
    throw new UnsupportedOperationException("only schedule(Callable, long, TimeUnit)");
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
    throw new UnsupportedOperationException("only schedule(Callable, long, TimeUnit)");
  }

  @Override
  public void execute(Runnable command) {
    throw new UnsupportedOperationException("only schedule(Callable, long, TimeUnit)");
  }

  /** Not supported: the watchdog lives as long as its transport (its thread ends when idle). */
  @Override
  public void shutdown() {
    throw new UnsupportedOperationException("the write watchdog is shared by the transport's connections");
  }

  @Override
  public List<Runnable> shutdownNow() {
    throw new UnsupportedOperationException("the write watchdog is shared by the transport's connections");
  }

  @Override
  public boolean isShutdown() {
    return false;
  }

  @Override
  public boolean isTerminated() {
    return false;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return false;
  }
}
