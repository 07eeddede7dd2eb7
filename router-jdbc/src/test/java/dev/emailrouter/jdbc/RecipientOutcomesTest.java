package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the server answered for each recipient is kept beside the recipient, in the same commit as the status. */
final class RecipientOutcomesTest {
  private static final Instant NOW = Instant.parse("2030-01-07T09:00:00Z");

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void markSent_withARefusedRecipient_recordsEachRecipientsOutcome(String kind) throws Exception {
    try (StoreFixture f = new StoreFixture(kind.equals("postgresql") ? TestDatabases.postgres() : TestDatabases.h2())) {
      f.addPending(OutgoingEmail.builder("partly-1", EmailAddress.of("alice@example.test"))
          .to(EmailAddress.of("Bob@Example.test")).cc(EmailAddress.of("gone@example.test")).build());
      ClaimedEmail c = f.store().claimPendingSend(new ClaimRequest(NOW, Duration.ofMinutes(5), 6, 10, "")).get(0);

      f.store().markSent(c.claim(), NOW, new SendResult(Outcome.ACCEPTED, "250 2.0.0 Ok", List.of(
          new RecipientResult(EmailAddress.of("bob@example.test"), Outcome.ACCEPTED, "250 2.1.5 Ok"),
          new RecipientResult(EmailAddress.of("gone@example.test"), Outcome.PERMANENT, "550 5.1.1 no such user"))));

      List<String> rows = new ArrayList<>();
      try (Connection conn = f.pool().getConnection(); PreparedStatement ps = conn.prepareStatement(
          "SELECT address, outcome, server_reply FROM email_activity_party WHERE email_id = 'partly-1'"
              + " ORDER BY participation")) {
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3));
          }
        }
      }
      assertThat(rows).containsExactly("Bob@Example.test ACCEPTED 250 2.1.5 Ok",
          "gone@example.test PERMANENT 550 5.1.1 no such user");
    }
  }
}
