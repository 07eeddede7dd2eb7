package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingDecision.Reason;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The database that keeps checkpoints and leases goes away in the middle of a pass: the pass stops
 * with one MailboxStateUnavailable, nothing counted against the mailbox, and once the database is
 * back the batch is read again and nothing is lost or created twice.
 */
final class DatabaseGoneTest {

  /** A DataSource that refuses connections while {@code down} is set, as a database that went away. */
  private static final class Switchable implements DataSource {
    final DataSource target;
    final AtomicBoolean down = new AtomicBoolean();

    Switchable(DataSource target) {
      this.target = target;
    }

    @Override
    public Connection getConnection() throws SQLException {
      if (down.get()) {
        throw new SQLException("Connection to 127.0.0.1:5432 refused", "08001");
      }
      return target.getConnection();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      return getConnection();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() {
      return Logger.getGlobal();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
      return false;
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void tick_whenTheDatabaseGoesAwayMidPass_stopsWithOneEvent_andLosesNothing(String kind) throws Exception {
    try (TestPool pool = kind.equals("postgresql") ? TestDatabases.postgres() : TestDatabases.h2()) {
      JdbcActivityStore.createSchema(pool);
      JdbcCheckpointStore.createSchema(pool);
      JdbcMailboxLeases.createSchema(pool);
      Switchable db = new Switchable(pool);
      MutableClock clock = new MutableClock(Instant.parse("2030-01-07T09:00:00Z"));
      ListMailbox inbox = new ListMailbox("inbox");
      inbox.add();
      inbox.add();
      // The database goes away while the engine decides on the second message.
      TrackingPolicy policy = (message, context) -> {
        if (message.messageId().contains("-2@")) {
          db.down.set(true);
        }
        return TrackingDecision.track(Reason.ACCEPT_ALL, "all");
      };
      RouterEngine engine = RouterEngine.builder()
          .activityStore(new JdbcActivityStore(pool))
          .checkpointStore(new JdbcCheckpointStore(db))
          .mailboxLeases(new JdbcMailboxLeases(db))
          .trackingPolicy(policy)
          .clock(clock)
          .retryDelay(Duration.ofMinutes(1))
          .mailbox(Mailbox.ofQueue("queue-1", inbox))
          .build();

      TickReport gone = engine.tick();
      TickReport stillGone = engine.tick();
      db.down.set(false);
      clock.advance(Duration.ofMinutes(2));
      TickReport back = engine.tick();

      assertThat(gone.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.MailboxStateUnavailable.class,
          e -> {
            assertThat(e.mailbox()).isEqualTo("list://inbox");
            assertThat(e.reason()).contains("router_mailbox_checkpoint").contains("refused");
          });
      assertThat(gone.tracked()).hasSize(2); // created before the checkpoint could be written
      assertThat(stillGone.events()).isEmpty(); // backed off, reported once
      assertThat(back.problems()).isEmpty();
      assertThat(back.rejected()).extracting(r -> r.decision().reason())
          .containsExactly(Reason.DUPLICATE, Reason.DUPLICATE);
      assertThat(engine.isMailboxDisabled("list://inbox")).isFalse();
      assertThat(new JdbcCheckpointStore(pool).load("list://inbox")).get()
          .satisfies(c -> assertThat(c.cursor()).isEqualTo("2"));
      engine.close();
    }
  }
}
