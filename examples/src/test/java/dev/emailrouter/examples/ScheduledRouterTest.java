package dev.emailrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.testfixtures.MutableClock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The scheduler example: ticks on its own thread, survives a failing callback, stops cleanly. */
final class ScheduledRouterTest {
  private static final Duration DELAY = Duration.ofMillis(5);

  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final RecordingTransport transport = new RecordingTransport();
  private final RouterEngine engine = RouterEngine.builder()
      .activityStore(store)
      .transport(transport)
      .clock(new MutableClock())
      .build();

  @AfterEach
  void closeEngine() {
    engine.close(); // the router closes it; a test that never started one closes it here (twice is harmless)
  }

  @Test
  void start_sendsAPendingEmail_andCloseStopsTickingAndClosesTheEngine() throws Exception {
    store.add(email("email-1"));
    CountDownLatch sent = new CountDownLatch(1);
    AtomicReference<Thread> tickThread = new AtomicReference<>();

    ScheduledRouter router = ScheduledRouter.start(engine, DELAY, report -> {
      tickThread.set(Thread.currentThread());
      if (!report.sent().isEmpty()) {
        sent.countDown();
      }
    });
    try {
      assertThat(sent.await(30, TimeUnit.SECONDS)).as("a tick sent the email").isTrue();
    } finally {
      router.close();
    }

    assertThat(store.status("email-1")).isEqualTo(EmailStatus.SENT);
    assertThat(tickThread.get().getName()).isEqualTo("email-router-tick");
    tickThread.get().join(TimeUnit.SECONDS.toMillis(30)); // the scheduler has shut down: its thread ends
    assertThat(tickThread.get().isAlive()).isFalse();
    assertThatThrownBy(engine::tick).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThat(transport.sent()).hasSize(1);
  }

  @Test
  void start_whenTheCallbackThrowsAnError_keepsTicking() throws Exception {
    // An Error escaping a ScheduledExecutorService task cancels every later run without a word.
    assertKeepsTickingAfterTheCallbackThrows(() -> {
      throw new AssertionError("the host's invariant broke");
    });
  }

  @Test
  void start_whenTheCallbackThrows_keepsTicking() throws Exception {
    assertKeepsTickingAfterTheCallbackThrows(() -> {
      throw new IllegalStateException("the host's callback failed");
    });
  }

  /** The first report's callback adds an email and then runs {@code fail}, which throws. */
  private void assertKeepsTickingAfterTheCallbackThrows(Runnable fail) throws Exception {
    AtomicInteger reports = new AtomicInteger();
    CountDownLatch sent = new CountDownLatch(1);

    try (ScheduledRouter router = ScheduledRouter.start(engine, DELAY, report -> {
      if (reports.incrementAndGet() == 1) {
        store.add(email("email-1")); // arrives after the first tick, so a later tick must send it
        fail.run();
      }
      if (!report.sent().isEmpty()) {
        sent.countDown();
      }
    })) {
      assertThat(sent.await(30, TimeUnit.SECONDS)).as("a tick after the failing callback sent the email").isTrue();
    }

    assertThat(store.status("email-1")).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void close_whileATickIsSending_letsTheTickFinishFirst() throws Exception {
    store.add(email("email-1"));
    CountDownLatch sending = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    transport.beforeSend(e -> {
      sending.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    });
    AtomicReference<TickReport> firstReport = new AtomicReference<>();
    ScheduledRouter router = ScheduledRouter.start(engine, DELAY, report -> firstReport.compareAndSet(null, report));
    assertThat(sending.await(30, TimeUnit.SECONDS)).isTrue();

    Thread closer = new Thread(router::close, "closer");
    closer.start();
    release.countDown();
    closer.join(TimeUnit.SECONDS.toMillis(30));

    assertThat(closer.isAlive()).isFalse();
    assertThat(store.status("email-1")).isEqualTo(EmailStatus.SENT);
    assertThat(firstReport.get().sent()).hasSize(1);
    assertThatThrownBy(engine::tick).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void start_withADelayUnderOneMillisecond_failsNamingTheDelay() {
    assertThatThrownBy(() -> ScheduledRouter.start(engine, Duration.ofNanos(500), report -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("delay must be at least 1 ms, was PT0.0000005S");
    assertThatThrownBy(() -> ScheduledRouter.start(engine, Duration.ofSeconds(-1), report -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("delay must be at least 1 ms, was PT-1S");
    assertThatThrownBy(() -> ScheduledRouter.start(engine, null, report -> {}))
        .isInstanceOf(NullPointerException.class).hasMessage("delay");
    assertThatThrownBy(() -> ScheduledRouter.start(null, DELAY, report -> {}))
        .isInstanceOf(NullPointerException.class).hasMessage("engine");
    assertThatThrownBy(() -> ScheduledRouter.start(engine, DELAY, null))
        .isInstanceOf(NullPointerException.class).hasMessage("onReport");
    engine.tick(); // nothing was started, and the engine is still open
  }

  private static OutgoingEmail email(String id) {
    return OutgoingEmail.builder(id, EmailAddress.of("una@example.test"))
        .to(EmailAddress.of("carl@example.test"))
        .subject("Hello")
        .textBody("Hello Carl")
        .build();
  }
}
