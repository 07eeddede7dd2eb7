package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.testfixtures.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The tick's time budget: what is left for the next tick when it is used up, and that nothing is lost. */
final class TickBudgetTest {
  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final RecordingTransport transport = new RecordingTransport();
  private final CheckpointStore checkpoints = CheckpointStore.inMemory();

  private void addEmails(int count) {
    for (int i = 0; i < count; i++) {
      store.add(OutgoingEmail.builder("e" + i, EmailAddress.of("me@example.com"))
          .to(EmailAddress.of("customer@example.org")).subject("Mail " + i).textBody("Hi!").build());
    }
  }

  /** A policy that tracks everything and takes {@code each} of the clock's time per message. */
  private TrackingPolicy slowPolicy(Duration each) {
    TrackingPolicy all = TrackingPolicy.allEmail();
    return (message, context) -> {
      clock.advance(each);
      return all.decide(message, context);
    };
  }

  @Test
  void sending_stopsWhenTheBudgetIsUsedUp_andTheRestGoesBackToPendingWithoutAnAttempt() {
    addEmails(10);
    transport.beforeSend(e -> clock.advance(Duration.ofSeconds(40)));
    RouterEngine engine = RouterEngine.builder().activityStore(store).transport(transport).clock(clock)
        .random(new Random(1)).batchPerSender(10).tickBudget(Duration.ofMinutes(2)).build();

    TickReport first = engine.tick();

    assertThat(first.sent()).hasSize(3);
    assertThat(first.retried()).hasSize(7).allSatisfy(r -> {
      assertThat(r.attempts()).isZero();
      assertThat(r.nextAttemptAt()).isEqualTo(clock.instant());
      assertThat(r.reason()).contains("tickBudget PT2M");
    });
    assertThat(first.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.TickBudgetUsedUp.class, u -> {
      assertThat(u.budget()).isEqualTo(Duration.ofMinutes(2));
      assertThat(u.emailsDeferred()).isEqualTo(7);
      assertThat(u.mailboxesDeferred()).isEmpty();
    });
    for (int i = 3; i < 10; i++) {
      assertThat(store.find("e" + i).orElseThrow().status()).isEqualTo(EmailStatus.PENDING_SEND);
      assertThat(store.find("e" + i).orElseThrow().attempts()).isZero();
    }

    assertThat(engine.tick().sent()).hasSize(3);
    assertThat(engine.tick().sent()).hasSize(3);
    TickReport last = engine.tick();
    assertThat(last.sent()).hasSize(1);
    assertThat(last.problems()).isEmpty();
    assertThat(transport.acceptedIds()).doesNotHaveDuplicates().hasSize(10);
  }

  @Test
  void aMailboxLeftUnreadWhenTheBudgetRunsOut_isReadFirstOnTheNextTick() {
    FakeMailbox first = new FakeMailbox("first");
    FakeMailbox second = new FakeMailbox("second");
    first.pageSize(1);
    for (int i = 0; i < 3; i++) {
      first.add(TestMail.message().build());
      second.add(TestMail.message().build());
    }
    RouterEngine engine = RouterEngine.builder().activityStore(store).clock(clock).random(new Random(2))
        .mailbox(Mailbox.ofUser("u1", first)).mailbox(Mailbox.ofUser("u2", second)).checkpointStore(checkpoints)
        .trackingPolicy(slowPolicy(Duration.ofSeconds(50))).tickBudget(Duration.ofMinutes(2)).build();

    TickReport tick1 = engine.tick();

    assertThat(tick1.tracked()).extracting(RouterEvent.MessageTracked::mailbox).containsOnly("fake://first")
        .hasSize(3);
    assertThat(tick1.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.TickBudgetUsedUp.class,
        u -> assertThat(u.mailboxesDeferred()).containsExactly("fake://second"));

    TickReport tick2 = engine.tick();

    assertThat(tick2.tracked()).extracting(RouterEvent.MessageTracked::mailbox).containsOnly("fake://second")
        .hasSize(3);
    assertThat(store.received()).hasSize(6);
  }

  @Test
  void aMailboxStoppedBetweenBatches_continuesWhereItStopped() {
    FakeMailbox inbox = new FakeMailbox("inbox");
    inbox.pageSize(2);
    for (int i = 0; i < 7; i++) {
      inbox.add(TestMail.message().build());
    }
    RouterEngine engine = RouterEngine.builder().activityStore(store).clock(clock).random(new Random(3))
        .mailbox(Mailbox.ofUser("u1", inbox)).checkpointStore(checkpoints)
        .trackingPolicy(slowPolicy(Duration.ofSeconds(30))).tickBudget(Duration.ofMinutes(2)).build();

    List<String> refs = engine.tick().tracked().stream().map(RouterEvent.MessageTracked::ref).toList();
    assertThat(refs).containsExactly("1", "2", "3", "4");
    assertThat(engine.tick().tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly("5", "6", "7");
  }

  @Test
  void withMailboxes_sendingGetsHalfTheBudget_soABacklogNeverStarvesTheMailboxes() {
    addEmails(10);
    transport.beforeSend(e -> clock.advance(Duration.ofSeconds(40)));
    FakeMailbox inbox = new FakeMailbox("inbox");
    inbox.add(TestMail.message().build());
    RouterEngine engine = RouterEngine.builder().activityStore(store).transport(transport).clock(clock)
        .random(new Random(4)).batchPerSender(10).mailbox(Mailbox.ofUser("u1", inbox)).checkpointStore(checkpoints)
        .trackingPolicy(TrackingPolicy.allEmail()).tickBudget(Duration.ofMinutes(4)).build();

    TickReport tick = engine.tick();

    assertThat(tick.sent()).hasSize(3);
    assertThat(tick.tracked()).hasSize(1);
  }

  @Test
  void aBudgetNotShorterThanTheLease_isRefusedNamingBothSettings() {
    RouterEngine.Builder builder = RouterEngine.builder().activityStore(store).transport(transport)
        .lease(Duration.ofMinutes(5)).tickBudget(Duration.ofMinutes(5));

    assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tickBudget (PT5M)").hasMessageContaining("lease (PT5M)");
  }

  @Test
  void aBudgetUnderOneSecond_isRefused() {
    assertThatThrownBy(() -> RouterEngine.builder().tickBudget(Duration.ofMillis(10)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tickBudget must be at least PT1S");
  }
}
