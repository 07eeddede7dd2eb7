package dev.emailrouter.core;

import dev.emailrouter.api.TransientRouterException;
import java.time.Clock;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Whether the host's store is up, shared by both flows and every mailbox of one engine, since they
 * all call the one store. A store call made through {@link #call} that throws {@link
 * TransientRouterException} means the CRM is down, not the message or email at hand: it becomes a
 * {@link StoreOutage}, and the store is backed off (the engine's {@code retryDelay}, doubling per
 * outage in a row, up to {@code maxRetryDelay}, with jitter). Any call that succeeds ends the run
 * of outages. Every other exception passes unchanged: a failure tied to one message or email.
 *
 * <p>Not a wrapper around the store on purpose: a wrapper would have to follow every method the
 * SPI gains, and would silently replace a host's override of a {@code default} method.
 * Thread-safe.
 */
final class StoreHealth {
  private final Clock clock;
  private final Backoff backoff;
  /** Guarded by this. */
  private int outagesInRow;
  /** Guarded by this. */
  private Instant retryAt = Instant.MIN;

  StoreHealth(Clock clock, Backoff backoff) {
    this.clock = clock;
    this.backoff = backoff;
  }

  /** Whether the store may be called now: no outage, or its backoff is over. */
  synchronized boolean isAvailable() {
    return !clock.instant().isBefore(retryAt);
  }

  /** When the store may be called again; in the past when it may be now. */
  synchronized Instant retryAt() {
    return retryAt;
  }

  /**
   * Makes one store call.
   *
   * @throws StoreOutage if the store threw {@link TransientRouterException}
   */
  <T> T call(Supplier<T> call) {
    return call(call, () -> false);
  }

  /**
   * Makes one store call that reads content of the message at hand (attachment streams).
   *
   * @param messageAtFault asked after a {@link TransientRouterException}: {@code true} when the
   *     message's own content failed while the store read it, so the failure is the message's
   *     (thrown as it is) and not an outage, however the store translated it
   * @throws StoreOutage if the store threw {@link TransientRouterException} and the message is not
   *     at fault
   */
  <T> T call(Supplier<T> call, BooleanSupplier messageAtFault) {
    T result;
    try {
      result = call.get();
    } catch (TransientRouterException e) {
      if (messageAtFault.getAsBoolean()) {
        throw e;
      }
      throw outage(e);
    }
    synchronized (this) {
      outagesInRow = 0;
    }
    return result;
  }

  /**
   * Makes one store call that returns nothing.
   *
   * @throws StoreOutage if the store threw {@link TransientRouterException}
   */
  void run(Runnable call) {
    call(() -> {
      call.run();
      return null;
    });
  }

  private synchronized StoreOutage outage(TransientRouterException e) {
    Instant now = clock.instant();
    // Calls that fail while the backoff runs (a parallel mailbox, returning the rest of a batch) are
    // the same outage: they neither lengthen the backoff nor are reported again.
    boolean fresh = !now.isBefore(retryAt);
    if (fresh) {
      outagesInRow++;
      retryAt = now.plus(backoff.delay(outagesInRow));
    }
    return new StoreOutage(e, retryAt, fresh);
  }
}
