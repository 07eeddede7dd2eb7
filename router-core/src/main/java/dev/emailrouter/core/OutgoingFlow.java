package dev.emailrouter.core;

import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailIdentity;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.core.RouterEvent.OutcomeNotRecorded.Outcome;
import dev.emailrouter.support.internal.Idna;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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

  private final Settings settings;
  /** Whether the store is up: shared with the incoming flow. */
  private final StoreHealth storeHealth;
  /** Distinguishes this engine's Message-IDs from those of engines given the same seeded random. */
  private final String messageIdInstance = Long.toUnsignedString(new SecureRandom().nextLong(), 36);
  private final Backoff emailBackoff;
  private final Backoff serverBackoff;
  private final TrackingTokens tokens;
  /** The send sessions' threads. */
  private final WorkerPool workers;
  /** The copies to the Sent folder, or {@code null} when none is configured (nothing to pay then). */
  private final SentCopies copies;
  private String resumeAfterSender = "";
  private final AtomicInteger serverFailuresInRow = new AtomicInteger();
  private volatile Instant serverRetryAt = Instant.MIN;
  /** Emails claimed by the running tick whose outcome is not recorded yet; read by other threads. */
  private final AtomicInteger inFlight = new AtomicInteger();
  /**
   * The threads that record a session's group as Sent while the session sends on; {@code null}
   * when {@code sentBatchSize} is 1 (each email recorded before the next is sent).
   */
  private final ExecutorService recorders;

  OutgoingFlow(Settings settings, StoreHealth storeHealth) {
    this.settings = settings;
    this.storeHealth = storeHealth;
    this.emailBackoff = settings.retry().backoff(settings.random());
    this.serverBackoff = settings.retry().backoff(settings.random());
    this.tokens = settings.tokens().formatter();
    this.copies = settings.sentFolder() == null ? null : new SentCopies(settings);
    this.workers = new WorkerPool("send", settings.outgoing().sendSessions());
    if (settings.outgoing().sentBatchSize() > 1) {
      AtomicInteger n = new AtomicInteger();
      this.recorders = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "email-router-record-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    } else {
      this.recorders = null;
    }
  }

  void run(EventSink sink, TickBudget budget) {
    try {
      if (copies != null) {
        // The copies need the mailbox server alone: tried even while the store or the SMTP server is out.
        copies.retryDue(sink);
      }
      claimAndSend(sink, budget);
    } finally {
      // Whatever is not recorded by now waits for its lease: no longer this engine's work.
      inFlight.set(0);
    }
  }

  /** Emails claimed by the running tick whose outcome is not recorded yet; 0 between ticks. */
  int inFlight() {
    return inFlight.get();
  }

  private void claimAndSend(EventSink sink, TickBudget budget) {
    Instant now = settings.clock().instant();
    if (now.isBefore(serverRetryAt)) {
      // The server failed as a whole: don't claim and connect again before its backoff is over.
      return;
    }
    if (!storeHealth.isAvailable()) {
      LOG.debug("no email claimed this tick: the activity store is backed off");
      return;
    }
    ClaimRequest request = new ClaimRequest(now, settings.outgoing().lease(), settings.outgoing().batchPerSender(), settings.outgoing().maxPerTick(), resumeAfterSender);
    List<ClaimedEmail> claimed;
    try {
      claimed = storeHealth.call(() -> settings.store().claimPendingSend(request));
    } catch (StoreOutage e) {
      storeUnavailable(e, List.of(), sink);
      return;
    }
    if (claimed.isEmpty()) {
      return;
    }
    inFlight.addAndGet(claimed.size());
    resumeAfterSender = claimed.get(claimed.size() - 1).email().from().normalized();
    int sessions = Math.min(settings.outgoing().sendSessions(), claimed.size());
    List<List<ClaimedEmail>> parts = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      parts.add(new ArrayList<>());
    }
    for (int i = 0; i < claimed.size(); i++) {
      parts.get(i % sessions).add(claimed.get(i));
    }
    // Each session records its own part's identities, then sends it: with several sessions, the
    // store calls of one part overlap the sending of the others instead of delaying them all.
    workers.forEach(parts, part -> prepareAndSend(part, sink, budget));
  }

  /** Records the identities of one session's part, then sends what is still held. */
  private void prepareAndSend(List<ClaimedEmail> part, EventSink sink, TickBudget budget) {
    if (!storeHealth.isAvailable()) {
      // Another session met a store outage (and reported it): nothing more is prepared or sent.
      returnUnsent(part, sink);
      return;
    }
    List<ClaimedEmail> ready;
    try {
      ready = withIdentities(part, sink);
    } catch (StoreOutage e) {
      // Nothing of this part is sent while the store is down: it could not be recorded as Sent.
      storeUnavailable(e, part, sink);
      return;
    }
    sendBatch(ready, sink, budget);
  }

  /**
   * Records Message-ID and tracking token of the claimed emails that have none yet, in one call
   * for the numbers and one for the identities; returns the emails still held, ready to send.
   * When a batch call fails for a reason other than an outage, the emails are done one by one, so
   * only the email at fault is lost.
   *
   * @throws StoreOutage if the store is down
   */
  private List<ClaimedEmail> withIdentities(List<ClaimedEmail> claimed, EventSink sink) {
    List<Integer> fresh = new ArrayList<>();
    for (int i = 0; i < claimed.size(); i++) {
      if (claimed.get(i).email().messageId() == null) {
        fresh.add(i);
      }
    }
    if (fresh.isEmpty()) {
      return claimed;
    }
    List<Long> numbers = null;
    if (settings.tokens().trackingTokens()) {
      try {
        numbers = storeHealth.call(() -> settings.store().nextTrackingNumbers(fresh.size()));
        if (numbers == null || numbers.size() != fresh.size()) {
          throw new IllegalStateException("nextTrackingNumbers(" + fresh.size() + ") returned "
              + (numbers == null ? "null" : numbers.size() + " numbers"));
        }
      } catch (StoreOutage e) {
        throw e;
      } catch (RuntimeException e) {
        LOG.warn("taking {} tracking numbers in one call failed; taking them one by one", fresh.size(), e);
        return oneByOne(claimed, sink);
      }
    }
    ClaimedEmail[] prepared = claimed.toArray(new ClaimedEmail[0]);
    List<EmailIdentity> identities = new ArrayList<>(fresh.size());
    for (int k = 0; k < fresh.size(); k++) {
      ClaimedEmail c = claimed.get(fresh.get(k));
      OutgoingEmail e = c.email();
      String token = numbers == null ? null : tokens.format(numbers.get(k));
      String subject = token == null ? e.subject() : tokens.apply(e.subject(), token);
      EmailIdentity identity = new EmailIdentity(c.claim(), newMessageId(e), token, subject);
      identities.add(identity);
      prepared[fresh.get(k)] = new ClaimedEmail(e.withIdentity(identity.messageId(), token, subject), c.claim());
    }
    List<String> stale;
    try {
      stale = storeHealth.call(() -> settings.store().recordIdentities(identities));
    } catch (StoreOutage e) {
      throw e;
    } catch (RuntimeException e) {
      LOG.warn("recording {} identities in one call failed; recording them one by one", identities.size(), e);
      return oneByOne(claimed, sink);
    }
    Set<String> lost = stale == null ? Set.of() : new HashSet<>(stale);
    List<ClaimedEmail> ready = new ArrayList<>(claimed.size());
    for (ClaimedEmail c : prepared) {
      if (lost.contains(c.email().activityId())) {
        // Not sent, state unchanged: the claim passed to another engine (its lease expired).
        settled();
        sink.accept(new RouterEvent.ClaimLost(c.email().activityId(),
            "recording its Message-ID failed: the claim no longer holds"));
        LOG.warn("claim on activity {} was lost before its Message-ID was recorded", c.email().activityId());
      } else {
        ready.add(c);
      }
    }
    return ready;
  }

  /** The single forms, email by email, for a store whose batch call failed. */
  private List<ClaimedEmail> oneByOne(List<ClaimedEmail> claimed, EventSink sink) {
    List<ClaimedEmail> ready = new ArrayList<>(claimed.size());
    for (ClaimedEmail c : claimed) {
      ClaimedEmail prepared = withIdentity(c, sink);
      if (prepared != null) {
        ready.add(prepared);
      }
    }
    return ready;
  }

  /**
   * Records Message-ID and tracking token before the first attempt; null when the claim was lost.
   *
   * @throws StoreOutage if the store is down
   */
  private ClaimedEmail withIdentity(ClaimedEmail c, EventSink sink) {
    OutgoingEmail e = c.email();
    if (e.messageId() != null) {
      return c;
    }
    try {
      String token = settings.tokens().trackingTokens() ? tokens.format(storeHealth.call(settings.store()::nextTrackingNumber)) : null;
      String subject = token == null ? e.subject() : tokens.apply(e.subject(), token);
      String messageId = newMessageId(e);
      storeHealth.run(() -> settings.store().recordIdentity(c.claim(), messageId, token, subject));
      return new ClaimedEmail(e.withIdentity(messageId, token, subject), c.claim());
    } catch (StoreOutage ex) {
      throw ex;
    } catch (StaleClaimException ex) {
      // Not sent: the claim passed to another engine (its lease expired), which sends it.
      settled();
      sink.accept(new RouterEvent.ClaimLost(e.activityId(), "recording its Message-ID failed: " + ex.getMessage()));
      LOG.warn("claim on activity {} was lost before its Message-ID was recorded", e.activityId());
      return null;
    } catch (RuntimeException ex) {
      // Not sent, state unchanged: the lease expires and a later tick claims it again.
      settled();
      notRecorded(c, Outcome.MESSAGE_ID, "recording its Message-ID failed: " + ex.getMessage(), sink);
      LOG.warn("recording the identity of activity {} failed; it is claimable again at {}, when its lease expires",
          e.activityId(), c.claim().leaseUntil(), ex);
      return null;
    }
  }

  private String newMessageId(OutgoingEmail e) {
    // The A-label: a Unicode domain in the Message-ID would fail the email at the transport, every time.
    String domain = settings.outgoing().messageIdDomain() != null ? settings.outgoing().messageIdDomain() : Idna.toAsciiOrElse(e.from().domain(), "invalid");
    long random;
    synchronized (settings.random()) {
      random = settings.random().nextLong();
    }
    return "<" + Long.toString(settings.clock().millis(), 36) + "." + Long.toUnsignedString(random, 36) + "."
        + messageIdInstance + ".er@" + domain + ">";
  }

  private void sendBatch(List<ClaimedEmail> batch, EventSink sink, TickBudget budget) {
    if (batch.isEmpty()) {
      return;
    }
    if (budget.sendingUsedUp()) {
      deferred(batch, sink, budget);
      return;
    }
    // Accepted emails not yet recorded as Sent nor being recorded: recorded in one store call.
    List<PendingSent> group = new ArrayList<>();
    // The group being recorded while the session sends on (with the group, at most sentBatchSize).
    Recording recording = recorders == null ? null : new Recording(sink);
    int next = 0;
    // The first email neither handed to the server nor handed back to the store.
    int unsentFrom = 0;
    try (MailTransport.Session session = settings.transport().openSession()) {
      for (; next < batch.size(); next++) {
        if (!storeHealth.isAvailable()) {
          // Another session met a store outage (and reported it): send no more, as below.
          returnUnsent(batch.subList(next, batch.size()), sink);
          next = batch.size();
          unsentFrom = batch.size();
          break;
        }
        if (budget.sendingUsedUp()) {
          deferred(batch.subList(next, batch.size()), sink, budget);
          next = batch.size();
          unsentFrom = batch.size();
          break;
        }
        ClaimedEmail c = batch.get(next);
        unsentFrom = next + 1;
        MDC.put("activity", c.email().activityId());
        try {
          SendResult result;
          try {
            result = session.send(c.email(), following(batch, next + 1, budget));
          } catch (RouterException e) {
            throw e; // the server as a whole: handled below
          } catch (RuntimeException e) {
            // A bug or an odd failure tied to this email: it counts as an attempt, so it can't loop forever.
            LOG.warn("sending activity {} failed unexpectedly", c.email().activityId(), e);
            result = SendResult.transientFailure("unexpected failure: " + e);
          }
          record(c, result, sink, group);
        } finally {
          MDC.remove("activity");
        }
        accepted(group, recording, sink);
      }
      if (recording != null) {
        recording.await();
      }
      flush(group, sink);
      serverFailuresInRow.set(0);
    } catch (StoreOutage e) {
      // Recording an outcome failed because the store is down: the emails accepted and not yet
      // recorded stay Sending until their lease expires (sent again then: at least once). Every
      // further email sent now could not be recorded either and would go out twice, so the rest of
      // the batch is not sent.
      if (recording != null) {
        recording.awaitQuietly(); // a group it failed to record it reported itself
      }
      abandon(group, e, sink);
      storeUnavailable(e, batch.subList(unsentFrom, batch.size()), sink);
    } catch (RouterException e) {
      // The server as a whole could not be used: not the emails' fault, so no attempt is counted.
      if (flushBeforeGivingUp(recording, group, batch.subList(next, batch.size()), sink)) {
        serverUnavailable(batch.subList(next, batch.size()), e.getMessage(), sink);
      }
    } catch (RuntimeException e) {
      if (flushBeforeGivingUp(recording, group, batch.subList(next, batch.size()), sink)) {
        serverUnavailable(batch.subList(next, batch.size()), e.toString(), sink);
      }
    } finally {
      if (recording != null) {
        recording.awaitQuietly(); // no group is recorded after its tick (an Error on the way out, say)
      }
    }
  }

  /**
   * After each email: keeps at most {@code sentBatchSize} accepted emails of the session
   * unrecorded, and records them in groups of at least half of that while the session sends on.
   * The store's round trip and commit then overlap the sending of the next emails instead of
   * stopping it, and a crash still repeats at most {@code sentBatchSize} emails per session.
   *
   * @throws StoreOutage if the store is down (a group failed to record, reported by the recording)
   */
  private void accepted(List<PendingSent> group, Recording recording, EventSink sink) {
    int most = settings.outgoing().sentBatchSize();
    if (recording == null) {
      if (group.size() >= most) {
        flush(group, sink);
      }
      return;
    }
    if (recording.busy() && (recording.size() + group.size() >= most || recording.done())) {
      recording.await();
    }
    if (!recording.busy() && group.size() >= (most + 1) / 2) {
      recording.start(group);
    }
  }

  /**
   * One send session's group being recorded as Sent on a recorder thread: at most one at a time.
   * Used by the session's thread alone.
   */
  private final class Recording {
    private final EventSink sink;
    private Future<?> pending;
    private int size;

    Recording(EventSink sink) {
      this.sink = sink;
    }

    boolean busy() {
      return pending != null;
    }

    boolean done() {
      return pending != null && pending.isDone();
    }

    /** Emails in the group being recorded. */
    int size() {
      return pending == null ? 0 : size;
    }

    /** Hands the group over to be recorded, and empties it. */
    void start(List<PendingSent> group) {
      List<PendingSent> taken = new ArrayList<>(group);
      group.clear();
      Map<String, String> context = MDC.getCopyOfContextMap();
      size = taken.size();
      pending = recorders.submit(() -> {
        if (context != null) {
          MDC.setContextMap(context);
        }
        try {
          flush(taken, sink);
        } finally {
          MDC.clear();
        }
      });
    }

    /**
     * Waits until the group is recorded (not interruptible: a store call is bounded, and the tick
     * must not end with it running).
     *
     * @throws StoreOutage if the store was down (the group was reported not recorded)
     */
    void await() {
      if (pending == null) {
        return;
      }
      Future<?> f = pending;
      pending = null;
      boolean interrupted = false;
      try {
        while (true) {
          try {
            f.get();
            return;
          } catch (InterruptedException e) {
            interrupted = true;
          } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
              throw r;
            }
            if (cause instanceof Error err) {
              throw err;
            }
            throw new IllegalStateException("recording a group as Sent failed", cause);
          }
        }
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    /** Waits as {@link #await} does; a failure was reported by the recording itself. */
    void awaitQuietly() {
      try {
        await();
      } catch (RuntimeException e) {
        LOG.debug("recording a group as Sent failed (reported)", e);
      }
    }
  }

  /**
   * The email the session sends after this one, which it may begin early; null at the end of the
   * batch, or where the loop would stop before it (checked again there: should it stop after all,
   * closing the session drops what was begun, without the server delivering it).
   */
  private OutgoingEmail following(List<ClaimedEmail> batch, int index, TickBudget budget) {
    if (index >= batch.size() || !storeHealth.isAvailable() || budget.sendingUsedUp()) {
      return null;
    }
    return batch.get(index).email();
  }

  /** An accepted email waiting to be recorded as Sent with its group. */
  private record PendingSent(ClaimedEmail claimed, SentOutcome outcome) {}

  /**
   * Records the group's emails as Sent in one store call and reports them; empties the group. A
   * claim that no longer held is reported lost; a batch call that fails for another reason than an
   * outage is repeated email by email.
   *
   * @throws StoreOutage if the store is down (the group is reported lost: it waits for its lease)
   */
  private void flush(List<PendingSent> group, EventSink sink) {
    if (group.isEmpty()) {
      return;
    }
    List<PendingSent> taken = List.copyOf(group);
    group.clear();
    List<SentOutcome> outcomes = new ArrayList<>(taken.size());
    for (PendingSent p : taken) {
      outcomes.add(p.outcome());
    }
    List<String> stale;
    try {
      stale = storeHealth.call(() -> settings.store().markSentAll(outcomes));
    } catch (StoreOutage e) {
      abandon(taken, e, sink);
      throw e;
    } catch (RuntimeException e) {
      LOG.warn("recording {} emails as Sent in one call failed; recording them one by one", taken.size(), e);
      for (int i = 0; i < taken.size(); i++) {
        PendingSent p = taken.get(i);
        try {
          if (guard(p.claimed(), Outcome.SENT, sink, () -> settings.store().markSent(p.outcome().claim(), p.outcome().sentAt(),
              p.outcome().result()))) {
            reportSent(p, sink);
          }
        } catch (StoreOutage outage) {
          abandon(taken.subList(i + 1, taken.size()), outage, sink);
          throw outage;
        }
      }
      return;
    }
    Set<String> lost = stale == null ? Set.of() : new HashSet<>(stale);
    for (PendingSent p : taken) {
      settled();
      String id = p.claimed().email().activityId();
      if (lost.contains(id)) {
        sink.accept(new RouterEvent.ClaimLost(id, "the claim no longer held when its Sent was recorded"));
        LOG.warn("claim on activity {} was lost before its outcome was recorded", id);
      } else {
        reportSent(p, sink);
      }
    }
  }

  private void reportSent(PendingSent p, EventSink sink) {
    OutgoingEmail e = p.claimed().email();
    SendResult result = p.outcome().result();
    LOG.trace("sent activity {} as {}", e.activityId(), e.messageId());
    sink.accept(new RouterEvent.EmailSent(e.activityId(), e.messageId(), result.serverReply(), result.refused()));
  }

  /**
   * Records the group (after the one being recorded) before the rest of the batch is given up for a
   * server failure.
   *
   * @return false when the store was down (reported, and the rest handed back as for an outage)
   */
  private boolean flushBeforeGivingUp(Recording recording, List<PendingSent> group, List<ClaimedEmail> rest,
      EventSink sink) {
    try {
      if (recording != null) {
        recording.await();
      }
    } catch (StoreOutage e) {
      abandon(group, e, sink);
      storeUnavailable(e, rest, sink);
      return false;
    }
    try {
      flush(group, sink);
      return true;
    } catch (StoreOutage e) {
      storeUnavailable(e, rest, sink);
      return false;
    }
  }

  /** Reports accepted emails whose Sent could not be recorded: they wait for their lease (sent again then). */
  private void abandon(List<PendingSent> group, StoreOutage e, EventSink sink) {
    if (group.isEmpty()) {
      return;
    }
    for (PendingSent p : group) {
      settled(); // given up to its lease
      notRecorded(p.claimed(), Outcome.SENT, "the activity store is unavailable: " + e.getMessage(), sink);
    }
    LOG.warn("{} accepted email(s) could not be recorded as Sent, the activity store is unavailable; they are "
        + "claimable again when their lease expires", group.size());
  }

  /** Returns claimed emails the tick had no time left for to Pending Send, due now, no attempt counted. */
  private void deferred(List<ClaimedEmail> rest, EventSink sink, TickBudget budget) {
    Instant now = settings.clock().instant();
    String reason = "the tick's time for sending (tickBudget " + settings.tickBudget() + (settings.mailboxes().isEmpty() ? "" : ", half of it"
        + " for sending when there are mailboxes") + ") was used up before it was sent; next tick";
    int returned = 0;
    try {
      for (ClaimedEmail c : rest) {
        OutgoingEmail e = c.email();
        if (guard(c, Outcome.RETRY, sink, () -> settings.store().markRetry(c.claim(), now, e.attempts(), reason))) {
          returned++;
          sink.accept(new RouterEvent.EmailRetried(e.activityId(), e.attempts(), now, reason));
        }
      }
    } catch (StoreOutage e) {
      storeUnavailable(e, List.of(), sink); // the rest wait for their lease
    }
    budget.emailsDeferred(returned);
  }

  private void serverUnavailable(List<ClaimedEmail> rest, String reason, EventSink sink) {
    int failures = serverFailuresInRow.incrementAndGet();
    Instant retryAt = settings.clock().instant().plus(serverBackoff.delay(failures));
    serverRetryAt = retryAt;
    LOG.warn("outgoing server {} unavailable ({} in a row): {}; {} emails wait until {}", settings.transport().describe(),
        failures, reason, rest.size(), retryAt);
    sink.accept(new RouterEvent.ServerUnavailable(settings.transport().describe(), reason, retryAt));
    String why = "server unavailable: " + reason;
    try {
      for (ClaimedEmail c : rest) {
        OutgoingEmail e = c.email();
        if (guard(c, Outcome.RETRY, sink, () -> settings.store().markRetry(c.claim(), retryAt, e.attempts(), why))) {
          sink.accept(new RouterEvent.EmailRetried(e.activityId(), e.attempts(), retryAt, why));
        }
      }
    } catch (StoreOutage e) {
      storeUnavailable(e, List.of(), sink); // the rest wait for their lease
    }
  }

  /**
   * Reports a store outage (once per outage) and returns claimed emails not sent to Pending Send,
   * due when the store is called again, no attempt counted: as many as the store still takes, the
   * rest wait for their lease to expire.
   */
  private void storeUnavailable(StoreOutage e, List<ClaimedEmail> unsent, EventSink sink) {
    if (e.fresh) {
      LOG.warn("the activity store is unavailable: sending stopped, {} claimed email(s) not sent, nothing counted "
          + "against them; no email claimed and no mailbox read before {}: {}", unsent.size(), e.retryAt,
          e.getMessage());
      sink.accept(new RouterEvent.StoreUnavailable("outgoing", null, e.getMessage(), e.retryAt));
    }
    returnUnsent(unsent, sink);
  }

  private void returnUnsent(List<ClaimedEmail> unsent, EventSink sink) {
    Instant at = storeHealth.retryAt();
    String reason = "not sent: the activity store is unavailable";
    for (int i = 0; i < unsent.size(); i++) {
      ClaimedEmail c = unsent.get(i);
      OutgoingEmail e = c.email();
      try {
        if (guard(c, Outcome.RETRY, sink, () -> settings.store().markRetry(c.claim(), at, e.attempts(), reason))) {
          sink.accept(new RouterEvent.EmailRetried(e.activityId(), e.attempts(), at, reason));
        }
      } catch (StoreOutage again) {
        LOG.debug("{} claimed email(s) wait for their lease: the store is still unavailable", unsent.size() - i - 1);
        return;
      }
    }
  }

  private void record(ClaimedEmail c, SendResult result, EventSink sink, List<PendingSent> group) {
    OutgoingEmail e = c.email();
    int attempts = e.attempts() + 1;
    Instant now = settings.clock().instant();
    // Recipients that accepted in an earlier attempt got the email: from then on it is never Failed
    // nor retried without them recorded, only partly sent again or Sent.
    boolean acceptedBefore = !e.acceptedRecipients().isEmpty();
    switch (result.outcome()) {
      case ACCEPTED -> {
        if (copies != null && result.message().isPresent()) {
          // Before markSent: a crash or a store outage after the copy only makes a resend, whose copy
          // the Sent folder skips by Message-ID.
          copies.keep(e, result.message().get(), sink);
        }
        // The store never holds the bytes.
        SendResult accepted = result.withoutMessage();
        SendResult complete = perRecipient(e, accepted);
        if (!anyTransient(complete)) {
          sent(c, accepted, now, group);
        } else {
          partlySent(c, complete, attempts, now, sink, group);
        }
      }
      case TRANSIENT -> {
        if (acceptedBefore) {
          partlySent(c, perRecipient(e, result), attempts, now, sink, group);
        } else if (attempts >= settings.retry().maxAttempts()) {
          SendResult gaveUp = new SendResult(SendResult.Outcome.TRANSIENT,
              "gave up after " + attempts + " attempts; last: " + result.serverReply(), result.recipients());
          if (guard(c, Outcome.FAILED, sink, () -> settings.store().markFailed(c.claim(), attempts, gaveUp))) {
            sink.accept(new RouterEvent.EmailFailed(e.activityId(), attempts, gaveUp.serverReply()));
          }
        } else {
          Instant at = now.plus(emailBackoff.delay(attempts));
          if (guard(c, Outcome.RETRY, sink, () -> settings.store().markRetry(c.claim(), at, attempts, result.serverReply()))) {
            sink.accept(new RouterEvent.EmailRetried(e.activityId(), attempts, at, result.serverReply()));
          }
        }
      }
      case PERMANENT -> {
        if (acceptedBefore) {
          // The email left for the recipients who accepted earlier: Sent, with the rest refused.
          SendResult complete = perRecipient(e, result);
          sent(c, new SendResult(SendResult.Outcome.ACCEPTED, "accepted in an earlier attempt by "
              + e.acceptedRecipients().size() + " recipients; the others refused: " + result.serverReply(),
              complete.recipients()), now, group);
        } else if (guard(c, Outcome.FAILED, sink, () -> settings.store().markFailed(c.claim(), attempts, result))) {
          sink.accept(new RouterEvent.EmailFailed(e.activityId(), attempts, result.serverReply()));
        }
      }
      default -> throw new IllegalStateException("unknown outcome " + result.outcome());
    }
  }

  /** Whether a recipient is still pending (refused for now); a loop, as it runs for every email sent. */
  private static boolean anyTransient(SendResult result) {
    for (RecipientResult r : result.recipients()) {
      if (r.outcome() == SendResult.Outcome.TRANSIENT) {
        return true;
      }
    }
    return false;
  }

  /** Adds the accepted email to its session's group, recorded as Sent with it ({@link #flush}). */
  private void sent(ClaimedEmail c, SendResult result, Instant now, List<PendingSent> group) {
    group.add(new PendingSent(c, new SentOutcome(c.claim(), now, result)));
  }

  /**
   * Some recipients are still pending (refused for now): back to Pending Send with the accepted ones
   * recorded, or, once the attempts are used up, Sent with the pending ones given up.
   */
  private void partlySent(ClaimedEmail c, SendResult complete, int attempts, Instant now, EventSink sink,
      List<PendingSent> group) {
    OutgoingEmail e = c.email();
    if (attempts >= settings.retry().maxAttempts()) {
      List<RecipientResult> recipients = new ArrayList<>();
      for (RecipientResult r : complete.recipients()) {
        recipients.add(r.outcome() != SendResult.Outcome.TRANSIENT ? r : new RecipientResult(r.recipient(),
            SendResult.Outcome.TRANSIENT, "gave up after " + attempts + " attempts; last: " + r.serverReply()));
      }
      sent(c, new SendResult(SendResult.Outcome.ACCEPTED, complete.serverReply(), recipients), now, group);
      return;
    }
    Instant at = now.plus(emailBackoff.delay(attempts));
    List<RecipientResult> pending = complete.recipients().stream()
        .filter(r -> r.outcome() == SendResult.Outcome.TRANSIENT).toList();
    if (guard(c, Outcome.PARTLY_SENT, sink, () -> settings.store().markPartlySent(c.claim(), at, attempts, complete))) {
      LOG.trace("activity {} partly sent; {} recipients pending until {}", e.activityId(), pending.size(), at);
      sink.accept(new RouterEvent.EmailPartlySent(e.activityId(), attempts, at, pending));
    }
  }

  /**
   * The result with one entry for each recipient this attempt was for: a recipient the transport
   * did not list takes the outcome and reply of the email as a whole (a 451 at DATA, say).
   */
  private static SendResult perRecipient(OutgoingEmail e, SendResult result) {
    List<RecipientResult> given = result.recipients();
    if (given.size() == 1 && e.acceptedRecipients().isEmpty() && e.to().size() + e.cc().size() + e.bcc().size() == 1) {
      // One recipient, listed by the transport (most emails): already complete, nothing to build.
      EmailAddress only = !e.to().isEmpty() ? e.to().get(0) : !e.cc().isEmpty() ? e.cc().get(0) : e.bcc().get(0);
      if (only.normalized().equals(given.get(0).recipient().normalized())) {
        return result.withoutMessage();
      }
    }
    Map<String, RecipientResult> listed = new LinkedHashMap<>();
    for (RecipientResult r : result.recipients()) {
      listed.putIfAbsent(r.recipient().normalized(), r);
    }
    List<RecipientResult> all = new ArrayList<>();
    for (EmailAddress r : e.pendingRecipients()) {
      RecipientResult own = listed.remove(r.normalized());
      all.add(own != null ? own : new RecipientResult(r, result.outcome(), result.serverReply()));
    }
    all.addAll(listed.values());
    return new SendResult(result.outcome(), result.serverReply(), all);
  }

  /**
   * Runs a store update that records {@code outcome}; a lost claim ({@link RouterEvent.ClaimLost})
   * or a store failure ({@link RouterEvent.OutcomeNotRecorded}) is reported, never thrown.
   *
   * @throws StoreOutage if the store is down (reported as not recorded too: the email waits for its
   *     lease)
   */
  private boolean guard(ClaimedEmail c, Outcome outcome, EventSink sink, Runnable update) {
    settled();
    try {
      storeHealth.run(update);
      return true;
    } catch (StaleClaimException e) {
      sink.accept(new RouterEvent.ClaimLost(c.email().activityId(), e.getMessage()));
      LOG.warn("claim on activity {} was lost before its outcome was recorded", c.email().activityId());
      return false;
    } catch (StoreOutage e) {
      notRecorded(c, outcome, "the activity store is unavailable: " + e.getMessage(), sink);
      LOG.warn("recording the state of activity {} failed, the activity store is unavailable; it is claimable "
          + "again at {}, when its lease expires", c.email().activityId(), c.claim().leaseUntil());
      throw e;
    } catch (RuntimeException e) {
      // The email stays Sending; its lease expires and it is claimed again (an accepted one is sent
      // again: at least once).
      notRecorded(c, outcome, "recording the outcome failed: " + e.getMessage(), sink);
      LOG.warn("recording the outcome of activity {} failed; it is claimable again at {}, when its lease expires",
          c.email().activityId(), c.claim().leaseUntil(), e);
      return false;
    }
  }

  /** Reports that the store did not record {@code outcome} while the claim held: the email waits for its lease. */
  private static void notRecorded(ClaimedEmail c, Outcome outcome, String reason, EventSink sink) {
    sink.accept(new RouterEvent.OutcomeNotRecorded(c.email().activityId(), outcome, reason, c.claim().leaseUntil()));
  }

  /** One claimed email's outcome is being recorded (or it was given up to its lease). */
  private void settled() {
    inFlight.updateAndGet(n -> Math.max(0, n - 1));
  }

  @Override
  public void close() {
    workers.close();
    if (recorders != null) {
      recorders.shutdown();
    }
  }
}
