package dev.emailrouter.testfixtures;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A UTC clock that stands still until a test moves it: never sleep in a test, {@linkplain
 * #advance(Duration) advance} this instead.
 *
 * <p>It also stands in for a sleeper: {@link #sleep(Duration)} records the wait and moves the clock
 * by it at once, so code that waits (e.g. out a {@code Retry-After}) runs without delay, and the test
 * asserts on {@link #slept()}.
 *
 * <p>Thread-safe: one clock may be shared by an engine's worker threads and the test thread; each
 * reading sees the latest move.
 */
public final class MutableClock extends Clock {
  /** Where {@link #MutableClock()} starts: 2024-03-01T09:00:00Z. */
  public static final Instant START = Instant.parse("2024-03-01T09:00:00Z");

  private final AtomicReference<Instant> now;
  private final List<Duration> slept = new CopyOnWriteArrayList<>();

  /** A clock at {@link #START}. */
  public MutableClock() {
    this(START);
  }

  /**
   * A clock at the given instant.
   *
   * @param start the first reading, not null
   */
  public MutableClock(Instant start) {
    this.now = new AtomicReference<>(Objects.requireNonNull(start, "start"));
  }

  /**
   * Moves the clock on (or back, for a negative duration).
   *
   * @param duration how far, not null
   */
  public void advance(Duration duration) {
    Objects.requireNonNull(duration, "duration");
    now.updateAndGet(i -> i.plus(duration));
  }

  /**
   * Sets the clock to the given instant, earlier or later than its reading.
   *
   * @param instant the new reading, not null
   */
  public void set(Instant instant) {
    now.set(Objects.requireNonNull(instant, "instant"));
  }

  /**
   * Waits without waiting: records the duration and {@linkplain #advance(Duration) advances} the clock
   * by it. Its shape fits a functional "sleeper" a class under test takes, as {@code clock::sleep}.
   *
   * @param duration the wait asked for, not null
   */
  public void sleep(Duration duration) {
    slept.add(Objects.requireNonNull(duration, "duration"));
    advance(duration);
  }

  /**
   * The waits {@link #sleep(Duration)} was asked for, in order.
   *
   * @return an unmodifiable snapshot, empty when nothing slept
   */
  public List<Duration> slept() {
    return List.copyOf(slept);
  }

  /**
   * The current reading.
   *
   * @return the instant the test last set or moved the clock to
   */
  @Override
  public Instant instant() {
    return now.get();
  }

  /**
   * The clock's zone.
   *
   * @return always UTC
   */
  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /**
   * This same clock: the zone is ignored, so that every reader, whatever zone it asks for, sees the
   * one time the test moves.
   *
   * @param zone ignored
   * @return this clock
   */
  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
