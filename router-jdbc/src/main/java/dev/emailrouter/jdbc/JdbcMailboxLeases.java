package dev.emailrouter.jdbc;

import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.MailboxLeases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * {@link MailboxLeases} in database tables, {@code router_mailbox_lease} and {@code
 * router_lease_owner}, for engines on several machines that share one database (PostgreSQL, or H2
 * for engines in one process or on one machine).
 *
 * <pre>{@code
 * JdbcCheckpointStore.createSchema(dataSource);   // once each: idempotent
 * JdbcMailboxLeases.createSchema(dataSource);
 * RouterEngine.builder()
 *     .checkpointStore(new JdbcCheckpointStore(dataSource))
 *     .mailboxLeases(new JdbcMailboxLeases(dataSource))
 *     .mailboxLeaseDuration(Duration.ofSeconds(60))   // about two tick intervals
 *     ...
 * }</pre>
 *
 * <p>Every time is the database's clock ({@code CURRENT_TIMESTAMP}): a lease expires at the same
 * moment for every node, however far their own clocks are apart. Each acquisition adds one to the
 * mailbox's {@code fencing_token} (a released or expired lease keeps its row), so tokens grow
 * monotonically per mailbox; {@link JdbcCheckpointStore} refuses a checkpoint write whose token is
 * lower than one this table issued for the mailbox since. An acquisition is one transaction: an
 * {@code UPDATE} that takes the row only if its lease expired (or is this owner's), else an insert
 * of the first row that a concurrent insert makes fail; so of two engines racing for a mailbox,
 * exactly one gets it (PostgreSQL re-checks the condition on the row the winner wrote).
 *
 * <p>A database that can't be reached makes every method throw {@link TransientRouterException};
 * the engine then stops reading for this tick, with nothing lost ({@code MailboxStateUnavailable}).
 * Thread-safe: each call borrows its own connection from the {@link DataSource}. Immutable.
 */
public final class JdbcMailboxLeases implements MailboxLeases {
  private static final String COMPONENT = "lease";
  private static final String LEASES = "router_mailbox_lease";
  private static final String OWNERS = "router_lease_owner";

  private final DataSource dataSource;
  private final Dialect dialect;

  /**
   * Creates leases over the lease tables, checking that they exist in the version this code speaks.
   *
   * @param dataSource where the tables live
   * @throws IllegalStateException if a table is missing or of another version (the message names
   *     the table and the script to run), or the database can't be reached
   * @throws IllegalArgumentException if the database is neither PostgreSQL nor H2
   */
  public JdbcMailboxLeases(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.dialect = Schema.check(dataSource, COMPONENT, List.of(LEASES, OWNERS),
        "JdbcMailboxLeases.createSchema(dataSource)");
  }

  /**
   * Creates the lease tables if they don't exist, by running this database's {@code
   * V1__lease.sql} from the jar; safe to call on every start.
   *
   * @param dataSource the database
   * @throws IllegalStateException if a statement fails
   * @throws IllegalArgumentException if the database is neither PostgreSQL nor H2
   */
  public static void createSchema(DataSource dataSource) {
    Schema.apply(Objects.requireNonNull(dataSource, "dataSource"), COMPONENT);
  }

  /** {@code CURRENT_TIMESTAMP} plus a parameter in milliseconds, in this database's words. */
  private String nowPlus() {
    return dialect == Dialect.POSTGRESQL ? "CURRENT_TIMESTAMP + CAST(? AS BIGINT) * INTERVAL '1 millisecond'"
        : "DATEADD(MILLISECOND, CAST(? AS BIGINT), CURRENT_TIMESTAMP)";
  }

  /**
   * {@inheritDoc}
   *
   * @throws TransientRouterException if the database fails
   */
  @Override
  public int liveOwners(String owner, Duration ttl) {
    Objects.requireNonNull(owner, "owner");
    long millis = ttl.toMillis();
    String upsert = dialect == Dialect.POSTGRESQL
        ? "INSERT INTO " + OWNERS + " (owner, expires_at) VALUES (?, " + nowPlus() + ")"
            + " ON CONFLICT (owner) DO UPDATE SET expires_at = EXCLUDED.expires_at"
        : "MERGE INTO " + OWNERS + " (owner, expires_at) KEY (owner) VALUES (?, " + nowPlus() + ")";
    return inTransaction("announce owner " + owner + " in table " + OWNERS, c -> {
      try (PreparedStatement ps = c.prepareStatement(upsert)) {
        ps.setString(1, owner);
        ps.setLong(2, millis);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + OWNERS + " WHERE expires_at <= CURRENT_TIMESTAMP")) {
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + OWNERS);
           ResultSet rs = ps.executeQuery()) {
        rs.next();
        return Math.max(1, rs.getInt(1));
      }
    });
  }

  /**
   * {@inheritDoc}
   *
   * @throws TransientRouterException if the database fails
   */
  @Override
  public Optional<Lease> acquire(String mailbox, String owner, Duration duration) {
    Objects.requireNonNull(mailbox, "mailbox");
    Objects.requireNonNull(owner, "owner");
    String hash = JdbcActivityStore.sha256(mailbox);
    long millis = duration.toMillis();
    return inTransaction("acquire the lease of mailbox " + mailbox + " in table " + LEASES, c -> {
      int taken;
      try (PreparedStatement ps = c.prepareStatement("UPDATE " + LEASES + " SET owner = ?, fencing_token ="
          + " fencing_token + 1, expires_at = " + nowPlus() + ", acquired_at = CURRENT_TIMESTAMP"
          + " WHERE mailbox_hash = ? AND (expires_at <= CURRENT_TIMESTAMP OR owner = ?)")) {
        ps.setString(1, owner);
        ps.setLong(2, millis);
        ps.setString(3, hash);
        ps.setString(4, owner);
        taken = ps.executeUpdate();
      }
      if (taken == 0 && !insertFirst(c, hash, mailbox, owner, millis)) {
        return Optional.<Lease>empty();
      }
      return Optional.of(read(c, hash, mailbox, owner));
    });
  }

  /** Inserts the mailbox's first lease; {@code false} when a row exists (another owner's live lease). */
  private boolean insertFirst(Connection c, String hash, String mailbox, String owner, long millis)
      throws SQLException {
    String insert = "INSERT INTO " + LEASES + " (mailbox_hash, mailbox, owner, fencing_token, expires_at,"
        + " acquired_at) VALUES (?, ?, ?, 1, " + nowPlus() + ", CURRENT_TIMESTAMP)";
    if (dialect == Dialect.POSTGRESQL) {
      insert += " ON CONFLICT (mailbox_hash) DO NOTHING";
    }
    try (PreparedStatement ps = c.prepareStatement(insert)) {
      ps.setString(1, hash);
      ps.setString(2, mailbox);
      ps.setString(3, owner);
      ps.setLong(4, millis);
      return ps.executeUpdate() == 1;
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) {
        return false; // H2: another engine inserted it first
      }
      throw e;
    }
  }

  private static Lease read(Connection c, String hash, String mailbox, String owner) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT fencing_token, expires_at FROM " + LEASES + " WHERE mailbox_hash = ?")) {
      ps.setString(1, hash);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException("the lease row of mailbox " + mailbox + " vanished inside its transaction");
        }
        return new Lease(mailbox, owner, rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant());
      }
    }
  }

  /**
   * {@inheritDoc}
   *
   * @throws TransientRouterException if the database fails
   */
  @Override
  public Optional<Lease> renew(Lease lease, Duration duration) {
    Objects.requireNonNull(lease, "lease");
    String hash = JdbcActivityStore.sha256(lease.mailbox());
    long millis = duration.toMillis();
    return inTransaction("renew the lease of mailbox " + lease.mailbox() + " in table " + LEASES, c -> {
      // Expired but not taken over (the token is still ours) is renewed too: nobody else read meanwhile.
      try (PreparedStatement ps = c.prepareStatement("UPDATE " + LEASES + " SET expires_at = " + nowPlus()
          + " WHERE mailbox_hash = ? AND owner = ? AND fencing_token = ?")) {
        ps.setLong(1, millis);
        ps.setString(2, hash);
        ps.setString(3, lease.owner());
        ps.setLong(4, lease.fencingToken());
        if (ps.executeUpdate() == 0) {
          return Optional.<Lease>empty();
        }
      }
      return Optional.of(read(c, hash, lease.mailbox(), lease.owner()));
    });
  }

  /**
   * {@inheritDoc}
   *
   * @throws TransientRouterException if the database fails
   */
  @Override
  public void release(Lease lease) {
    Objects.requireNonNull(lease, "lease");
    inTransaction("release the lease of mailbox " + lease.mailbox() + " in table " + LEASES, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE " + LEASES + " SET expires_at = CURRENT_TIMESTAMP"
          + " WHERE mailbox_hash = ? AND owner = ? AND fencing_token = ?")) {
        ps.setString(1, JdbcActivityStore.sha256(lease.mailbox()));
        ps.setString(2, lease.owner());
        ps.setLong(3, lease.fencingToken());
        ps.executeUpdate();
      }
      return null;
    });
  }

  /** Work on one connection in one transaction. */
  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T inTransaction(String what, Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      } finally {
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw new TransientRouterException("can't " + what + ": " + e.getMessage(), e);
    }
  }
}
