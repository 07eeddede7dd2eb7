package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.testfixtures.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine's state as a host reads it between and during ticks (for gauges and health). */
final class EngineStateTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T09:00:00Z"));
  private final InMemoryActivityStore store = new InMemoryActivityStore();

  @Test
  void mailboxNames_listsTheConfiguredNamesInOrder() {
    try (RouterEngine engine = RouterEngine.builder().activityStore(store)
        .mailbox(Mailbox.ofUser("user-1", new FakeMailbox("a")).withName("sales"))
        .mailbox(Mailbox.ofUser("user-2", new FakeMailbox("b"))).build()) {
      assertThat(engine.mailboxNames()).containsExactly("sales", "fake://b");
    }
  }

  @Test
  void lastSuccessfulPass_isSetByAReadWithoutFailureAndKeptThroughFailures() {
    FakeMailbox box = new FakeMailbox("a");
    try (RouterEngine engine = RouterEngine.builder().activityStore(store).clock(clock)
        .mailbox(Mailbox.ofUser("user-1", box).withName("sales")).mailboxRetryDelay(Duration.ofSeconds(1)).build()) {
      assertThat(engine.lastSuccessfulPass("sales")).isEmpty();

      engine.tick();
      Instant first = clock.instant();
      clock.advance(Duration.ofMinutes(5));
      box.failOpen(1, new dev.emailrouter.api.TransientRouterException("connection refused"));
      engine.tick();

      assertThat(engine.lastSuccessfulPass("sales")).contains(first);
      assertThatThrownBy(() -> engine.lastSuccessfulPass("nope")).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("nope");
    }
  }

  @Test
  void emailsInFlight_countsClaimedEmailsUntilTheirOutcomeIsRecorded() {
    // Recorded one by one: each Sent recorded before the next send.
    assertThat(inFlightBeforeEachSend(1)).containsExactly(3, 2, 1);
    // Recorded in groups (the default 16): all three stay in flight until their group is recorded.
    assertThat(inFlightBeforeEachSend(16)).containsExactly(3, 3, 3);
  }

  private List<Integer> inFlightBeforeEachSend(int sentBatchSize) {
    InMemoryActivityStore fresh = new InMemoryActivityStore();
    RecordingTransport transport = new RecordingTransport();
    for (int i = 1; i <= 3; i++) {
      fresh.add(OutgoingEmail.builder("a-" + i, EmailAddress.of("sales@example.com"))
          .to(EmailAddress.of("customer@example.org")).subject("Hello " + i).textBody("Hi!").build());
    }
    List<Integer> during = new ArrayList<>();
    try (RouterEngine engine = RouterEngine.builder().activityStore(fresh).clock(clock).transport(transport)
        .sentBatchSize(sentBatchSize).build()) {
      transport.beforeSend(e -> during.add(engine.emailsInFlight()));
      assertThat(engine.emailsInFlight()).isZero();

      engine.tick();

      assertThat(engine.emailsInFlight()).as("after the tick").isZero();
      assertThat(fresh.status("a-3")).isEqualTo(dev.emailrouter.api.EmailStatus.SENT);
    }
    return during;
  }

  @Test
  void close_closesTheReadersThatHoldSomethingBetweenTicks_onceEach_evenWhenTwoMailboxesShareOne() {
    java.util.concurrent.atomic.AtomicInteger closes = new java.util.concurrent.atomic.AtomicInteger();
    FakeMailbox fake = new FakeMailbox("a");
    class Closable implements dev.emailrouter.api.MailboxReader, AutoCloseable {
      @Override
      public Session open() {
        return fake.open();
      }

      @Override
      public String describe() {
        return fake.describe();
      }

      @Override
      public void close() {
        closes.incrementAndGet();
      }
    }
    Closable reader = new Closable();
    RouterEngine engine = RouterEngine.builder().activityStore(store)
        .mailbox(Mailbox.ofUser("user-1", reader).withName("one"))
        .mailbox(Mailbox.ofQueue("queue-1", reader).withName("two")).build();

    engine.close();
    engine.close();

    assertThat(closes).hasValue(1);
  }
}
