package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.TrackingDecision;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What hostile mail and careless CRM rows bring: Message-IDs and names far longer than an index
 * entry may be, and rows with addresses that can't be sent to.
 */
final class HostileInputTest {
  private static final Instant NOW = Instant.parse("2030-01-07T09:00:00Z");

  private static StoreFixture fixture(String kind) {
    return new StoreFixture(kind.equals("postgresql") ? TestDatabases.postgres() : TestDatabases.h2());
  }

  private static ReceivedEmail received(String dedupKey, String messageId, EmailAddress from) {
    return new ReceivedEmail(dedupKey, messageId, "imap://sales@mail.example.test/INBOX",
        new Party(Party.Type.USER, "user-1", "Sales"), from, List.of(EmailAddress.of("sales@example.test")), List.of(),
        "Hi", null, NOW, "text", null, List.of(), List.of(), null, List.of(), null,
        TrackingDecision.track(TrackingDecision.Reason.ACCEPT_ALL, "test"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void createReceived_withA20000CharacterMessageIdAndDisplayName_isStoredOnceAndFound(String kind) throws Exception {
    try (StoreFixture f = fixture(kind)) {
      String messageId = "<" + "x".repeat(20_000) + "@spam.example.test>";
      EmailAddress from = EmailAddress.of("spammer@example.test", "N".repeat(20_000));

      ReceiveResult first = f.store().createReceived(received(messageId, messageId, from));
      ReceiveResult again = f.store().createReceived(received(messageId, messageId, from));

      assertThat(first.created()).isTrue();
      assertThat(again).isEqualTo(new ReceiveResult(first.activityId(), false));
      assertThat(f.store().findByMessageId(messageId))
          .contains(new ActivityRef(first.activityId(), EmailStatus.RECEIVED));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void recordIdentity_withAVeryLongMessageId_isFoundByIt(String kind) throws Exception {
    try (StoreFixture f = fixture(kind)) {
      f.addPending(OutgoingEmail.builder("long-1", EmailAddress.of("alice@example.test"))
          .to(EmailAddress.of("bob@example.test", "B".repeat(10_000))).subject("s".repeat(50_000)).build());
      ClaimedEmail c = f.store().claimPendingSend(new ClaimRequest(NOW, Duration.ofMinutes(5), 6, 10, "")).get(0);
      String messageId = "<" + "m".repeat(10_000) + "@crm.example.test>";

      f.store().recordIdentity(c.claim(), messageId, "CRM:0000001", c.email().subject());
      f.store().markSent(c.claim(), NOW, SendResult.accepted("250 " + "ok ".repeat(5_000)));

      assertThat(f.store().findByMessageId(messageId)).contains(new ActivityRef("long-1", EmailStatus.SENT));
      assertThat(c.email().to().get(0).displayName()).hasSize(10_000);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void claimPendingSend_whenTheCrmStoredAMalformedAddress_failsThatEmailWithTheReason_andClaimsTheRest(String kind)
      throws Exception {
    try (StoreFixture f = fixture(kind)) {
      f.addPending(OutgoingEmail.builder("bad-1", EmailAddress.of("alice@example.test"))
          .to(EmailAddress.of("bob@example.test")).build());
      f.addPending(OutgoingEmail.builder("good-1", EmailAddress.of("alice@example.test"))
          .to(EmailAddress.of("carol@example.test")).build());
      try (Connection c = f.pool().getConnection();
           PreparedStatement ps = c.prepareStatement(
               "UPDATE email_activity_party SET address = ? WHERE email_id = 'bad-1'")) {
        ps.setString(1, "bob@example.test\r\nBcc: everyone@example.test");
        ps.executeUpdate();
      } catch (SQLException e) {
        throw new AssertionError(e);
      }

      List<ClaimedEmail> claimed = f.store().claimPendingSend(new ClaimRequest(NOW, Duration.ofMinutes(5), 6, 10, ""));

      assertThat(claimed).extracting(ce -> ce.email().activityId()).containsExactly("good-1");
      assertThat(f.status("bad-1")).isEqualTo(EmailStatus.FAILED);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void createReceived_withNulCharactersInTheBodyAndNames_isStored_notTakenForAnOutage(String kind) throws Exception {
    try (StoreFixture f = fixture(kind)) {
      ReceivedEmail nul = new ReceivedEmail("<nul@spam.example.test>", "<nul@spam.example.test>",
          "imap://sales@mail.example.test/INBOX", new Party(Party.Type.USER, "user-1", "Sales"),
          EmailAddress.of("spammer@example.test"), List.of(EmailAddress.of("sales@example.test")), List.of(),
          "Hi", null, NOW, "text\0with\0NULs", "<p>\0</p>", List.of(), List.of(), null, List.of(), null,
          TrackingDecision.track(TrackingDecision.Reason.ACCEPT_ALL, "test"));

      ReceiveResult result = f.store().createReceived(nul);

      assertThat(result.created()).isTrue();
      assertThat(f.store().findByMessageId("<nul@spam.example.test>")).isPresent();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"08006", "40001", "40P01", "53300", "55P03", "57P01", "HYT00", "90067"})
  void aDatabaseThatIsUnavailableOrBusy_isAnOutage(String sqlState) {
    assertThat(JdbcActivityStore.failure(new SQLException("x", sqlState)))
        .isInstanceOf(dev.emailrouter.api.TransientRouterException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"22021", "22001", "23502", "42703", "0A000"})
  void aStatementRefusedForItsValues_isTheMessagesFailure_notAnOutage(String sqlState) {
    assertThat(JdbcActivityStore.failure(new SQLException("x", sqlState)))
        .isInstanceOf(dev.emailrouter.api.PermanentRouterException.class);
  }
}
