package dev.emailrouter.core;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.DeliveryReport;
import dev.emailrouter.api.AutoResponse;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.IncomingMessage;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingDecision.Reason;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.api.TransientRouterException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The incoming half of a tick, mailbox by mailbox: headers, duplicate and loop checks, the policy,
 * bulk download of what is tracked, creation in the store, post-actions, and only then the
 * checkpoint.
 */
final class IncomingFlow implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(IncomingFlow.class);
  /** Whole messages downloaded per request: bounds memory while keeping round trips few. */
  static final int DOWNLOAD_CHUNK = 50;

  private final Settings settings;
  private final TrackingTokens tokens;
  private final Backoff mailboxBackoff;
  private final Map<String, Health> health = new ConcurrentHashMap<>();
  /** The threads mailboxes are read on. */
  private final WorkerPool workers;
  /** Whether the activity store is up: shared with the outgoing flow. */
  private final StoreHealth storeHealth;
  /** The first mailbox a tick left unfinished because its time was used up; guarded by this. */
  private Mailbox resumeAt;
  /**
   * Under leases, where the next tick starts looking for mailboxes to acquire: after the last one
   * this engine acquired, so over ticks it moves on through the list. Guarded by this.
   */
  private int nextStart;
  /** The leases this engine holds, kept from tick to tick, by mailbox name. */
  private final Map<String, Held> owned = new ConcurrentHashMap<>();
  /** Mailbox name → its position in the configured list. */
  private final Map<String, Integer> positions = new HashMap<>();
  /**
   * Whether the checkpoint store and the mailbox leases are up: a store of their own, apart from the
   * activity store, so losing the database that keeps them stops reading, not sending.
   */
  private final StoreHealth stateHealth;

  /** A mailbox's failures in a row, and when it may be read again. */
  private static final class Health {
    int failuresInRow;
    Instant retryAt = Instant.MIN;
    boolean disabled;
    /** When a read of this mailbox last ended without failure, by the engine's clock; null before. */
    Instant lastSuccess;
  }

  IncomingFlow(Settings settings, StoreHealth storeHealth) {
    this.settings = settings;
    this.storeHealth = storeHealth;
    this.tokens = settings.tokens().formatter();
    this.mailboxBackoff = settings.reading().backoff(settings.random());
    for (Mailbox m : settings.mailboxes()) {
      health.put(m.name(), new Health());
      positions.put(m.name(), positions.size());
    }
    this.stateHealth = new StoreHealth(settings.clock(), settings.retry().backoff(settings.random()));
    // Engines started together would all begin at the first mailbox and race for the same leases.
    this.nextStart = settings.nodes().leasing() && !settings.mailboxes().isEmpty() ? settings.random().nextInt(settings.mailboxes().size()) : 0;
    // No thread is started for a single mailbox: it would only ever run on the caller's.
    this.workers = new WorkerPool("read", settings.mailboxes().size() > 1 ? settings.reading().mailboxParallelism() : 1);
  }

  void run(EventSink sink, TickBudget budget) {
    List<Mailbox> order = rotated();
    Share share = share(order, sink);
    if (share == null) {
      return;
    }
    workers.forEach(order, m -> runGuarded(m, sink, budget, share));
  }

  /**
   * The mailboxes in this tick's order: a tick whose budget runs out starts the next tick at the
   * first mailbox it did not finish, so no mailbox waits behind the others for ever.
   */
  private List<Mailbox> rotated() {
    List<Mailbox> all = settings.mailboxes();
    int from;
    synchronized (this) {
      from = nextStart;
      if (resumeAt != null) {
        from = Math.max(0, all.indexOf(resumeAt));
        resumeAt = null;
      }
    }
    List<Mailbox> order = new ArrayList<>(all.size());
    for (int i = 0; i < all.size(); i++) {
      order.add(all.get((from + i) % all.size()));
    }
    return order;
  }

  private synchronized void unfinished(Mailbox mailbox, TickBudget budget) {
    if (resumeAt == null) {
      resumeAt = mailbox;
    }
    budget.mailboxDeferred(mailbox.name());
  }

  /**
   * Which mailboxes this engine reads this tick, under leases: those whose leases it kept from
   * earlier ticks (renewed now), and new ones up to its fair share, {@code ceil(mailboxes / live
   * owners)}. Leases are kept between ticks (the lease outlives the scheduler's interval), so each
   * engine keeps reading the same mailboxes, on connections it keeps, and a mailbox is read at every
   * tick; an engine holding more than its share (another joined) gives the extras up at the start of
   * a tick, and a dead engine's leases expire. A cap rather than a fixed partition (mailbox i to node
   * i mod n) because it needs no agreement on who is which node: each engine only counts the live
   * ones, skips what others hold, and the leases settle who reads what. Thread-safe.
   */
  private final class Share {
    private final int newAllowed;
    private int newTaken;

    Share(int newAllowed) {
      this.newAllowed = newAllowed;
    }

    /**
     * The lease to read the mailbox under, or {@code null} when another owner holds it or this
     * engine's share is used up.
     *
     * @throws StateOutage if the leases can't be reached
     */
    synchronized Held claim(Mailbox mailbox) {
      Instant asked = settings.clock().instant();
      if (!settings.nodes().leasing()) {
        return new Held(new MailboxLeases.Lease(mailbox.name(), settings.nodes().leaseOwner(), 0, Instant.MAX), asked);
      }
      Held kept = owned.get(mailbox.name());
      if (kept != null) {
        MailboxLeases.Lease lease = kept.lease;
        Optional<MailboxLeases.Lease> renewed = state(() -> settings.nodes().mailboxLeases().renew(lease, settings.nodes().mailboxLeaseDuration()));
        if (renewed.isPresent()) {
          kept.lease = renewed.get();
          kept.confirmedAt = asked;
          return kept;
        }
        // It expired between ticks and another engine took it: theirs now, quietly.
        owned.remove(mailbox.name());
        LOG.debug("mailbox {}: the lease (token {}) was taken over between ticks", mailbox.name(),
            lease.fencingToken());
      }
      if (newTaken >= newAllowed) {
        return null;
      }
      Optional<MailboxLeases.Lease> lease = state(() -> settings.nodes().mailboxLeases().acquire(mailbox.name(), settings.nodes().leaseOwner(),
          settings.nodes().mailboxLeaseDuration()));
      if (lease.isEmpty()) {
        LOG.debug("mailbox {} not read this tick: another engine holds its lease", mailbox.name());
        return null;
      }
      newTaken++;
      Held held = new Held(lease.get(), asked);
      owned.put(mailbox.name(), held);
      synchronized (IncomingFlow.this) {
        nextStart = (positions.get(mailbox.name()) + 1) % settings.mailboxes().size();
      }
      return held;
    }
  }

  /**
   * This tick's share, or {@code null} when no mailbox may be read (the lease store is down). Gives
   * up the leases beyond the share (the last ones in this tick's order).
   */
  private Share share(List<Mailbox> order, EventSink sink) {
    if (!settings.nodes().leasing()) {
      return new Share(Integer.MAX_VALUE);
    }
    if (!stateHealth.isAvailable()) {
      LOG.debug("no mailbox read this tick: the checkpoint or lease store is backed off until {}",
          stateHealth.retryAt());
      return null;
    }
    int cap;
    try {
      int live = Math.max(1, state(() -> settings.nodes().mailboxLeases().liveOwners(settings.nodes().leaseOwner(), settings.nodes().mailboxLeaseDuration())));
      cap = (settings.mailboxes().size() + live - 1) / live;
    } catch (StateOutage e) {
      stateUnavailable(null, e, sink);
      return null;
    }
    Instant now = settings.clock().instant();
    // Leases not confirmed for a whole period have surely expired: they no longer count as ours.
    owned.values().removeIf(h -> !now.isBefore(h.confirmedAt.plus(settings.nodes().mailboxLeaseDuration())));
    int kept = 0;
    for (Mailbox m : order) {
      Held h = owned.get(m.name());
      if (h != null && ++kept > cap) {
        owned.remove(m.name());
        LOG.debug("mailbox {}: lease given up, this engine holds more than its share of {}", m.name(), cap);
        release(h.lease);
      }
    }
    return new Share(Math.max(0, cap - owned.size()));
  }

  /** Gives up every lease this engine holds, so other engines take its mailboxes over at once. */
  private void releaseAll() {
    for (Held h : owned.values()) {
      release(h.lease);
    }
    owned.clear();
  }

  /** Calls the checkpoint store or the leases: a {@link TransientRouterException} is their outage. */
  private <T> T state(java.util.function.Supplier<T> call) {
    try {
      return stateHealth.call(call);
    } catch (StoreOutage e) {
      throw new StateOutage(e);
    }
  }

  /** The checkpoint store or the leases are unreachable: not the mailbox's fault, not the CRM's. */
  private static final class StateOutage extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient StoreOutage outage;

    StateOutage(StoreOutage outage) {
      super(outage.getMessage(), outage.getCause(), false, false);
      this.outage = outage;
    }
  }

  /** This engine no longer holds the mailbox's lease. */
  private static final class LeaseLost extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LeaseLost(String message) {
      super(message, null, false, false);
    }
  }

  /** The lease a pass reads under, renewed when half of it has passed by the engine's clock. */
  private final class Held {
    MailboxLeases.Lease lease;
    /** When the lease was last known to hold its full duration, by the engine's clock. */
    Instant confirmedAt;

    Held(MailboxLeases.Lease lease, Instant confirmedAt) {
      this.lease = lease;
      this.confirmedAt = confirmedAt;
    }

    /**
     * Makes sure the lease still holds for at least half its duration, renewing it when needed.
     * Only the time elapsed on the engine's own clock counts, so the nodes' clocks may differ.
     *
     * @throws LeaseLost when it was taken over
     */
    void check() {
      if (!settings.nodes().leasing()) {
        return;
      }
      Instant now = settings.clock().instant();
      if (Duration.between(confirmedAt, now).compareTo(settings.nodes().mailboxLeaseDuration().dividedBy(2)) < 0) {
        return;
      }
      MailboxLeases.Lease current = lease;
      Optional<MailboxLeases.Lease> renewed = state(() -> settings.nodes().mailboxLeases().renew(current, settings.nodes().mailboxLeaseDuration()));
      if (renewed.isEmpty()) {
        throw new LeaseLost("the lease (token " + current.fencingToken() + ") was taken over by another engine");
      }
      lease = renewed.get();
      confirmedAt = now;
    }

    void save(String mailbox, MailboxCheckpoint checkpoint) {
      if (!settings.nodes().leasing()) {
        state(() -> {
          settings.checkpoints().save(mailbox, checkpoint);
          return null;
        });
        return;
      }
      check();
      long token = lease.fencingToken();
      if (!state(() -> settings.checkpoints().save(mailbox, checkpoint, token))) {
        throw new LeaseLost("the checkpoint store refused the write under token " + token
            + ": a newer lease wrote or holds the mailbox");
      }
    }
  }

  private void runGuarded(Mailbox mailbox, EventSink sink, TickBudget budget, Share share) {
    Health h = health.get(mailbox.name());
    Instant now = settings.clock().instant();
    synchronized (h) {
      if (h.disabled || now.isBefore(h.retryAt)) {
        return;
      }
    }
    if (!storeHealth.isAvailable()) {
      // The store is backed off after an outage: reading would only meet it again (it is the same
      // store for every mailbox), and no message may count an attempt for it.
      LOG.debug("mailbox {} not read this tick: the activity store is backed off", mailbox.name());
      return;
    }
    if (!stateHealth.isAvailable()) {
      LOG.debug("mailbox {} not read this tick: the checkpoint or lease store is backed off", mailbox.name());
      return;
    }
    if (budget.usedUp()) {
      unfinished(mailbox, budget);
      return;
    }
    MDC.put("mailbox", mailbox.name());
    Held held = null;
    try {
      held = share.claim(mailbox);
      if (held == null) {
        return;
      }
      read(mailbox, sink, budget, held);
      Instant done = settings.clock().instant();
      synchronized (h) {
        h.failuresInRow = 0;
        h.lastSuccess = done;
      }
    } catch (StoreOutage e) {
      // The CRM, not the mailbox: its failures in a row stay as they were.
      storeUnavailable(mailbox, e, sink);
    } catch (StateOutage e) {
      stateUnavailable(mailbox, e, sink);
    } catch (LeaseLost e) {
      LOG.warn("mailbox {} stopped: {}; no further post-action or checkpoint for it", mailbox.name(), e.getMessage());
      sink.accept(new RouterEvent.MailboxLeaseLost(mailbox.name(), held.lease.fencingToken(), e.getMessage()));
      owned.remove(mailbox.name()); // nothing to release: it is another engine's now
    } catch (RuntimeException e) {
      failed(mailbox, h, e, sink);
    } finally {
      MDC.remove("mailbox");
    }
  }

  private void release(MailboxLeases.Lease lease) {
    try {
      settings.nodes().mailboxLeases().release(lease);
    } catch (RuntimeException e) {
      // It expires by itself; until then the mailbox waits, which costs time, not messages.
      LOG.warn("releasing the lease of mailbox {} failed; it expires at {}: {}", lease.mailbox(), lease.expiresAt(),
          e.toString());
    }
  }

  /**
   * Reports an outage of the checkpoint store or the leases: the pass at hand stopped after its last
   * whole batch, no further mailbox is read before the backoff ends.
   */
  private void stateUnavailable(Mailbox mailbox, StateOutage e, EventSink sink) {
    String name = mailbox == null ? null : mailbox.name();
    if (!e.outage.fresh) {
      LOG.debug("mailbox {} stopped: the checkpoint or lease store is still unavailable (until {})", name,
          e.outage.retryAt);
      return;
    }
    LOG.warn("the checkpoint or lease store is unavailable: reading stopped at mailbox {}, nothing lost; no mailbox"
        + " is read before {}: {}", name, e.outage.retryAt, e.getMessage());
    sink.accept(new RouterEvent.MailboxStateUnavailable(name, e.getMessage(), e.outage.retryAt));
  }

  private void failed(Mailbox mailbox, Health h, RuntimeException e, EventSink sink) {
    String reason = e.getMessage() == null ? e.toString() : e.getMessage();
    synchronized (h) {
      h.failuresInRow++;
      if (h.failuresInRow >= settings.reading().mailboxFailuresBeforeDisable()) {
        h.disabled = true;
        LOG.warn("mailbox {} disabled after {} failures in a row: {}", mailbox.name(), h.failuresInRow, reason);
        sink.accept(new RouterEvent.MailboxDisabled(mailbox.name(), h.failuresInRow, reason));
        return;
      }
      h.retryAt = settings.clock().instant().plus(mailboxBackoff.delay(h.failuresInRow));
      LOG.warn("mailbox {} failed ({} in a row), next try at {}: {}", mailbox.name(), h.failuresInRow, h.retryAt,
          reason);
      sink.accept(new RouterEvent.MailboxFailed(mailbox.name(), h.failuresInRow, reason, h.retryAt));
    }
  }

  /**
   * Reports a store outage met while reading a mailbox. The batch it interrupted is left whole: no
   * post-action, no checkpoint, no attempt, so it is read again once the store is back, and what it
   * had already created is found again as duplicates.
   */
  private void storeUnavailable(Mailbox mailbox, StoreOutage e, EventSink sink) {
    if (!e.fresh) {
      LOG.debug("mailbox {} stopped: the activity store is still unavailable (until {})", mailbox.name(), e.retryAt);
      return;
    }
    LOG.warn("the activity store is unavailable: reading mailbox {} stopped, nothing counted against its messages;"
        + " no mailbox is read and no email claimed before {}: {}", mailbox.name(), e.retryAt, e.getMessage());
    sink.accept(new RouterEvent.StoreUnavailable("incoming", mailbox.name(), e.getMessage(), e.retryAt));
  }

  void enable(String name) {
    Health h = health.get(name);
    if (h == null) {
      throw new IllegalArgumentException("no mailbox is named " + name + "; configured: " + health.keySet());
    }
    synchronized (h) {
      h.disabled = false;
      h.failuresInRow = 0;
      h.retryAt = Instant.MIN;
    }
  }

  Optional<Instant> lastSuccessfulPass(String name) {
    Health h = health.get(name);
    if (h == null) {
      throw new IllegalArgumentException("no mailbox is named " + name + "; configured: " + health.keySet());
    }
    synchronized (h) {
      return Optional.ofNullable(h.lastSuccess);
    }
  }

  boolean isDisabled(String name) {
    Health h = health.get(name);
    if (h == null) {
      throw new IllegalArgumentException("no mailbox is named " + name + "; configured: " + health.keySet());
    }
    synchronized (h) {
      return h.disabled;
    }
  }

  private void read(Mailbox mailbox, EventSink sink, TickBudget budget, Held held) {
    MailboxCheckpoint checkpoint = state(() -> settings.checkpoints().load(mailbox.name())).orElse(MailboxCheckpoint.START);
    Map<String, Integer> failures = new HashMap<>(checkpoint.failures());
    String cursor = checkpoint.cursor();
    int messagesLeft = settings.incoming().maxMessagesPerMailbox();
    try (MailboxReader.Session session = mailbox.reader().open()) {
      Set<String> retry = Set.copyOf(failures.keySet());
      while (true) {
        // Headers the reader hands early are read (addresses, dates, references) while the rest of
        // its answer is still on the wire; process() takes them from here.
        Map<MessageHeaders, IncomingMessage> early = Collections.synchronizedMap(new IdentityHashMap<>());
        NewMessages batch = session.fetchNew(cursor, retry, messagesLeft, h -> readEarly(mailbox, h, early));
        if (batch.reset()) {
          failures.clear();
        } else if (!retry.isEmpty()) {
          // A retry the reader did not return no longer exists (deleted or moved by someone else):
          // forget it, or the checkpoint would carry it and ask for it on every tick forever.
          Set<String> returned = new HashSet<>();
          for (MessageHeaders h : batch.messages()) {
            returned.add(h.ref());
          }
          for (String ref : retry) {
            if (!returned.contains(ref)) {
              failures.remove(ref);
            }
          }
        }
        Map<String, Disposition> dispositions = new LinkedHashMap<>();
        process(mailbox, session, batch.messages(), early, failures, dispositions, sink);
        if (!dispositions.isEmpty()) {
          // A post-action only under a lease that still holds: after a takeover, the mailbox is the
          // new holder's, and this engine's view of it may be stale.
          held.check();
          session.dispose(dispositions);
        }
        cursor = batch.cursor();
        held.save(mailbox.name(), new MailboxCheckpoint(cursor, failures));
        int fresh = 0;
        for (MessageHeaders h : batch.messages()) {
          if (!retry.contains(h.ref())) {
            fresh++;
          }
        }
        messagesLeft -= fresh;
        retry = Set.of();
        if (!batch.more() || messagesLeft <= 0 || fresh == 0) {
          return;
        }
        if (budget.usedUp()) {
          unfinished(mailbox, budget);
          return;
        }
      }
    }
  }

  /** A message on its way: what the policy decided, and for whom. */
  private record Candidate(IncomingMessage message, Party owner, TrackingDecision decision,
      IncomingContext context) {}

  /** Reads headers the reader handed early; a failure is left for {@link #process}, which reads them again. */
  private static void readEarly(Mailbox mailbox, MessageHeaders h, Map<MessageHeaders, IncomingMessage> early) {
    try {
      early.put(h, IncomingHeaders.parse(mailbox.name(), h));
    } catch (RuntimeException e) {
      // process() meets the same failure and handles it for this message alone
    }
  }

  /** The message of {@code h}: read early, or now. */
  private static IncomingMessage read(Mailbox mailbox, MessageHeaders h, Map<MessageHeaders, IncomingMessage> early) {
    IncomingMessage m = early.remove(h);
    return m != null ? m : IncomingHeaders.parse(mailbox.name(), h);
  }

  private void process(Mailbox mailbox, MailboxReader.Session session, List<MessageHeaders> headers,
      Map<MessageHeaders, IncomingMessage> early, Map<String, Integer> failures, Map<String, Disposition> dispositions,
      EventSink sink) {
    List<Candidate> toDownload = new ArrayList<>();
    for (MessageHeaders h : headers) {
      if (h.size() > settings.incoming().maxMessageSize()) {
        reject(mailbox, h.ref(), read(mailbox, h, early).messageId(),
            TrackingDecision.reject(Reason.TOO_LARGE, h.size() + " bytes, over maxMessageSize " + settings.incoming().maxMessageSize()),
            failures, dispositions, sink);
        continue;
      }
      if (mailbox.kind() == Mailbox.Kind.FORWARD) {
        // The original is inside the body: it has to be downloaded before anything can be decided.
        toDownload.add(new Candidate(read(mailbox, h, early), null, null, null));
        continue;
      }
      try {
        IncomingMessage m = read(mailbox, h, early);
        Candidate c = decide(mailbox, m, mailbox.owner());
        if (c.decision().track() || mayBeReport(mailbox, c)) {
          toDownload.add(c);
        } else {
          conclude(mailbox, c, failures, dispositions, sink);
        }
      } catch (StoreOutage e) {
        throw e; // the CRM, not this message: the whole pass stops
      } catch (RuntimeException e) {
        messageFailed(mailbox, h.ref(), null, e, failures, dispositions, sink);
      }
    }
    for (int from = 0; from < toDownload.size(); from += DOWNLOAD_CHUNK) {
      List<Candidate> chunk = toDownload.subList(from, Math.min(toDownload.size(), from + DOWNLOAD_CHUNK));
      download(mailbox, session, chunk, failures, dispositions, sink);
    }
  }

  private Candidate decide(Mailbox mailbox, IncomingMessage m, Party owner) {
    if (m.messageId() != null) {
      Optional<ActivityRef> existing = storeHealth.call(() -> settings.store().findByMessageId(m.messageId()));
      if (existing.isPresent()) {
        boolean ours = existing.get().status() != EmailStatus.RECEIVED;
        TrackingDecision d = ours
            ? TrackingDecision.reject(Reason.LOOP, "the CRM sent this message itself (activity "
                + existing.get().activityId() + ")")
            : TrackingDecision.reject(Reason.DUPLICATE, "activity " + existing.get().activityId() + " exists");
        return new Candidate(m, owner, d, null);
      }
    }
    IncomingContext context = new IncomingContext(settings.store(), storeHealth, tokens, m, owner);
    if (m.autoResponse() == AutoResponse.LOOP) {
      return new Candidate(m, owner, TrackingDecision.reject(Reason.LOOP, "a mail loop"), context);
    }
    TrackingPolicy policy = mailbox.policy() != null ? mailbox.policy() : settings.policy();
    TrackingDecision decision = policy.decide(m, context);
    if (decision == null) {
      throw new IllegalStateException("the tracking policy returned null for message " + m.ref());
    }
    return new Candidate(m, owner, decision, context);
  }

  /** Records a decision that needs no download: a rejection, a duplicate, a loop. */
  private void conclude(Mailbox mailbox, Candidate c, Map<String, Integer> failures,
      Map<String, Disposition> dispositions, EventSink sink) {
    if (c.decision().reason() == Reason.DUPLICATE) {
      // Already an activity: the message counts as tracked, so its post-action runs.
      failures.remove(c.message().ref());
      dispositions.put(c.message().ref(), Disposition.TRACKED);
      LOG.trace("duplicate message {} in {}", c.message().messageId(), mailbox.name());
      sink.accept(new RouterEvent.MessageRejected(mailbox.name(), c.message().ref(), c.message().messageId(),
          c.decision()));
      return;
    }
    reject(mailbox, c.message().ref(), c.message().messageId(), c.decision(), failures, dispositions, sink);
  }

  private void reject(Mailbox mailbox, String ref, String messageId, TrackingDecision decision,
      Map<String, Integer> failures, Map<String, Disposition> dispositions, EventSink sink) {
    failures.remove(ref);
    dispositions.put(ref, Disposition.REJECTED);
    if (LOG.isDebugEnabled()) { // the MDC is for this line only: no map work per message when it is off
      MDC.put("messageId", String.valueOf(messageId));
      try {
        LOG.debug("rejected message {} in {}: {} {}", messageId, mailbox.name(), decision.reason(), decision.detail());
      } finally {
        MDC.remove("messageId");
      }
    }
    sink.accept(new RouterEvent.MessageRejected(mailbox.name(), ref, messageId, decision));
  }

  private void download(Mailbox mailbox, MailboxReader.Session session, List<Candidate> chunk,
      Map<String, Integer> failures, Map<String, Disposition> dispositions, EventSink sink) {
    List<String> refs = chunk.stream().map(c -> c.message().ref()).toList();
    Map<String, RawMessage> byRef = new HashMap<>();
    try {
      for (RawMessage raw : session.fetchMessages(refs)) {
        byRef.put(raw.ref(), raw);
      }
    } catch (TransientRouterException e) {
      throw e; // the connection: a mailbox problem, retried with backoff
    } catch (RuntimeException e) {
      if (chunk.size() > 1) {
        // One message may be what the server or reader chokes on: try them one by one, so it alone fails.
        for (Candidate c : chunk) {
          download(mailbox, session, List.of(c), failures, dispositions, sink);
        }
      } else {
        Candidate c = chunk.get(0);
        messageFailed(mailbox, c.message().ref(), c.message().messageId(), e, failures, dispositions, sink);
      }
      return;
    }
    for (Candidate c : chunk) {
      RawMessage raw = byRef.get(c.message().ref());
      if (raw == null) {
        // Expunged by another client meanwhile: nothing left to do but say so.
        failures.remove(c.message().ref());
        LOG.debug("message {} ({}) in {} was deleted or moved by another client before it could be downloaded",
            c.message().ref(), c.message().messageId(), mailbox.name());
        sink.accept(new RouterEvent.MessageGone(mailbox.name(), c.message().ref(), c.message().messageId()));
        continue;
      }
      try {
        if (mayBeReport(mailbox, c) && deliveryReport(mailbox, c, raw, failures, dispositions, sink)) {
          continue;
        }
      } catch (StoreOutage e) {
        throw e; // the CRM, not this message: the whole pass stops
      } catch (Exception e) {
        messageFailed(mailbox, c.message().ref(), c.message().messageId(), e, failures, dispositions, sink);
        continue;
      }
      ContentDigest digest = new ContentDigest();
      try (MessageContent content = MessageContent.parse(digest.watching(raw), settings.incoming().maxAttachmentSize(),
          settings.incoming().blockedAttachmentExtensions(), mailbox.kind() == Mailbox.Kind.FORWARD)) {
        if (mailbox.kind() == Mailbox.Kind.FORWARD) {
          forwarded(mailbox, c, raw, content, digest.finish(raw), failures, dispositions, sink);
        } else {
          create(mailbox, c, content, digest.finish(raw), c.message().headers().receivedAt(), failures,
              dispositions, sink);
        }
      } catch (StoreOutage e) {
        throw e; // the CRM, not this message: the whole pass stops
      } catch (Exception e) {
        messageFailed(mailbox, c.message().ref(), c.message().messageId(), e, failures, dispositions, sink);
      }
    }
  }

  private void forwarded(Mailbox mailbox, Candidate outer, RawMessage raw, MessageContent content, String outerDigest,
      Map<String, Integer> failures, Map<String, Disposition> dispositions, EventSink sink) throws Exception {
    String ref = raw.ref();
    IncomingMessage wrapper = outer.message();
    if (content.forwarded.isEmpty()) {
      reject(mailbox, ref, wrapper.messageId(), TrackingDecision.reject(Reason.NO_RECIPIENT_MATCH,
          "no forwarded message attached (a forward mailbox expects message/rfc822 attachments)"),
          failures, dispositions, sink);
      return;
    }
    Party forwarder = null;
    if (wrapper.from() != null) {
      EmailAddress from = wrapper.from();
      forwarder = storeHealth.call(() -> settings.store().resolve(from)).stream().filter(p -> p.type() == Party.Type.USER)
          .findFirst().orElse(null);
    }
    if (forwarder == null) {
      reject(mailbox, ref, wrapper.messageId(), TrackingDecision.reject(Reason.NO_RECIPIENT_MATCH,
          "the forwarding address " + wrapper.from() + " is not a CRM user"), failures, dispositions, sink);
      return;
    }
    // A user may forward several emails at once, each attached: every one is decided on and tracked
    // on its own (each has its own Message-ID, so a retry after a failure creates none twice); the
    // forward counts as tracked when any of them was.
    Disposition outcome = null;
    for (int i = 0; i < content.forwarded.size(); i++) {
      try (MessageContent original = content.unwrapped(i, settings.incoming().maxAttachmentSize(), settings.incoming().blockedAttachmentExtensions())) {
        MessageHeaders innerHeaders = original.headers(ref, wrapper.headers().receivedAt());
        IncomingMessage inner = IncomingHeaders.parse(mailbox.name(), innerHeaders);
        Candidate c = decide(mailbox, inner, forwarder);
        if (c.decision().track()) {
          create(mailbox, c, original, ContentDigest.of(content.forwarded.get(i), outerDigest, i),
              wrapper.headers().receivedAt(), failures, dispositions, sink);
        } else {
          conclude(mailbox, c, failures, dispositions, sink);
        }
      }
      Disposition now = dispositions.get(ref);
      if (outcome != Disposition.TRACKED && now != null) {
        outcome = now;
      }
    }
    if (outcome != null) {
      dispositions.put(ref, outcome);
    }
  }

  /**
   * Creates the activity of a downloaded message.
   *
   * @param contentDigest the digest of the whole message ({@link ContentDigest}): its key when it
   *     has no Message-ID, and how a different message reusing a Message-ID is told apart
   */
  private void create(Mailbox mailbox, Candidate c, MessageContent content, String contentDigest, Instant receivedAt,
      Map<String, Integer> failures, Map<String, Disposition> dispositions, EventSink sink) {
    IncomingMessage m = c.message();
    String key = IncomingHeaders.dedupKey(m, contentDigest);
    // Whether the message's own attachment bytes failed while the store read them: then a
    // TransientRouterException the store made of that is the message's failure, not an outage.
    AtomicBoolean contentFailed = new AtomicBoolean();
    List<Attachment> attachments = new ArrayList<>(content.attachments.size());
    for (Attachment a : content.attachments) {
      attachments.add(new Attachment(a.fileName(), a.contentType(), a.size(), watched(a.content(), contentFailed)));
    }
    ReceivedEmail email = ReceivedEmail.builder()
        .dedupKey(key).messageId(m.messageId()).mailbox(mailbox.name()).owner(c.owner())
        .from(m.from()).to(m.to()).cc(m.cc()).subject(m.subject())
        .sentAt(m.sentAt()).receivedAt(receivedAt != null ? receivedAt : settings.clock().instant())
        .textBody(content.text).htmlBody(content.html).attachments(attachments).droppedAttachments(content.dropped)
        .inReplyTo(m.inReplyTo()).references(m.references())
        .correlation(c.context() == null ? null : c.context().correlation().orElse(null))
        .decision(c.decision()).contentDigest(contentDigest)
        .build();
    MDC.put("messageId", String.valueOf(m.messageId()));
    try {
      ReceiveResult result = storeHealth.call(() -> settings.store().createReceived(email), contentFailed::get);
      failures.remove(m.ref());
      dispositions.put(m.ref(), Disposition.TRACKED);
      LOG.trace("tracked message {} as activity {} (created: {})", m.messageId(), result.activityId(),
          result.created());
      String stored = result.created() ? null : result.contentDigest();
      if (stored != null && !stored.equals(contentDigest)) {
        // Dynamics deduplicates on the Message-ID, and so does the router; but a different message
        // that reuses one (a broken client, a forged copy) must not vanish unmentioned.
        LOG.warn("message {} ({}) in {} has the Message-ID of activity {} but different content ({} there, {} here):"
            + " tracked as that activity, this copy's content is not stored", m.ref(), m.messageId(), mailbox.name(),
            result.activityId(), stored, contentDigest);
      }
      if (!content.degraded.isEmpty()) {
        LOG.warn("message {} tracked with {} part(s) kept undecoded: {}", m.messageId(), content.degraded.size(),
            content.degraded);
      }
      if (!content.dropped.isEmpty()) {
        LOG.debug("message {} kept without {} attachment(s): {}", m.messageId(), content.dropped.size(),
            content.dropped);
      }
      sink.accept(new RouterEvent.MessageTracked(mailbox.name(), m.ref(), m.messageId(), result.activityId(),
          result.created(), c.decision(), email.correlation(), content.dropped, contentDigest, stored));
    } finally {
      MDC.remove("messageId");
    }
  }

  /**
   * Whether a message is downloaded to look for a delivery report in it, whatever the policy
   * decided: its headers look like a bounce's, and it is no duplicate or loop (forward mailboxes
   * hold forwarded originals, not reports). A mailbox whose policy tracks nothing is left alone.
   */
  private static boolean mayBeReport(Mailbox mailbox, Candidate c) {
    if (mailbox.kind() == Mailbox.Kind.FORWARD || c.decision() == null) {
      return false;
    }
    Reason r = c.decision().reason();
    return r != Reason.DUPLICATE && r != Reason.LOOP && r != Reason.TOO_LARGE && r != Reason.TRACKING_DISABLED
        && DeliveryReports.mayBe(c.message());
  }

  /**
   * Reads a downloaded bounce candidate as a delivery report and records it on the email it is
   * about. A report is about an email, not an answer to it: a policy's correlation (In-Reply-To, a
   * tracking token in "Undeliverable: ...") does not make it a Received activity; any other
   * tracking decision does, beside the record.
   *
   * @return {@code true} when the message is concluded here; {@code false} when it goes on to
   *     become a Received activity
   */
  private boolean deliveryReport(Mailbox mailbox, Candidate c, RawMessage raw, Map<String, Integer> failures,
      Map<String, Disposition> dispositions, EventSink sink) throws IOException {
    IncomingMessage m = c.message();
    byte[] head;
    try (InputStream in = raw.content().open()) {
      head = in.readNBytes(DeliveryReports.MAX_SCAN); // bounded: a report's status and headers come first
    }
    Optional<DeliveryReports.Parsed> parsed = DeliveryReports.parse(head, true);
    if (parsed.isEmpty()) {
      if (c.decision().track()) {
        return false;
      }
      reject(mailbox, m.ref(), m.messageId(), c.decision(), failures, dispositions, sink);
      return true;
    }
    DeliveryReports.Parsed p = parsed.get();
    boolean tracks = c.decision().track() && c.decision().reason() != Reason.CORRELATION_MATCH;
    List<Map.Entry<String, DeliveryReport.Match>> tries = new ArrayList<>();
    if (p.envelopeId() != null) {
      tries.add(Map.entry(p.envelopeId(), DeliveryReport.Match.ENVELOPE_ID));
    }
    p.returnedIds().forEach(id -> tries.add(Map.entry(id, DeliveryReport.Match.RETURNED_HEADERS)));
    p.textIds().forEach(id -> tries.add(Map.entry(id, DeliveryReport.Match.RETURNED_TEXT)));
    Set<String> tried = new HashSet<>();
    for (Map.Entry<String, DeliveryReport.Match> t : tries) {
      String id = t.getKey();
      if (id.equals(m.messageId()) || !tried.add(id) || tried.size() > DeliveryReports.MAX_CANDIDATES + 4) {
        continue;
      }
      Optional<ActivityRef> email = storeHealth.call(() -> settings.store().findByMessageId(id));
      if (email.isEmpty() || email.get().status() == EmailStatus.RECEIVED) {
        continue; // a report is about an email the CRM sent
      }
      DeliveryReport report = new DeliveryReport(mailbox.name(), m.ref(), m.messageId(), id, t.getValue(),
          p.envelopeId(), p.reportingMta(), m.headers().receivedAt(), p.recipients());
      storeHealth.run(() -> settings.store().recordDeliveryReport(email.get(), report));
      LOG.debug("delivery report {} in {} ({}) recorded on activity {}: {}", m.messageId(), mailbox.name(),
          p.shape(), email.get().activityId(), p.recipients());
      sink.accept(new RouterEvent.DeliveryReported(mailbox.name(), m.ref(), m.messageId(), email.get().activityId(),
          report));
      if (tracks) {
        return false;
      }
      failures.remove(m.ref());
      dispositions.put(m.ref(), Disposition.TRACKED);
      sink.accept(new RouterEvent.MessageRejected(mailbox.name(), m.ref(), m.messageId(),
          TrackingDecision.reject(Reason.AUTO_RESPONSE, "a delivery report on activity " + email.get().activityId()
              + ", recorded there; not tracked as an email")));
      return true;
    }
    if (tracks) {
      return false;
    }
    String about = "a delivery report about no email the CRM sent (" + tried.size() + " Message-IDs looked up)";
    TrackingDecision d = c.decision().track() ? TrackingDecision.reject(Reason.AUTO_RESPONSE, about)
        : TrackingDecision.reject(c.decision().reason(), about + "; " + c.decision().detail());
    reject(mailbox, m.ref(), m.messageId(), d, failures, dispositions, sink);
    return true;
  }

  /** A source that notes in {@code failed} when the content can't be opened or read. */
  private static ContentSource watched(ContentSource source, AtomicBoolean failed) {
    return () -> {
      InputStream in;
      try {
        in = source.open();
      } catch (IOException | RuntimeException e) {
        failed.set(true);
        throw e;
      }
      return new FilterInputStream(in) {
        @Override
        public int read() throws IOException {
          try {
            return super.read();
          } catch (IOException | RuntimeException e) {
            failed.set(true);
            throw e;
          }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          try {
            return super.read(b, off, len);
          } catch (IOException | RuntimeException e) {
            failed.set(true);
            throw e;
          }
        }
      };
    };
  }

  private void messageFailed(Mailbox mailbox, String ref, String messageId, Exception e,
      Map<String, Integer> failures, Map<String, Disposition> dispositions, EventSink sink) {
    int attempts = failures.getOrDefault(ref, 0) + 1;
    String reason = MessageContent.withoutQuotedText(e.toString());
    boolean quarantine = attempts >= settings.incoming().maxMessageAttempts();
    if (quarantine) {
      failures.remove(ref);
      dispositions.put(ref, Disposition.QUARANTINED);
      LOG.warn("message {} ({}) in {} failed {} times, moved to quarantine: {}", ref, messageId, mailbox.name(),
          attempts, reason);
    } else {
      failures.put(ref, attempts);
      LOG.warn("message {} ({}) in {} failed (attempt {} of {}), tried again next tick: {}", ref, messageId,
          mailbox.name(), attempts, settings.incoming().maxMessageAttempts(), reason);
    }
    sink.accept(new RouterEvent.MessageFailed(mailbox.name(), ref, messageId, attempts, reason, quarantine));
  }

  @Override
  public void close() {
    workers.close();
    if (settings.nodes().leasing()) {
      releaseAll();
    }
    // A reader may hold a connection between ticks (an IMAP reader keeping its connection): the
    // engine it was handed to lets it go. Each reader once, even if two mailboxes share it.
    java.util.Set<MailboxReader> closed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Mailbox m : settings.mailboxes()) {
      if (m.reader() instanceof AutoCloseable reader && closed.add(m.reader())) {
        try {
          reader.close();
        } catch (Exception | LinkageError e) {
          LOG.warn("closing the reader of mailbox {} failed", m.name(), e);
        }
      }
    }
  }
}
