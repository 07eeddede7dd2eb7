package dev.emailrouter.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The threads a flow spreads one tick's work over (send sessions, mailboxes): it forks one task per
 * item, waits for all of them, and then throws the first failure, so a tick never returns with its
 * work still running and a failure is never lost behind another. With one thread, or one item, the
 * work runs on the calling thread and no pool exists.
 *
 * <p>The tick's budget: each task checks it when it starts (a task may wait in the queue while the
 * budget runs out) and hands back what it may no longer start, as its flow knows how; a task already
 * started is never interrupted, so a tick overruns its budget by at most the work under way, as
 * {@link RouterEngine.Builder#tickBudget} says.
 *
 * <p>One {@link #forEach} at a time (the engine runs one tick at a time); {@link #close} from any
 * thread.
 */
final class WorkerPool implements AutoCloseable {
  /** The threads, or {@code null}: everything runs on the caller. */
  private final ExecutorService threads;

  /**
   * @param name the threads' name, numbered from 1: {@code email-router-<name>-1}
   * @param size the most tasks running at once; 1 runs everything on the caller
   */
  WorkerPool(String name, int size) {
    if (size > 1) {
      AtomicInteger n = new AtomicInteger();
      threads = Executors.newFixedThreadPool(size, r -> {
        Thread t = new Thread(r, "email-router-" + name + "-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    } else {
      threads = null;
    }
  }

  /**
   * Runs {@code task} for every item, on the pool's threads, and returns once all have ended. When
   * the calling thread is interrupted while it waits, it stops waiting and keeps its interrupt.
   *
   * @throws RuntimeException the first failure of a task (in item order), after all have ended; an
   *     {@link Error} likewise
   */
  <T> void forEach(List<T> items, Consumer<? super T> task) {
    if (threads == null || items.size() < 2) {
      items.forEach(task);
      return;
    }
    List<Future<?>> forked = new ArrayList<>(items.size());
    for (T item : items) {
      forked.add(threads.submit(() -> task.accept(item)));
    }
    Throwable first = null;
    for (Future<?> f : forked) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException e) {
        if (first == null) {
          first = e.getCause();
        } else {
          first.addSuppressed(e.getCause());
        }
      }
    }
    if (first instanceof RuntimeException r) {
      throw r;
    }
    if (first instanceof Error err) {
      throw err;
    }
    if (first != null) {
      throw new IllegalStateException("a worker failed", first); // a checked exception thrown sneakily
    }
  }

  /** Stops the threads once their tasks have ended; no further {@link #forEach} may fork. */
  @Override
  public void close() {
    if (threads != null) {
      threads.shutdown();
    }
  }
}
