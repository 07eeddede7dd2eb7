package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.core.RouterEngine;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Two engines, as two nodes of one host, send from one PostgreSQL database through JdbcActivityStore. */
final class RouterEngineOnPostgresTest {
  private static final int SENDERS = 30;
  private static final int PER_SENDER = 20;

  /** Accepts everything and counts what it was given, by Message-ID. */
  private static final class CountingTransport implements MailTransport {
    final Map<String, AtomicInteger> sends;

    CountingTransport(Map<String, AtomicInteger> sends) {
      this.sends = sends;
    }

    @Override
    public Session openSession() {
      return new Session() {
        @Override
        public SendResult send(OutgoingEmail email) {
          sends.computeIfAbsent(email.activityId(), k -> new AtomicInteger()).incrementAndGet();
          return SendResult.accepted("250 2.0.0 Ok: queued");
        }

        @Override
        public void close() {}
      };
    }

    @Override
    public String describe() {
      return "counting transport";
    }
  }

  @Test
  void tick_ofTwoEnginesOnOneDatabase_sendsEveryEmailOnce_andMarksItSent() throws Exception {
    try (StoreFixture f = new StoreFixture(TestDatabases.postgres())) {
      for (int i = 0; i < PER_SENDER; i++) {
        for (int s = 0; s < SENDERS; s++) {
          f.addPending(OutgoingEmail.builder("mail-" + s + "-" + i, EmailAddress.of("user" + s + "@example.test"))
              .to(EmailAddress.of("customer" + i + "@example.test")).subject("Quote " + i)
              .textBody("Dear customer,\r\nyour quote.\r\n".repeat(40)).build());
        }
      }
      Map<String, AtomicInteger> sends = new ConcurrentHashMap<>();
      Clock clock = Clock.fixed(Instant.parse("2030-01-07T09:00:00Z"), ZoneOffset.UTC);
      List<RouterEngine> engines = List.of(
          RouterEngine.builder().activityStore(new JdbcActivityStore(f.pool())).transport(new CountingTransport(sends))
              .clock(clock).build(),
          RouterEngine.builder().activityStore(new JdbcActivityStore(f.pool())).transport(new CountingTransport(sends))
              .clock(clock).build());

      ExecutorService nodes = Executors.newFixedThreadPool(engines.size());
      long started = System.nanoTime();
      try {
        List<Future<Integer>> sent = engines.stream().map(engine -> nodes.submit(() -> {
          int total = 0;
          for (int tick = 0; tick < 200; tick++) {
            int n = engine.tick().sent().size();
            total += n;
            if (n == 0 && sends.size() == SENDERS * PER_SENDER) {
              break;
            }
          }
          return total;
        })).toList();
        for (Future<Integer> s : sent) {
          s.get(120, TimeUnit.SECONDS);
        }
      } finally {
        nodes.shutdownNow();
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      System.out.printf("RouterEngine x2 on router-jdbc/PostgreSQL: %d emails sent in %.2f s (%.0f emails/s)%n",
          sends.size(), seconds, sends.size() / seconds);

      assertThat(sends).hasSize(SENDERS * PER_SENDER);
      assertThat(sends.values()).allSatisfy(count -> assertThat(count.get()).as("sends of one email").isEqualTo(1));
      assertThat(f.status("mail-0-0")).isEqualTo(EmailStatus.SENT);
      assertThat(f.status("mail-" + (SENDERS - 1) + "-" + (PER_SENDER - 1))).isEqualTo(EmailStatus.SENT);
    }
  }
}
