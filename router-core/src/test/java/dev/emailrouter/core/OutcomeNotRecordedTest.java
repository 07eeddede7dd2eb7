package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailIdentity;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.core.RouterEvent.OutcomeNotRecorded;
import dev.emailrouter.core.RouterEvent.OutcomeNotRecorded.Outcome;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import dev.emailrouter.testfixtures.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Which event a tick raises when the store does not record a claimed email's Message-ID or
 * outcome: {@link RouterEvent.ClaimLost} when the claim no longer held (another engine claimed the
 * email), {@link OutcomeNotRecorded} when the store failed though the claim held; and what becomes
 * of the email then (nothing is lost: it is claimed again once its lease ends).
 */
final class OutcomeNotRecordedTest {
  private static final Duration LEASE = Duration.ofMinutes(30);

  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore memory = new InMemoryActivityStore();
  private final RecordingTransport transport = new RecordingTransport();
  /** While set, the store throws on the calls a test picks; a failure tied to the row, not an outage. */
  private final AtomicBoolean failing = new AtomicBoolean(true);

  private RouterEngine engine(ForwardingActivityStore store) {
    return RouterEngine.builder().activityStore(store).transport(transport).clock(clock).lease(LEASE)
        .random(new Random(3)).build();
  }

  private void add(String id) {
    memory.add(OutgoingEmail.builder(id, EmailAddress.of("me@example.com")).to(EmailAddress.of("you@example.org"))
        .subject("Offer").textBody("Hi").build());
  }

  private InMemoryActivityStore.StoredEmail stored(String id) {
    return memory.find(id).orElseThrow();
  }

  private void fail() {
    if (failing.get()) {
      throw new IllegalStateException("deadlock detected; transaction rolled back");
    }
  }

  @Test
  void tick_whenTheStoreFailsToRecordTheMessageId_reportsItNotRecorded_andSendsTheEmailAfterTheLease() {
    add("e1");
    ForwardingActivityStore store = new ForwardingActivityStore(memory) {
      @Override
      public List<String> recordIdentities(List<EmailIdentity> identities) {
        fail();
        return super.recordIdentities(identities);
      }

      @Override
      public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
        fail();
        super.recordIdentity(claim, messageId, trackingToken, subject);
      }
    };
    RouterEngine engine = engine(store);
    Instant claimedAt = clock.instant();

    TickReport first = engine.tick();

