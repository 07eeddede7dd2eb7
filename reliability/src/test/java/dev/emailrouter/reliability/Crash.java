package dev.emailrouter.reliability;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailIdentity;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.core.CheckpointStore;
import dev.emailrouter.core.MailboxCheckpoint;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Simulates a process crash at a chosen step: the engine gets no hook to stop mid-step, so the
 * SPIs it calls are wrapped, and at the chosen point (the n-th time it is reached) the wrapper
 * kills the "process" — its sockets are cut and refused (the hooks), every later SPI call of that
 * engine fails — and throws {@link CrashError}, an {@link Error} the engine does not catch, so
 * nothing after the point runs. The test then discards the engine and starts a fresh one on the
 * same durable state. Thread-safe.
 */
final class Crash {

  /** Where a process can die. */
  enum Point {
    /** Outgoing: the store claimed the emails (status Sending, leased); nothing else happened. */
    AFTER_CLAIM,
    /** Outgoing: the Message-ID and tracking token are recorded; nothing was sent. */
    AFTER_RECORD_IDENTITY,
    /** Outgoing: the connection dies in the middle of the message data; the server never got its end. */
    MID_DATA,
    /** Outgoing: the server accepted the email (250), but Sent is not recorded. */
    ACCEPTED_BEFORE_MARK_SENT,
    /** Outgoing: Sent is recorded; the rest of the batch is not. */
    AFTER_MARK_SENT,
    /** Incoming: the new messages' headers are read; nothing decided. */
    AFTER_FETCH_HEADERS,
    /** Incoming: the tracked messages are downloaded; no activity created. */
    AFTER_DOWNLOAD,
    /** Incoming: the activity is created, the post-action not run. */
    AFTER_CREATE_RECEIVED,
    /** Incoming: the post-action ran (moved, deleted, flagged), the checkpoint is not saved. */
    AFTER_POST_ACTION,
    /** Incoming: the checkpoint is saved, the session not closed (POP3: no QUIT, so no deletion committed). */
    AFTER_CHECKPOINT
  }

  /** The "process" died; the engine lets it through. */
  static final class CrashError extends Error {
    private static final long serialVersionUID = 1L;

    CrashError(String message) {
      super(message);
    }
  }

  private final Point point;
  private final int occurrence;
  private final Map<Point, Integer> reached = new EnumMap<>(Point.class);
  private final List<Runnable> onKill = new CopyOnWriteArrayList<>();
  private volatile boolean dead;
  private volatile String diedAt;
  /** Emails the server accepted (for some recipients at least) whose outcome the store has not recorded yet. */
  private final Set<String> unrecorded = ConcurrentHashMap.newKeySet();
  private volatile Set<String> unrecordedAtDeath = Set.of();

  /** A crash at the {@code occurrence}-th time {@code point} is reached; {@code point} null: never. */
  Crash(Point point, int occurrence) {
    this.point = point;
    this.occurrence = occurrence;
  }

  static Crash never() {
    return new Crash(null, 0);
  }

  /** Runs when the process dies (cut its connections). */
  void onKill(Runnable hook) {
    onKill.add(hook);
  }

  boolean dead() {
    return dead;
  }

  /** Where it died, e.g. "AFTER_CLAIM #1", or null. */
  String diedAt() {
    return diedAt;
  }

  /** How often each point was reached. */
  synchronized int reached(Point p) {
    return reached.getOrDefault(p, 0);
  }

  /**
   * The emails the server had accepted (for some recipients at least), or was being handed, and
   * whose outcome the store had not recorded when the process died: the documented at-least-once
   * repeats (up to the engine's {@code sentBatchSize} per send session, as Sent is recorded in
   * groups while the session sends on). Empty while alive.
   */
  Set<String> unrecordedAtDeath() {
    return unrecordedAtDeath;
  }

  private void accepted(String activityId) {
    unrecorded.add(activityId);
  }

  private void recorded(String activityId) {
    unrecorded.remove(activityId);
  }

  void alive() {
    if (dead) {
      throw new CrashError("the process is dead (" + diedAt + ")");
    }
  }

