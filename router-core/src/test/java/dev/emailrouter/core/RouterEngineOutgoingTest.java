package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailIdentity;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.InMemoryActivityStore.StoredEmail;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import dev.emailrouter.testfixtures.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

final class RouterEngineOutgoingTest {
  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final RecordingTransport transport = new RecordingTransport();
  private final List<RouterEvent> heard = new CopyOnWriteArrayList<>();

  private RouterEngine.Builder engine() {
    return RouterEngine.builder()
        .activityStore(store)
        .transport(transport)
        .clock(clock)
        .random(new Random(42))
        .listener(heard::add);
  }

  private static OutgoingEmail email(String id, String from, String subject) {
    return OutgoingEmail.builder(id, EmailAddress.of(from))
        .to(EmailAddress.of("customer@example.org"))
        .subject(subject)
        .textBody("Hi!")
        .build();
  }

  private void addEmails(String sender, int count) {
    for (int i = 0; i < count; i++) {
      store.add(email(sender + "-" + i, sender, "Mail " + i));
    }
  }

  private StoredEmail stored(String id) {
    return store.find(id).orElseThrow();
  }

  // --- the happy path ---------------------------------------------------------------------------

  @Test
  void tick_whenAnEmailIsPending_sendsItAndMarksItSentWithMessageIdAndReply() {
    store.add(email("e1", "me@example.com", "Hello"));
    RouterEngine engine = engine().build();

    TickReport report = engine.tick();

    StoredEmail e = stored("e1");
    assertThat(e.status()).isEqualTo(EmailStatus.SENT);
    assertThat(e.sentAt()).isEqualTo(clock.instant());
    assertThat(e.attempts()).isEqualTo(1);
    assertThat(e.email().messageId()).matches("<[^<>@\\s]+@example\\.com>");
    assertThat(e.result().serverReply()).isEqualTo("250 2.0.0 Ok: queued as e1");
    assertThat(transport.accepted()).singleElement()
        .satisfies(sent -> assertThat(sent.messageId()).isEqualTo(e.email().messageId()));
    assertThat(report.sent()).singleElement().satisfies(s -> {
      assertThat(s.activityId()).isEqualTo("e1");
      assertThat(s.messageId()).isEqualTo(e.email().messageId());
      assertThat(s.serverReply()).isEqualTo("250 2.0.0 Ok: queued as e1");
      assertThat(s.refusedRecipients()).isEmpty();
    });
    assertThat(report.problems()).isEmpty();
    assertThat(heard).containsExactlyElementsOf(report.events());
  }

  @Test
  void tick_whenNothingIsPending_opensNoSession() {
    RouterEngine engine = engine().build();

    TickReport report = engine.tick();

    assertThat(report.events()).isEmpty();
    assertThat(transport.sessionsOpened()).isZero();
  }

  @Test
  void tick_withMessageIdDomain_usesItForGeneratedMessageIds() {
    store.add(email("e1", "me@example.com", "Hello"));
    engine().messageIdDomain("Router.Example.NET").build().tick();

    assertThat(stored("e1").email().messageId()).endsWith("@router.example.net>");
  }

  @Test
  void tick_twoEnginesGivenTheSameSeedAndClock_generateDifferentMessageIds() {
    InMemoryActivityStore other = new InMemoryActivityStore();
    store.add(email("e1", "me@example.com", "Hello"));
    other.add(email("e1", "me@example.com", "Hello"));

    engine().build().tick();
    RouterEngine.builder().activityStore(other).transport(new RecordingTransport()).clock(clock)
        .random(new Random(42)).build().tick();

    String mine = stored("e1").email().messageId();
    assertThat(mine).isNotNull();
    assertThat(other.find("e1").orElseThrow().email().messageId()).isNotNull().isNotEqualTo(mine);
  }

  // --- identity: Message-ID and tracking token ---------------------------------------------------

