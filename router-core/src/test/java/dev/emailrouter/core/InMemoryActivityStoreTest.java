package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.api.TrackingDecision;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

final class InMemoryActivityStoreTest {
  private static final Instant NOW = Instant.parse("2024-03-01T09:00:00Z");
  private static final Duration LEASE = Duration.ofMinutes(30);

  private final InMemoryActivityStore store = new InMemoryActivityStore();

  private static OutgoingEmail email(String id, String from) {
    return OutgoingEmail.builder(id, EmailAddress.of(from)).to(EmailAddress.of("c@example.org")).subject("s").build();
  }

  private List<ClaimedEmail> claim(Instant now, int perSender, int max, String resumeAfter) {
    return store.claimPendingSend(new ClaimRequest(now, LEASE, perSender, max, resumeAfter));
  }

  private List<ClaimedEmail> claim(Instant now) {
    return claim(now, 100, 1000, "");
  }

  private static ReceivedEmail received(String key) {
    return new ReceivedEmail(key, key.startsWith("<") ? key : null, "mb", new Party(Party.Type.USER, "u", ""),
        EmailAddress.of("c@example.org"), List.of(), List.of(), "subject", null, NOW, "text", null, List.of(),
        List.of(), null, List.of(), null, TrackingDecision.track(TrackingDecision.Reason.ACCEPT_ALL, ""));
  }

  // --- claims and fencing -----------------------------------------------------------------------------

  @Test
  void claim_movesDueEmailsToSendingUnderALease() {
    store.add(email("e1", "a@example.com"));

    List<ClaimedEmail> claimed = claim(NOW);

    assertThat(claimed).singleElement().satisfies(c -> {
      assertThat(c.claim().activityId()).isEqualTo("e1");
      assertThat(c.claim().leaseUntil()).isEqualTo(NOW.plus(LEASE));
      assertThat(c.claim().token()).isNotBlank();
    });
    assertThat(store.status("e1")).isEqualTo(EmailStatus.SENDING);
    assertThat(claim(NOW.plus(LEASE).minusSeconds(1))).isEmpty();
  }

  @Test
  void claim_skipsEmailsNotYetDue_andTakesThemOnceDue() {
    store.add(email("e1", "a@example.com"));
    ClaimedEmail c = claim(NOW).get(0);
    store.markRetry(c.claim(), NOW.plusSeconds(300), 1, "451");

    assertThat(claim(NOW.plusSeconds(299))).isEmpty();
    assertThat(claim(NOW.plusSeconds(300))).singleElement()
        .satisfies(again -> assertThat(again.email().attempts()).isEqualTo(1));
  }

  @Test
  void claim_neverReturnsSentOrFailedEmails() {
    store.add(email("e1", "a@example.com"));
    store.add(email("e2", "a@example.com"));
    List<ClaimedEmail> claimed = claim(NOW);
    store.markSent(claimed.get(0).claim(), NOW, SendResult.accepted("250"));
    store.markFailed(claimed.get(1).claim(), 1, SendResult.permanentFailure("550"));

    assertThat(claim(NOW.plus(Duration.ofDays(1)))).isEmpty();
    assertThat(store.status("e1")).isEqualTo(EmailStatus.SENT);
    assertThat(store.status("e2")).isEqualTo(EmailStatus.FAILED);
  }

