package dev.emailrouter.core;

import java.time.Duration;
import java.util.Random;

/** Exponential backoff with ±20% jitter: base, 2×base, 4×base... never longer than the cap. */
final class Backoff {
  private final Duration base;
  private final Duration cap;
  private final Random random;

  Backoff(Duration base, Duration cap, Random random) {
    this.base = base;
    this.cap = cap;
    this.random = random;
  }

  /**
   * The delay after the {@code failures}-th failure in a row.
   *
   * @param failures 1 for the first failure
   */
  Duration delay(int failures) {
    int doublings = Math.min(Math.max(failures - 1, 0), 30);
    long millis = base.toMillis();
    long capMillis = cap.toMillis();
    for (int i = 0; i < doublings && millis < capMillis; i++) {
      millis *= 2;
    }
    millis = Math.min(millis, capMillis);
    double jitter = 0.8 + 0.4 * random.nextDouble();
    // Capped after the jitter too: the cap is documented as the longest delay, not an average.
    return Duration.ofMillis(Math.max(1, Math.min(capMillis, Math.round(millis * jitter))));
  }
}
