package dev.emailrouter.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.jdbc.JdbcActivityStore;
import dev.emailrouter.smtp.SmtpTransport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A child JVM of the {@code jdbc} scenario: one engine at its default settings on router-jdbc's
 * {@code JdbcActivityStore} on PostgreSQL, as one node of several. It builds the engine and prints
 * {@code ready}; on {@code go} (a line on standard input) it ticks back to back until nothing is
 * Pending Send or Sending, then prints {@code done cpu=NANOS calls=N statements=N commits=N}, one
 * {@code sent ID} line per email it sent, and {@code end}. Not for hosts.
 */
public final class EngineNode {
  private static final long STALL_NANOS = 60_000_000_000L;

  private EngineNode() {}

  /**
   * Runs one node.
   *
   * @param args the JDBC URL of the database, smtp-sink's port
   * @throws Exception when the node fails (the parent sees a non-zero exit)
   */
  public static void main(String[] args) throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[0]);
    config.setUsername("postgres");
    config.setMaximumPoolSize(3);
    config.setMinimumIdle(3);
    config.setPoolName("node");
    CountingJdbc jdbc = new CountingJdbc();
    List<String> sent = new ArrayList<>();
    try (HikariDataSource ds = new HikariDataSource(config)) {
      CountingStore store = new CountingStore(new JdbcActivityStore(jdbc.wrap(ds)));
      try (RouterEngine engine = RouterEngine.builder()
          .activityStore(store)
          .transport(SmtpTransport.builder()
              .host("127.0.0.1")
              .port(Integer.parseInt(args[1]))
              .security(Security.PLAIN_TEXT_INSECURE)
              .ehloName("crm.test")
              .build())
          .build()) {
        open(ds); // a first query, so the pool is connected before the clock starts
        System.out.println("ready");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (!"go".equals(in.readLine())) {
          throw new IllegalStateException("expected go");
        }
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long calls0 = store.calls();
        jdbc.reset();
        long lastProgress = System.nanoTime();
        while (true) {
          TickReport report = engine.tick();
          if (!report.failed().isEmpty() || !report.problems().isEmpty()) {
            throw new IllegalStateException("problems: " + report.problems() + " " + report.failed());
          }
          report.sent().forEach(s -> sent.add(s.activityId()));
          if (!report.sent().isEmpty()) {
            lastProgress = System.nanoTime();
            continue;
          }
          // Nothing due for this node: done when no email is left to any node, else wait a little as a
          // scheduler would (the other nodes hold the due emails) instead of hammering the database.
          int open = open(ds);
          if (open == 0) {
            break;
          }
          if (System.nanoTime() - lastProgress > STALL_NANOS) {
            throw new IllegalStateException("nothing sent for 60 s with " + open + " emails open; last tick: "
                + report.events());
          }
          Thread.sleep(10);
        }
        System.out.println("done cpu=" + (os.getProcessCpuTime() - cpu0) + " calls=" + (store.calls() - calls0)
            + " statements=" + jdbc.statements() + " commits=" + jdbc.commits());
        for (String id : sent) {
          System.out.println("sent " + id);
        }
        System.out.println("end");
        System.out.flush();
      }
    }
  }

  /** Emails Pending Send or Sending, read past the counting proxy (the check is the benchmark's, not the store's). */
  private static int open(HikariDataSource ds) throws SQLException {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM email_activity WHERE status_code IN (6, 7)")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