  @Test
  void tick_recordsMessageIdBeforeTheFirstAttempt_andReusesItOnRetries() {
    List<String> recorded = new CopyOnWriteArrayList<>();
    ForwardingActivityStore observed = new ForwardingActivityStore(store) {
      @Override
      public List<String> recordIdentities(List<EmailIdentity> identities) {
        identities.forEach(i -> recorded.add(i.messageId()));
        return super.recordIdentities(identities);
      }
    };
    List<String> storedAtSendTime = new CopyOnWriteArrayList<>();
    transport.beforeSend(e -> storedAtSendTime.add(stored(e.activityId()).email().messageId()))
        .answer("e1", RecordingTransport.transientFailure(), RecordingTransport.accept());
    store.add(email("e1", "me@example.com", "Hello"));
    RouterEngine engine = engine().activityStore(observed).build();

    engine.tick();
    clock.advance(Duration.ofHours(1));
    engine.tick();

    assertThat(recorded).hasSize(1);
    List<OutgoingEmail> attempts = transport.attempts();
    assertThat(attempts).hasSize(2);
    assertThat(attempts).extracting(OutgoingEmail::messageId).containsOnly(recorded.get(0));
    assertThat(storedAtSendTime).containsExactly(recorded.get(0), recorded.get(0));
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void tick_appendsTheTrackingTokenToTheSubjectOnce_evenAcrossRetries() {
    transport.answer("e1", RecordingTransport.transientFailure(), RecordingTransport.transientFailure(),
        RecordingTransport.accept());
    store.add(email("e1", "me@example.com", "Hello"));
    RouterEngine engine = engine().build();

    for (int i = 0; i < 3; i++) {
      engine.tick();
      clock.advance(Duration.ofHours(1));
    }

    assertThat(transport.attempts()).extracting(OutgoingEmail::subject)
        .containsExactly("Hello CRM:0000001", "Hello CRM:0000001", "Hello CRM:0000001");
    assertThat(transport.attempts()).extracting(OutgoingEmail::trackingToken).containsOnly("CRM:0000001");
    assertThat(stored("e1").email().subject()).isEqualTo("Hello CRM:0000001");
    assertThat(store.findByTrackingToken("CRM:0000001")).hasValueSatisfying(
        ref -> assertThat(ref.activityId()).isEqualTo("e1"));
  }

  @Test
  void tick_whenTheSubjectCarriesAnOldToken_replacesItInsteadOfAddingASecond() {
    store.add(email("e1", "me@example.com", "RE: Offer CRM:0000042 "));
    engine().build().tick();

    assertThat(transport.accepted()).singleElement()
        .satisfies(e -> assertThat(e.subject()).isEqualTo("RE: Offer CRM:0000001"));
  }

  @Test
  void tick_whenTheSubjectIsEmpty_sendsTheTokenAlone() {
    store.add(email("e1", "me@example.com", ""));
    engine().build().tick();

    assertThat(transport.accepted()).singleElement()
        .satisfies(e -> assertThat(e.subject()).isEqualTo("CRM:0000001"));
  }

  @Test
  void tick_withTrackingTokensOff_leavesTheSubjectUnchanged() {
    store.add(email("e1", "me@example.com", "Hello"));
    engine().trackingTokens(false).build().tick();

    assertThat(transport.accepted()).singleElement().satisfies(e -> {
      assertThat(e.subject()).isEqualTo("Hello");
      assertThat(e.trackingToken()).isNull();
      assertThat(e.messageId()).isNotNull();
    });
    assertThat(stored("e1").email().trackingToken()).isNull();
  }

  @Test
  void tick_withCustomTokenPrefixAndDigits_formatsTheTokenSo() {
    store.add(email("e1", "me@example.com", "Hello"));
    engine().trackingTokenPrefix("TKT#").trackingTokenDigits(4).build().tick();

    assertThat(transport.accepted()).singleElement().satisfies(e -> {
      assertThat(e.subject()).isEqualTo("Hello TKT#0001");
      assertThat(e.trackingToken()).isEqualTo("TKT#0001");
    });
  }

  // --- batching and fairness -----------------------------------------------------------------------

  @Test
  void tick_sendsAtMostSixEmailsPerSenderByDefault() {
    addEmails("busy@example.com", 20);
    RouterEngine engine = engine().build();

    List<Integer> perTick = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      perTick.add(engine.tick().sent().size());
    }

    assertThat(perTick).containsExactly(6, 6, 6, 2);
    assertThat(transport.acceptedIds()).doesNotHaveDuplicates().hasSize(20);
  }

  @Test
  void tick_sendsEachSendersEmailsOldestFirst() {
    addEmails("busy@example.com", 8);
    RouterEngine engine = engine().build();
    engine.tick();
    engine.tick();

    assertThat(transport.acceptedIds()).containsExactly("busy@example.com-0", "busy@example.com-1",
        "busy@example.com-2", "busy@example.com-3", "busy@example.com-4", "busy@example.com-5",
        "busy@example.com-6", "busy@example.com-7");
  }

  @Test
  void tick_whenMaxPerTickIsBelowSendersTimesBatch_servesSendersRoundRobin() {
    List<String> senders = List.of("a@example.com", "b@example.com", "c@example.com", "d@example.com",
        "e@example.com");
    for (String s : senders) {
      addEmails(s, 12);
    }
    RouterEngine engine = engine().maxPerTick(6).batchPerSender(6).build();

    Set<String> served = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      TickReport report = engine.tick();
      assertThat(report.sent()).hasSize(6);
      report.sent().forEach(s -> served.add(stored(s.activityId()).email().from().address()));
    }