  /** Called when the flow reaches {@code p}; dies here if this is the chosen point and time. */
  void at(Point p) {
    alive();
    boolean die;
    synchronized (this) {
      int n = reached.merge(p, 1, Integer::sum);
      die = p == point && n == occurrence;
    }
    if (die) {
      kill(p + " #" + occurrence);
    }
  }

  /** Whether reaching {@code p} now would be the chosen crash (counts the visit). */
  synchronized boolean due(Point p) {
    int n = reached.merge(p, 1, Integer::sum);
    return p == point && n == occurrence;
  }

  void kill(String where) {
    synchronized (this) {
      if (dead) {
        throw new CrashError("the process is dead (" + diedAt + ")");
      }
      dead = true;
      diedAt = where;
      unrecordedAtDeath = Set.copyOf(unrecorded);
    }
    for (Runnable r : onKill) {
      r.run();
    }
    throw new CrashError("crash at " + where);
  }

  /** The store, dying after claim, identity, Sent, and a created activity. */
  static final class Store implements ActivityStore {
    private final ActivityStore delegate;
    private final Crash crash;

    Store(ActivityStore delegate, Crash crash) {
      this.delegate = delegate;
      this.crash = crash;
    }

    @Override
    public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
      crash.alive();
      List<ClaimedEmail> claimed = delegate.claimPendingSend(request);
      if (!claimed.isEmpty()) {
        crash.at(Point.AFTER_CLAIM);
      }
      return claimed;
    }

    @Override
    public long nextTrackingNumber() {
      crash.alive();
      return delegate.nextTrackingNumber();
    }

