package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.emailrouter.api.Claim;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailIdentity;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import dev.emailrouter.testfixtures.MutableClock;
import dev.emailrouter.testfixtures.StoreOutage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A CRM outage (the store throwing {@link TransientRouterException}) is the store's problem, not
 * the messages', the emails' or the mailboxes': nothing is quarantined, failed, disabled or sent
 * twice beyond the documented at-least-once copy.
 */
final class StoreOutageTest {
  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore memory = new InMemoryActivityStore();
  private final CheckpointStore checkpoints = CheckpointStore.inMemory();
  private final FakeMailbox inbox = new FakeMailbox("inbox");
  private final FakeMailbox other = new FakeMailbox("other");

  /**
   * A store that goes down (every call throws TransientRouterException) when a test starts the
   * outage, or once {@code downAfterCreates} more activities were created, or at the first markSent
   * after {@code downAtMarkSent} is set.
   */
  private static final class Crm extends StoreOutage {
    final AtomicInteger downAfterCreates = new AtomicInteger(Integer.MAX_VALUE);
    final AtomicBoolean downAtMarkSent = new AtomicBoolean();
    /** When set, the markSentAll that takes the store down fails only once this is counted down. */
    volatile java.util.concurrent.CountDownLatch downAtMarkSentAfter;

    Crm(InMemoryActivityStore delegate) {
      super(delegate);
    }

    @Override
    public void markSent(Claim claim, Instant sentAt, SendResult result) {
      if (downAtMarkSent.getAndSet(false)) {
        start(Mode.ALL);
      }
      super.markSent(claim, sentAt, result);
    }

    @Override
    public List<String> markSentAll(List<SentOutcome> outcomes) {
      if (downAtMarkSent.getAndSet(false)) {
        java.util.concurrent.CountDownLatch after = downAtMarkSentAfter;
        try {
          if (after != null && !after.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
            throw new IllegalStateException("the test's go for the outage never came");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        start(Mode.ALL);
      }
      return super.markSentAll(outcomes);
    }

    @Override
    public ReceiveResult createReceived(ReceivedEmail email) {
      if (downAfterCreates.getAndDecrement() <= 0) {
        start(Mode.ALL);
      }
      return super.createReceived(email);
    }
  }

  private final Crm crm = new Crm(memory);

  private RouterEngine.Builder incoming() {
    return RouterEngine.builder()
        .activityStore(crm)
        .mailbox(Mailbox.ofUser("user-1", inbox))
        .trackingPolicy(TrackingPolicy.allEmail())
        .checkpointStore(checkpoints)
        .clock(clock)
        .random(new Random(7))
        .retryDelay(Duration.ofMinutes(1))
        .maxRetryDelay(Duration.ofMinutes(4))
        .maxMessageAttempts(3)
        .mailboxFailuresBeforeDisable(3);
  }

  private String cursor() {
    return checkpoints.load("fake://inbox").map(MailboxCheckpoint::cursor).orElse("(none)");
  }

  private static <T extends RouterEvent> List<T> all(List<TickReport> reports, Class<T> type) {
    List<T> out = new ArrayList<>();
    for (TickReport r : reports) {
      r.events().stream().filter(type::isInstance).map(type::cast).forEach(out::add);
    }
    return out;
  }

  // --- incoming ---------------------------------------------------------------------------------------

  @Test
  void tick_whenTheStoreIsDownForMoreTicksThanMaxMessageAttempts_quarantinesNothingAndTracksEachMessageOnceLater() {
    RouterEngine engine = incoming().build();
    List<String> refs = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      TestMail m = TestMail.message();
      ids.add(m.messageId());
      refs.add(inbox.add(m.build()));
    }
    engine.tick();
    assertThat(cursor()).isEqualTo("1:2");
    for (int i = 0; i < 4; i++) {
      TestMail m = TestMail.message();
      ids.add(m.messageId());
      refs.add(inbox.add(m.build()));
    }
    crm.downAfterCreates.set(1); // the first new message is created, then the CRM goes down

    List<TickReport> during = new ArrayList<>();
    for (int tick = 0; tick < 10; tick++) {
      during.add(engine.tick());
      // The checkpoint stays behind every message not committed (the interrupted batch is read again).
      assertThat(cursor()).isEqualTo("1:2");
      assertThat(checkpoints.load("fake://inbox").orElseThrow().failures()).isEmpty();
      clock.advance(Duration.ofMinutes(5)); // past the longest backoff: each tick meets the outage again
    }

    assertThat(all(during, RouterEvent.MessageFailed.class)).isEmpty();
    assertThat(all(during, RouterEvent.MailboxFailed.class)).isEmpty();
    assertThat(all(during, RouterEvent.MailboxDisabled.class)).isEmpty();
    assertThat(engine.isMailboxDisabled("fake://inbox")).isFalse();
    assertThat(inbox.dispositions()).doesNotContainValue(Disposition.QUARANTINED);
    assertThat(inbox.dispositions()).doesNotContainKeys(refs.subList(2, 6).toArray(String[]::new));
    assertThat(all(during, RouterEvent.StoreUnavailable.class)).hasSize(10).allSatisfy(e -> {
      assertThat(e.flow()).isEqualTo("incoming");
      assertThat(e.mailbox()).isEqualTo("fake://inbox");
      assertThat(e.reason()).contains("CRM database unavailable");
      assertThat(e.retryAt()).isAfter(MutableClock.START);
    });
    assertThat(during.get(0).problems()).singleElement().isInstanceOf(RouterEvent.StoreUnavailable.class);

    crm.downAfterCreates.set(Integer.MAX_VALUE);
    crm.stop();
    TickReport back = engine.tick();

    assertThat(back.problems()).isEmpty();
    assertThat(back.messageFailures()).isEmpty();
    assertThat(memory.received()).extracting(ReceivedEmail::messageId).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(inbox.dispositions()).containsOnlyKeys(refs).doesNotContainValue(Disposition.QUARANTINED);
    assertThat(cursor()).isEqualTo("1:6");
  }

