package dev.emailrouter.graph;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A clock tests move by hand; its sleeper moves it instead of sleeping, and records each wait. */
final class MutableClock extends Clock {
  private volatile Instant now = Instant.parse("2030-01-07T10:00:00Z");
  final List<Duration> slept = new CopyOnWriteArrayList<>();

  void advance(Duration d) {
    now = now.plus(d);
  }

  GraphHttp.Sleeper sleeper() {
    return d -> {
      slept.add(d);
      advance(d);
    };
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return now;
  }
}
