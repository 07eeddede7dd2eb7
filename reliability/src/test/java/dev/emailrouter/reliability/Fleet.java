package dev.emailrouter.reliability;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.smtp.SmtpTransport;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/** Engines that drain a shared store: the pieces the concurrency tests and the second JVM share. */
final class Fleet {

  private Fleet() {}

  /** {@code count} emails from {@code senders} senders, ids {@code email-0}... */
  static void addEmails(Crm crm, int count, int senders) {
    for (int i = 0; i < count; i++) {
      crm.add(OutgoingEmail.builder("email-" + i, EmailAddress.of("seller" + (i % senders) + "@crm.example.test"))
          .to(EmailAddress.of("contact" + i + "@example.test")).subject("Offer " + i).textBody("Hello " + i).build());
    }
  }

  /** An engine sending through the sink, many emails per tick. */
  static RouterEngine engine(ActivityStore store, int sinkPort, Clock clock, long seed) {
    return RouterEngine.builder()
        .activityStore(store)
        .transport(SmtpTransport.builder().host("127.0.0.1").port(sinkPort).security(Security.PLAIN_TEXT_INSECURE)
            .ehloName("fleet.crm.example.test").readTimeout(Duration.ofSeconds(30)).build())
        .clock(clock)
        .random(new Random(seed))
        .messageIdDomain("crm.example.test")
        .batchPerSender(25)
        .maxPerTick(500)
        .sendSessions(2)
        .build();
  }

  /** Emails still Pending Send or Sending. */
  static int open(DataSource ds) {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM email_activity WHERE status_code IN (6, 7)")) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Ticks until the store has nothing left to send (or the limit passed); returns how many emails this engine sent. */
  static int drain(RouterEngine engine, DataSource ds, AtomicInteger claimLost, Duration limit) {
    int sent = 0;
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("emails still open after " + limit + ": " + open(ds));
      }
      TickReport report = engine.tick();
      sent += report.sent().size();
      claimLost.addAndGet((int) report.events().stream().filter(RouterEvent.ClaimLost.class::isInstance).count());
      if (report.sent().isEmpty() && report.retried().isEmpty() && open(ds) == 0) {
        return sent;
      }
    }
  }
}