  @Test
  void tick_whileTheStoreIsBackedOff_readsNoMailbox_untilTheClockSaysItIsDue() {
    RouterEngine engine = incoming().mailbox(Mailbox.ofUser("user-2", other)).build();
    inbox.add(TestMail.message().build());
    String waiting = other.add(TestMail.message().build());
    crm.start(StoreOutage.Mode.ALL);

    TickReport first = engine.tick();

    assertThat(first.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.StoreUnavailable.class,
        e -> assertThat(e.retryAt()).isBetween(clock.instant().plusSeconds(48), clock.instant().plusSeconds(72)));
    // The other mailbox shares the store: it is not even opened this tick.
    assertThat(inbox.opens()).isEqualTo(1);
    assertThat(other.opens()).isZero();

    crm.stop();
    clock.advance(Duration.ofSeconds(30));
    TickReport early = engine.tick();

    assertThat(early.events()).isEmpty();
    assertThat(inbox.opens()).isEqualTo(1);
    assertThat(other.opens()).isZero();

    clock.advance(Duration.ofSeconds(60));
    TickReport due = engine.tick();

    assertThat(due.tracked()).hasSize(2);
    assertThat(other.dispositions()).containsEntry(waiting, Disposition.TRACKED);
  }

  @Test
  void tick_withMailboxesReadInParallel_reportsOneOutageAndFailsNoMailbox() {
    List<FakeMailbox> boxes = new ArrayList<>();
    RouterEngine.Builder builder = incoming().mailboxParallelism(4);
    for (int i = 0; i < 4; i++) {
      FakeMailbox box = new FakeMailbox("box" + i);
      box.add(TestMail.message().build());
      boxes.add(box);
      builder.mailbox(Mailbox.ofUser("user-p" + i, box));
    }
    crm.start(StoreOutage.Mode.ALL);
    List<TickReport> during = new ArrayList<>();
    try (RouterEngine engine = builder.build()) {
      for (int tick = 0; tick < 5; tick++) {
        during.add(engine.tick());
        clock.advance(Duration.ofMinutes(5));
      }

      assertThat(all(during, RouterEvent.StoreUnavailable.class)).hasSize(5);
      assertThat(all(during, RouterEvent.MailboxFailed.class)).isEmpty();
      assertThat(all(during, RouterEvent.MailboxDisabled.class)).isEmpty();
      assertThat(all(during, RouterEvent.MessageFailed.class)).isEmpty();

      crm.stop();
      TickReport back = engine.tick();

      assertThat(back.tracked()).hasSize(4);
      assertThat(memory.received()).hasSize(4);
    }
  }

