package dev.emailrouter.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides which engine reads a mailbox when several engines (nodes of one host) share the same
 * mailboxes: each mailbox is read by one engine at a time, under a lease.
 *
 * <p>Before it reads a mailbox the engine {@linkplain #acquire acquires} the mailbox's lease; a
 * mailbox whose lease another live owner holds is skipped for this tick, quietly. The engine keeps
 * its leases from tick to tick: at each tick it {@linkplain #renew renews} those it holds, and while
 * it reads it renews again whenever half of the duration has passed (by the engine's own clock,
 * which measures only the time since the last confirmation, so the nodes' clocks may differ) and
 * before every post-action and checkpoint. It {@linkplain #release releases} a lease when it holds
 * more than its share (another engine joined) and all of them when it is closed. Every checkpoint
 * write is fenced by the lease's {@link Lease#fencingToken()} ({@link CheckpointStore#save(String,
 * MailboxCheckpoint, long)}), so an engine whose lease was taken over never moves a checkpoint back.
 * When an engine dies, its leases expire and the other engines take its mailboxes over at their
 * first tick after that: within the lease duration plus one tick interval of its last tick.
 *
 * <p>Work spreads by fair share: at the start of each tick the engine announces itself with {@link
 * #liveOwners} and holds at most {@code ceil(mailboxes / live owners)} leases that tick: the ones it
 * kept, then new ones, starting where its previous acquisition stopped (a random place at first, so
 * engines started together don't race for the same mailboxes). So with 3 engines and 300 mailboxes
 * each reads about 100 per tick, the same ones from tick to tick while the set of engines stays the
 * same, and each mailbox is read at every tick by one engine.
 *
 * <p>Ready-made: {@link #singleNode()} (the engine's default: it owns every mailbox, nothing is
 * stored, checkpoints are written unfenced, exactly as an engine without leases) and {@link
 * #inMemory(Clock)} (engines in one process). router-jdbc's {@code JdbcMailboxLeases} keeps leases
 * in a database table with the database's clock, for engines on several machines; a host may keep
 * them in its own store by implementing this interface, keeping the promises its methods state
 * (router-jdbc's tests, {@code MailboxLeasesContract}, check them for the ready implementations).
 *
 * <p>Implementations must be thread-safe: an engine reading mailboxes in parallel calls them from
 * several threads at once. A call that fails because the store behind it is unreachable throws
 * {@link dev.emailrouter.api.TransientRouterException}: the engine then stops reading for this tick,
 * with nothing lost, and says so ({@link RouterEvent.MailboxStateUnavailable}).
 */
public interface MailboxLeases {

  /**
   * A lease on one mailbox: who holds it, with which fencing token, until when.
   *
   * @param mailbox the mailbox name ({@link Mailbox#name()})
   * @param owner the engine that holds it
   * @param fencingToken a number that grows each time the mailbox's lease changes hands (or is
   *     acquired again); at least 0
   * @param expiresAt when it ends unless renewed, by the lease store's clock
   */
  record Lease(String mailbox, String owner, long fencingToken, Instant expiresAt) {
    /**
     * Validates the components.
     *
     * @param mailbox the mailbox name ({@link Mailbox#name()})
     * @param owner the engine that holds it
     * @param fencingToken a number that grows each time the mailbox's lease changes hands (or is acquired again); at least 0
     * @param expiresAt when it ends unless renewed, by the lease store's clock
     */
    public Lease {
      Objects.requireNonNull(mailbox, "mailbox");
      Objects.requireNonNull(owner, "owner");
      Objects.requireNonNull(expiresAt, "expiresAt");
      if (fencingToken < 0) {
        throw new IllegalArgumentException("fencingToken must be at least 0, was " + fencingToken);
      }
    }
  }

  /**
   * Announces that {@code owner} is alive for {@code ttl} and counts the owners alive now, itself
   * included; the engine calls it once per tick to size its fair share of the mailboxes.
   *
   * @param owner this engine's owner name
   * @param ttl how long the announcement holds (the engine passes its lease duration)
   * @return the number of live owners, at least 1
   */
  int liveOwners(String owner, Duration ttl);

  /**
   * Acquires a mailbox's lease when it is free: never held, released, expired, or held by the same
   * owner. Each successful acquisition returns a fencing token greater than every token issued for
   * that mailbox before.
   *
   * @param mailbox the mailbox name
   * @param owner this engine's owner name
   * @param duration how long the lease holds unless renewed
   * @return the lease, or empty while another owner holds a live lease on the mailbox
   */
  Optional<Lease> acquire(String mailbox, String owner, Duration duration);

  /**
   * Extends a lease this owner holds, keeping its fencing token.
   *
   * @param lease the lease as last acquired or renewed
   * @param duration how long it holds from now
   * @return the renewed lease, or empty when the lease was taken over (another token was issued for
   *     the mailbox since): the caller must stop working on the mailbox
   */
  Optional<Lease> renew(Lease lease, Duration duration);

  /**
   * Gives a lease up, so another owner may acquire the mailbox at once. Does nothing when the lease
   * was taken over already.
   *
   * @param lease the lease
   */
  void release(Lease lease);

  /**
   * Leases for an engine that is alone: it owns every mailbox, with fencing token 0 and no expiry.
   * The engine's default; with it, the engine neither spreads work nor fences checkpoint writes.
   *
   * @return the shared instance
   */
  static MailboxLeases singleNode() {
    return SingleNodeLeases.INSTANCE;
  }

  /**
   * Leases in memory, for several engines in one process sharing this instance; lost when the
   * process ends.
   *
   * @param clock the clock that decides expiry (tests pass one they move)
   * @return a new, empty lease table
   */
  static MailboxLeases inMemory(Clock clock) {
    return new InMemoryMailboxLeases(clock);
  }
}