    @Override
    public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
      crash.alive();
      delegate.recordIdentity(claim, messageId, trackingToken, subject);
      crash.at(Point.AFTER_RECORD_IDENTITY);
    }

    @Override
    public void markSent(Claim claim, Instant sentAt, SendResult result) {
      crash.at(Point.ACCEPTED_BEFORE_MARK_SENT);
      delegate.markSent(claim, sentAt, result);
      crash.recorded(claim.activityId());
      crash.at(Point.AFTER_MARK_SENT);
    }

    @Override
    public List<Long> nextTrackingNumbers(int count) {
      crash.alive();
      return delegate.nextTrackingNumbers(count);
    }

    @Override
    public List<String> recordIdentities(List<EmailIdentity> identities) {
      // One point for the batch: a store records it in one transaction, so the process dies before
      // or after all of it, never in its middle.
      crash.alive();
      List<String> stale = delegate.recordIdentities(identities);
      crash.at(Point.AFTER_RECORD_IDENTITY);
      return stale;
    }

    @Override
    public List<String> markSentAll(List<SentOutcome> outcomes) {
      // One point for the group: the store records it in one transaction.
      crash.at(Point.ACCEPTED_BEFORE_MARK_SENT);
      List<String> stale = delegate.markSentAll(outcomes);
      outcomes.forEach(o -> crash.recorded(o.claim().activityId()));
      crash.at(Point.AFTER_MARK_SENT);
      return stale;
    }

    @Override
    public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
      crash.alive();
      delegate.markRetry(claim, nextAttemptAt, attempts, reason);
      crash.recorded(claim.activityId());
    }

    @Override
    public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
      crash.alive();
      delegate.markPartlySent(claim, nextAttemptAt, attempts, result);
      crash.recorded(claim.activityId());
    }

    @Override
    public void markFailed(Claim claim, int attempts, SendResult result) {
      crash.alive();
      delegate.markFailed(claim, attempts, result);
      crash.recorded(claim.activityId());
    }

    @Override
    public Optional<ActivityRef> findByMessageId(String messageId) {
      crash.alive();
      return delegate.findByMessageId(messageId);
    }

    @Override
    public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
      crash.alive();
      return delegate.findByTrackingToken(trackingToken);
    }

    @Override
    public List<Party> resolve(EmailAddress address) {
      crash.alive();
      return delegate.resolve(address);
    }

    @Override
    public ReceiveResult createReceived(ReceivedEmail email) {
      crash.alive();
      ReceiveResult result = delegate.createReceived(email);
      crash.at(Point.AFTER_CREATE_RECEIVED);
      return result;
    }
  }

  /** The transport; at {@link Point#MID_DATA} it has the proxy cut the connection mid-DATA and refuse the reconnect. */
  static final class Transport implements MailTransport {
    private final MailTransport delegate;
    private final Crash crash;
    private final FaultProxy proxy;

    Transport(MailTransport delegate, Crash crash, FaultProxy proxy) {
      this.delegate = delegate;
      this.crash = crash;
      this.proxy = proxy;
    }

    @Override
    public Session openSession() {
      crash.alive();
      MailTransport.Session session = delegate.openSession();
      return new Session() {
        @Override
        public SendResult send(OutgoingEmail email) {
          return send(email, null);
        }

        /** Passes the next email on, so the crashes also hit an email begun behind another's end of data. */
        @Override
        public SendResult send(OutgoingEmail email, OutgoingEmail next) {
          crash.alive();
          if (!crash.due(Point.MID_DATA)) {
            // Counted from the moment it is handed over: the engine records Sent on another thread,
            // and a death there can leave this email delivered (its end of data written) and unrecorded.
            crash.accepted(email.activityId());
            SendResult result = session.send(email, next);
            if (result.recipientsWith(SendResult.Outcome.ACCEPTED).isEmpty()
                && result.outcome() != SendResult.Outcome.ACCEPTED) {
              crash.recorded(email.activityId()); // nothing delivered: nothing to repeat
            }
            return result;
          }
          proxy.refuseConnections(true);
          // Cut within this email's own content: its DATA may have gone out behind the email before.
          proxy.arm(FaultProxy.Fault.when("crash mid-DATA", FaultProxy.Direction.UP,
              "^Message-ID: " + java.util.regex.Pattern.quote(email.messageId())).cut(FaultProxy.Direction.UP, 60));
          try {
            session.send(email, next);
          } catch (RuntimeException e) {
            // the reconnect was refused: the process is gone anyway
          }
          crash.kill(Point.MID_DATA + " #" + crash.occurrence);
          throw new AssertionError("unreachable");
        }

        @Override
        public void close() {
          session.close();
        }
      };
    }

    @Override
    public String describe() {
      return delegate.describe();
    }
  }

  /** The reader, dying after headers, download and post-actions. */
  static final class Reader implements MailboxReader {
    private final MailboxReader delegate;
    private final Crash crash;

    Reader(MailboxReader delegate, Crash crash) {
      this.delegate = delegate;
      this.crash = crash;
    }

    @Override
    public String describe() {
      return delegate.describe();
    }

    @Override
    public Session open() {
      crash.alive();
      MailboxReader.Session session = delegate.open();
      return new Session() {
        @Override
        public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
          crash.alive();
          NewMessages found = session.fetchNew(cursor, retry, max);
          if (!found.messages().isEmpty()) {
            crash.at(Point.AFTER_FETCH_HEADERS);
          }
          return found;
        }

        @Override
        public List<RawMessage> fetchMessages(List<String> refs) {
          crash.alive();
          List<RawMessage> raw = session.fetchMessages(refs);
          crash.at(Point.AFTER_DOWNLOAD);
          return new ArrayList<>(raw);
        }

        @Override
        public void dispose(Map<String, Disposition> dispositions) {
          crash.alive();
          session.dispose(dispositions);
          crash.at(Point.AFTER_POST_ACTION);
        }

        @Override
        public void close() {
          // After a crash the sockets are cut already, so this sends nothing (no QUIT, no LOGOUT); it frees files.
          session.close();
        }
      };
    }
  }

  /** The checkpoint store, dying right after a save. */
  static final class Checkpoints implements CheckpointStore {
    private final CheckpointStore delegate;
    private final Crash crash;

    Checkpoints(CheckpointStore delegate, Crash crash) {
      this.delegate = delegate;
      this.crash = crash;
    }

    @Override
    public Optional<MailboxCheckpoint> load(String mailbox) {
      crash.alive();
      return delegate.load(mailbox);
    }

    @Override
    public void save(String mailbox, MailboxCheckpoint checkpoint) {
      crash.alive();
      delegate.save(mailbox, checkpoint);
      crash.at(Point.AFTER_CHECKPOINT);
    }
  }
}