  @Test
  void tick_whenTheStoreFailsOnOneMessageOnly_countsThatMessagesAttempt() {
    TestMail poison = TestMail.message();
    ForwardingActivityStore refusing = new ForwardingActivityStore(memory) {
      @Override
      public ReceiveResult createReceived(ReceivedEmail email) {
        if (poison.messageId().equals(email.messageId())) {
          throw new PermanentRouterException("CRM refused the row: subject too long");
        }
        return super.createReceived(email);
      }
    };
    RouterEngine engine = incoming().activityStore(refusing).build();
    String bad = inbox.add(poison.build());
    String good = inbox.add(TestMail.message().build());

    TickReport report = engine.tick();

    assertThat(report.messageFailures()).singleElement().satisfies(f -> {
      assertThat(f.ref()).isEqualTo(bad);
      assertThat(f.attempts()).isEqualTo(1);
    });
    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly(good);
    assertThat(report.problems()).isEmpty();
  }

  // --- outgoing ---------------------------------------------------------------------------------------

  private final RecordingTransport transport = new RecordingTransport();

  private RouterEngine.Builder outgoing() {
    return RouterEngine.builder()
        .activityStore(crm)
        .transport(transport)
        .clock(clock)
        .random(new Random(7))
        .lease(Duration.ofMinutes(10))
        .retryDelay(Duration.ofMinutes(1))
        .maxRetryDelay(Duration.ofMinutes(4))
        .maxAttempts(3);
  }

  private void addEmails(int count) {
    for (int i = 0; i < count; i++) {
      memory.add(OutgoingEmail.builder("e" + i, EmailAddress.of("me@example.com"))
          .to(EmailAddress.of("customer@example.org"))
          .subject("Mail " + i)
          .textBody("Hi!")
          .build());
    }
  }

  @Test
  void tick_whenTheStoreGoesDownAtTheFirstMarkSent_sendsNoMoreOfTheBatch_andEachEmailOnceAfterwards() {
    addEmails(4);
    // Each email recorded Sent as soon as it is accepted; groups: the test after this one.
    RouterEngine engine = outgoing().sentBatchSize(1).build();
    crm.downAtMarkSent.set(true);

    List<TickReport> reports = new ArrayList<>();
    reports.add(engine.tick());

    assertThat(transport.acceptedIds()).hasSize(1); // the rest of the batch could not be recorded either
    assertThat(reports.get(0).problems()).filteredOn(RouterEvent.StoreUnavailable.class::isInstance).singleElement()
        .satisfies(e -> {
          RouterEvent.StoreUnavailable u = (RouterEvent.StoreUnavailable) e;
          assertThat(u.flow()).isEqualTo("outgoing");
          assertThat(u.mailbox()).isNull();
        });

    for (int tick = 0; tick < 10; tick++) {
      clock.advance(Duration.ofMinutes(5));
      reports.add(engine.tick());
    }
    assertThat(transport.acceptedIds()).hasSize(1);

    crm.stop();
    for (int tick = 0; tick < 4; tick++) {
      clock.advance(Duration.ofMinutes(5)); // past the lease of the emails the store could not take back
      reports.add(engine.tick());
    }

    assertThat(all(reports, RouterEvent.EmailFailed.class)).isEmpty();
    assertThat(all(reports, RouterEvent.StoreUnavailable.class)).hasSizeGreaterThan(1);
    for (int i = 0; i < 4; i++) {
      assertThat(memory.find("e" + i).orElseThrow().status()).as("e" + i).isEqualTo(EmailStatus.SENT);
    }
    // The one email sent while its outcome could not be recorded goes out again (at least once); no other.
    assertThat(transport.acceptedIds()).hasSize(5).containsOnlyOnce("e1", "e2", "e3");
    String first = memory.find("e0").orElseThrow().email().messageId();
    assertThat(transport.accepted()).filteredOn(e -> e.activityId().equals("e0"))
        .hasSize(2).allSatisfy(e -> assertThat(e.messageId()).isEqualTo(first));
    // No attempt was counted for the store's outage.
    for (int i = 1; i < 4; i++) {
      assertThat(memory.find("e" + i).orElseThrow().attempts()).as("e" + i).isEqualTo(1);
    }
  }

