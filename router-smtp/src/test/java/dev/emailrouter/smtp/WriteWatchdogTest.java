package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The write watchdog's scheduling, on a clock the test moves (its thread is never started). */
final class WriteWatchdogTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final WriteWatchdog watchdog = new WriteWatchdog("test", now::get, false);
  private final AtomicInteger closed = new AtomicInteger();

  private ScheduledFuture<String> closeIn(long millis) {
    return watchdog.schedule(() -> {
      closed.incrementAndGet();
      return "closed";
    }, millis, TimeUnit.MILLISECONDS);
  }

  @Test
  void runDue_runsATaskOnceItsDelayHasPassed_notBefore() throws Exception {
    ScheduledFuture<String> task = closeIn(300);

    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(299));
    assertThat(watchdog.runDue()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(1));
    assertThat(closed).hasValue(0);

    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
    assertThat(watchdog.runDue()).isEqualTo(-1);
    assertThat(closed).hasValue(1);
    assertThat(task.isDone()).isTrue();
    assertThat(task.cancel(true)).as("too late to cancel").isFalse();
    assertThat(task.get(1, TimeUnit.SECONDS)).isEqualTo("closed");
  }

  @Test
  void cancel_beforeTheDeadline_keepsTheTaskFromRunningAndLeavesNothingPending() {
    ScheduledFuture<String> task = closeIn(300);

    assertThat(task.cancel(true)).isTrue();
    now.addAndGet(TimeUnit.SECONDS.toNanos(10));

    assertThat(watchdog.runDue()).isEqualTo(-1);
    assertThat(closed).hasValue(0);
    assertThat(task.isCancelled()).isTrue();
    assertThatThrownBy(task::get).isInstanceOf(CancellationException.class);
  }

  @Test
  void runDue_withSeveralWrites_runsOnlyTheStalledOne() {
    ScheduledFuture<String> first = closeIn(300);
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
    closeIn(300);
    first.cancel(true);

    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(250));
    assertThat(watchdog.runDue()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(50));
    assertThat(watchdog.runDue()).isEqualTo(-1);

    assertThat(closed).hasValue(1);
  }

  @Test
  void schedule_aRunnable_isRefused() {
    assertThatThrownBy(() -> watchdog.schedule(() -> { }, 1, TimeUnit.SECONDS))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
