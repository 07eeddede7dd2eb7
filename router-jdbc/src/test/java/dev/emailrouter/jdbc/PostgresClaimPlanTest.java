package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ClaimRequest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL claim reads a few rows per sender, not every pending row, even when the table's
 * statistics are stale: a queue table's always are. With statistics taken while the queue was
 * empty, PostgreSQL 14 planned each step of the sender walk as a bitmap scan of every pending row
 * after that sender; a claim of 600 from 10,000 pending took 200 to 450 ms instead of 20 to 35.
 */
final class PostgresClaimPlanTest {
  private static final Instant NOW = Instant.parse("2030-01-07T09:00:00Z");
  private static final int SENDERS = 100;
  private static final int PER_SENDER = 30;

  private StoreFixture fixture;

  @BeforeEach
  void queueWithStatisticsFromWhenItWasEmpty() throws SQLException {
    fixture = new StoreFixture(TestDatabases.postgres());
    try (Connection c = fixture.pool().getConnection(); Statement st = c.createStatement()) {
      st.execute("ALTER TABLE email_activity SET (autovacuum_enabled = false)");
      st.execute("ANALYZE email_activity");
    }
    fixture.addQueue(SENDERS, PER_SENDER);
  }

  @AfterEach
  void closeDatabase() throws Exception {
    fixture.close();
  }

  @Test
  void claim_withStaleStatistics_walksTheIndexInOrderAndNeverScansEveryPendingRow() throws SQLException {
    String plan = explainClaim(new ClaimRequest(NOW, Duration.ofMinutes(5), 6, 600, "sender42@example.test"));

    assertThat(plan).as(plan).doesNotContain("Bitmap Heap Scan").doesNotContain("Seq Scan")
        .contains("Index Scan using email_activity_queue");
    // The walk from sender to sender: a few index pages per sender, not the pending rows after each.
    assertThat(sharedBuffersHit(plan, "CTE senders")).as(plan).isLessThan(SENDERS * 10);
  }

  /** EXPLAIN ANALYZE of the claim as the store runs it, in a transaction rolled back after. */
  private String explainClaim(ClaimRequest request) throws SQLException {
    try (Connection c = fixture.pool().getConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute(JdbcActivityStore.PG_CLAIM_PLAN);
      }
      StringBuilder plan = new StringBuilder();
      try (PreparedStatement ps = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + JdbcActivityStore.PG_CLAIM)) {
        JdbcActivityStore.bindClaim(ps, request, "plan-test-");
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            plan.append(rs.getString(1)).append('\n');
          }
        }
      } finally {
        c.rollback();
      }
      return plan.toString();
    }
  }

  /** The shared buffer hits of a node: its first "Buffers:" line, which counts its children's. */
  private static int sharedBuffersHit(String plan, String node) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("Buffers: shared hit=(\\d+)").matcher(plan);
    assertThat(m.find(plan.indexOf(node))).as("buffers of " + node).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
