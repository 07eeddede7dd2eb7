package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.DeliveryReport;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Delivery reports are kept in email_delivery_report, once per report and recipient; V2 upgrades a V1 database. */
final class DeliveryReportRowsTest {
  private static final Instant NOW = Instant.parse("2030-01-07T09:00:00Z");

  private static TestPool database(String kind) {
    return kind.equals("postgresql") ? TestDatabases.postgres() : TestDatabases.h2();
  }

  private static DeliveryReport report(String reportMessageId) {
    return new DeliveryReport("imap://una@mail.example.test/INBOX", "42", reportMessageId, "<sent-1@crm.example.test>",
        DeliveryReport.Match.RETURNED_HEADERS, null, "mail.example.test", NOW.plusSeconds(600), List.of(
            new DeliveryReport.Recipient("gone@example.test", DeliveryReport.Action.FAILED, "5.1.1",
                "550 5.1.1 <gone@example.test> User doesn't exist", "127.0.0.1"),
            new DeliveryReport.Recipient("slow@example.test", DeliveryReport.Action.DELAYED, "4.4.1", null, null)));
  }

  /** Sends one email as the engine would and returns it as findByMessageId finds it. */
  private static ActivityRef sent(JdbcActivityStore store) {
    store.addPendingSend(OutgoingEmail.builder("sent-1", EmailAddress.of("una@example.test"))
        .to(EmailAddress.of("gone@example.test")).subject("Proposal").build());
    ClaimedEmail c = store.claimPendingSend(new ClaimRequest(NOW, Duration.ofMinutes(5), 6, 10, "")).get(0);
    store.recordIdentity(c.claim(), "<sent-1@crm.example.test>", null, "Proposal");
    store.markSent(c.claim(), NOW, SendResult.accepted("250 2.0.0 Ok"));
    return store.findByMessageId("<sent-1@crm.example.test>").orElseThrow();
  }

  private static List<String> rows(TestPool pool) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection conn = pool.getConnection(); PreparedStatement ps = conn.prepareStatement(
        "SELECT email_id, recipient, action, status, diagnostic, remote_mta, match_rule FROM email_delivery_report"
            + " ORDER BY recipient")) {
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3) + " " + rs.getString(4) + " "
              + rs.getString(5) + " " + rs.getString(6) + " " + rs.getString(7));
        }
      }
    }
    return rows;
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void recordDeliveryReport_keepsOneRowPerRecipient_onceHoweverOftenTheReportIsRecorded(String kind) throws Exception {
    try (StoreFixture f = new StoreFixture(database(kind))) {
      ActivityRef email = sent(f.store());

      f.store().recordDeliveryReport(email, report("<dsn-1@mail.example.test>"));
      f.store().recordDeliveryReport(email, report("<dsn-1@mail.example.test>"));
      f.store().recordDeliveryReport(email, report(null));

      assertThat(rows(f.pool())).containsExactly(
          "sent-1 gone@example.test FAILED 5.1.1 550 5.1.1 <gone@example.test> User doesn't exist 127.0.0.1"
              + " RETURNED_HEADERS",
          "sent-1 gone@example.test FAILED 5.1.1 550 5.1.1 <gone@example.test> User doesn't exist 127.0.0.1"
              + " RETURNED_HEADERS",
          "sent-1 slow@example.test DELAYED 4.4.1 null null RETURNED_HEADERS",
          "sent-1 slow@example.test DELAYED 4.4.1 null null RETURNED_HEADERS");
      assertThat(f.store().findByMessageId("<sent-1@crm.example.test>").orElseThrow().status())
          .isEqualTo(EmailStatus.SENT);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void createSchema_onAVersion1Database_upgradesItToVersion2_keepingItsEmails(String kind) throws Exception {
    try (TestPool pool = database(kind)) {
      String v1;
      try (InputStream in = getClass().getClassLoader()
          .getResourceAsStream("dev/emailrouter/jdbc/" + kind + "/V1__email.sql")) {
        v1 = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
        for (String statement : Schema.statements(v1)) {
          st.execute(statement);
        }
        st.execute("INSERT INTO email_activity (id, status_code, sender_address, sender_key, message_id,"
            + " message_id_hash) VALUES ('old-1', 3, 'una@example.test', 'una@example.test', '<old-1@crm.example.test>', '"
            + JdbcActivityStore.sha256("<old-1@crm.example.test>") + "')");
      }
      assertThatThrownBy(() -> new JdbcActivityStore(pool)).hasMessageContaining("needs version 2");

      JdbcActivityStore.createSchema(pool);
      JdbcActivityStore store = new JdbcActivityStore(pool);
      ActivityRef old = store.findByMessageId("<old-1@crm.example.test>").orElseThrow();
      store.recordDeliveryReport(old, report("<dsn-2@mail.example.test>"));

      assertThat(rows(pool)).hasSize(2).allSatisfy(r -> assertThat(r).startsWith("old-1 "));
    }
  }
}
