package dev.emailrouter.imap;

import dev.emailrouter.api.PermanentRouterException;
import jakarta.mail.MessagingException;
import java.time.Duration;
import org.eclipse.angus.mail.iap.ProtocolException;
import org.eclipse.angus.mail.iap.Response;
import org.eclipse.angus.mail.imap.protocol.IMAPProtocol;
import org.eclipse.angus.mail.imap.protocol.IMAPResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One watched mailbox of an {@link ImapIdleWatcher}: connects, waits in IDLE and calls the listener
 * on {@code EXISTS}, ends each IDLE with {@code DONE} when the timer says so and starts the next,
 * and after a failure connects again once the backoff has passed.
 *
 * <p>The connection is used by one thread at a time (a run on the watcher's threads); the timer and
 * {@link #close()} only ever write {@code DONE} to it, under {@link #lock}, and only while an IDLE
 * is running that got no {@code DONE} yet.
 */
final class MailboxIdle implements ImapIdleWatcher.Watch {

  private static final Logger log = LoggerFactory.getLogger(MailboxIdle.class);

  private final ImapIdleWatcher watcher;
  private final String name;
  private final ImapLogin login;
  private final String mailbox;
  private final Object lock = new Object();
  /** Guarded by {@link #lock}. */
  private ImapIdleWatcher.State state;
  /** Guarded by {@link #lock}. */
  private boolean closed;
  /** The protocol in IDLE, or {@code null}; guarded by {@link #lock}. */
  private IMAPProtocol idling;
  /** Whether the running IDLE got its {@code DONE}; guarded by {@link #lock}. */
  private boolean doneSent;
  /** Cancels the pending re-IDLE or reconnect, or {@code null}; guarded by {@link #lock}. */
  private Runnable cancelTimer;
  /**
   * Failures in a row since an IDLE last proved healthy (its DONE answered, or mail pushed); guarded
   * by {@link #lock}. Not reset by a mere IDLE start, so a server that accepts IDLE and ends it at
   * once is backed off from rather than hammered.
   */
  private int failures;
  /** Set by a failure: the listener is called once IDLE runs again; guarded by {@link #lock}. */
  private boolean catchUp;

  MailboxIdle(ImapIdleWatcher watcher, String name, ImapLogin login, String mailbox, ImapIdleWatcher.State state) {
    this.watcher = watcher;
    this.name = name;
    this.login = login;
    this.mailbox = mailbox;
    this.state = state;
  }

  @Override
  public String mailboxName() {
    return name;
  }

  @Override
  public ImapIdleWatcher.State state() {
    synchronized (lock) {
      return state;
    }
  }

  void start() {
    watcher.execute(this::run);
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      state = ImapIdleWatcher.State.CLOSED;
      cancelTimer();
      sendDone(); // the run ends its IDLE, sees closed and logs out
    }
    watcher.removed(this);
    watcher.observe(name, ImapIdleWatcher.State.CLOSED);
  }

  @Override
  public String toString() {
    return "Watch[" + name + ", " + state() + "]";
  }

  /** Connects, then IDLEs until closed or the connection fails; on a failure schedules the next run. */
  private void run() {
    if (!enter(ImapIdleWatcher.State.CONNECTING)) {
      return;
    }
    ImapConnection connection;
    try {
      connection = login.connect();
    } catch (RuntimeException e) {
      failed(e, null); // the login's exceptions carry no secret
      return;
    }
    boolean idle;
    try {
      idle = connection.hasCapability("IDLE");
      if (idle) {
        while (idleOnce(connection)) {
          // DONE was answered: start the next IDLE at once
        }
      }
    } catch (MessagingException | RuntimeException e) {
      connection.logout();
      failed(e, connection.secret());
      return;
    }
    connection.logout();
    if (!idle) {
      log.warn("{}: the server does not offer IDLE; the mailbox is read by polling alone", mailbox);
      enter(ImapIdleWatcher.State.POLLING);
    }
  }

  /**
   * One IDLE command, from {@code IDLE} to the server's tagged answer.
   *
   * @return whether to start another: the watch is open and the IDLE ended by the timer's DONE
   * @throws MessagingException if the connection failed, or the server ended the IDLE by itself
   */
  private boolean idleOnce(ImapConnection connection) throws MessagingException {
    return (Boolean) connection.folder().doCommand(p -> {
      p.idleStart();
      boolean open;
      boolean signal = false;
      synchronized (lock) {
        idling = p;
        doneSent = false;
        open = !closed;
        if (open) {
          state = ImapIdleWatcher.State.IDLING;
          signal = catchUp;
          catchUp = false;
          cancelTimer = watcher.timer().schedule(this::sendDoneNow, watcher.reIdleInterval());
        } else {
          sendDone(); // closed while IDLE started: end it at once
        }
      }
      if (open) {
        watcher.observe(name, ImapIdleWatcher.State.IDLING);
      }
      if (signal) {
        log.debug("{}: IDLE runs again; telling the listener so what arrived meanwhile is read", mailbox);
        watcher.signal(name);
      }
      try {
        while (true) {
          Response r = p.readIdleResponse();
          if (r == null) {
            break;
          }
          boolean newMail = r instanceof IMAPResponse ir && ir.keyEquals("EXISTS");
          boolean more = p.processIdleResponse(r); // throws on BYE, NO or BAD
          if (newMail) {
            log.debug("{}: new mail pushed ({})", mailbox, r);
            synchronized (lock) {
              failures = 0;
            }
            watcher.signal(name);
          }
          if (!more) {
            break;
          }
        }
      } finally {
        synchronized (lock) {
          idling = null;
          cancelTimer();
        }
      }
      synchronized (lock) {
        if (closed) {
          return false;
        }
        if (!doneSent) {
          // Not ours to end: reconnect after the backoff rather than send IDLE after IDLE.
          throw new ProtocolException("the server ended the IDLE by itself, without DONE");
        }
        failures = 0; // a whole IDLE, answered on time: the connection is healthy
        return true;
      }
    });
  }

  /** The timer's task: ends the running IDLE, so the run starts the next one. */
  private void sendDoneNow() {
    synchronized (lock) {
      sendDone();
    }
  }

  /** Writes {@code DONE} once to the running IDLE, if any; under {@link #lock}. */
  private void sendDone() {
    if (idling != null && !doneSent) {
      doneSent = true;
      idling.idleAbort(); // writes DONE; the server answers the IDLE with its tagged OK
    }
  }

  /** Cancels the pending timer task, if any; under {@link #lock}. */
  private void cancelTimer() {
    if (cancelTimer != null) {
      cancelTimer.run();
      cancelTimer = null;
    }
  }

  /** Enters a state unless closed. */
  private boolean enter(ImapIdleWatcher.State next) {
    synchronized (lock) {
      if (closed) {
        return false;
      }
      state = next;
    }
    watcher.observe(name, next);
    return true;
  }

  /** Schedules the next run after the backoff, unless closed. */
  private void failed(Exception e, String secret) {
    String detail = ImapFailures.detail(e, secret);
    Duration delay;
    int n;
    synchronized (lock) {
      if (closed) {
        return;
      }
      n = ++failures;
      delay = watcher.backoff(n);
      state = ImapIdleWatcher.State.RECONNECTING;
      catchUp = true;
      cancelTimer = watcher.timer().schedule(() -> watcher.execute(this::run), delay);
    }
    watcher.observe(name, ImapIdleWatcher.State.RECONNECTING);
    if (n == 1) {
      log.warn("{}: the IDLE connection failed ({}); connecting again in {}{}", mailbox, detail, delay,
          e instanceof PermanentRouterException ? ", though it looks permanent" : "");
    } else {
      log.debug("{}: the IDLE connection failed again ({}, {} in a row); connecting again in {}", mailbox, detail,
          n, delay);
    }
  }
}
