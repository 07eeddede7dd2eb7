package dev.emailrouter.reliability;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** A clock the tests move by hand, shared by every engine of a test; thread-safe. */
final class MutableClock extends Clock {
  static final Instant START = Instant.parse("2024-03-01T09:00:00Z");

  private final AtomicReference<Instant> now = new AtomicReference<>(START);

  void advance(Duration d) {
    now.updateAndGet(i -> i.plus(d));
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
