package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several engines on one store (the JDBC store on an H2 file) and one SMTP server: each email
 * delivered exactly once when nothing crashes, and a lease honoured — another engine never takes
 * an email whose claim is live, and a claimant whose lease expired can no longer change the email.
 * (The 10,000-email version, with a second JVM, is {@code ConcurrentEnginesIT}.)
 */
final class ConcurrentEnginesTest {
  static final int EMAILS = 1_000;
  static final int ENGINES = 3;

  @TempDir
  Path dir;

  @Test
  void tick_whenThreeEnginesDrainOneStoreAtOnce_deliversEachEmailExactlyOnce() throws Exception {
    MutableClock clock = new MutableClock();
    try (Crm crm = new Crm(dir); SmtpSink sink = SmtpSink.start()) {
      Fleet.addEmails(crm, EMAILS, 40);
      AtomicInteger claimLost = new AtomicInteger();
      ExecutorService threads = Executors.newFixedThreadPool(ENGINES);
      List<Future<Integer>> perEngine = new ArrayList<>();
      CountDownLatch start = new CountDownLatch(1);
      long began = System.nanoTime();
      for (int i = 0; i < ENGINES; i++) {
        long seed = i;
        perEngine.add(threads.submit(() -> {
          try (RouterEngine engine = Fleet.engine(crm.store(), sink.port(), clock, seed)) {
            start.await();
            return Fleet.drain(engine, crm.dataSource(), claimLost, Duration.ofMinutes(2));
          }
        }));
      }
      start.countDown();
      List<Integer> sent = new ArrayList<>();
      for (Future<Integer> f : perEngine) {
        sent.add(f.get(3, TimeUnit.MINUTES));
      }
      threads.shutdown();
      long millis = (System.nanoTime() - began) / 1_000_000;

      Map<String, Crm.Outgoing> rows = crm.outgoing();
      assertThat(rows.values()).hasSize(EMAILS).allMatch(r -> r.status() == EmailStatus.SENT);
      assertThat(rows.values()).allSatisfy(r -> assertThat(sink.count(r.messageId())).as(r.id()).isEqualTo(1));
      assertThat(sink.acceptedCount()).isEqualTo(EMAILS);
      assertThat(sent.stream().mapToInt(Integer::intValue).sum()).isEqualTo(EMAILS);
      assertThat(claimLost.get()).as("claims lost").isZero();
      System.out.println(EMAILS + " emails, " + ENGINES + " engines " + sent + ", " + millis + " ms");
      Figures.record(ConcurrentEnginesTest.class, ENGINES + " engines (threads), one H2 store, one SMTP server", 0,
          EMAILS, 0, 0, "per engine " + sent + ", " + millis + " ms");
    }
  }

  @Test
  void tick_whenAnEngineHoldsALease_noOtherSendsTheEmailUntilItExpiresAndTheStaleClaimChangesNothing()
      throws Exception {
    MutableClock clock = new MutableClock();
    try (Crm crm = new Crm(dir); SmtpSink sink = SmtpSink.start()) {
      crm.add(Mail.outgoing("email-1", "seller@crm.example.test"));
      CountDownLatch sending = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      // Engine A hangs in the middle of its send (a stuck connection); when it comes back it reports a
      // permanent refusal, which must not overwrite what happened since.
      MailTransport stuck = new MailTransport() {
        @Override
        public Session openSession() {
          return new Session() {
            @Override
            public SendResult send(OutgoingEmail email) {
              sending.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return SendResult.permanentFailure("550 5.0.0 too late");
            }

            @Override
            public void close() {
              // nothing open
            }
          };
        }

        @Override
        public String describe() {
          return "stuck://";
        }
      };
      RouterEngine a = RouterEngine.builder().activityStore(crm.store()).transport(stuck).clock(clock)
          .lease(Duration.ofMinutes(10)).build();
      RouterEngine b = Fleet.engine(crm.store(), sink.port(), clock, 7);
      try (a; b) {
        CompletableFuture<TickReport> aTick = CompletableFuture.supplyAsync(a::tick);
        assertThat(sending.await(30, TimeUnit.SECONDS)).isTrue();
        String messageId = crm.outgoing("email-1").messageId();

        assertThat(b.tick().sent()).as("the lease of A is live").isEmpty();
        clock.advance(Duration.ofMinutes(9));
        assertThat(b.tick().sent()).as("still live after 9 of 10 minutes").isEmpty();
        clock.advance(Duration.ofMinutes(2));
        assertThat(b.tick().sent()).as("expired: B takes over").singleElement()
            .satisfies(s -> assertThat(s.messageId()).as("the Message-ID A recorded").isEqualTo(messageId));

        release.countDown();
        TickReport aReport = aTick.get(30, TimeUnit.SECONDS);
        assertThat(aReport.failed()).as("A's late outcome is refused").isEmpty();
        assertThat(aReport.events()).filteredOn(RouterEvent.ClaimLost.class::isInstance).hasSize(1);
      }
      Crm.Outgoing row = crm.outgoing("email-1");
      assertThat(row.status()).isEqualTo(EmailStatus.SENT);
      assertThat(sink.count(row.messageId())).isEqualTo(1);
      Figures.record(ConcurrentEnginesTest.class, "lease held by a stuck engine, expiry, fencing of the stale claim", 1,
          1, 0, 0, "the other engine waited out the 10-minute lease; the stale claim's outcome was refused");
    }
  }
}
