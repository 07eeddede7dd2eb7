package dev.emailrouter.examples;

import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a host drives the engine: a {@link ScheduledExecutorService} calls {@link RouterEngine#tick()}
 * with a fixed delay between the end of one tick and the start of the next (so ticks never
 * overlap), and {@link #close()} lets a running tick finish before the engine closes.
 *
 * <pre>{@code
 * try (ScheduledRouter router = ScheduledRouter.start(engine, Duration.ofSeconds(30), report -> {})) {
 *   ... the host runs ...
 * }
 * }</pre>
 */
public final class ScheduledRouter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ScheduledRouter.class);
  private final RouterEngine engine;
  private final ScheduledExecutorService scheduler;
  private final ScheduledFuture<?> ticking;

  private ScheduledRouter(RouterEngine engine, Duration delay, Consumer<TickReport> onReport) {
    this.engine = engine;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "email-router-tick");
      t.setDaemon(true);
      return t;
    });
    this.ticking = scheduler.scheduleWithFixedDelay(() -> {
      try {
        onReport.accept(engine.tick());
      } catch (RuntimeException | Error e) {
        // tick() itself never throws for mail problems; this guards the host's own callback and store (an
        // AssertionError or a class that failed to load is an Error), because anything escaping a scheduled
        // task silently cancels every later run.
        LOG.error("tick callback failed", e);
      }
    }, 0, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Starts ticking at once, then every {@code delay} after each tick ends.
   *
   * @param engine the engine
   * @param delay the pause between ticks, at least 1 ms
   * @param onReport receives each tick's report (count, alert, log), on the ticking thread
   * @return the running router; close it to stop
   * @throws IllegalArgumentException if {@code delay} is under 1 ms
   */
  public static ScheduledRouter start(RouterEngine engine, Duration delay, Consumer<TickReport> onReport) {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(delay, "delay");
    Objects.requireNonNull(onReport, "onReport");
    if (delay.toMillis() < 1) {
      // The executor would refuse it too, but with no message.
      throw new IllegalArgumentException("delay must be at least 1 ms, was " + delay);
    }
    return new ScheduledRouter(engine, delay, onReport);
  }

  /** Stops ticking, waits up to a minute for a running tick to finish, and closes the engine. */
  @Override
  public void close() {
    ticking.cancel(false);
    scheduler.shutdown();
    try {
      if (!scheduler.awaitTermination(1, TimeUnit.MINUTES)) {
        LOG.warn("a tick was still running after a minute; stopping it");
        scheduler.shutdownNow();
      }
    } catch (InterruptedException e) {
      scheduler.shutdownNow();
      Thread.currentThread().interrupt();
    }
    engine.close();
  }
}
