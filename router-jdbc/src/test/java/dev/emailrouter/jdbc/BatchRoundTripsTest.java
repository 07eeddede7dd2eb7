package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailIdentity;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The batch forms cost one connection and one transaction per batch, not one per email: the
 * round trips that made an email cost three commits.
 */
final class BatchRoundTripsTest {
  private static final Instant NOW = Instant.parse("2030-01-07T09:00:00Z");
  private static final int EMAILS = 20;

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void batchForms_takeOneConnectionPerBatch_andRecordEveryEmail(String kind) throws Exception {
    try (StoreFixture f = new StoreFixture(kind.equals("postgresql") ? TestDatabases.postgres() : TestDatabases.h2())) {
      for (int i = 0; i < EMAILS; i++) {
        f.addPending(OutgoingEmail.builder("round-" + i, EmailAddress.of("alice@example.test"))
            .to(EmailAddress.of("bob@example.test")).subject("Offer " + i).textBody("Hello").build());
      }
      AtomicInteger connections = new AtomicInteger();
      JdbcActivityStore store = new JdbcActivityStore(counting(f.pool(), connections));
      List<ClaimedEmail> claimed = store.claimPendingSend(new ClaimRequest(NOW, Duration.ofMinutes(5), EMAILS, EMAILS,
          ""));
      assertThat(claimed).hasSize(EMAILS);

      connections.set(0);
      List<Long> numbers = store.nextTrackingNumbers(EMAILS);
      assertThat(connections).as("connections for %d tracking numbers", EMAILS).hasValue(1);
      assertThat(new HashSet<>(numbers)).hasSize(EMAILS).allSatisfy(n -> assertThat(n).isPositive());

      List<EmailIdentity> identities = new ArrayList<>();
      List<SentOutcome> outcomes = new ArrayList<>();
      for (int i = 0; i < EMAILS; i++) {
        ClaimedEmail c = claimed.get(i);
        String token = "CRM:" + numbers.get(i);
        identities.add(new EmailIdentity(c.claim(), "<" + c.email().activityId() + "@crm.example.test>", token,
            c.email().subject() + " " + token));
        outcomes.add(new SentOutcome(c.claim(), NOW.plusSeconds(1), SendResult.accepted("250 2.0.0 Ok")));
      }
      connections.set(0);
      assertThat(store.recordIdentities(identities)).as("stale claims").isEmpty();
      assertThat(connections).as("connections for %d identities", EMAILS).hasValue(1);

      connections.set(0);
      assertThat(store.markSentAll(outcomes)).as("stale claims").isEmpty();
      assertThat(connections).as("connections for %d emails marked Sent", EMAILS).hasValue(1);

      for (EmailIdentity i : identities) {
        assertThat(store.findByMessageId(i.messageId())).as(i.messageId()).hasValueSatisfying(ref -> {
          assertThat(ref.activityId()).isEqualTo(i.claim().activityId());
          assertThat(ref.status()).isEqualTo(EmailStatus.SENT);
        });
      }
    }
  }

  /** The pool, counting the connections taken from it. */
  private static DataSource counting(DataSource pool, AtomicInteger connections) {
    return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class},
        (proxy, method, args) -> {
          if (method.getName().equals("getConnection")) {
            connections.incrementAndGet();
          }
          try {
            return method.invoke(pool, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