    assertThat(served).containsExactlyInAnyOrderElementsOf(senders);
  }

  @Test
  void tick_whenMaxPerTickCutsASenderShort_resumesWithTheNextSender() {
    addEmails("a@example.com", 10);
    addEmails("b@example.com", 10);
    addEmails("c@example.com", 10);
    RouterEngine engine = engine().maxPerTick(8).build();

    Map<String, Integer> first = countBySender(engine.tick());
    Map<String, Integer> second = countBySender(engine.tick());

    assertThat(first).containsExactlyInAnyOrderEntriesOf(Map.of("a@example.com", 6, "b@example.com", 2));
    assertThat(second).containsKey("c@example.com");
  }

  private Map<String, Integer> countBySender(TickReport report) {
    Map<String, Integer> counts = new HashMap<>();
    report.sent().forEach(s -> counts.merge(stored(s.activityId()).email().from().address(), 1, Integer::sum));
    return counts;
  }

  // --- retries and failures ------------------------------------------------------------------------

  @Test
  void tick_whenTheServerRefuses4xx_returnsTheEmailToPendingSendWithBackoff() {
    transport.answer("e1", RecordingTransport.transientFailure());
    store.add(email("e1", "me@example.com", "Hello"));
    RouterEngine engine = engine().maxAttempts(5).build();

    Instant firstTry = clock.instant();
    TickReport first = engine.tick();

    StoredEmail e = stored("e1");
    assertThat(e.status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(e.attempts()).isEqualTo(1);
    assertThat(e.lastReason()).isEqualTo("451 4.3.0 try again later");
    assertThat(e.nextAttemptAt()).isBetween(firstTry.plus(Duration.ofMinutes(4)), firstTry.plus(Duration.ofMinutes(6)));
    assertThat(first.retried()).singleElement().satisfies(r -> {
      assertThat(r.attempts()).isEqualTo(1);
      assertThat(r.nextAttemptAt()).isEqualTo(e.nextAttemptAt());
      assertThat(r.reason()).isEqualTo("451 4.3.0 try again later");
    });

    clock.set(e.nextAttemptAt());
    Instant secondTry = clock.instant();
    engine.tick();

    StoredEmail again = stored("e1");
    assertThat(again.attempts()).isEqualTo(2);
    assertThat(again.nextAttemptAt())
        .isBetween(secondTry.plus(Duration.ofMinutes(8)), secondTry.plus(Duration.ofMinutes(12)));
  }

  @Test
  void tick_whenRetriesGrowPastMaxRetryDelay_capsTheDelay() {
    transport.answer("e1", RecordingTransport.transientFailure());
    store.add(email("e1", "me@example.com", "Hello"));
    RouterEngine engine = engine().maxAttempts(20).maxRetryDelay(Duration.ofMinutes(12)).build();

    List<Duration> delays = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Instant now = clock.instant();
      engine.tick();
      Instant next = stored("e1").nextAttemptAt();
      delays.add(Duration.between(now, next));
      clock.set(next);
    }

    assertThat(delays.subList(2, delays.size()))
        .allSatisfy(d -> assertThat(d).isBetween(Duration.ofMinutes(12).multipliedBy(8).dividedBy(10),
            Duration.ofMinutes(12)));
  }

  @Test
  void tick_afterMaxAttemptsTransientFailures_marksTheEmailFailed() {
    transport.answer("e1", RecordingTransport.transientFailure());
    store.add(email("e1", "me@example.com", "Hello"));
    RouterEngine engine = engine().maxAttempts(3).build();

    List<TickReport> reports = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      reports.add(engine.tick());
      clock.advance(Duration.ofHours(4).plusMinutes(1));
    }

    StoredEmail e = stored("e1");
    assertThat(e.status()).isEqualTo(EmailStatus.FAILED);
    assertThat(e.attempts()).isEqualTo(3);
    assertThat(e.lastReason()).startsWith("gave up after 3 attempts").contains("451 4.3.0 try again later");
    assertThat(transport.attempts()).hasSize(3);
    assertThat(reports.get(2).failed()).singleElement().satisfies(f -> {
      assertThat(f.attempts()).isEqualTo(3);
      assertThat(f.reason()).startsWith("gave up after 3 attempts");
    });
  }

  @Test
  void tick_whenTheServerRefuses5xx_marksTheEmailFailedWithTheReply() {
    transport.answer("e1", RecordingTransport.permanentFailure());
    store.add(email("e1", "me@example.com", "Hello"));

    TickReport report = engine().build().tick();

    StoredEmail e = stored("e1");
    assertThat(e.status()).isEqualTo(EmailStatus.FAILED);
    assertThat(e.attempts()).isEqualTo(1);
    assertThat(e.lastReason()).isEqualTo("550 5.1.1 mailbox unavailable");
    assertThat(e.result().outcome()).isEqualTo(SendResult.Outcome.PERMANENT);
    assertThat(report.failed()).singleElement()
        .satisfies(f -> assertThat(f.reason()).isEqualTo("550 5.1.1 mailbox unavailable"));
  }

  @Test
  void tick_beforeARetriedEmailIsDue_doesNotClaimIt() {
    transport.answer("e1", RecordingTransport.transientFailure(), RecordingTransport.accept());
    store.add(email("e1", "me@example.com", "Hello"));
    RouterEngine engine = engine().build();
    engine.tick();
    Instant due = stored("e1").nextAttemptAt();

    clock.set(due.minusSeconds(1));
    TickReport early = engine.tick();
    clock.set(due);
    TickReport onTime = engine.tick();

    assertThat(early.events()).isEmpty();
    assertThat(onTime.sent()).hasSize(1);
    assertThat(transport.attempts()).hasSize(2);
  }

  @Test
  void tick_whenSomeRecipientsAreRefused_marksSentAndReportsTheRefusedOnes() {
    transport.answerFor("gone@example.org", RecordingTransport.permanentFailure());
    store.add(OutgoingEmail.builder("e1", EmailAddress.of("me@example.com"))
        .to(EmailAddress.of("customer@example.org"), EmailAddress.of("gone@example.org"))
        .subject("Hello").textBody("Hi").build());

    TickReport report = engine().build().tick();

    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENT);
    assertThat(report.sent()).singleElement().satisfies(s -> assertThat(s.refusedRecipients())
        .singleElement().satisfies(r -> {
          assertThat(r.recipient()).isEqualTo(EmailAddress.of("gone@example.org"));
          assertThat(r.outcome()).isEqualTo(SendResult.Outcome.PERMANENT);
          assertThat(r.serverReply()).startsWith("550");
        }));
  }

  @Test
  void tick_whenEveryRecipientIsRefusedForNow_retriesTheEmail() {
    transport.answerFor("customer@example.org", RecordingTransport.transientFailure());
    store.add(email("e1", "me@example.com", "Hello"));

    TickReport report = engine().build().tick();

    assertThat(stored("e1").status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(report.retried()).hasSize(1);
  }

  // --- the server as a whole -----------------------------------------------------------------------

  @Test
  void tick_whenTheServerIsUnreachable_returnsTheBatchWithoutCountingAnAttempt() {
    transport.failOpen(1, new TransientRouterException("smtp://fake:25 can't be reached"));
    addEmails("me@example.com", 3);
    RouterEngine engine = engine().build();

    TickReport report = engine.tick();

    for (int i = 0; i < 3; i++) {
      StoredEmail e = stored("me@example.com-" + i);
      assertThat(e.status()).isEqualTo(EmailStatus.PENDING_SEND);
      assertThat(e.attempts()).isZero();
      assertThat(e.nextAttemptAt()).isAfter(clock.instant());
    }
    assertThat(report.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.ServerUnavailable.class,
        u -> {
          assertThat(u.server()).isEqualTo("smtp://fake:25");
          assertThat(u.reason()).contains("can't be reached");
          assertThat(u.retryAt()).isAfter(clock.instant());
        });
    assertThat(report.retried()).hasSize(3).allSatisfy(r -> assertThat(r.attempts()).isZero());

    clock.set(stored("me@example.com-0").nextAttemptAt().plusSeconds(60));
    assertThat(engine.tick().sent()).hasSize(3);
  }

  @Test
  void tick_whenTheConnectionDropsMidBatch_keepsWhatWasSentAndReturnsTheRest() {
    addEmails("me@example.com", 4);
    transport.answer("me@example.com-2", RecordingTransport.unreachable());

    TickReport report = engine().build().tick();

    assertThat(report.sent()).extracting(RouterEvent.EmailSent::activityId)
        .containsExactly("me@example.com-0", "me@example.com-1");
    assertThat(stored("me@example.com-2").status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(stored("me@example.com-2").attempts()).isZero();
    assertThat(stored("me@example.com-3").status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(transport.sessionsClosed()).isEqualTo(transport.sessionsOpened());
  }

  @Test
  void tick_whenTheLoginIsRefused_waitsUntilRetryAtWithoutOpeningSessions() {
    transport.failOpen(1, new PermanentRouterException("535 5.7.8 authentication failed"));
    addEmails("me@example.com", 2);
    RouterEngine engine = engine().build();

    TickReport refused = engine.tick();
    Instant retryAt = ((RouterEvent.ServerUnavailable) refused.problems().get(0)).retryAt();
    clock.advance(Duration.ofMinutes(1));
    TickReport soon = engine.tick();

    assertThat(soon.events()).isEmpty();
    assertThat(transport.sessionsOpened()).isZero();
    assertThat(stored("me@example.com-0").attempts()).isZero();

    clock.set(retryAt);
    assertThat(engine.tick().sent()).hasSize(2);
    assertThat(transport.sessionsOpened()).isEqualTo(1);
  }

  @Test
  void tick_whileTheServerBacksOff_doesNotClaimEmailsThatBecameDueMeanwhile() {
    transport.failOpen(1, new TransientRouterException("connection refused"));
    addEmails("me@example.com", 1);
    RouterEngine engine = engine().build();

    TickReport refused = engine.tick();
    Instant retryAt = ((RouterEvent.ServerUnavailable) refused.problems().get(0)).retryAt();
    addEmails("you@example.com", 1);
    clock.advance(Duration.ofSeconds(30));
    TickReport soon = engine.tick();

    assertThat(soon.events()).isEmpty();
    assertThat(store.status("you@example.com-0")).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(transport.sessionsOpened()).isZero();

    clock.set(retryAt);
    assertThat(engine.tick().sent()).hasSize(2);
  }

  @Test
  void tick_whenSendThrowsLoginRefused_returnsTheBatchWithoutCountingAnAttempt() {
    transport.answerAll(RecordingTransport.loginRefused());
    addEmails("me@example.com", 2);

    TickReport report = engine().build().tick();

    assertThat(report.problems()).singleElement().isInstanceOf(RouterEvent.ServerUnavailable.class);
    assertThat(stored("me@example.com-0").status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(stored("me@example.com-0").attempts()).isZero();
    assertThat(transport.attempts()).hasSize(1);
  }

  // --- sessions --------------------------------------------------------------------------------------

  @Test
  void tick_sendsAWholeBatchOverOneSession() {
    addEmails("a@example.com", 6);
    addEmails("b@example.com", 6);

    TickReport report = engine().build().tick();

    assertThat(report.sent()).hasSize(12);
    assertThat(transport.sessionsOpened()).isEqualTo(1);
    assertThat(transport.sessionsClosed()).isEqualTo(1);
  }

  @Test
  void tick_withThreeSendSessions_spreadsTheBatchOverThreeSessions() {
    addEmails("a@example.com", 6);
    addEmails("b@example.com", 6);
    try (RouterEngine engine = engine().sendSessions(3).build()) {
      TickReport report = engine.tick();

      assertThat(report.sent()).hasSize(12);
      assertThat(transport.sessionsOpened()).isEqualTo(3);
      assertThat(transport.sessionsClosed()).isEqualTo(3);
      assertThat(transport.acceptedIds()).hasSize(12).doesNotHaveDuplicates();
    }
  }

  // --- claims, leases and several engines -------------------------------------------------------------

  @Test
  void tick_afterAnotherEnginesLeaseExpired_claimsAndSendsTheEmail() {
    store.add(email("e1", "me@example.com", "Hello"));
    ClaimedEmail crashed = store.claimPendingSend(new ClaimRequest(clock.instant(), Duration.ofMinutes(30), 6, 10, ""))
        .get(0);
    RouterEngine engineB = engine().build();

    TickReport whileHeld = engineB.tick();
    clock.advance(Duration.ofMinutes(31));
    TickReport afterLease = engineB.tick();

    assertThat(whileHeld.events()).isEmpty();
    assertThat(afterLease.sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly("e1");
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENT);
    assertThatThrownBy(() -> store.markSent(crashed.claim(), clock.instant(), SendResult.accepted("250")))
        .isInstanceOf(StaleClaimException.class)
        .hasMessageContaining("e1");
    assertThatThrownBy(() -> store.markFailed(crashed.claim(), 1, SendResult.permanentFailure("550")))
        .isInstanceOf(StaleClaimException.class);
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void tick_whenTheClaimIsLostDuringSend_reportsClaimLostAndLeavesTheEmailToItsNewHolder() {
    store.add(email("e1", "me@example.com", "Hello"));
    List<ClaimedEmail> stolen = new ArrayList<>();
    transport.beforeSend(e -> {
      // The send took longer than the lease, and another engine claimed the email meanwhile.
      clock.advance(Duration.ofMinutes(31));
      stolen.addAll(store.claimPendingSend(new ClaimRequest(clock.instant(), Duration.ofMinutes(30), 6, 10, "")));
    });
    RouterEngine engine = engine().build();

    TickReport report = engine.tick();

    assertThat(stolen).hasSize(1);
    assertThat(report.sent()).isEmpty();
    assertThat(report.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.ClaimLost.class,
        lost -> assertThat(lost.activityId()).isEqualTo("e1"));
    assertThat(stored("e1").status()).isEqualTo(EmailStatus.SENDING);
  }

  @Test
  void twoEngines_tickingConcurrentlyOnOneStore_sendEachEmailExactlyOnce() throws Exception {
    for (int s = 0; s < 10; s++) {
      addEmails("sender" + s + "@example.com", 50);
    }
    RouterEngine a = engine().maxPerTick(40).build();
    RouterEngine b = engine().maxPerTick(40).random(new Random(7)).build();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger thrown = new AtomicInteger();
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      RouterEngine engine = t % 2 == 0 ? a : b;
      futures.add(pool.submit(() -> {
        start.await();
        for (int i = 0; i < 200 && transport.accepted().size() < 500; i++) {
          try {
            engine.tick();
          } catch (RuntimeException e) {
            thrown.incrementAndGet();
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(20, TimeUnit.SECONDS);
    }
    pool.shutdown();

    assertThat(thrown).hasValue(0);
    assertThat(transport.acceptedIds()).hasSize(500).doesNotHaveDuplicates();
    assertThat(transport.accepted()).extracting(OutgoingEmail::messageId).doesNotHaveDuplicates();
    for (int s = 0; s < 10; s++) {
      for (int i = 0; i < 50; i++) {
        assertThat(store.status("sender" + s + "@example.com-" + i)).isEqualTo(EmailStatus.SENT);
      }
    }
  }

  // --- tick never throws -------------------------------------------------------------------------------

  @Test
  void tick_whenTheStoreFailsToClaim_reportsAProblemAndTheNextTickWorks() {
    AtomicInteger failures = new AtomicInteger(1);
    ForwardingActivityStore flaky = new ForwardingActivityStore(store) {
      @Override
      public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
        if (failures.getAndDecrement() > 0) {
          throw new TransientRouterException("CRM database unavailable");
        }
        return super.claimPendingSend(request);
      }
    };
    store.add(email("e1", "me@example.com", "Hello"));
    RouterEngine engine = engine().activityStore(flaky).build();

    TickReport failed = engine.tick();
    clock.advance(Duration.ofMinutes(6)); // past the store's backoff (retryDelay 5 minutes, +20% at most)
    TickReport next = engine.tick();

    assertThat(failed.problems()).singleElement()
        .satisfies(p -> assertThat(p.toString()).contains("CRM database unavailable"));
    assertThat(next.sent()).hasSize(1);
  }

  @Test
  void tick_whenTheTransportThrowsAnUnexpectedException_countsAnAttemptForThatEmail() {
    transport.answerAll(RecordingTransport.crash());
    addEmails("me@example.com", 2);

    TickReport report = engine().maxAttempts(2).build().tick();

    assertThat(report.problems()).isEmpty();
    assertThat(report.retried()).hasSize(2)
        .allSatisfy(r -> assertThat(r.reason()).contains("bug in the transport"))
        .allSatisfy(r -> assertThat(r.attempts()).isEqualTo(1));
    assertThat(stored("me@example.com-0").status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(stored("me@example.com-0").attempts()).isEqualTo(1);
  }

  @Test
  void tick_whenOpenSessionThrowsAnUnexpectedException_doesNotThrow() {
    transport.failOpen(1, new IllegalStateException("no socket factory"));
    addEmails("me@example.com", 1);

    TickReport report = engine().build().tick();

    assertThat(report.problems()).hasSize(1);
    assertThat(stored("me@example.com-0").status()).isEqualTo(EmailStatus.PENDING_SEND);
  }

  @Test
  void tick_whenTheListenerThrows_ignoresItAndCarriesOn() {
    addEmails("me@example.com", 3);
    RouterEngine engine = engine().listener(e -> {
      throw new IllegalStateException("listener bug");
    }).build();

    TickReport report = engine.tick();

    assertThat(report.sent()).hasSize(3);
    assertThat(transport.acceptedIds()).hasSize(3);
  }

  /** Counts the identity and Sent calls, single and batch forms, by name. */
  private static final class CountingStore extends ForwardingActivityStore {
    final Map<String, Integer> calls = new java.util.concurrent.ConcurrentHashMap<>();

    CountingStore(InMemoryActivityStore delegate) {
      super(delegate);
    }

    private void count(String call) {
      calls.merge(call, 1, Integer::sum);
    }

    @Override
    public long nextTrackingNumber() {
      count("nextTrackingNumber");
      return super.nextTrackingNumber();
    }

    @Override
    public List<Long> nextTrackingNumbers(int count) {
      count("nextTrackingNumbers");
      return super.nextTrackingNumbers(count);
    }

    @Override
    public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
      count("recordIdentity");
      super.recordIdentity(claim, messageId, trackingToken, subject);
    }

    @Override
    public List<String> recordIdentities(List<EmailIdentity> identities) {
      count("recordIdentities");
      return super.recordIdentities(identities);
    }

    @Override
    public void markSent(Claim claim, Instant sentAt, SendResult result) {
      count("markSent");
      super.markSent(claim, sentAt, result);
    }

    @Override
    public List<String> markSentAll(List<SentOutcome> outcomes) {
      count("markSentAll");
      return super.markSentAll(outcomes);
    }
  }

  @Test
  void tick_recordsAGroupAsSentWhileTheSessionSendsOn_neverLeavingMoreThanSentBatchSizeUnrecorded()
      throws InterruptedException {
    addEmails("me@example.com", 10);
    CountDownLatch fourthSending = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean firstGroupRecorded = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicBoolean sentOnWhileRecording = new java.util.concurrent.atomic.AtomicBoolean();
    List<Integer> groups = new CopyOnWriteArrayList<>();
    ForwardingActivityStore slowFirstGroup = new ForwardingActivityStore(store) {
      @Override
      public List<String> markSentAll(List<SentOutcome> outcomes) {
        groups.add(outcomes.size());
        if (groups.size() > 1) {
          return super.markSentAll(outcomes);
        }
        try {
          // Held until the session has sent two more: they go out while this group is recorded.
          sentOnWhileRecording.set(fourthSending.await(10, TimeUnit.SECONDS));
          return super.markSentAll(outcomes);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        } finally {
          firstGroupRecorded.set(true);
        }
      }
    };
    List<String> sentBeforeFirstGroupRecorded = new CopyOnWriteArrayList<>();
    transport.beforeSend(e -> {
      if (!firstGroupRecorded.get()) {
        sentBeforeFirstGroupRecorded.add(e.activityId());
      }
      if (e.activityId().equals("me@example.com-3")) {
        fourthSending.countDown();
      }
    });

    TickReport report = engine().activityStore(slowFirstGroup).batchPerSender(10).sentBatchSize(4).build().tick();

    assertThat(report.sent()).hasSize(10);
    assertThat(sentOnWhileRecording).as("the third and fourth sent while the first group was recorded").isTrue();
    // Four accepted and unrecorded (sentBatchSize): the fifth waited for the first group's record.
    assertThat(sentBeforeFirstGroupRecorded).containsExactly("me@example.com-0", "me@example.com-1",
        "me@example.com-2", "me@example.com-3");
    assertThat(groups).containsExactly(2, 2, 2, 2, 2);
    for (int i = 0; i < 10; i++) {
      assertThat(stored("me@example.com-" + i).status()).isEqualTo(EmailStatus.SENT);
    }
  }

  @Test
  void tick_whenTheServerFailsWhileAGroupIsRecorded_recordsEveryAcceptedEmailBeforeGivingUpTheRest() {
    addEmails("me@example.com", 6);
    transport.answer("me@example.com-3", RecordingTransport.unreachable());
    CountDownLatch serverFailing = new CountDownLatch(1);
    ForwardingActivityStore slowFirstGroup = new ForwardingActivityStore(store) {
      @Override
      public List<String> markSentAll(List<SentOutcome> outcomes) {
        if (outcomes.get(0).claim().activityId().equals("me@example.com-0")) {
          try {
            // Still being recorded when the server fails on the fourth email.
            serverFailing.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return super.markSentAll(outcomes);
      }
    };
    transport.beforeSend(e -> {
      if (e.activityId().equals("me@example.com-3")) {
        serverFailing.countDown();
      }
    });

    TickReport report = engine().activityStore(slowFirstGroup).sentBatchSize(4).build().tick();

    // The group being recorded (0 and 1) and the one filling (2) are recorded before the rest is given up.
    assertThat(report.sent()).extracting(RouterEvent.EmailSent::activityId)
        .containsExactlyInAnyOrder("me@example.com-0", "me@example.com-1", "me@example.com-2");
    assertThat(report.problems()).singleElement().isInstanceOf(RouterEvent.ServerUnavailable.class);
    for (int i = 0; i < 3; i++) {
      assertThat(stored("me@example.com-" + i).status()).isEqualTo(EmailStatus.SENT);
    }
    for (int i = 3; i < 6; i++) {
      StoredEmail e = stored("me@example.com-" + i);
      assertThat(e.status()).as("me@example.com-" + i).isEqualTo(EmailStatus.PENDING_SEND);
      assertThat(e.email().attempts()).as("no attempt counted: the server's fault").isZero();
    }
  }

  @Test
  void tick_recordsEveryIdentityInOneCall_andSentInGroupsOfHalfTheSentBatchSize() {
    CountingStore counting = new CountingStore(store);
    addEmails("me@example.com", 5);

    TickReport report = engine().activityStore(counting).sentBatchSize(4).build().tick();

    assertThat(report.sent()).hasSize(5);
    assertThat(counting.calls).containsOnly(Map.entry("nextTrackingNumbers", 1), Map.entry("recordIdentities", 1),
        Map.entry("markSentAll", 3)); // 2 + 2 + 1
    for (int i = 0; i < 5; i++) {
      StoredEmail e = stored("me@example.com-" + i);
      assertThat(e.status()).isEqualTo(EmailStatus.SENT);
      assertThat(transport.accepted()).filteredOn(a -> a.activityId().equals(e.email().activityId()))
          .singleElement().satisfies(a -> assertThat(a.messageId()).isEqualTo(e.email().messageId()));
    }
    assertThat(stored("me@example.com-0").email().trackingToken())
        .isNotEqualTo(stored("me@example.com-1").email().trackingToken());
  }

  @Test
  void tick_whenAStaleClaimIsInTheMiddleOfABatch_reportsItLost_andSendsAndRecordsTheRest() {
    ForwardingActivityStore oneStale = new ForwardingActivityStore(store) {
      @Override
      public List<String> recordIdentities(List<EmailIdentity> identities) {
        // The second email's claim passed to another engine: the store reports it, records the rest.
        List<EmailIdentity> held = new ArrayList<>(identities);
        EmailIdentity stale = held.remove(1);
        super.recordIdentities(held);
        return List.of(stale.claim().activityId());
      }

      @Override
      public List<String> markSentAll(List<SentOutcome> outcomes) {
        List<SentOutcome> held = new ArrayList<>(outcomes);
        SentOutcome stale = held.remove(0);
        super.markSentAll(held);
        return List.of(stale.claim().activityId());
      }
    };
    addEmails("me@example.com", 4);

    TickReport report = engine().activityStore(oneStale).build().tick();

    assertThat(report.problems()).extracting(p -> ((RouterEvent.ClaimLost) p).activityId())
        .containsExactly("me@example.com-1", "me@example.com-0");
    assertThat(transport.acceptedIds()).containsExactly("me@example.com-0", "me@example.com-2", "me@example.com-3");
    assertThat(report.sent()).extracting(RouterEvent.EmailSent::activityId)
        .containsExactly("me@example.com-2", "me@example.com-3");
    assertThat(stored("me@example.com-0").status()).isEqualTo(EmailStatus.SENDING);
    assertThat(stored("me@example.com-1").status()).isEqualTo(EmailStatus.SENDING);
    assertThat(stored("me@example.com-2").status()).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void tick_whenRecordingTheOutcomeFails_reportsOutcomeNotRecordedInsteadOfThrowing() {
    ForwardingActivityStore failing = new ForwardingActivityStore(store) {
      @Override
      public List<String> markSentAll(List<SentOutcome> outcomes) {
        // Not an outage: the engine repeats the group email by email, to find the email at fault.
        throw new IllegalStateException("row locked by another session");
      }

      @Override
      public void markSent(Claim claim, Instant sentAt, SendResult result) {
        // Tied to the row, not an outage (a transient failure stops the batch: StoreOutageTest).
        throw new IllegalStateException("row locked by another session");
      }
    };
    addEmails("me@example.com", 2);

    TickReport report = engine().activityStore(failing).build().tick();

    // The claims still held: the store failed to record, which is no lost claim.
    assertThat(report.problems()).hasSize(2).allSatisfy(p -> assertThat(p).isInstanceOf(RouterEvent.OutcomeNotRecorded.class));
    assertThat(report.outcomesNotRecorded()).extracting(RouterEvent.OutcomeNotRecorded::outcome)
        .containsOnly(RouterEvent.OutcomeNotRecorded.Outcome.SENT);
    assertThat(stored("me@example.com-0").status()).isEqualTo(EmailStatus.SENDING);
  }

  // --- builder ---------------------------------------------------------------------------------------

  @Test
  void builder_refusesBadSettings_namingTheSettingAndValue() {
    Map<String, Function<RouterEngine.Builder, RouterEngine.Builder>> bad = Map.of(
        "batchPerSender must be between 1 and 1000, was 0", b -> b.batchPerSender(0),
        "maxPerTick must be between 1 and 1000000, was -5", b -> b.maxPerTick(-5),
        "sendSessions must be between 1 and 64, was 65", b -> b.sendSessions(65),
        "maxAttempts must be between 1 and 1000, was 0", b -> b.maxAttempts(0),
        "lease must be at least PT1S, was PT0S", b -> b.lease(Duration.ZERO),
        "retryDelay must be at least PT1S, was PT-1M", b -> b.retryDelay(Duration.ofMinutes(-1)),
        "trackingTokenDigits must be between 1 and 18, was 19", b -> b.trackingTokenDigits(19),
        "maxMessageSize must be at least 1024 bytes, was 10", b -> b.maxMessageSize(10));
    bad.forEach((message, setter) -> assertThatThrownBy(() -> setter.apply(RouterEngine.builder()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message));
  }

  @Test
  void builder_refusesATokenPrefixEndingInADigit() {
    assertThatThrownBy(() -> RouterEngine.builder().trackingTokenPrefix("CRM1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("trackingTokenPrefix")
        .hasMessageContaining("\"CRM1\"");
    assertThatThrownBy(() -> RouterEngine.builder().trackingTokenPrefix("CRM :"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"CRM :\"");
  }

  @Test
  void builder_refusesABadMessageIdDomain() {
    assertThatThrownBy(() -> RouterEngine.builder().messageIdDomain("exa mple.com"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("messageIdDomain")
        .hasMessageContaining("\"exa mple.com\"");
  }

  @Test
  void build_withoutAStore_failsNamingActivityStore() {
    assertThatThrownBy(() -> RouterEngine.builder().transport(transport).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("activityStore is required");
  }

  @Test
  void build_withASentFolderButNoTransport_failsNamingBoth() {
    dev.emailrouter.api.SentFolder folder = (email, message) -> {};

    assertThatThrownBy(() -> RouterEngine.builder().activityStore(store).sentFolder(folder)
        .mailbox(Mailbox.ofUser("user-1", new FakeMailbox("fake"))).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sentFolder is set but no transport");
    assertThat(RouterEngine.builder().activityStore(store).sentFolder(folder).transport(transport).build()).isNotNull();
  }

  @Test
  void tick_withParallelSendSessions_whenASessionThrowsAnError_throwsIt_asOneSessionDoes() {
    addEmails("a@example.com", 1);
    addEmails("b@example.com", 1);
    transport.beforeSend(e -> {
      if (e.activityId().startsWith("b@")) {
        throw new LinkageError("a class the transport needs is missing");
      }
    });
    RouterEngine engine = engine().sendSessions(2).build();

    // Before, a parallel session's failure was logged and dropped, while the same failure of a
    // single session left tick(): the pool now hands it on once every session has ended.
    assertThatThrownBy(engine::tick).isInstanceOf(LinkageError.class);
    assertThat(transport.acceptedIds()).containsExactly("a@example.com-0");
    assertThat(stored("a@example.com-0").status()).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void build_withMoreSendSessionsThanTheTransportAllows_failsNamingBothSettings() {
    MailTransport bounded = new MailTransport() {
      @Override
      public Session openSession() {
        return transport.openSession();
      }

      @Override
      public String describe() {
        return "smtp://bounded:25";
      }

      @Override
      public java.util.OptionalInt maxSessions() {
        return java.util.OptionalInt.of(2);
      }
    };

    assertThatThrownBy(() -> RouterEngine.builder().activityStore(store).transport(bounded).sendSessions(3).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sendSessions (3)")
        .hasMessageContaining("maxSessions (2)")
        .hasMessageContaining("smtp://bounded:25");
    assertThat(RouterEngine.builder().activityStore(store).transport(bounded).sendSessions(2).build()).isNotNull();
  }

  @Test
  void build_withNeitherTransportNorMailbox_failsSayingSo() {
    assertThatThrownBy(() -> RouterEngine.builder().activityStore(store).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("transport")
        .hasMessageContaining("mailbox");
  }

  @Test
  void build_withMaxRetryDelayBelowRetryDelay_failsNamingBoth() {
    assertThatThrownBy(() -> engine().retryDelay(Duration.ofHours(1)).maxRetryDelay(Duration.ofMinutes(5)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("maxRetryDelay (PT5M)")
        .hasMessageContaining("retryDelay (PT1H)");
  }

  @Test
  void tick_withoutATransport_sendsNothingAndLeavesEmailsPending() {
    store.add(email("e1", "me@example.com", "Hello"));
    RouterEngine engine = RouterEngine.builder().activityStore(store).clock(clock)
        .mailbox(Mailbox.ofUser("u1", new FakeMailbox("inbox"))).build();

    engine.tick();

    assertThat(stored("e1").status()).isEqualTo(EmailStatus.PENDING_SEND);
  }

  @Test
  void sentAt_isTheClockReadingWhenTheServerAccepted() {
    store.add(email("e1", "me@example.com", "Hello"));
    transport.beforeSend(e -> clock.advance(Duration.ofSeconds(3)));
    Instant start = clock.instant();

    engine().build().tick();

    assertThat(Duration.between(start, stored("e1").sentAt()).toMillis()).isCloseTo(3000L, within(0L));
  }
}
