package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class BackoffTest {

  @Test
  void delay_doublesWithEachFailure_withinTwentyPercentJitter() {
    Backoff backoff = new Backoff(Duration.ofMinutes(5), Duration.ofHours(4), new Random(1));

    for (int i = 0; i < 200; i++) {
      assertThat(backoff.delay(1)).isBetween(Duration.ofMinutes(4), Duration.ofMinutes(6));
      assertThat(backoff.delay(2)).isBetween(Duration.ofMinutes(8), Duration.ofMinutes(12));
      assertThat(backoff.delay(3)).isBetween(Duration.ofMinutes(16), Duration.ofMinutes(24));
    }
  }

  @Test
  void delay_neverExceedsTheCap_evenWithJitterOrManyFailures() {
    Backoff backoff = new Backoff(Duration.ofMinutes(5), Duration.ofMinutes(12), new Random(2));

    for (int failures = 3; failures < 1000; failures++) {
      assertThat(backoff.delay(failures)).isBetween(Duration.ofMinutes(12).multipliedBy(8).dividedBy(10),
          Duration.ofMinutes(12));
    }
    assertThat(backoff.delay(Integer.MAX_VALUE)).isLessThanOrEqualTo(Duration.ofMinutes(12));
  }

  @Test
  void delay_forZeroOrNegativeFailures_isTheBaseDelay() {
    Backoff backoff = new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(1), new Random(3));

    assertThat(backoff.delay(0)).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(12));
    assertThat(backoff.delay(-5)).isBetween(Duration.ofSeconds(8), Duration.ofSeconds(12));
  }

  @Test
  void aSeededRandom_givesRepeatableDelays() {
    Backoff a = new Backoff(Duration.ofMinutes(5), Duration.ofHours(4), new Random(42));
    Backoff b = new Backoff(Duration.ofMinutes(5), Duration.ofHours(4), new Random(42));

    for (int i = 1; i < 10; i++) {
      assertThat(a.delay(i)).isEqualTo(b.delay(i));
    }
  }
}
