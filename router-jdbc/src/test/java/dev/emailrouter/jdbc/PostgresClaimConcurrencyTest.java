package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.SendResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Several engines (each its own store instance, several threads each) claim and send from one
 * PostgreSQL database at once, as nodes of one host do.
 */
final class PostgresClaimConcurrencyTest {
  private static final Instant NOW = Instant.parse("2030-01-07T09:00:00Z");
  private static final int SENDERS = 40;
  private static final int PER_SENDER = 25;
  private static final int ENGINES = 4;
  private static final int THREADS_PER_ENGINE = 2;

  private StoreFixture fixture;

  @BeforeEach
  void openDatabase() {
    fixture = new StoreFixture(TestDatabases.postgres());
    fixture.addQueue(SENDERS, PER_SENDER);
  }

  @AfterEach
  void closeDatabase() throws Exception {
    fixture.close();
  }

  @Test
  void claimPendingSend_bySeveralEnginesAtOnce_handsEveryEmailToExactlyOneAndKeepsThePerSenderLimit()
      throws Exception {
    List<JdbcActivityStore> engines = new ArrayList<>();
    for (int e = 0; e < ENGINES; e++) {
      engines.add(new JdbcActivityStore(fixture.pool()));
    }
    List<String> claimedIds = Collections.synchronizedList(new ArrayList<>());
    List<String> perSenderViolations = Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(ENGINES * THREADS_PER_ENGINE);
    long started = System.nanoTime();
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < ENGINES * THREADS_PER_ENGINE; t++) {
        JdbcActivityStore store = engines.get(t % ENGINES);
        futures.add(pool.submit(() -> {
          String resume = "";
          int emptyInARow = 0;
          while (emptyInARow < 3) {
            List<ClaimedEmail> batch = store.claimPendingSend(new ClaimRequest(NOW, Duration.ofMinutes(5), 6, 50,
                resume));
            emptyInARow = batch.isEmpty() ? emptyInARow + 1 : 0;
            Map<String, Integer> bySender = new HashMap<>();
            for (ClaimedEmail c : batch) {
              claimedIds.add(c.email().activityId());
              if (bySender.merge(c.email().from().normalized(), 1, Integer::sum) > 6) {
                perSenderViolations.add(c.email().activityId());
              }
              long number = store.nextTrackingNumber();
              store.recordIdentity(c.claim(), "<" + c.email().activityId() + "@test>", "CRM:" + number,
                  c.email().subject());
              store.markSent(c.claim(), NOW, SendResult.accepted("250 2.0.0 Ok"));
              resume = c.email().from().normalized();
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("router-jdbc on PostgreSQL: %d emails claimed, identified and marked Sent by %d engines x %d"
        + " threads in %.2f s (%.0f emails/s)%n", claimedIds.size(), ENGINES, THREADS_PER_ENGINE, seconds,
        claimedIds.size() / seconds);

    assertThat(claimedIds).as("every email claimed once, none twice").doesNotHaveDuplicates()
        .hasSize(SENDERS * PER_SENDER);
    assertThat(perSenderViolations).as("emails beyond perSender = 6 in one claim").isEmpty();
    for (int s = 0; s < SENDERS; s++) {
      assertThat(fixture.status("e-" + s + "-" + (PER_SENDER - 1))).hasToString("SENT");
    }
  }
}
