package dev.emailrouter.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/** Runs one task on several threads released together by a start gate, so their calls overlap. */
final class Concurrently {
  private static final long TIMEOUT_SECONDS = 30;

  private Concurrently() {}

  /**
   * Runs {@code task(i)} for {@code i} in {@code 0..threads-1}, each on its own thread, all started
   * at once, and returns the results in thread order.
   *
   * @param what the operation, for a failure message
   */
  static <T> List<T> run(int threads, String what, IntFunction<T> task) {
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "contract-" + what);
      t.setDaemon(true);
      return t;
    });
    try {
      CountDownLatch ready = new CountDownLatch(threads);
      CountDownLatch gate = new CountDownLatch(1);
      List<Future<T>> futures = new ArrayList<>(threads);
      for (int i = 0; i < threads; i++) {
        int index = i;
        futures.add(pool.submit(() -> {
          ready.countDown();
          gate.await();
          return task.apply(index);
        }));
      }
      if (!ready.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new AssertionError("could not start " + threads + " threads for " + what);
      }
      gate.countDown();
      List<T> results = new ArrayList<>(threads);
      for (Future<T> f : futures) {
        results.add(f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
      }
      return results;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof AssertionError assertion) {
        throw assertion;
      }
      throw new AssertionError(what + " threw " + cause + " while " + threads
          + " threads called it at once; a store must be thread-safe and take concurrent calls (the engine makes them,"
          + " and several engines may share one store)", cause);
    } catch (TimeoutException e) {
      throw new AssertionError(what + " did not return within " + TIMEOUT_SECONDS + " s while " + threads
          + " threads called it at once: a deadlock or a lock held too long?", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + what, e);
    } finally {
      pool.shutdownNow();
    }
  }
}
