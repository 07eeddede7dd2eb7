package dev.emailrouter.reliability;

import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.jdbc.JdbcActivityStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * The durable state a restarted engine finds: the CRM as an H2 file database behind router-jdbc's
 * {@link JdbcActivityStore}. {@link #restart()} shuts the database down and opens it again from its
 * file, as a new process would. Queries for the assertions read the same tables.
 */
final class Crm implements AutoCloseable {

  /** One outgoing email's row. */
  record Outgoing(String id, EmailStatus status, int attempts, String messageId, String lastReason) {}

  private final String url;
  private JdbcConnectionPool pool;
  private JdbcActivityStore store;

  Crm(Path directory) {
    this(directory, false);
  }

  /** With {@code autoServer}, other JVMs may open the same file at once (H2 AUTO_SERVER). */
  Crm(Path directory, boolean autoServer) {
    this.url = "jdbc:h2:file:" + directory.resolve("crm").toAbsolutePath() + ";LOCK_TIMEOUT=20000"
        + (autoServer ? ";AUTO_SERVER=TRUE" : "");
    open();
  }

  String url() {
    return url;
  }

  private void open() {
    pool = JdbcConnectionPool.create(url, "sa", "");
    pool.setMaxConnections(64);
    JdbcActivityStore.createSchema(pool); // idempotent; the store checks the schema version when built
    store = new JdbcActivityStore(pool);
  }

  /** The store as the current "process" sees it. */
  JdbcActivityStore store() {
    return store;
  }

  DataSource dataSource() {
    return pool;
  }

  /** Closes the database (every connection) and opens it again from its file. */
  void restart() {
    try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
      st.execute("SHUTDOWN");
    } catch (SQLException e) {
      throw new IllegalStateException("shutting H2 down failed: " + e, e);
    }
    pool.dispose();
    open();
  }

  void add(OutgoingEmail email) {
    store.addPendingSend(email);
  }

  /** Outgoing emails (not received ones) by activity id. */
  Map<String, Outgoing> outgoing() {
    Map<String, Outgoing> out = new TreeMap<>();
    query("SELECT id, status_code, attempts, message_id, last_reason FROM email_activity WHERE dedup_key IS NULL",
        rs -> {
      out.put(rs.getString(1), new Outgoing(rs.getString(1), EmailStatus.ofCode(rs.getInt(2)), rs.getInt(3),
          rs.getString(4), rs.getString(5)));
    });
    return out;
  }

  Outgoing outgoing(String id) {
    Outgoing o = outgoing().get(id);
    if (o == null) {
      throw new IllegalArgumentException("no outgoing email " + id);
    }
    return o;
  }

  /** Received activities by dedup key, with how many rows each key has (the unique key makes it 1). */
  Map<String, Integer> receivedByKey() {
    Map<String, Integer> out = new LinkedHashMap<>();
    query("SELECT dedup_key, COUNT(*) FROM email_activity WHERE status_code = 4 GROUP BY dedup_key", rs -> out.put(rs.getString(1),
        rs.getInt(2)));
    return out;
  }

  /** Received activities per Message-ID (null Message-IDs left out). */
  Map<String, Integer> receivedByMessageId() {
    Map<String, Integer> out = new LinkedHashMap<>();
    query("SELECT message_id, COUNT(*) FROM email_activity WHERE status_code = 4 AND message_id IS NOT NULL"
        + " GROUP BY message_id",
        rs -> out.put(rs.getString(1), rs.getInt(2)));
    return out;
  }

  /** The envelope recipients (To, Cc, Bcc; lower case) of each outgoing email, by activity id. */
  Map<String, List<String>> outgoingRecipients() {
    Map<String, List<String>> out = new TreeMap<>();
    query("SELECT id FROM email_activity WHERE dedup_key IS NULL", rs -> out.put(rs.getString(1), new ArrayList<>()));
    query("SELECT p.email_id, p.address_key FROM email_activity_party p JOIN email_activity e ON e.id = p.email_id"
        + " WHERE e.dedup_key IS NULL ORDER BY p.email_id, p.participation, p.position",
        rs -> out.get(rs.getString(1)).add(rs.getString(2)));
    return out;
  }

  /**
   * The recipients of each email with the given participation (2 To, 3 Cc), one {@code
   * address<TAB>display name<LF>} line each, so an assertion sees control characters as stored.
   */
  private Map<String, String> parties(int participation) {
    Map<String, StringBuilder> lines = new TreeMap<>();
    query("SELECT email_id, address, display_name FROM email_activity_party WHERE participation = " + participation
        + " ORDER BY email_id, position", rs -> lines.computeIfAbsent(rs.getString(1), k -> new StringBuilder())
            .append(rs.getString(2)).append('\t').append(rs.getString(3)).append('\n'));
    Map<String, String> out = new TreeMap<>();
    lines.forEach((id, text) -> out.put(id, text.toString()));
    return out;
  }

  /** A received activity as stored: its dedup key, Message-ID, subject, sender, recipients and attachment names. */
  record Stored(String id, String dedupKey, String messageId, String subject, String from, String fromName, String to,
      String cc, String textBody, List<String> attachments) {}
  // to and cc: one "address<TAB>display name<LF>" line per recipient, in the order stored.

  /** Every received activity as stored, by activity id. */
  Map<String, Stored> received() {
    Map<String, List<String>> files = new TreeMap<>();
    query("SELECT email_id, file_name FROM email_attachment ORDER BY email_id, position",
        rs -> files.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2)));
    Map<String, String> to = parties(2);
    Map<String, String> cc = parties(3);
    Map<String, Stored> out = new TreeMap<>();
    query("SELECT id, dedup_key, message_id, subject, sender_address, sender_name, text_body FROM email_activity"
        + " WHERE status_code = 4", rs -> out.put(rs.getString(1), new Stored(rs.getString(1), rs.getString(2),
            rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), to.getOrDefault(rs.getString(1), ""),
            cc.getOrDefault(rs.getString(1), ""), rs.getString(7), files.getOrDefault(rs.getString(1), List.of()))));
    return out;
  }

  int receivedCount() {
    int[] n = new int[1];
    query("SELECT COUNT(*) FROM email_activity WHERE status_code = 4", rs -> n[0] = rs.getInt(1));
    return n[0];
  }

  /** Runs an update in the CRM database, as the CRM itself might (bad rows, say). */
  void execute(String sql, Object... args) {
    try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e, e);
    }
  }

  List<String> column(String sql) {
    List<String> out = new ArrayList<>();
    query(sql, rs -> out.add(rs.getString(1)));
    return out;
  }

  private interface Row {
    void read(ResultSet rs) throws SQLException;
  }

  private void query(String sql, Row row) {
    try (Connection c = pool.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        row.read(rs);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e, e);
    }
  }

  @Override
  public void close() {
    try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
      st.execute("SHUTDOWN");
    } catch (SQLException e) {
      // already closed
    }
    pool.dispose();
  }
}