  @Test
  void tick_whenTheStoreGoesDownRecordingAGroupSent_sendsNoMoreOfTheBatch_andRepeatsExactlyTheUnrecordedAfterwards() {
    addEmails(6);
    // Groups of 2 (half of 4), each recorded while the session sends the next two.
    RouterEngine engine = outgoing().sentBatchSize(4).build();
    crm.downAtMarkSent.set(true);
    // The first group's record fails once e3 is being sent: e2 and e3 went out while it was recorded.
    crm.downAtMarkSentAfter = new java.util.concurrent.CountDownLatch(1);
    transport.beforeSend(e -> {
      if (e.activityId().equals("e3")) {
        crm.downAtMarkSentAfter.countDown();
      }
    });

    List<TickReport> reports = new ArrayList<>();
    reports.add(engine.tick());

    // Accepted and not recorded: sentBatchSize (4) emails, the most a session leaves unrecorded.
    // No more of the batch is sent.
    assertThat(transport.acceptedIds()).containsExactly("e0", "e1", "e2", "e3");
    // Not recorded for now: their Sent, and the retry of e4, the first of the rest the store (still
    // down) could not take back; no claim was lost.
    assertThat(reports.get(0).outcomesNotRecorded())
        .extracting(RouterEvent.OutcomeNotRecorded::activityId, RouterEvent.OutcomeNotRecorded::outcome)
        .containsExactlyInAnyOrder(tuple("e0", RouterEvent.OutcomeNotRecorded.Outcome.SENT),
            tuple("e1", RouterEvent.OutcomeNotRecorded.Outcome.SENT),
            tuple("e2", RouterEvent.OutcomeNotRecorded.Outcome.SENT),
            tuple("e3", RouterEvent.OutcomeNotRecorded.Outcome.SENT),
            tuple("e4", RouterEvent.OutcomeNotRecorded.Outcome.RETRY));
    assertThat(reports.get(0).problems()).noneMatch(RouterEvent.ClaimLost.class::isInstance);
    assertThat(reports.get(0).problems()).filteredOn(RouterEvent.StoreUnavailable.class::isInstance).hasSize(1);

    crm.stop();
    transport.beforeSend(e -> {});
    for (int tick = 0; tick < 4; tick++) {
      clock.advance(Duration.ofMinutes(5)); // past the lease of the emails the store could not record
      reports.add(engine.tick());
    }

    for (int i = 0; i < 6; i++) {
      assertThat(memory.find("e" + i).orElseThrow().status()).as("e" + i).isEqualTo(EmailStatus.SENT);
    }
    // The emails sent while they could not be recorded go out again (at least once), with their
    // Message-IDs; no other email.
    assertThat(transport.acceptedIds()).hasSize(10).containsOnlyOnce("e4", "e5");
    for (String id : List.of("e0", "e1", "e2", "e3")) {
      String messageId = memory.find(id).orElseThrow().email().messageId();
      assertThat(transport.accepted()).filteredOn(e -> e.activityId().equals(id))
          .hasSize(2).allSatisfy(e -> assertThat(e.messageId()).isEqualTo(messageId));
    }
    for (int i = 4; i < 6; i++) {
      assertThat(memory.find("e" + i).orElseThrow().attempts()).as("no attempt counted for e" + i + "'s outage")
          .isEqualTo(1);
    }
  }

