package dev.emailrouter.core;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.SentFolder;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The copies of sent emails in their senders' Sent folders: the first copy right after the server
 * accepted an email, on the send thread, and the ones that failed for now kept with their bytes in a
 * bounded in-memory queue and tried again at later ticks. A copy never changes the email's state.
 *
 * <p>After a copy failed for now, copies are not tried until the backoff is over (they are queued
 * at once): a Sent folder server that is down or slow to answer must not hold up every send by its
 * timeouts, nor keep claimed emails waiting past their lease.
 *
 * <p>Thread-safe: send sessions on several threads add to the queue; the retries run at the start of
 * the outgoing pass, one tick at a time. A restart forgets the queue; the Sent folder's idempotency
 * (by Message-ID) makes a repeat after a crash harmless.
 */
final class SentCopies {
  private static final Logger LOG = LoggerFactory.getLogger(SentCopies.class);

  private final SentFolder folder;
  private final Settings settings;
  private final Backoff backoff;
  /** Copies to try again, oldest first; guarded by {@code this}. */
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  /** The bytes the queue holds; guarded by {@code this}. */
  private long queuedBytes;
  /** Transient failures in a row, of any copy; guarded by {@code this}. */
  private int failuresInRow;
  /** No copy is tried before this, after a transient failure; guarded by {@code this}. */
  private Instant pausedUntil = Instant.MIN;
  /** What made the pause; guarded by {@code this}. */
  private String pauseReason = "";

  /** A copy that failed for now, its bytes held until it is made or given up. */
  private record Pending(OutgoingEmail email, byte[] bytes, int attempts, Instant dueAt) {}

  SentCopies(Settings settings) {
    this.settings = settings;
    this.folder = settings.sentFolder();
    this.backoff = settings.retry().backoff(settings.random());
  }

  /** The copies waiting for a later tick. */
  synchronized int pending() {
    return queue.size();
  }

  /**
   * Makes the copy of an email the server just accepted; a failure is reported and, when it may go
   * away, queued for a later tick. Never throws.
   */
  void keep(OutgoingEmail email, ContentSource message, EventSink sink) {
    Instant pause;
    String why;
    synchronized (this) {
      pause = pausedUntil;
      why = pauseReason;
    }
    if (settings.clock().instant().isBefore(pause)) {
      queue(email, message, 0, pause, "not tried now: copies to the Sent folder wait until " + pause
          + " after a failure (" + why + ")", sink);
      return;
    }
    try {
      folder.keepCopy(email, message);
      succeeded();
      LOG.trace("copy of activity {} kept in the Sent folder of {}", email.activityId(), email.from().address());
    } catch (PermanentRouterException e) {
      failed(email, e.getMessage(), false, sink);
    } catch (RuntimeException e) {
      Instant retryAt = pause(reason(e));
      queue(email, message, 1, retryAt, reason(e), sink);
    }
  }

  /** Queues a copy with its bytes read now; reported. */
  private void queue(OutgoingEmail email, ContentSource message, int attempts, Instant dueAt, String reason,
      EventSink sink) {
    byte[] bytes;
    try (InputStream in = message.open()) {
      bytes = in.readAllBytes();
    } catch (IOException | RuntimeException read) {
      failed(email, reason + "; the sent bytes could not be read again to retry: " + read, false, sink);
      return;
    }
    retryLater(new Pending(email, bytes, attempts, dueAt), reason, sink);
  }

  /** Starts or lengthens the pause after a transient failure; returns its end. */
  private synchronized Instant pause(String reason) {
    failuresInRow++;
    pausedUntil = settings.clock().instant().plus(backoff.delay(failuresInRow));
    pauseReason = reason;
    return pausedUntil;
  }

  private synchronized void succeeded() {
    failuresInRow = 0;
  }

  /** Tries the queued copies that are due again; never throws. */
  void retryDue(EventSink sink) {
    Instant now = settings.clock().instant();
    synchronized (this) {
      if (now.isBefore(pausedUntil)) {
        return;
      }
    }
    List<Pending> due = takeDue(now);
    for (int i = 0; i < due.size(); i++) {
      Pending p = due.get(i);
      MDC.put("activity", p.email().activityId());
      try {
        folder.keepCopy(p.email(), ContentSource.ofBytes(p.bytes()));
        succeeded();
        LOG.trace("copy of activity {} kept in the Sent folder of {} at attempt {}", p.email().activityId(),
            p.email().from().address(), p.attempts() + 1);
      } catch (PermanentRouterException e) {
        failed(p.email(), e.getMessage(), false, sink);
      } catch (RuntimeException e) {
        Instant retryAt = pause(reason(e));
        int attempts = p.attempts() + 1;
        if (attempts >= settings.retry().maxAttempts()) {
          failed(p.email(), reason(e) + "; given up after " + attempts + " attempts", false, sink);
        } else {
          retryLater(new Pending(p.email(), p.bytes(), attempts, retryAt), reason(e), sink);
        }
        // The rest wait for the pause without an attempt counted; they were reported when queued.
        putBack(due.subList(i + 1, due.size()), retryAt);
        return;
      } finally {
        MDC.remove("activity");
      }
    }
  }

  private synchronized void putBack(List<Pending> rest, Instant dueAt) {
    for (Pending p : rest) {
      queue.add(new Pending(p.email(), p.bytes(), p.attempts(), dueAt));
      queuedBytes += p.bytes().length;
    }
  }

  private synchronized List<Pending> takeDue(Instant now) {
    if (queue.isEmpty()) {
      return List.of();
    }
    List<Pending> due = new ArrayList<>();
    for (Iterator<Pending> it = queue.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (!p.dueAt().isAfter(now)) {
        it.remove();
        queuedBytes -= p.bytes().length;
        due.add(p);
      }
    }
    return due;
  }

  private void retryLater(Pending p, String reason, EventSink sink) {
    boolean queued;
    synchronized (this) {
      queued = queue.size() < settings.sentCopyQueue().maxPendingCopies() && queuedBytes + p.bytes().length <= settings.sentCopyQueue().maxPendingCopyBytes();
      if (queued) {
        queue.add(p);
        queuedBytes += p.bytes().length;
      }
    }
    if (queued) {
      failed(p.email(), reason, true, sink);
    } else {
      failed(p.email(), reason + "; given up: the queue of copies to retry is full (at most " + settings.sentCopyQueue().maxPendingCopies()
          + " copies and " + settings.sentCopyQueue().maxPendingCopyBytes() + " bytes)", false, sink);
    }
  }

  private void failed(OutgoingEmail email, String reason, boolean willRetry, EventSink sink) {
    LOG.warn("the copy of activity {} in the Sent folder of {} ({}) failed{}: {}", email.activityId(),
        email.from().address(), folder.describe(), willRetry ? ", tried again later" : " and is given up", reason);
    sink.accept(new RouterEvent.SentCopyFailed(email.activityId(), email.from().address(), reason, willRetry));
  }

  private static String reason(RuntimeException e) {
    // A SentFolder's own exception says what failed; anything else is named by its type too.
    return e instanceof RouterException ? String.valueOf(e.getMessage()) : e.toString();
  }
}
