package dev.emailrouter.jdbc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.CheckpointStore;
import dev.emailrouter.core.MailboxCheckpoint;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * A {@link CheckpointStore} in a database table, {@code router_mailbox_checkpoint}, so every node
 * of a host that runs on several machines finds the same checkpoints.
 *
 * <pre>{@code
 * JdbcCheckpointStore.createSchema(dataSource);   // once: runs V1__checkpoint.sql (idempotent)
 * RouterEngine.builder().checkpointStore(new JdbcCheckpointStore(dataSource))...
 * }</pre>
 *
 * <p>{@link #save} upserts the mailbox's row and commits before it returns, so a crash leaves the
 * old checkpoint or the new one, never a torn one; the engine saves only after the store committed
 * the activities behind it. Rows are keyed by a SHA-256 of the mailbox name (names may be longer
 * than a key may be).
 *
 * <p><b>Fencing.</b> Engines that share mailboxes under {@link JdbcMailboxLeases} write with {@link
 * #save(String, MailboxCheckpoint, long)}, which takes the write only when (a) no write was made
 * under a greater token ({@code lease_token} of the row, a monotonic check in the same statement)
 * and (b) when the lease tables are in the same database, the lease table has issued no greater
 * token for the mailbox (a join on {@code router_mailbox_lease}). (a) alone would let a stale engine
 * write after a takeover until the new holder's first write; (b) closes that window, so an engine
 * whose lease was taken over never moves a checkpoint back. Whether the lease tables are there is
 * decided when the store is built: create both schemas before building it.
 *
 * <p>Thread-safe: each call borrows its own connection from the {@link DataSource}. Immutable.
 */
public final class JdbcCheckpointStore implements CheckpointStore {
  private static final String COMPONENT = "checkpoint";
  private static final String TABLE = "router_mailbox_checkpoint";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, Integer>> FAILURES = new TypeReference<>() {};

  private final DataSource dataSource;
  private final Dialect dialect;
  /** Whether {@code router_mailbox_lease} is in this database, so fenced writes check it too. */
  private final boolean leaseTable;

  /**
   * Creates a store over the checkpoint table, checking that it exists in the version this code
   * speaks.
   *
   * @param dataSource where the table lives
   * @throws IllegalStateException if the table is missing or of another version (the message names
   *     the table and the script to run), or the database can't be reached
   * @throws IllegalArgumentException if the database is neither PostgreSQL nor H2
   */
  public JdbcCheckpointStore(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.dialect = Schema.check(dataSource, COMPONENT, List.of(TABLE), "JdbcCheckpointStore.createSchema(dataSource)");
    this.leaseTable = Schema.present(dataSource, "lease");
  }

  /**
   * Creates the checkpoint table if it doesn't exist, by running this database's {@code
   * V1__checkpoint.sql} from the jar; safe to call on every start.
   *
   * @param dataSource the database
   * @throws IllegalStateException if a statement fails
   * @throws IllegalArgumentException if the database is neither PostgreSQL nor H2
   */
  public static void createSchema(DataSource dataSource) {
    Schema.apply(Objects.requireNonNull(dataSource, "dataSource"), COMPONENT);
  }

  /**
   * {@inheritDoc}
   *
   * @throws TransientRouterException if the database fails or the stored row can't be read
   */
  @Override
  public Optional<MailboxCheckpoint> load(String mailbox) {
    Objects.requireNonNull(mailbox, "mailbox");
    try (Connection c = dataSource.getConnection();
         PreparedStatement ps = c.prepareStatement(
             "SELECT cursor_value, failures FROM " + TABLE + " WHERE mailbox_hash = ?")) {
      ps.setString(1, JdbcActivityStore.sha256(mailbox));
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new MailboxCheckpoint(rs.getString(1), JSON.readValue(rs.getString(2), FAILURES)));
      }
    } catch (SQLException e) {
      throw new TransientRouterException("checkpoint of mailbox " + mailbox + " can't be read from table " + TABLE
          + ": " + e.getMessage(), e);
    } catch (JsonProcessingException e) {
      throw new TransientRouterException("checkpoint of mailbox " + mailbox + " in table " + TABLE
          + " has unreadable failures: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * {@inheritDoc}
   *
   * @throws TransientRouterException if the database fails; the old checkpoint then stands
   */
  @Override
  public void save(String mailbox, MailboxCheckpoint checkpoint) {
    Objects.requireNonNull(mailbox, "mailbox");
    Objects.requireNonNull(checkpoint, "checkpoint");
    String sql = dialect == Dialect.POSTGRESQL
        ? "INSERT INTO " + TABLE + " (mailbox_hash, mailbox, cursor_value, failures, updated_at)"
            + " VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP) ON CONFLICT (mailbox_hash) DO UPDATE SET mailbox = EXCLUDED.mailbox,"
            + " cursor_value = EXCLUDED.cursor_value, failures = EXCLUDED.failures, updated_at = EXCLUDED.updated_at"
        : "MERGE INTO " + TABLE + " (mailbox_hash, mailbox, cursor_value, failures, updated_at) KEY (mailbox_hash)"
            + " VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP)";
    try (Connection c = dataSource.getConnection()) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true); // one statement, committed (durably) before the call returns
      }
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, JdbcActivityStore.sha256(mailbox));
        ps.setString(2, mailbox);
        ps.setString(3, checkpoint.cursor());
        ps.setString(4, JSON.writeValueAsString(checkpoint.failures()));
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw new TransientRouterException("checkpoint of mailbox " + mailbox + " can't be written to table " + TABLE
          + ": " + e.getMessage(), e);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("failures of mailbox " + mailbox + " can't be written as JSON", e);
    }
  }

  /**
   * Saves a checkpoint under a mailbox lease, in one statement committed before it returns, unless
   * a greater fencing token wrote the row or (with the lease tables in this database) was issued
   * for the mailbox since.
   *
   * @throws TransientRouterException if the database fails; the old checkpoint then stands
   */
  @Override
  public boolean save(String mailbox, MailboxCheckpoint checkpoint, long fencingToken) {
    Objects.requireNonNull(mailbox, "mailbox");
    Objects.requireNonNull(checkpoint, "checkpoint");
    String notSuperseded = leaseTable
        ? " AND NOT EXISTS (SELECT 1 FROM router_mailbox_lease l WHERE l.mailbox_hash = ? AND l.fencing_token > ?)"
        : "";
    String update = "UPDATE " + TABLE + " SET mailbox = ?, cursor_value = ?, failures = ?, lease_token = ?,"
        + " updated_at = CURRENT_TIMESTAMP WHERE mailbox_hash = ? AND (lease_token IS NULL OR lease_token <= ?)"
        + notSuperseded;
    String insert = "INSERT INTO " + TABLE + " (mailbox_hash, mailbox, cursor_value, failures, lease_token,"
        + " updated_at) SELECT ?, ?, ?, ?, ?, CURRENT_TIMESTAMP" + (dialect == Dialect.H2 ? " FROM DUAL" : "")
        + (leaseTable ? " WHERE" + notSuperseded.substring(" AND".length()) : "")
        + (dialect == Dialect.POSTGRESQL ? " ON CONFLICT (mailbox_hash) DO NOTHING" : "");
    String hash = JdbcActivityStore.sha256(mailbox);
    try (Connection c = dataSource.getConnection()) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true); // each statement committed (durably) before the call returns
      }
      String failures = JSON.writeValueAsString(checkpoint.failures());
      try (PreparedStatement ps = c.prepareStatement(update)) {
        ps.setString(1, mailbox);
        ps.setString(2, checkpoint.cursor());
        ps.setString(3, failures);
        ps.setLong(4, fencingToken);
        ps.setString(5, hash);
        ps.setLong(6, fencingToken);
        if (leaseTable) {
          ps.setString(7, hash);
          ps.setLong(8, fencingToken);
        }
        if (ps.executeUpdate() == 1) {
          return true;
        }
      }
      // No row taken: either none exists yet (the mailbox's first checkpoint), or it is fenced off.
      try (PreparedStatement ps = c.prepareStatement(insert)) {
        ps.setString(1, hash);
        ps.setString(2, mailbox);
        ps.setString(3, checkpoint.cursor());
        ps.setString(4, failures);
        ps.setLong(5, fencingToken);
        if (leaseTable) {
          ps.setString(6, hash);
          ps.setLong(7, fencingToken);
        }
        return ps.executeUpdate() == 1;
      } catch (SQLException e) {
        if ("23505".equals(e.getSQLState())) {
          return false; // H2: the row exists, so the update above was fenced off
        }
        throw e;
      }
    } catch (SQLException e) {
      throw new TransientRouterException("checkpoint of mailbox " + mailbox + " can't be written to table " + TABLE
          + ": " + e.getMessage(), e);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("failures of mailbox " + mailbox + " can't be written as JSON", e);
    }
  }
}