    assertThat(first.problems()).singleElement().isInstanceOfSatisfying(OutcomeNotRecorded.class, n -> {
      assertThat(n.activityId()).isEqualTo("e1");
      assertThat(n.outcome()).isEqualTo(Outcome.MESSAGE_ID);
      assertThat(n.reason()).contains("deadlock detected");
      assertThat(n.claimableAt()).isEqualTo(claimedAt.plus(LEASE));
    });
    assertThat(transport.attempts()).isEmpty();
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENDING);

    failing.set(false);
    clock.advance(Duration.ofMinutes(10));
    assertThat(engine.tick().events()).as("still under the lease").isEmpty();
    clock.advance(LEASE);
    TickReport afterLease = engine.tick();

    assertThat(afterLease.sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly("e1");
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENT);
    assertThat(stored("e1").attempts()).isEqualTo(1);
  }

  @Test
  void tick_whenTheClaimIsTakenBeforeTheMessageIdIsRecorded_reportsClaimLost_notOutcomeNotRecorded() {
    add("e1");
    ForwardingActivityStore store = new ForwardingActivityStore(memory) {
      @Override
      public List<String> recordIdentities(List<EmailIdentity> identities) {
        fail(); // so the identity is recorded on its own, where a stale claim throws
        return super.recordIdentities(identities);
      }

      @Override
      public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
        // The lease ran out meanwhile and another engine claimed the email.
        clock.advance(LEASE.plusMinutes(1));
        memory.claimPendingSend(new ClaimRequest(clock.instant(), LEASE, 6, 10, ""));
        super.recordIdentity(claim, messageId, trackingToken, subject);
      }
    };

    TickReport report = engine(store).tick();

    assertThat(report.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.ClaimLost.class,
        lost -> assertThat(lost.activityId()).isEqualTo("e1"));
    assertThat(report.outcomesNotRecorded()).isEmpty();
    assertThat(transport.attempts()).isEmpty();
  }

  @Test
  void tick_whenTheStoreFailsToRecordSent_reportsItNotRecorded_andSendsItAgainWithTheSameMessageIdAfterTheLease() {
    add("e1");
    ForwardingActivityStore store = new ForwardingActivityStore(memory) {
      @Override
      public List<String> markSentAll(List<SentOutcome> outcomes) {
        fail();
        return super.markSentAll(outcomes);
      }

      @Override
      public void markSent(Claim claim, Instant sentAt, SendResult result) {
        fail();
        super.markSent(claim, sentAt, result);
      }
    };
    RouterEngine engine = engine(store);
    Instant claimedAt = clock.instant();

    TickReport first = engine.tick();

    assertThat(first.problems()).singleElement().isInstanceOfSatisfying(OutcomeNotRecorded.class, n -> {
      assertThat(n.outcome()).isEqualTo(Outcome.SENT);
      assertThat(n.claimableAt()).isEqualTo(claimedAt.plus(LEASE));
    });
    assertThat(first.sent()).isEmpty();
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENDING);

    failing.set(false);
    clock.advance(LEASE.plusMinutes(1));
    TickReport afterLease = engine.tick();

    // At least once: the server got it twice, under one Message-ID, and it is recorded Sent now.
    assertThat(afterLease.sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly("e1");
    assertThat(transport.accepted()).hasSize(2).extracting(OutgoingEmail::messageId).containsOnly(
        stored("e1").email().messageId());
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void tick_whenTheStoreFailsToRecordARetry_reportsItNotRecorded_andTriesAgainAfterTheLeaseWithoutCountingIt() {
    add("e1");
    transport.answer("e1", RecordingTransport.transientFailure(), RecordingTransport.accept());
    ForwardingActivityStore store = new ForwardingActivityStore(memory) {
      @Override
      public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
        fail();
        super.markRetry(claim, nextAttemptAt, attempts, reason);
      }
    };
    RouterEngine engine = engine(store);

    TickReport first = engine.tick();

    assertThat(first.problems()).singleElement().isInstanceOfSatisfying(OutcomeNotRecorded.class,
        n -> assertThat(n.outcome()).isEqualTo(Outcome.RETRY));
    assertThat(first.retried()).isEmpty();

    failing.set(false);
    clock.advance(LEASE.plusMinutes(1));
    TickReport afterLease = engine.tick();

    assertThat(afterLease.sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly("e1");
    assertThat(stored("e1").attempts()).as("the unrecorded attempt is not counted").isEqualTo(1);
  }

  @Test
  void tick_whenTheStoreFailsToRecordFailed_reportsItNotRecorded_andRecordsItOnTheAttemptAfterTheLease() {
    add("e1");
    transport.answerAll(RecordingTransport.permanentFailure());
    ForwardingActivityStore store = new ForwardingActivityStore(memory) {
      @Override
      public void markFailed(Claim claim, int attempts, SendResult result) {
        fail();
        super.markFailed(claim, attempts, result);
      }
    };
    RouterEngine engine = engine(store);

    TickReport first = engine.tick();

    assertThat(first.problems()).singleElement().isInstanceOfSatisfying(OutcomeNotRecorded.class,
        n -> assertThat(n.outcome()).isEqualTo(Outcome.FAILED));
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENDING);

    failing.set(false);
    clock.advance(LEASE.plusMinutes(1));
    TickReport afterLease = engine.tick();

    assertThat(afterLease.failed()).extracting(RouterEvent.EmailFailed::activityId).containsExactly("e1");
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.FAILED);
    assertThat(stored("e1").attempts()).isEqualTo(1);
  }
}
