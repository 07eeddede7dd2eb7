package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.core.MailboxLeases;
import dev.emailrouter.core.MailboxLeases.Lease;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The promises every {@link MailboxLeases} must keep, stated once and run against each
 * implementation here: in memory, and {@link JdbcMailboxLeases} on PostgreSQL and H2. The router
 * reads each mailbox with one engine at a time, and never lets a checkpoint move back, only if the
 * leases keep these: one live holder per mailbox, a fencing token that grows with every acquisition,
 * no renewal after a takeover. The tests never sleep: a fixture expires leases on request ({@link
 * Fixture#expireAll()}), by moving its clock or rewriting its rows.
 *
 * <p>It lives here, not in router-testkit, because the kit depends on router-api alone and
 * router-core's tests use the kit: the kit can't name a core type without a build cycle.
 */
abstract class MailboxLeasesContract {
  private static final Duration LONG = Duration.ofMinutes(10);

  /** One test's lease store. */
  interface Fixture extends AutoCloseable {
    /**
     * The lease store under test; the same instance for the whole test.
     *
     * @return the leases
     */
    MailboxLeases leases();

    /**
     * Makes every lease and every owner announcement expire now, as if their durations had passed
     * (move the store's clock, or set its expiry times into the past).
     */
    void expireAll();

    /** Drops what the test created. */
    @Override
    void close() throws Exception;
  }

  private Fixture fixture;

  /**
   * Creates a fixture over a new, empty lease store.
   *
   * @return the fixture
   */
  abstract Fixture newFixture();

  @BeforeEach
  final void openFixture() {
    fixture = newFixture();
  }

  @AfterEach
  final void closeFixture() throws Exception {
    fixture.close();
  }

  /** Runs {@code task(i)} on {@code threads} threads released together, so their calls overlap. */
  private static <T> List<T> concurrently(int threads, java.util.function.IntFunction<T> task) {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      java.util.concurrent.CyclicBarrier gate = new java.util.concurrent.CyclicBarrier(threads);
      List<java.util.concurrent.Future<T>> futures = new java.util.ArrayList<>();
      for (int i = 0; i < threads; i++) {
        int index = i;
        futures.add(pool.submit(() -> {
          gate.await(30, java.util.concurrent.TimeUnit.SECONDS);
          return task.apply(index);
        }));
      }
      List<T> results = new java.util.ArrayList<>();
      for (java.util.concurrent.Future<T> f : futures) {
        results.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
      }
      return results;
    } catch (Exception e) {
      throw new AssertionError("concurrent acquire failed: " + e, e);
    } finally {
      pool.shutdownNow();
    }
  }

  private MailboxLeases leases() {
    return fixture.leases();
  }

  @Test
  void acquire_ofAMailboxNeverLeased_grantsTheLease() {
    Optional<Lease> lease = leases().acquire("imap://a@example.test/INBOX", "node-1", LONG);

    assertThat(lease).as("acquire of a mailbox nobody holds must grant the lease").get().satisfies(l -> {
      assertThat(l.mailbox()).isEqualTo("imap://a@example.test/INBOX");
      assertThat(l.owner()).isEqualTo("node-1");
    });
  }

  @Test
  void acquire_whileAnotherOwnerHoldsALiveLease_isRefused() {
    leases().acquire("m", "node-1", LONG).orElseThrow();

    assertThat(leases().acquire("m", "node-2", LONG))
        .as("a second owner must not get a mailbox whose lease is live: two engines would read it at once").isEmpty();
  }

  @Test
  void acquire_afterTheLeaseExpired_grantsItToAnotherOwner_withAGreaterToken() {
    Lease first = leases().acquire("m", "node-1", LONG).orElseThrow();
    fixture.expireAll();

    Optional<Lease> second = leases().acquire("m", "node-2", LONG);

    assertThat(second).as("an expired lease must be taken over: a dead engine's mailboxes would stay unread").get()
        .satisfies(l -> assertThat(l.fencingToken())
            .as("the fencing token must grow with each acquisition, or a stale engine's checkpoint write passes")
            .isGreaterThan(first.fencingToken()));
  }

  @Test
  void acquire_afterRelease_grantsItAtOnce_withAGreaterToken() {
    Lease first = leases().acquire("m", "node-1", LONG).orElseThrow();
    leases().release(first);

    Optional<Lease> second = leases().acquire("m", "node-2", LONG);

    assertThat(second).as("a released lease must be free at once").get()
        .satisfies(l -> assertThat(l.fencingToken()).isGreaterThan(first.fencingToken()));
  }

  @Test
  void renew_byTheHolder_keepsTheTokenAndExtendsTheLease() {
    Lease lease = leases().acquire("m", "node-1", Duration.ofSeconds(30)).orElseThrow();

    Optional<Lease> renewed = leases().renew(lease, LONG);

    assertThat(renewed).as("the holder must be able to renew its lease").get().satisfies(l -> {
      assertThat(l.fencingToken()).isEqualTo(lease.fencingToken());
      assertThat(l.expiresAt()).isAfter(lease.expiresAt());
    });
    assertThat(leases().acquire("m", "node-2", LONG)).isEmpty();
  }

  @Test
  void renew_afterAnotherOwnerTookTheMailboxOver_isRefused_andReleaseLeavesTheNewHolderAlone() {
    Lease stale = leases().acquire("m", "node-1", LONG).orElseThrow();
    fixture.expireAll();
    Lease current = leases().acquire("m", "node-2", LONG).orElseThrow();

    assertThat(leases().renew(stale, LONG))
        .as("a renewal after a takeover must fail, or two engines would read the mailbox").isEmpty();
    leases().release(stale);
    assertThat(leases().acquire("m", "node-3", LONG))
        .as("releasing a stale lease must not free the new holder's").isEmpty();
    assertThat(leases().renew(current, LONG)).isPresent();
  }

  @Test
  void tokens_growForEveryAcquisition_evenByTheSameOwner() {
    Lease first = leases().acquire("m", "node-1", LONG).orElseThrow();
    leases().release(first);
    Lease second = leases().acquire("m", "node-1", LONG).orElseThrow();

    assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
  }

  @Test
  void leases_ofDifferentMailboxes_areIndependent() {
    leases().acquire("imap://a@example.test/INBOX", "node-1", LONG).orElseThrow();

    assertThat(leases().acquire("imap://b@example.test/INBOX", "node-2", LONG)).isPresent();
    assertThat(leases().acquire("imap://" + "long-name.".repeat(50) + "@example.test/Posteingang/Ü", "node-2", LONG))
        .as("mailbox names of any length and characters").isPresent();
  }

  @Test
  void acquire_byManyOwnersAtOnce_grantsTheMailboxToExactlyOne() {
    for (int round = 0; round < 5; round++) {
      String mailbox = "raced-" + round;
      List<Boolean> granted = concurrently(8, i -> leases().acquire(mailbox, "node-" + i, LONG).isPresent());

      assertThat(granted.stream().filter(g -> g).count())
          .as("owners racing for one mailbox: exactly one may get it (round %d)", round).isEqualTo(1);
    }
  }

  @Test
  void liveOwners_countsEveryOwnerAnnounced_untilItsAnnouncementExpires() {
    assertThat(leases().liveOwners("node-1", LONG)).isEqualTo(1);
    assertThat(leases().liveOwners("node-2", LONG)).isEqualTo(2);
    assertThat(leases().liveOwners("node-1", LONG)).as("announcing again counts once").isEqualTo(2);

    fixture.expireAll();

    assertThat(leases().liveOwners("node-3", LONG)).as("expired announcements don't count").isEqualTo(1);
  }
}
