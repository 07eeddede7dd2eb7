package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.core.MailboxCheckpoint;
import dev.emailrouter.core.MailboxLeases.Lease;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * JdbcCheckpointStore's fenced writes: a write under a lease that was taken over never moves the
 * checkpoint back, whether or not the new holder has written yet.
 */
final class FencedCheckpointTest {
  private static final String MAILBOX = "imap://user@mail.example.test/INBOX";
  private static final Duration LEASE = Duration.ofMinutes(1);

  private static TestPool database(String kind, boolean leases) {
    TestPool pool = kind.equals("postgresql") ? TestDatabases.postgres() : TestDatabases.h2();
    JdbcCheckpointStore.createSchema(pool);
    if (leases) {
      JdbcMailboxLeases.createSchema(pool);
    }
    return pool;
  }

  private static void expireLeases(TestPool pool) throws SQLException {
    try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
      st.executeUpdate("UPDATE router_mailbox_lease SET expires_at = CURRENT_TIMESTAMP");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void save_underATakenOverLease_isRefused_beforeAndAfterTheNewHolderWrote(String kind) throws SQLException {
    try (TestPool pool = database(kind, true)) {
      JdbcMailboxLeases leases = new JdbcMailboxLeases(pool);
      JdbcCheckpointStore store = new JdbcCheckpointStore(pool);
      Lease stale = leases.acquire(MAILBOX, "node-a", LEASE).orElseThrow();
      assertThat(store.save(MAILBOX, new MailboxCheckpoint("7:10", Map.of()), stale.fencingToken())).isTrue();
      expireLeases(pool);
      Lease current = leases.acquire(MAILBOX, "node-b", LEASE).orElseThrow();

      // node-a wakes up after the takeover, before node-b wrote: the lease table already fences it off.
      assertThat(store.save(MAILBOX, new MailboxCheckpoint("7:12", Map.of()), stale.fencingToken())).isFalse();
      assertThat(store.save(MAILBOX, new MailboxCheckpoint("7:30", Map.of("31", 1)), current.fencingToken()))
          .isTrue();
      assertThat(store.save(MAILBOX, new MailboxCheckpoint("7:12", Map.of()), stale.fencingToken())).isFalse();

      assertThat(store.load(MAILBOX)).contains(new MailboxCheckpoint("7:30", Map.of("31", 1)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void save_ofAMailboxsFirstCheckpoint_underATakenOverLease_isRefused(String kind) throws SQLException {
    try (TestPool pool = database(kind, true)) {
      JdbcMailboxLeases leases = new JdbcMailboxLeases(pool);
      JdbcCheckpointStore store = new JdbcCheckpointStore(pool);
      Lease stale = leases.acquire(MAILBOX, "node-a", LEASE).orElseThrow();
      expireLeases(pool);
      leases.acquire(MAILBOX, "node-b", LEASE).orElseThrow();

      assertThat(store.save(MAILBOX, new MailboxCheckpoint("7:12", Map.of()), stale.fencingToken())).isFalse();
      assertThat(store.load(MAILBOX)).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void save_withoutTheLeaseTables_refusesAnOlderTokenThanTheRowWasWrittenWith(String kind) throws SQLException {
    try (TestPool pool = database(kind, false)) {
      JdbcCheckpointStore store = new JdbcCheckpointStore(pool);

      assertThat(store.save(MAILBOX, new MailboxCheckpoint("7:20", Map.of()), 5)).isTrue();
      assertThat(store.save(MAILBOX, new MailboxCheckpoint("7:10", Map.of()), 4)).isFalse();
      assertThat(store.save(MAILBOX, new MailboxCheckpoint("7:21", Map.of()), 5)).isTrue();
      store.save(MAILBOX, new MailboxCheckpoint("7:22", Map.of())); // unfenced: keeps the token
      assertThat(store.save(MAILBOX, new MailboxCheckpoint("7:10", Map.of()), 4)).isFalse();

      assertThat(store.load(MAILBOX)).contains(new MailboxCheckpoint("7:22", Map.of()));
    }
  }
}
