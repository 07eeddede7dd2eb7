package dev.emailrouter.imap;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the host within seconds that a mailbox has new mail, by IMAP IDLE (RFC 2177): one extra
 * connection per watched mailbox waits in {@code IDLE}, and each {@code EXISTS} the server pushes
 * calls the {@link NewMailListener}, whose job is to have the host's scheduler run a tick at once.
 * Opt-in; the host's scheduler stays in charge, and every message is still read by a tick through
 * the reader's cursor, with all of a tick's guarantees. So nothing is lost when the IDLE connection
 * fails: the mailbox is read at the next tick, as without IDLE.
 *
 * <pre>{@code
 * ImapIdleWatcher idle = ImapIdleWatcher.builder()
 *     .listener(mailbox -> tickSoon.run())   // e.g. a coalescing executor.execute(engine::tick)
 *     .build();
 * idle.watch("user-42", reader);             // the reader given to the engine for that mailbox
 * // keep polling too, less often: IDLE shortens the wait, polling remains the safety net
 * }</pre>
 *
 * <p>Each watch keeps its own connection (logged in and selected as the reader does, with the
 * reader's credentials supplier); at most {@link Builder#maxConnections(int)} at once. It ends each
 * IDLE with {@code DONE} after {@link Builder#reIdleInterval(Duration)} and starts the next, which
 * keeps the connection alive and within RFC 2177's 29 minutes, and finds a dead connection (no
 * answer to {@code DONE} within the reader's read timeout). A lost or refused connection is opened
 * again after a backoff that doubles from {@link Builder#initialBackoff(Duration)} up to
 * {@link Builder#maxBackoff(Duration)} (and starts over once an IDLE ran whole or pushed mail; a
 * server that ends each IDLE by itself is treated as a failure, not sent IDLE after IDLE); once IDLE
 * runs again the listener is called once, so what arrived meanwhile is read at once. A server that does not offer IDLE (its CAPABILITY lacks it)
 * gets no IDLE connection: that mailbox is left to polling ({@link State#POLLING}).
 *
 * <p>Thread-safe. Each watched mailbox has a thread of its own while connected (blocked reading
 * its IDLE connection), the listener is called on it; one more thread runs the timers. Closing the
 * watcher closes every watch.
 */
public final class ImapIdleWatcher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ImapIdleWatcher.class);

  /** What a watch is doing. */
  public enum State {
    /** Logging in and selecting the folder. */
    CONNECTING,
    /** Waiting in IDLE for the server to push new mail. */
    IDLING,
    /** The connection failed; waiting out the backoff before connecting again. */
    RECONNECTING,
    /**
     * No IDLE connection: the server does not offer IDLE, or {@link Builder#maxConnections(int)}
     * watches were open already. The mailbox is read by the host's polling alone.
     */
    POLLING,
    /** Closed; no connection. */
    CLOSED
  }

  /**
   * One watched mailbox; closing it logs out of its IDLE connection.
   *
   * <p>Thread-safe.
   */
  public interface Watch extends AutoCloseable {

    /**
     * The name the watch was started with.
     *
     * @return the mailbox name given to {@link ImapIdleWatcher#watch(String, ImapMailboxReader)}
     */
    String mailboxName();

    /**
     * What the watch is doing now.
     *
     * @return the state, never {@code null}
     */
    State state();

    /** Ends the IDLE and logs out; never throws; closing twice does nothing more. */
    @Override
    void close();
  }

  private final NewMailListener listener;
  private final int maxConnections;
  private final Duration reIdleInterval;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final IdleTimer timer;
  private final Random random;
  private final BiConsumer<String, State> observer;
  private final ExecutorService threads;
  private final Object lock = new Object();
  /** The open watches by mailbox name; guarded by {@link #lock}. */
  private final Map<String, MailboxIdle> watches = new LinkedHashMap<>();
  /** Guarded by {@link #lock}. */
  private boolean closed;

  private ImapIdleWatcher(Builder b) {
    this.listener = b.listener;
    this.maxConnections = b.maxConnections;
    this.reIdleInterval = b.reIdleInterval;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.timer = b.timer != null ? b.timer : IdleTimer.daemon();
    this.random = b.random;
    this.observer = b.observer;
    this.threads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "imap-idle");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Starts a builder; {@link Builder#listener(NewMailListener)} is required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts watching a reader's folder: connects in the background and waits in IDLE. Returns at
   * once; with {@link Builder#maxConnections(int)} watches open already, the watch is in
   * {@link State#POLLING} and opens no connection.
   *
   * @param mailboxName the name the listener is called with, e.g. the engine's mailbox name
   * @param reader the reader whose server, credentials and folder to watch
   * @return the watch, which the caller may close to stop watching that mailbox
   * @throws IllegalArgumentException if {@code mailboxName} is blank or watched already
   * @throws IllegalStateException if the watcher is closed
   */
  public Watch watch(String mailboxName, ImapMailboxReader reader) {
    requireNonNull(mailboxName, "mailboxName");
    requireNonNull(reader, "reader");
    if (mailboxName.isBlank()) {
      throw new IllegalArgumentException("mailboxName must not be blank, was '" + mailboxName + "'");
    }
    ImapSettings settings = reader.settings();
    // A silent IDLE must not count as a read timeout: the socket waits the whole IDLE plus the usual
    // read timeout, so a dead connection shows when DONE gets no answer within the read timeout.
    ImapSettings idleSettings = settings.withReadTimeout(settings.readTimeout().plus(reIdleInterval));
    MailboxIdle watch;
    boolean connect;
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the IMAP IDLE watcher is closed");
      }
      if (watches.containsKey(mailboxName)) {
        throw new IllegalArgumentException("mailbox '" + mailboxName + "' is watched already");
      }
      connect = connections() < maxConnections;
      watch = new MailboxIdle(this, mailboxName, new ImapLogin(idleSettings, new ImapFailures(idleSettings)),
          settings.describe(), connect ? State.CONNECTING : State.POLLING);
      watches.put(mailboxName, watch);
    }
    if (connect) {
      watch.start();
    } else {
      log.warn("{}: not watched with IDLE, {} IDLE connections are open already (maxConnections); it is read "
          + "by polling alone", settings.describe(), maxConnections);
      observe(mailboxName, State.POLLING);
    }
    return watch;
  }

  /**
   * Closes every watch (ending its IDLE and logging out) and stops the watcher's threads, waiting a
   * few seconds at most for the logouts. Never throws; closing twice does nothing more.
   */
  @Override
  public void close() {
    List<MailboxIdle> open;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      open = new ArrayList<>(watches.values());
    }
    for (MailboxIdle w : open) {
      w.close();
    }
    timer.shutdown();
    threads.shutdown();
    try {
      if (!threads.awaitTermination(5, TimeUnit.SECONDS)) {
        log.debug("IMAP IDLE connections still closing after 5 s; left to their daemon threads");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    synchronized (lock) {
      return "ImapIdleWatcher[" + watches.size() + " watches, maxConnections=" + maxConnections + "]";
    }
  }

  /** Watches holding or seeking a connection; guarded by {@link #lock}. */
  private int connections() {
    int n = 0;
    for (MailboxIdle w : watches.values()) {
      State s = w.state();
      if (s != State.POLLING && s != State.CLOSED) {
        n++;
      }
    }
    return n;
  }

  void removed(MailboxIdle watch) {
    synchronized (lock) {
      watches.remove(watch.mailboxName(), watch);
    }
  }

  void execute(Runnable task) {
    threads.execute(task);
  }

  IdleTimer timer() {
    return timer;
  }

  Duration reIdleInterval() {
    return reIdleInterval;
  }

  /** The wait before the {@code failures}-th consecutive reconnect: doubling, capped, ±20 % jitter. */
  Duration backoff(int failures) {
    int doublings = Math.min(failures - 1, 30);
    Duration base = initialBackoff.multipliedBy(1L << doublings);
    if (base.compareTo(maxBackoff) > 0 || base.isNegative()) {
      base = maxBackoff;
    }
    double factor = 0.8 + 0.4 * random.nextDouble();
    return Duration.ofNanos((long) (base.toNanos() * factor));
  }

  /** Calls the listener, which must not break the watch. */
  void signal(String mailboxName) {
    try {
      listener.newMail(mailboxName);
    } catch (RuntimeException e) {
      log.warn("{}: the NewMailListener failed: {}", mailboxName, e.toString());
    }
  }

  void observe(String mailboxName, State state) {
    if (observer != null) {
      observer.accept(mailboxName, state);
    }
  }

  /**
   * Configures an {@link ImapIdleWatcher}. Each setter checks its argument at once; every error
   * names the setting and the value.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {
    private NewMailListener listener;
    private int maxConnections = 100;
    private Duration reIdleInterval = Duration.ofMinutes(10);
    private Duration initialBackoff = Duration.ofSeconds(1);
    private Duration maxBackoff = Duration.ofMinutes(5);
    private IdleTimer timer;
    private Random random = new Random();
    private BiConsumer<String, State> observer;

    private Builder() {}

    /**
     * Sets who is told that a mailbox may have new mail; required.
     *
     * @param listener called on the watcher's threads; see {@link NewMailListener}
     * @return this builder
     */
    public Builder listener(NewMailListener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Sets the most IDLE connections open at once, one per watched mailbox; default 100. Mailboxes
     * watched beyond it are read by polling alone. Servers limit connections per user and address
     * (Dovecot to 10 by default); an IDLE connection counts beside the reader's own.
     *
     * @param max at least 1
     * @return this builder
     * @throws IllegalArgumentException if below 1
     */
    public Builder maxConnections(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1, was " + max);
      }
      this.maxConnections = max;
      return this;
    }

    /**
     * Sets how long one IDLE lasts before the watcher ends it with {@code DONE} and starts the next:
     * the keepalive that proves the connection alive and keeps NAT and firewall state, and RFC 2177's
     * advice to re-issue IDLE at least every 29 minutes (servers log out idle clients after 30).
     * Default 10 minutes.
     *
     * @param interval between 10 seconds and 29 minutes
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder reIdleInterval(Duration interval) {
      requireNonNull(interval, "reIdleInterval");
      if (interval.compareTo(Duration.ofSeconds(10)) < 0 || interval.compareTo(Duration.ofMinutes(29)) > 0) {
        throw new IllegalArgumentException("reIdleInterval must be between 10 seconds and 29 minutes, was "
            + interval);
      }
      this.reIdleInterval = interval;
      return this;
    }

    /**
     * Sets the wait before the first reconnect after a failure; it doubles with each failure in a
     * row up to {@link #maxBackoff(Duration)}, ±20 % at random so many mailboxes don't reconnect at
     * once. Default 1 second.
     *
     * @param delay between 1 millisecond and 1 hour
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder initialBackoff(Duration delay) {
      this.initialBackoff = delay("initialBackoff", delay);
      return this;
    }

    /**
     * Sets the longest wait between reconnects; default 5 minutes.
     *
     * @param delay between 1 millisecond and 1 hour
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder maxBackoff(Duration delay) {
      this.maxBackoff = delay("maxBackoff", delay);
      return this;
    }

    /** The timer of re-IDLE and backoff; for tests. */
    Builder timer(IdleTimer timer) {
      this.timer = requireNonNull(timer, "timer");
      return this;
    }

    /** The source of the backoff's jitter; for tests. */
    Builder random(Random random) {
      this.random = requireNonNull(random, "random");
      return this;
    }

    /** Told of every state a watch enters, on the thread that changed it; for tests. */
    Builder observer(BiConsumer<String, State> observer) {
      this.observer = requireNonNull(observer, "observer");
      return this;
    }

    /**
     * Builds the watcher; connects nothing until {@link ImapIdleWatcher#watch(String, ImapMailboxReader)}.
     *
     * @return the watcher
     * @throws IllegalStateException if the listener is missing or {@code initialBackoff} exceeds
     *     {@code maxBackoff}
     */
    public ImapIdleWatcher build() {
      if (listener == null) {
        throw new IllegalStateException("listener is required, e.g. listener(mailbox -> scheduleTick())");
      }
      if (initialBackoff.compareTo(maxBackoff) > 0) {
        throw new IllegalStateException("initialBackoff must not exceed maxBackoff, was " + initialBackoff + " > "
            + maxBackoff);
      }
      return new ImapIdleWatcher(this);
    }

    private static Duration delay(String setting, Duration delay) {
      requireNonNull(delay, setting);
      if (delay.compareTo(Duration.ofMillis(1)) < 0 || delay.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException(setting + " must be between 1 millisecond and 1 hour, was " + delay);
      }
      return delay;
    }
  }
}
