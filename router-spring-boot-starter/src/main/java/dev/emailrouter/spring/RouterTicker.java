package dev.emailrouter.spring;

import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Ticks the engine with a fixed delay on a scheduler thread of its own while the application
 * runs, and remembers the outcome for the health indicator.
 *
 * <p>Stopping (the application's shutdown) cancels the schedule and then waits up to the shutdown
 * timeout for a tick that is running; the engine is closed after that, by its bean's destroy
 * method. Thread-safe.
 */
final class RouterTicker implements SmartLifecycle {
  private static final Logger LOG = LoggerFactory.getLogger(RouterTicker.class);

  private final RouterEngine engine;
  private final TickCall tickCall;
  private final Duration initialDelay;
  private final Duration interval;
  private final Duration shutdownTimeout;
  /** Held while a tick runs: stop() waits on it. */
  private final ReentrantLock running = new ReentrantLock();
  /** Mailbox name to the failure that makes it down, until a later pass succeeds. */
  private final Map<String, RouterEvent> mailboxFailures = new ConcurrentHashMap<>();
  private volatile ThreadPoolTaskScheduler scheduler;
  private volatile ScheduledFuture<?> schedule;
  private volatile Outcome last;

  /**
   * What the last tick came to: its report, or what it threw.
   *
   * @param finishedAt when it ended, by the system clock
   * @param report its report, or {@code null} when it threw
   * @param failure what it threw, or {@code null}
   */
  record Outcome(Instant finishedAt, TickReport report, Throwable failure) {
  }

  RouterTicker(RouterEngine engine, TickCall tickCall, Duration initialDelay, Duration interval,
      Duration shutdownTimeout) {
    this.engine = engine;
    this.tickCall = tickCall;
    this.initialDelay = initialDelay;
    this.interval = interval;
    this.shutdownTimeout = shutdownTimeout;
  }

  @Override
  public synchronized void start() {
    if (scheduler != null) {
      return;
    }
    ThreadPoolTaskScheduler s = new ThreadPoolTaskScheduler();
    s.setPoolSize(1);
    s.setThreadNamePrefix("emailrouter-tick-");
    s.setDaemon(true);
    s.initialize();
    scheduler = s;
    schedule = s.scheduleWithFixedDelay(this::tickNow, Instant.now().plus(initialDelay), interval);
  }

  @Override
  public void stop() {
    ThreadPoolTaskScheduler s;
    synchronized (this) {
      s = scheduler;
      if (s == null) {
        return;
      }
      scheduler = null;
      // No interrupt: a tick interrupted halfway would leave claimed emails to their lease.
      schedule.cancel(false);
    }
    try {
      if (running.tryLock(shutdownTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        running.unlock();
      } else {
        LOG.warn("a tick still runs after the shutdown timeout of {}; the engine's close() waits for it", shutdownTimeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      s.shutdown();
    }
  }

  @Override
  public boolean isRunning() {
    return scheduler != null;
  }

  /** Runs one tick now, on the calling thread, and records its outcome; never throws. */
  void tickNow() {
    running.lock();
    try {
      TickReport report = tickCall.tick(engine);
      for (String name : engine.mailboxNames()) {
        Optional<Instant> pass = engine.lastSuccessfulPass(name);
        if (pass.isPresent() && !pass.get().isBefore(report.startedAt())) {
          mailboxFailures.remove(name);
        }
      }
      for (RouterEvent e : report.problems()) {
        if (e instanceof RouterEvent.MailboxFailed f) {
          mailboxFailures.put(f.mailbox(), f);
        } else if (e instanceof RouterEvent.MailboxDisabled d) {
          mailboxFailures.put(d.mailbox(), d);
        }
      }
      last = new Outcome(Instant.now(), report, null);
    } catch (RuntimeException | Error e) {
      // tick() throws only for a closed engine, a bug, or an Error from the host's store (an
      // AssertionError, a class that failed to load). An Error is recorded too: otherwise Spring's
      // scheduler would log it and go on while health still showed the last good tick as UP.
      LOG.error("tick failed: {}", e.toString(), e);
      last = new Outcome(Instant.now(), null, e);
    } finally {
      running.unlock();
    }
  }

  /**
   * The last tick's outcome.
   *
   * @return empty before the first tick ends
   */
  Optional<Outcome> lastOutcome() {
    return Optional.ofNullable(last);
  }

  /**
   * The failure that keeps a mailbox down: its last {@code MailboxFailed} or {@code
   * MailboxDisabled} since its last successful pass.
   *
   * @param mailbox the mailbox's name
   * @return empty when the mailbox was read successfully since its last failure, or never failed
   */
  Optional<RouterEvent> failure(String mailbox) {
    return Optional.ofNullable(mailboxFailures.get(mailbox));
  }
}