  @Test
  void aStaleClaim_canChangeNothing() {
    store.add(email("e1", "a@example.com"));
    Claim stale = claim(NOW).get(0).claim();
    Claim current = claim(NOW.plus(LEASE)).get(0).claim();

    assertThat(current.token()).isNotEqualTo(stale.token());
    assertThatThrownBy(() -> store.markSent(stale, NOW, SendResult.accepted("250")))
        .isInstanceOf(StaleClaimException.class);
    assertThatThrownBy(() -> store.markRetry(stale, NOW, 1, "451")).isInstanceOf(StaleClaimException.class);
    assertThatThrownBy(() -> store.markFailed(stale, 1, SendResult.permanentFailure("550")))
        .isInstanceOf(StaleClaimException.class);
    assertThatThrownBy(() -> store.recordIdentity(stale, "<x@y>", null, "s"))
        .isInstanceOf(StaleClaimException.class);
    assertThat(store.status("e1")).isEqualTo(EmailStatus.SENDING);

    store.markSent(current, NOW, SendResult.accepted("250"));
    assertThat(store.status("e1")).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void aForgedToken_orAFinishedClaim_isStale() {
    store.add(email("e1", "a@example.com"));
    Claim real = claim(NOW).get(0).claim();
    Claim forged = new Claim("e1", "not-the-token", real.leaseUntil());

    assertThatThrownBy(() -> store.markSent(forged, NOW, SendResult.accepted("250")))
        .isInstanceOf(StaleClaimException.class)
        .hasMessageContaining("not-the-token");
    store.markSent(real, NOW, SendResult.accepted("250"));
    assertThatThrownBy(() -> store.markSent(real, NOW, SendResult.accepted("250")))
        .isInstanceOf(StaleClaimException.class);
  }

  @Test
  void claim_limitsPerSenderAndInAll_oldestFirst() {
    for (int i = 0; i < 5; i++) {
      store.add(email("a" + i, "a@example.com"));
      store.add(email("b" + i, "b@example.com"));
    }

    List<ClaimedEmail> claimed = claim(NOW, 3, 5, "");

    assertThat(claimed).extracting(c -> c.email().activityId()).containsExactly("a0", "a1", "a2", "b0", "b1");
  }

  @Test
  void claim_resumesAfterTheGivenSenderAndWrapsAround() {
    for (String s : List.of("a", "b", "c")) {
      store.add(email(s + "0", s + "@example.com"));
    }

    List<ClaimedEmail> claimed = claim(NOW, 1, 10, "b@example.com");

    assertThat(claimed).extracting(c -> c.email().activityId()).containsExactly("c0", "a0", "b0");
  }

  @Test
  void claim_groupsSendersCaseInsensitively() {
    store.add(email("e1", "Boss@Example.com"));
    store.add(email("e2", "boss@example.com"));

    assertThat(claim(NOW, 1, 10, "")).hasSize(1);
  }

  @Test
  void recordIdentity_isKeptForLaterClaims_andFindable() {
    store.add(email("e1", "a@example.com"));
    ClaimedEmail c = claim(NOW).get(0);
    store.recordIdentity(c.claim(), "<id-1@example.com>", "CRM:0000001", "s CRM:0000001");
    store.markRetry(c.claim(), NOW, 1, "451");

    ClaimedEmail again = claim(NOW).get(0);

    assertThat(again.email().messageId()).isEqualTo("<id-1@example.com>");
    assertThat(again.email().trackingToken()).isEqualTo("CRM:0000001");
    assertThat(again.email().subject()).isEqualTo("s CRM:0000001");
    assertThat(store.findByMessageId("<id-1@example.com>")).hasValue(new ActivityRef("e1", EmailStatus.SENDING));
    assertThat(store.findByTrackingToken("crm:0000001")).hasValue(new ActivityRef("e1", EmailStatus.SENDING));
  }

  @Test
  void add_refusesADuplicateActivityId() {
    store.add(email("e1", "a@example.com"));

    assertThatThrownBy(() -> store.add(email("e1", "b@example.com")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("e1");
  }

  @Test
  void nextTrackingNumber_neverRepeats() throws Exception {
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      futures.add(pool.submit(() -> {
        for (int i = 0; i < 1000; i++) {
          assertThat(seen.add(store.nextTrackingNumber())).isTrue();
        }
        return null;
      }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();
    assertThat(seen).hasSize(4000).allSatisfy(n -> assertThat(n).isPositive());
  }

  @Test
  void concurrentClaims_neverHandOneEmailOutTwice() throws Exception {
    for (int i = 0; i < 300; i++) {
      store.add(email("e" + i, "s" + (i % 7) + "@example.com"));
    }
    Set<String> claimed = ConcurrentHashMap.newKeySet();
    List<String> duplicates = new java.util.concurrent.CopyOnWriteArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(6);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < 6; t++) {
      futures.add(pool.submit(() -> {
        start.await();
        for (int i = 0; i < 30; i++) {
          for (ClaimedEmail c : claim(NOW, 2, 10, "")) {
            if (!claimed.add(c.email().activityId())) {
              duplicates.add(c.email().activityId());
            }
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();

    assertThat(duplicates).isEmpty();
    assertThat(claimed).hasSize(300);
  }

  // --- received -------------------------------------------------------------------------------------

  @Test
  void createReceived_isIdempotentByDedupKey() {
    ReceiveResult first = store.createReceived(received("<m1@example.org>"));
    ReceiveResult second = store.createReceived(received("<m1@example.org>"));

    assertThat(first.created()).isTrue();
    assertThat(second).isEqualTo(new ReceiveResult(first.activityId(), false));
    assertThat(store.received()).hasSize(1);
    assertThat(store.findByMessageId("<m1@example.org>"))
        .hasValue(new ActivityRef(first.activityId(), EmailStatus.RECEIVED));
  }

  @Test
  void createReceived_underConcurrency_createsOneActivityPerKey() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<ReceiveResult>> futures = new ArrayList<>();
    for (int t = 0; t < 64; t++) {
      String key = t % 2 == 0 ? "<same@example.org>" : "sha256:abc";
      futures.add(pool.submit(() -> {
        start.await();
        return store.createReceived(received(key));
      }));
    }
    start.countDown();
    List<ReceiveResult> results = new ArrayList<>();
    for (Future<ReceiveResult> f : futures) {
      results.add(f.get());
    }
    pool.shutdown();

    assertThat(results.stream().filter(ReceiveResult::created)).hasSize(2);
    assertThat(results.stream().map(ReceiveResult::activityId).distinct()).hasSize(2);
    assertThat(store.received()).hasSize(2);
  }

  @Test
  void createReceived_keepsAttachmentBytesAfterTheCall() throws Exception {
    byte[] bytes = "pdf bytes".getBytes(StandardCharsets.UTF_8);
    boolean[] open = {true};
    ContentSource onlyDuringCall = () -> {
      if (!open[0]) {
        throw new java.io.IOException("stream closed with the reader session");
      }
      return new java.io.ByteArrayInputStream(bytes);
    };
    ReceivedEmail base = received("<att@example.org>");
    ReceivedEmail withAttachment = new ReceivedEmail(base.dedupKey(), base.messageId(), base.mailbox(), base.owner(),
        base.from(), base.to(), base.cc(), base.subject(), base.sentAt(), base.receivedAt(), base.textBody(),
        base.htmlBody(), List.of(new Attachment("a.pdf", "application/pdf", -1, onlyDuringCall)),
        List.of("x.exe: blocked"), null, List.of(), null, base.decision());

    store.createReceived(withAttachment);
    open[0] = false;

    Attachment kept = store.received().get(0).attachments().get(0);
    assertThat(kept.size()).isEqualTo(bytes.length);
    try (var in = kept.content().open()) {
      assertThat(in.readAllBytes()).isEqualTo(bytes);
    }
    assertThat(store.received().get(0).droppedAttachments()).containsExactly("x.exe: blocked");
  }

  @Test
  void resolve_matchesAddressesCaseInsensitively_andAnAddressMayHaveSeveralParties() {
    Party contact = new Party(Party.Type.CONTACT, "c1", "");
    Party lead = new Party(Party.Type.LEAD, "l1", "");
    store.addParty("Customer@Example.org", contact);
    store.addParty("customer@example.org", lead);

    assertThat(store.resolve(EmailAddress.of("CUSTOMER@example.ORG"))).containsExactly(contact, lead);
    assertThat(store.resolve(EmailAddress.of("nobody@example.org"))).isEmpty();
  }
}
