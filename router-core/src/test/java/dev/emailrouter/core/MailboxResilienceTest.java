package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingDecision.Reason;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class MailboxResilienceTest {
  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final FakeMailbox inbox = new FakeMailbox("inbox");
  private final CheckpointStore checkpoints = CheckpointStore.inMemory();

  private RouterEngine.Builder engine() {
    return RouterEngine.builder()
        .activityStore(store)
        .mailbox(Mailbox.ofUser("user-1", inbox))
        .trackingPolicy(TrackingPolicy.allEmail())
        .checkpointStore(checkpoints)
        .clock(clock)
        .random(new Random(9));
  }

  private MailboxCheckpoint checkpoint() {
    return checkpoints.load("fake://inbox").orElseThrow();
  }

  /**
   * A store that fails to create the activity of one message: a failure tied to that message (a
   * transient one would mean the whole store is down, see StoreOutageTest).
   */
  private static final class FailingFor extends ForwardingActivityStore {
    private final String messageId;
    final AtomicInteger calls = new AtomicInteger();

    FailingFor(InMemoryActivityStore delegate, String messageId) {
      super(delegate);
      this.messageId = messageId;
    }

    @Override
    public ReceiveResult createReceived(ReceivedEmail email) {
      if (messageId.equals(email.messageId())) {
        calls.incrementAndGet();
        throw new PermanentRouterException("CRM refused the row");
      }
      return super.createReceived(email);
    }
  }

  // --- failing messages and quarantine -------------------------------------------------------------

  @Test
  void aMessageTheStoreFailsOn_isRetriedThenQuarantined_whileLaterMessagesFlow() {
    TestMail poison = TestMail.message();
    FailingFor failing = new FailingFor(store, poison.messageId());
    RouterEngine engine = engine().activityStore(failing).maxMessageAttempts(3).build();
    String before = inbox.add(TestMail.message().build());
    String bad = inbox.add(poison.build());
    String after = inbox.add(TestMail.message().build());

    TickReport first = engine.tick();

    assertThat(first.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly(before, after);
    assertThat(first.messageFailures()).singleElement().satisfies(f -> {
      assertThat(f.ref()).isEqualTo(bad);
      assertThat(f.messageId()).isEqualTo(poison.messageId());
      assertThat(f.attempts()).isEqualTo(1);
      assertThat(f.reason()).contains("CRM refused the row");
      assertThat(f.quarantined()).isFalse();
    });
    assertThat(checkpoint().failures()).containsExactlyEntriesOf(Map.of(bad, 1));
    assertThat(inbox.dispositions()).doesNotContainKey(bad);

    String later = inbox.add(TestMail.message().build());
    TickReport second = engine.tick();

    assertThat(inbox.retriesAsked().get(1)).containsExactly(bad);
    assertThat(second.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly(later);
    assertThat(second.messageFailures()).singleElement().satisfies(f -> assertThat(f.attempts()).isEqualTo(2));
    assertThat(checkpoint().failures()).containsExactlyEntriesOf(Map.of(bad, 2));

    TickReport third = engine.tick();

    assertThat(third.messageFailures()).singleElement().satisfies(f -> {
      assertThat(f.attempts()).isEqualTo(3);
      assertThat(f.quarantined()).isTrue();
    });
    assertThat(inbox.dispositions()).containsEntry(bad, Disposition.QUARANTINED);
    assertThat(checkpoint().failures()).isEmpty();
    assertThat(inbox.size()).isEqualTo(4);

    TickReport fourth = engine.tick();
    assertThat(fourth.events()).isEmpty();
    assertThat(failing.calls).hasValue(3);
    assertThat(store.received()).hasSize(3);
  }

  @Test
  void aMessageThatRecoversOnRetry_isTrackedAndLeavesTheFailureList() {
    TestMail flaky = TestMail.message();
    AtomicInteger failuresLeft = new AtomicInteger(1);
    ForwardingActivityStore once = new ForwardingActivityStore(store) {
      @Override
      public ReceiveResult createReceived(ReceivedEmail email) {
        if (failuresLeft.getAndDecrement() > 0) {
          throw new IllegalStateException("unique key violated by a concurrent insert, try again");
        }
        return super.createReceived(email);
      }
    };
    RouterEngine engine = engine().activityStore(once).build();
    String ref = inbox.add(flaky.build());

    engine.tick();
    TickReport retry = engine.tick();

    assertThat(retry.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly(ref);
    assertThat(checkpoint().failures()).isEmpty();
    assertThat(inbox.dispositions()).containsEntry(ref, Disposition.TRACKED);
  }

  @Test
  void aFailingMessageThatWasDeletedMeanwhile_leavesTheFailureList() {
    TestMail poison = TestMail.message();
    RouterEngine engine = engine().activityStore(new FailingFor(store, poison.messageId())).build();
    String bad = inbox.add(poison.build());
    engine.tick();
    assertThat(checkpoint().failures()).containsKey(bad);

    inbox.remove(bad);
    engine.tick();
    engine.tick();

    assertThat(checkpoint().failures()).isEmpty();
    assertThat(inbox.retriesAsked().get(2)).isEmpty();
  }

  @Test
  void aMessageDeletedBetweenHeadersAndDownload_isReportedGoneWithoutFailure() {
    TrackingPolicy deletingMeanwhile = (message, context) -> {
      inbox.remove(message.ref());
      return TrackingDecision.track(Reason.ACCEPT_ALL, "");
    };
    RouterEngine engine = engine().trackingPolicy(deletingMeanwhile).build();
    inbox.add(TestMail.message().build());

    TickReport report = engine.tick();

    assertThat(report.events()).singleElement().isInstanceOfSatisfying(RouterEvent.MessageGone.class,
        gone -> assertThat(gone.ref()).isEqualTo("1"));
    assertThat(store.received()).isEmpty();
    assertThat(checkpoint()).isEqualTo(new MailboxCheckpoint("1:1", Map.of()));
  }

  // --- resets, restarts, budgets -------------------------------------------------------------------

  @Test
  void aUidValidityReset_seesEveryMessageAgainWithoutDuplicateActivities() {
    RouterEngine engine = engine().build();
    inbox.add(TestMail.message().build());
    inbox.add(TestMail.message().build());
    engine.tick();
    assertThat(store.received()).hasSize(2);

    inbox.reset();
    inbox.add(TestMail.message().build());
    TickReport afterReset = engine.tick();

    assertThat(store.received()).hasSize(3);
    assertThat(afterReset.tracked()).hasSize(1);
    assertThat(afterReset.rejected()).hasSize(2)
        .allSatisfy(r -> assertThat(r.decision().reason()).isEqualTo(Reason.DUPLICATE));
    assertThat(checkpoint().cursor()).isEqualTo("2:2002");
    assertThat(engine.tick().events()).isEmpty();
  }

  @Test
  void aResetDropsFailuresRecordedUnderTheOldRefs() {
    TestMail poison = TestMail.message();
    RouterEngine engine = engine().activityStore(new FailingFor(store, poison.messageId())).build();
    inbox.add(poison.build());
    engine.tick();

    inbox.reset();
    TickReport afterReset = engine.tick();

    assertThat(afterReset.messageFailures()).singleElement().satisfies(f -> {
      assertThat(f.ref()).isEqualTo("2000");
      assertThat(f.attempts()).isEqualTo(1);
    });
    assertThat(checkpoint().failures()).containsOnlyKeys("2000");
  }

  @Test
  void aRestartedEngineWithTheSameCheckpointDirectory_continuesWithoutDuplicatesOrGaps(@TempDir Path dir) {
    RouterEngine first = engine().checkpointStore(CheckpointStore.directory(dir)).build();
    inbox.add(TestMail.message().build());
    inbox.add(TestMail.message().build());
    first.tick();
    first.close();
    String arrivedWhileDown = inbox.add(TestMail.message().build());

    RouterEngine second = engine().checkpointStore(CheckpointStore.directory(dir)).build();
    TickReport report = second.tick();

    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly(arrivedWhileDown);
    assertThat(store.received()).hasSize(3);
    assertThat(inbox.fetchedHeaders()).containsExactly("1", "2", "3");
    assertThat(inbox.downloaded()).containsExactly("1", "2", "3");
  }

  @Test
  void aRestartedEngine_keepsCountingAFailingMessagesAttempts(@TempDir Path dir) {
    TestMail poison = TestMail.message();
    FailingFor failing = new FailingFor(store, poison.messageId());
    String bad = inbox.add(poison.build());
    engine().activityStore(failing).checkpointStore(CheckpointStore.directory(dir)).maxMessageAttempts(2).build()
        .tick();

    TickReport afterRestart = engine().activityStore(failing).checkpointStore(CheckpointStore.directory(dir))
        .maxMessageAttempts(2).build().tick();

    assertThat(afterRestart.messageFailures()).singleElement().satisfies(f -> {
      assertThat(f.attempts()).isEqualTo(2);
      assertThat(f.quarantined()).isTrue();
    });
    assertThat(inbox.dispositions()).containsEntry(bad, Disposition.QUARANTINED);
  }

  @Test
  void maxMessagesPerMailbox_boundsATick_andTheRestComeNextTick() {
    RouterEngine engine = engine().maxMessagesPerMailbox(3).build();
    for (int i = 0; i < 7; i++) {
      inbox.add(TestMail.message().build());
    }

    assertThat(engine.tick().tracked()).hasSize(3);
    assertThat(engine.tick().tracked()).hasSize(3);
    assertThat(engine.tick().tracked()).hasSize(1);
    assertThat(engine.tick().tracked()).isEmpty();
    assertThat(store.received()).hasSize(7);
  }

  @Test
  void theCheckpointIsSavedAfterTheDispositionsAreApplied() {
    List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
    CheckpointStore recording = new CheckpointStore() {
      @Override
      public Optional<MailboxCheckpoint> load(String mailbox) {
        return checkpoints.load(mailbox);
      }

      @Override
      public void save(String mailbox, MailboxCheckpoint checkpoint) {
        order.add("save " + checkpoint.cursor() + " after " + inbox.disposeCalls().size() + " dispose");
        checkpoints.save(mailbox, checkpoint);
      }
    };
    RouterEngine engine = engine().checkpointStore(recording).build();
    inbox.add(TestMail.message().build());

    engine.tick();

    assertThat(order).containsExactly("save 1:1 after 1 dispose");
  }

  @Test
  void aCheckpointThatCantBeSavedForNow_stopsThePassAsAnOutage_andTheMessagesComeAgainWithoutDuplicates() {
    AtomicInteger saveFailures = new AtomicInteger(1);
    CheckpointStore flaky = new CheckpointStore() {
      @Override
      public Optional<MailboxCheckpoint> load(String mailbox) {
        return checkpoints.load(mailbox);
      }

      @Override
      public void save(String mailbox, MailboxCheckpoint checkpoint) {
        if (saveFailures.getAndDecrement() > 0) {
          throw new TransientRouterException("disk full");
        }
        checkpoints.save(mailbox, checkpoint);
      }
    };
    RouterEngine engine = engine().checkpointStore(flaky).build();
    inbox.add(TestMail.message().build());

    TickReport failed = engine.tick();
    clock.advance(Duration.ofMinutes(10)); // past the backoff (retryDelay, 5 minutes, with jitter)
    TickReport again = engine.tick();

    // The checkpoint store, not the mailbox: a transient stop, not counted towards disabling it.
    assertThat(failed.problems()).singleElement().isInstanceOf(RouterEvent.MailboxStateUnavailable.class);
    assertThat(again.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.DUPLICATE));
    assertThat(inbox.dispositions()).containsValue(Disposition.TRACKED);
    assertThat(store.received()).hasSize(1);
    assertThat(checkpoint().cursor()).isEqualTo("1:1");
  }

  // --- failing mailboxes -----------------------------------------------------------------------------

  @Test
  void aMailboxThatCantBeOpened_isBackedOff_whileOtherMailboxesAreRead() {
    FakeMailbox healthy = new FakeMailbox("healthy");
    RouterEngine engine = engine().mailbox(Mailbox.ofUser("user-2", healthy)).mailboxRetryDelay(Duration.ofMinutes(1))
        .build();
    inbox.failOpen(1, new TransientRouterException("imap://fake can't be reached"));
    inbox.add(TestMail.message().build());
    healthy.add(TestMail.message().build());

    TickReport first = engine.tick();

    assertThat(first.tracked()).extracting(RouterEvent.MessageTracked::mailbox).containsExactly("fake://healthy");
    RouterEvent.MailboxFailed failed = (RouterEvent.MailboxFailed) first.problems().get(0);
    assertThat(failed.mailbox()).isEqualTo("fake://inbox");
    assertThat(failed.consecutiveFailures()).isEqualTo(1);
    assertThat(failed.reason()).contains("can't be reached");
    assertThat(failed.retryAt()).isBetween(clock.instant().plusSeconds(48), clock.instant().plusSeconds(72));

    clock.set(failed.retryAt().minusMillis(1));
    TickReport tooEarly = engine.tick();
    assertThat(tooEarly.events()).isEmpty();
    assertThat(inbox.opens()).isEqualTo(1);

    clock.set(failed.retryAt());
    TickReport onTime = engine.tick();
    assertThat(onTime.tracked()).extracting(RouterEvent.MessageTracked::mailbox).containsExactly("fake://inbox");
    assertThat(onTime.problems()).isEmpty();
  }

  @Test
  void aMailboxFailingTooOften_isDisabledUntilEnabledAgain() {
    RouterEngine engine = engine().mailboxFailuresBeforeDisable(3).build();
    inbox.failOpen(100, new PermanentRouterException("login refused for inbox"));
    inbox.add(TestMail.message().build());

    TickReport last = null;
    for (int i = 0; i < 3; i++) {
      last = engine.tick();
      clock.advance(Duration.ofHours(2));
    }

    assertThat(last.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.MailboxDisabled.class, d -> {
      assertThat(d.mailbox()).isEqualTo("fake://inbox");
      assertThat(d.consecutiveFailures()).isEqualTo(3);
      assertThat(d.reason()).contains("login refused");
    });
    assertThat(engine.isMailboxDisabled("fake://inbox")).isTrue();
    for (int i = 0; i < 3; i++) {
      clock.advance(Duration.ofDays(1));
      assertThat(engine.tick().events()).isEmpty();
    }
    assertThat(inbox.opens()).isEqualTo(3);

    inbox.failOpen(0, null);
    engine.enableMailbox("fake://inbox");
    assertThat(engine.isMailboxDisabled("fake://inbox")).isFalse();
    assertThat(engine.tick().tracked()).hasSize(1);
  }

  @Test
  void backoffOfAFailingMailbox_growsWithEachFailureInARow() {
    RouterEngine engine = engine().mailboxRetryDelay(Duration.ofMinutes(1)).build();
    inbox.failOpen(3, new TransientRouterException("timeout"));

    Instant[] retryAt = new Instant[3];
    Instant[] at = new Instant[3];
    for (int i = 0; i < 3; i++) {
      at[i] = clock.instant();
      retryAt[i] = ((RouterEvent.MailboxFailed) engine.tick().problems().get(0)).retryAt();
      clock.set(retryAt[i]);
    }

    assertThat(Duration.between(at[1], retryAt[1])).isBetween(Duration.ofSeconds(96), Duration.ofSeconds(144));
    assertThat(Duration.between(at[2], retryAt[2])).isBetween(Duration.ofSeconds(192), Duration.ofSeconds(288));
  }

  @Test
  void enableMailbox_withAnUnknownName_failsNamingTheConfiguredOnes() {
    RouterEngine engine = engine().build();

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> engine.enableMailbox("nope"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope")
        .hasMessageContaining("fake://inbox");
  }

  @Test
  void mailboxesReadInParallel_eachTrackTheirMail() {
    FakeMailbox a = new FakeMailbox("a");
    FakeMailbox b = new FakeMailbox("b");
    try (RouterEngine engine = engine().mailbox(Mailbox.ofUser("user-2", a)).mailbox(Mailbox.ofQueue("q", b))
        .mailboxParallelism(3).build()) {
      for (int i = 0; i < 5; i++) {
        inbox.add(TestMail.message().build());
        a.add(TestMail.message().build());
        b.add(TestMail.message().build());
      }

      TickReport report = engine.tick();

      assertThat(report.tracked()).hasSize(15);
      assertThat(store.received()).hasSize(15);
    }
  }

  @Test
  void theRetrySetAskedOfTheReader_isTheCheckpointsFailures() {
    TestMail poison = TestMail.message();
    RouterEngine engine = engine().activityStore(new FailingFor(store, poison.messageId())).build();
    String bad = inbox.add(poison.build());

    engine.tick();
    engine.tick();

    assertThat(inbox.retriesAsked()).containsExactly(Set.of(), Set.of(bad));
  }
}