  @Test
  void tick_whenOnlyMarkSentFailsTransiently_returnsTheUnsentRestToPendingSendWithoutAnAttempt() {
    addEmails(3);
    AtomicInteger failures = new AtomicInteger(1);
    ForwardingActivityStore blip = new ForwardingActivityStore(memory) {
      @Override
      public List<String> markSentAll(List<SentOutcome> outcomes) {
        if (failures.getAndDecrement() > 0) {
          throw new TransientRouterException("CRM database failing over");
        }
        return super.markSentAll(outcomes);
      }
    };
    RouterEngine engine = outgoing().activityStore(blip).sentBatchSize(1).build();

    TickReport report = engine.tick();

    assertThat(transport.acceptedIds()).hasSize(1);
    assertThat(report.retried()).hasSize(2).allSatisfy(r -> {
      assertThat(r.attempts()).isZero();
      assertThat(r.reason()).contains("activity store is unavailable");
    });
    assertThat(memory.find("e0").orElseThrow().status()).isEqualTo(EmailStatus.SENDING);
    assertThat(memory.find("e1").orElseThrow().status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(memory.find("e2").orElseThrow().status()).isEqualTo(EmailStatus.PENDING_SEND);

    clock.advance(Duration.ofSeconds(30));
    assertThat(engine.tick().events()).isEmpty(); // backed off: nothing claimed yet

    clock.advance(Duration.ofMinutes(2));
    TickReport due = engine.tick();

    assertThat(due.sent()).extracting(RouterEvent.EmailSent::activityId).containsExactlyInAnyOrder("e1", "e2");
  }

  @Test
  void tick_whenTheStoreFailsWhileRecordingIdentities_sendsNothing() {
    addEmails(3);
    AtomicInteger calls = new AtomicInteger();
    ForwardingActivityStore failing = new ForwardingActivityStore(memory) {
      @Override
      public List<String> recordIdentities(List<EmailIdentity> identities) {
        // The batch of every claimed email's identity, in one call.
        if (calls.incrementAndGet() == 1) {
          throw new TransientRouterException("CRM database unavailable");
        }
        return super.recordIdentities(identities);
      }
    };
    RouterEngine engine = outgoing().activityStore(failing).build();

    TickReport report = engine.tick();

    assertThat(transport.acceptedIds()).isEmpty();
    assertThat(report.problems()).singleElement().isInstanceOf(RouterEvent.StoreUnavailable.class);
    assertThat(report.retried()).hasSize(3).allSatisfy(r -> assertThat(r.attempts()).isZero());
  }

  @Test
  void tick_withSeveralSendSessions_whenTheStoreGoesDownRecordingOnePartsIdentities_reportsOneOutage_andSendsEachEmailLater() {
    addEmails(12);
    AtomicBoolean first = new AtomicBoolean(true);
    StoreOutage downAtIdentities = new StoreOutage(memory) {
      @Override
      public List<String> recordIdentities(List<EmailIdentity> identities) {
        // Each session records its own part's identities: the first of them takes the store down.
        if (first.getAndSet(false)) {
          start(Mode.ALL);
        }
        return super.recordIdentities(identities);
      }
    };
    RouterEngine engine = outgoing().activityStore(downAtIdentities).sendSessions(3).sentBatchSize(1).build();

    List<TickReport> reports = new ArrayList<>();
    reports.add(engine.tick());

    // One outage, reported once however many sessions met it; no email failed or counted an attempt.
    assertThat(reports.get(0).problems()).filteredOn(RouterEvent.StoreUnavailable.class::isInstance).hasSize(1);
    assertThat(transport.acceptedIds()).hasSizeLessThan(12);

    for (int tick = 0; tick < 4; tick++) {
      clock.advance(Duration.ofMinutes(5));
      reports.add(engine.tick());
    }
    assertThat(all(reports, RouterEvent.StoreUnavailable.class)).hasSizeGreaterThan(1);
    int acceptedDuringOutage = transport.acceptedIds().size();

    downAtIdentities.stop();
    for (int tick = 0; tick < 4; tick++) {
      clock.advance(Duration.ofMinutes(5)); // past the lease of the emails the store could not take back
      reports.add(engine.tick());
    }

    assertThat(all(reports, RouterEvent.EmailFailed.class)).isEmpty();
    for (int i = 0; i < 12; i++) {
      String id = "e" + i;
      assertThat(memory.find(id).orElseThrow().status()).as(id).isEqualTo(EmailStatus.SENT);
      // Sent again only if it went out while its Sent could not be recorded, and then with its Message-ID.
      String messageId = memory.find(id).orElseThrow().email().messageId();
      assertThat(transport.accepted()).filteredOn(e -> e.activityId().equals(id)).isNotEmpty()
          .allSatisfy(e -> assertThat(e.messageId()).isEqualTo(messageId));
    }
    assertThat(transport.acceptedIds()).hasSizeLessThanOrEqualTo(12 + acceptedDuringOutage);
  }
}
