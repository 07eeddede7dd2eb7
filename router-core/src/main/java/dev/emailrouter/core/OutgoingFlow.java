package dev.emailrouter.core;

import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.core.internal.Idna;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The outgoing half of a tick: claim, record identity, send over reused sessions, record outcomes.
 * Not thread-safe itself; the engine runs one tick at a time.
 */
final class OutgoingFlow implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OutgoingFlow.class);

  private final RouterEngine.Settings s;
  private final Backoff emailBackoff;
  private final Backoff serverBackoff;
  private final TrackingTokens tokens;
  private final ExecutorService workers;
  private String resumeAfterSender = "";
  private final AtomicInteger serverFailuresInRow = new AtomicInteger();
  private volatile Instant serverRetryAt = Instant.MIN;

  OutgoingFlow(RouterEngine.Settings settings) {
    this.s = settings;
    this.emailBackoff = new Backoff(s.retryDelay, s.maxRetryDelay, s.random);
    this.serverBackoff = new Backoff(s.retryDelay, s.maxRetryDelay, s.random);
    this.tokens = new TrackingTokens(s.trackingTokenPrefix, s.trackingTokenDigits);
    if (s.sendSessions > 1) {
      AtomicInteger n = new AtomicInteger();
      this.workers = Executors.newFixedThreadPool(s.sendSessions, r -> {
        Thread t = new Thread(r, "email-router-send-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    } else {
      this.workers = null;
    }
  }

  void run(EventSink sink, TickBudget budget) {
    Instant now = s.clock.instant();
    if (now.isBefore(serverRetryAt)) {
      // The server failed as a whole: don't claim and connect again before its backoff is over.
      return;
    }
    List<ClaimedEmail> claimed = s.store.claimPendingSend(
        new ClaimRequest(now, s.lease, s.batchPerSender, s.maxPerTick, resumeAfterSender));
    if (claimed.isEmpty()) {
      return;
    }
    resumeAfterSender = claimed.get(claimed.size() - 1).email().from().normalized();
    List<ClaimedEmail> ready = new ArrayList<>(claimed.size());
    for (ClaimedEmail c : claimed) {
      ClaimedEmail prepared = withIdentity(c, sink);
      if (prepared != null) {
        ready.add(prepared);
      }
    }
    if (workers == null || ready.size() < 2) {
      sendBatch(ready, sink, budget);
      return;
    }
    int sessions = Math.min(s.sendSessions, ready.size());
    List<List<ClaimedEmail>> parts = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      parts.add(new ArrayList<>());
    }
    for (int i = 0; i < ready.size(); i++) {
      parts.get(i % sessions).add(ready.get(i));
    }
    List<Future<?>> futures = new ArrayList<>();
    for (List<ClaimedEmail> part : parts) {
      futures.add(workers.submit(() -> sendBatch(part, sink, budget)));
    }
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException e) {
        LOG.warn("a send session failed unexpectedly", e.getCause());
      }
    }
  }

  /** Records Message-ID and tracking token before the first attempt; null when the claim was lost. */
  private ClaimedEmail withIdentity(ClaimedEmail c, EventSink sink) {
    OutgoingEmail e = c.email();
    if (e.messageId() != null) {
      return c;
    }
    try {
      String token = s.trackingTokens ? tokens.format(s.store.nextTrackingNumber()) : null;
      String subject = token == null ? e.subject() : tokens.apply(e.subject(), token);
      String messageId = newMessageId(e);
      s.store.recordIdentity(c.claim(), messageId, token, subject);
      return new ClaimedEmail(e.withIdentity(messageId, token, subject), c.claim());
    } catch (RuntimeException ex) {
      // Not sent, state unchanged: the lease expires and a later tick claims it again.
      sink.accept(new RouterEvent.ClaimLost(e.activityId(), "recording its Message-ID failed: " + ex.getMessage()));
      LOG.warn("recording the identity of activity {} failed; it is claimable again when its lease expires",
          e.activityId(), ex);
      return null;
    }
  }

  private String newMessageId(OutgoingEmail e) {
    // The A-label: a Unicode domain in the Message-ID would fail the email at the transport, every time.
    String domain = s.messageIdDomain != null ? s.messageIdDomain : Idna.toAsciiOrElse(e.from().domain(), "invalid");
    long random;
    synchronized (s.random) {
      random = s.random.nextLong();
    }
    return "<" + Long.toString(s.clock.millis(), 36) + "." + Long.toUnsignedString(random, 36) + "."
        + s.messageIdInstance + ".er@" + domain + ">";
  }

  private void sendBatch(List<ClaimedEmail> batch, EventSink sink, TickBudget budget) {
    if (batch.isEmpty()) {
      return;
    }
    if (budget.sendingUsedUp()) {
      deferred(batch, sink, budget);
      return;
    }
    int next = 0;
    try (MailTransport.Session session = s.transport.openSession()) {
      for (; next < batch.size(); next++) {
        if (budget.sendingUsedUp()) {
          deferred(batch.subList(next, batch.size()), sink, budget);
          next = batch.size();
          break;
        }
        ClaimedEmail c = batch.get(next);
        MDC.put("activity", c.email().activityId());
        try {
          SendResult result;
          try {
            result = session.send(c.email());
          } catch (RouterException e) {
            throw e; // the server as a whole: handled below
          } catch (RuntimeException e) {
            // A bug or an odd failure tied to this email: it counts as an attempt, so it can't loop forever.
            LOG.warn("sending activity {} failed unexpectedly", c.email().activityId(), e);
            result = SendResult.transientFailure("unexpected failure: " + e);
          }
          record(c, result, sink);
        } finally {
          MDC.remove("activity");
        }
      }
      serverFailuresInRow.set(0);
    } catch (RouterException e) {
      // The server as a whole could not be used: not the emails' fault, so no attempt is counted.
      serverUnavailable(batch.subList(next, batch.size()), e.getMessage(), sink);
    } catch (RuntimeException e) {
      serverUnavailable(batch.subList(next, batch.size()), e.toString(), sink);
    }
  }

  /** Returns claimed emails the tick had no time left for to Pending Send, due now, no attempt counted. */
  private void deferred(List<ClaimedEmail> rest, EventSink sink, TickBudget budget) {
    Instant now = s.clock.instant();
    String reason = "the tick's time for sending (tickBudget " + s.tickBudget + (s.mailboxes.isEmpty() ? "" : ", half of it"
        + " for sending when there are mailboxes") + ") was used up before it was sent; next tick";
    int returned = 0;
    for (ClaimedEmail c : rest) {
      OutgoingEmail e = c.email();
      if (guard(c, sink, () -> s.store.markRetry(c.claim(), now, e.attempts(), reason))) {
        returned++;
        sink.accept(new RouterEvent.EmailRetried(e.activityId(), e.attempts(), now, reason));
      }
    }
    budget.emailsDeferred(returned);
  }

  private void serverUnavailable(List<ClaimedEmail> rest, String reason, EventSink sink) {
    int failures = serverFailuresInRow.incrementAndGet();
    Instant retryAt = s.clock.instant().plus(serverBackoff.delay(failures));
    serverRetryAt = retryAt;
    LOG.warn("outgoing server {} unavailable ({} in a row): {}; {} emails wait until {}", s.transport.describe(),
        failures, reason, rest.size(), retryAt);
    sink.accept(new RouterEvent.ServerUnavailable(s.transport.describe(), reason, retryAt));
    for (ClaimedEmail c : rest) {
      OutgoingEmail e = c.email();
      if (guard(c, sink, () -> s.store.markRetry(c.claim(), retryAt, e.attempts(), "server unavailable: " + reason))) {
        sink.accept(new RouterEvent.EmailRetried(e.activityId(), e.attempts(), retryAt, "server unavailable: " + reason));
      }
    }
  }

  private void record(ClaimedEmail c, SendResult result, EventSink sink) {
    OutgoingEmail e = c.email();
    int attempts = e.attempts() + 1;
    Instant now = s.clock.instant();
    switch (result.outcome()) {
      case ACCEPTED -> {
        if (guard(c, sink, () -> s.store.markSent(c.claim(), now, result))) {
          LOG.trace("sent activity {} as {}", e.activityId(), e.messageId());
          sink.accept(new RouterEvent.EmailSent(e.activityId(), e.messageId(), result.serverReply(), result.refused()));
        }
      }
      case TRANSIENT -> {
        if (attempts >= s.maxAttempts) {
          SendResult gaveUp = new SendResult(SendResult.Outcome.TRANSIENT,
              "gave up after " + attempts + " attempts; last: " + result.serverReply(), result.recipients());
          if (guard(c, sink, () -> s.store.markFailed(c.claim(), attempts, gaveUp))) {
            sink.accept(new RouterEvent.EmailFailed(e.activityId(), attempts, gaveUp.serverReply()));
          }
        } else {
          Instant at = now.plus(emailBackoff.delay(attempts));
          if (guard(c, sink, () -> s.store.markRetry(c.claim(), at, attempts, result.serverReply()))) {
            sink.accept(new RouterEvent.EmailRetried(e.activityId(), attempts, at, result.serverReply()));
          }
        }
      }
      case PERMANENT -> {
        if (guard(c, sink, () -> s.store.markFailed(c.claim(), attempts, result))) {
          sink.accept(new RouterEvent.EmailFailed(e.activityId(), attempts, result.serverReply()));
        }
      }
      default -> throw new IllegalStateException("unknown outcome " + result.outcome());
    }
  }

  /** Runs a store update; a lost claim or a failing store is reported, never thrown. */
  private boolean guard(ClaimedEmail c, EventSink sink, Runnable update) {
    try {
      update.run();
      return true;
    } catch (StaleClaimException e) {
      sink.accept(new RouterEvent.ClaimLost(c.email().activityId(), e.getMessage()));
      LOG.warn("claim on activity {} was lost before its outcome was recorded", c.email().activityId());
      return false;
    } catch (RuntimeException e) {
      // The email stays Sending; its lease expires and it is sent again (at least once).
      sink.accept(new RouterEvent.ClaimLost(c.email().activityId(), "recording the outcome failed: " + e.getMessage()));
      LOG.warn("recording the outcome of activity {} failed; it is claimable again when its lease expires",
          c.email().activityId(), e);
      return false;
    }
  }

  @Override
  public void close() {
    if (workers != null) {
      workers.shutdown();
    }
  }
}
