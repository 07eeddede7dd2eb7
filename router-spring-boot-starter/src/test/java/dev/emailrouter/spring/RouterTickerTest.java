package dev.emailrouter.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.smtp.SmtpTransport;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class RouterTickerTest {

  /** An empty store: the transport is never connected to. */
  private final RouterEngine engine = RouterEngine.builder().activityStore(new InMemoryActivityStore())
      .transport(SmtpTransport.builder().host("smtp.example.test").build()).build();

  @AfterEach
  void closeEngine() {
    engine.close();
  }

  @Test
  void stop_whileATickRuns_waitsForItToFinish() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    AtomicBoolean finished = new AtomicBoolean();
    RouterTicker[] ticker = new RouterTicker[1];
    ticker[0] = new RouterTicker(engine, e -> {
      entered.countDown();
      // Goes on only once stop() has begun (it stops scheduling first), so stop() can only see
      // this tick finished if it waited for it.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (ticker[0].isRunning() && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      var report = e.tick();
      finished.set(true);
      return report;
    }, Duration.ZERO, Duration.ofHours(1), Duration.ofSeconds(30));
    ticker[0].start();
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

    ticker[0].stop();

    assertThat(finished).isTrue();
    assertThat(ticker[0].lastOutcome()).hasValueSatisfying(o -> assertThat(o.report()).isNotNull());
  }

  @Test
  void stop_whenATickOutlastsTheShutdownTimeout_returnsAfterTheTimeout() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    RouterTicker ticker = new RouterTicker(engine, e -> {
      entered.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
      return e.tick();
    }, Duration.ZERO, Duration.ofHours(1), Duration.ofMillis(50));
    ticker.start();
    assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

    ticker.stop();

    assertThat(ticker.isRunning()).isFalse();
    assertThat(release.getCount()).isEqualTo(1); // returned while the tick still ran
    release.countDown();
  }

  @Test
  void start_ticksWithTheFixedDelayUntilStopped() throws Exception {
    AtomicInteger ticks = new AtomicInteger();
    CountDownLatch twice = new CountDownLatch(2);
    RouterTicker ticker = new RouterTicker(engine, e -> {
      ticks.incrementAndGet();
      twice.countDown();
      return e.tick();
    }, Duration.ZERO, Duration.ofMillis(1), Duration.ofSeconds(30));
    ticker.start();
    assertThat(twice.await(10, TimeUnit.SECONDS)).isTrue();

    ticker.stop();

    assertThat(ticker.isRunning()).isFalse();
    assertThat(ticks.get()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void start_whenATickThrowsAnError_recordsIt_andGoesOnTicking() throws Exception {
    // A host's store throwing an AssertionError, or a class of it failing to load: unrecorded, health
    // would go on showing the last good tick as UP.
    CountDownLatch twice = new CountDownLatch(2);
    RouterTicker ticker = new RouterTicker(engine, e -> {
      twice.countDown();
      throw new AssertionError("store invariant broken");
    }, Duration.ZERO, Duration.ofMillis(1), Duration.ofSeconds(30));
    ticker.start();

    boolean tickedAgain = twice.await(10, TimeUnit.SECONDS);
    ticker.stop();

    assertThat(tickedAgain).isTrue();
    assertThat(ticker.lastOutcome()).hasValueSatisfying(o -> {
      assertThat(o.report()).isNull();
      assertThat(o.failure()).isInstanceOf(AssertionError.class).hasMessage("store invariant broken");
    });
  }
}
