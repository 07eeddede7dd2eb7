package dev.emailrouter.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.RouterEvent.OutcomeNotRecorded.Outcome;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.smtp.SmtpTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

final class RouterHealthIndicatorTest {
  private static final Instant T0 = Instant.parse("2030-01-01T08:00:00Z");

  /** An empty store: the transport is never connected to. */
  private final RouterEngine engine = RouterEngine.builder().activityStore(new InMemoryActivityStore())
      .transport(SmtpTransport.builder().host("smtp.example.test").build()).build();

  @AfterEach
  void closeEngine() {
    engine.close();
  }

  private Health healthAfter(List<RouterEvent> events) {
    RouterTicker ticker = new RouterTicker(engine, e -> new TickReport(T0, Duration.ofSeconds(1), events),
        Duration.ZERO, Duration.ofHours(1), Duration.ofSeconds(1));
    ticker.tickNow();
    return new RouterHealthIndicator(engine, ticker,
        new TestAccessRunner(engine, Duration.ZERO, new ManualTestAccessScheduler())).health();
  }

  @Test
  void health_afterATickWhoseOutcomeTheStoreDidNotRecord_showsIt_andStaysUp() {
    Health health = healthAfter(List.of(new RouterEvent.OutcomeNotRecorded("a-1", Outcome.SENT,
        "recording the outcome failed: deadlock detected", T0.plus(Duration.ofMinutes(30)))));

    assertThat(health.getStatus()).isEqualTo(Status.UP);
    @SuppressWarnings("unchecked")
    Map<String, Object> lastTick = (Map<String, Object>) health.getDetails().get("lastTick");
    assertThat(lastTick).containsEntry("outcomesNotRecorded", 1);
    assertThat(lastTick.get("problems")).asList().singleElement().asString()
        .startsWith("OutcomeNotRecorded (SENT not recorded, claimable again at 2030-01-01T08:30:00Z")
        .contains("deadlock detected");
  }

  @Test
  void health_afterATickThatLostAClaim_listsItApartFromOutcomesNotRecorded() {
    Health health = healthAfter(List.of(new RouterEvent.ClaimLost("a-1", "claim no longer holds")));

    @SuppressWarnings("unchecked")
    Map<String, Object> lastTick = (Map<String, Object>) health.getDetails().get("lastTick");
    assertThat(lastTick).containsEntry("outcomesNotRecorded", 0);
    assertThat(lastTick.get("problems")).asList().containsExactly("ClaimLost (claim no longer holds)");
  }
}
