package dev.emailrouter.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class TestAccessRunnerTest {
  private static final Instant T0 = ManualTestAccessScheduler.T0;

  /** A reader whose Test Access answers what the test says and counts the calls. */
  private final AtomicReference<AccessReport> answer = new AtomicReference<>(
      new AccessReport("fake://una", List.of(AccessStep.passed(AccessStep.Check.LOGIN, "accepted"))));
  private final AtomicInteger checks = new AtomicInteger();
  private final MailboxReader reader = new MailboxReader() {
    @Override
    public String describe() {
      return "fake://una";
    }

    @Override
    public Session open() {
      throw new UnsupportedOperationException("these tests never tick");
    }

    @Override
    public AccessReport testAccess() {
      checks.incrementAndGet();
      return answer.get();
    }
  };
  private final RouterEngine engine = RouterEngine.builder().activityStore(new InMemoryActivityStore())
      .mailbox(Mailbox.ofUser("user-1", reader).withName("una")).build();
  private final ManualTestAccessScheduler scheduler = new ManualTestAccessScheduler();

  @AfterEach
  void closeEngine() {
    engine.close();
  }

  @Test
  void start_schedulesWithTheIntervalAndChecksNothingOnTheCallersThread() {
    TestAccessRunner runner = new TestAccessRunner(engine, Duration.ofMinutes(10), scheduler);

    runner.start();

    assertThat(runner.isRunning()).isTrue();
    assertThat(scheduler.interval()).isEqualTo(Duration.ofMinutes(10));
    assertThat(checks).hasValue(0);
    assertThat(runner.latest()).isEmpty();
  }

  @Test
  void scheduledRun_keepsTheLatestReportsWithTheClocksTime() {
    TestAccessRunner runner = new TestAccessRunner(engine, Duration.ofMinutes(10), scheduler);
    runner.start();

    scheduler.runDue();
    assertThat(runner.latest()).hasValueSatisfying(r -> {
      assertThat(r.checkedAt()).isEqualTo(T0);
      assertThat(r.report("una")).hasValueSatisfying(a -> assertThat(a.ok()).isTrue());
    });

    answer.set(new AccessReport("fake://una",
        List.of(AccessStep.failed(AccessStep.Check.LOGIN, "authentication failed", "credentials"))));
    scheduler.advance(Duration.ofMinutes(10));
    scheduler.runDue();

    assertThat(checks).hasValue(2);
    assertThat(runner.latest()).hasValueSatisfying(r -> {
      assertThat(r.checkedAt()).isEqualTo(T0.plus(Duration.ofMinutes(10)));
      assertThat(r.report("una")).hasValueSatisfying(a -> assertThat(a.ok()).isFalse());
    });
  }

  @Test
  void start_withAZeroInterval_schedulesNothing() {
    TestAccessRunner runner = new TestAccessRunner(engine, Duration.ZERO, scheduler);

    runner.start();

    assertThat(runner.enabled()).isFalse();
    assertThat(runner.isRunning()).isFalse();
    assertThat(scheduler.started()).isFalse();
    assertThat(runner.latest()).isEmpty();
  }

  @Test
  void stop_cancelsTheSchedule() {
    TestAccessRunner runner = new TestAccessRunner(engine, Duration.ofMinutes(10), scheduler);
    runner.start();

    runner.stop();

    assertThat(scheduler.cancelled()).isTrue();
    assertThat(runner.isRunning()).isFalse();
  }

  @Test
  void constructor_withANegativeInterval_failsNamingIt() {
    assertThatThrownBy(() -> new TestAccessRunner(engine, Duration.ofSeconds(-1), scheduler))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("interval must be zero (off) or positive, was PT-1S");
  }

  @Test
  void daemonThread_runsAtOnceOffTheCallersThreadAndStopsWhenCancelled() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    AtomicReference<Thread> thread = new AtomicReference<>();
    TestAccessScheduler.Cancellable schedule = TestAccessScheduler.daemonThread().start(() -> {
      thread.set(Thread.currentThread());
      ran.countDown();
    }, Duration.ofHours(1));
    try {
      assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      schedule.cancel();
    }

    assertThat(thread.get()).isNotSameAs(Thread.currentThread());
    assertThat(thread.get().getName()).startsWith("emailrouter-test-access-");
    assertThat(thread.get().isDaemon()).isTrue();
    thread.get().join(TimeUnit.SECONDS.toMillis(10));
    assertThat(thread.get().isAlive()).isFalse();
  }
}
