package dev.emailrouter.jdbc;

import dev.emailrouter.core.MailboxLeases;
import dev.emailrouter.testfixtures.MutableClock;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;

/** Fixtures of {@link MailboxLeasesContract} for each implementation: in memory, PostgreSQL, H2. */
final class LeaseFixtures {
  private LeaseFixtures() {}

  static MailboxLeasesContract.Fixture jdbc(TestPool pool) {
    JdbcMailboxLeases.createSchema(pool);
    JdbcMailboxLeases leases = new JdbcMailboxLeases(pool);
    return new MailboxLeasesContract.Fixture() {
      @Override
      public MailboxLeases leases() {
        return leases;
      }

      @Override
      public void expireAll() {
        try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
          st.executeUpdate("UPDATE router_mailbox_lease SET expires_at = CURRENT_TIMESTAMP");
          st.executeUpdate("UPDATE router_lease_owner SET expires_at = CURRENT_TIMESTAMP");
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      }

      @Override
      public void close() throws SQLException {
        pool.close();
      }
    };
  }

  static MailboxLeasesContract.Fixture inMemory() {
    {
      MutableClock clock = new MutableClock(Instant.parse("2030-01-07T09:00:00Z"));
      MailboxLeases leases = MailboxLeases.inMemory(clock);
      return new MailboxLeasesContract.Fixture() {
        @Override
        public MailboxLeases leases() {
          return leases;
        }

        @Override
        public void expireAll() {
          clock.advance(Duration.ofDays(1));
        }

        @Override
        public void close() {}
      };
    }
  }
}
