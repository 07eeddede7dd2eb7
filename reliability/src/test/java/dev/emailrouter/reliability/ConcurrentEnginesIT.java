package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.core.RouterEngine;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 emails, four engines on one H2 database (three threads here and one in a second JVM,
 * sharing the file through H2's AUTO_SERVER mode) and one SMTP server: every email delivered
 * exactly once, judged by the Message-IDs the server saw. Runs with {@code -Pconformance}.
 */
final class ConcurrentEnginesIT {
  static final int EMAILS = 10_000;
  static final int THREADS = 3;

  @TempDir
  Path dir;

  @Test
  void tick_whenFourEnginesInTwoJvmsDrainOneStore_deliversEachOfTenThousandEmailsExactlyOnce() throws Exception {
    try (Crm crm = new Crm(dir, true); SmtpSink sink = SmtpSink.start()) {
      Fleet.addEmails(crm, EMAILS, 100);
      long began = System.nanoTime();
      ChildJvm child = ChildJvm.start(EngineProcess.class, List.of("-Xmx256m"),
          List.of(crm.url(), Integer.toString(sink.port()), "99"));
      AtomicInteger claimLost = new AtomicInteger();
      ExecutorService threads = Executors.newFixedThreadPool(THREADS);
      List<Future<Integer>> perEngine = new ArrayList<>();
      for (int i = 0; i < THREADS; i++) {
        long seed = i;
        perEngine.add(threads.submit(() -> {
          try (RouterEngine engine = Fleet.engine(crm.store(), sink.port(), Clock.systemUTC(), seed)) {
            return Fleet.drain(engine, crm.dataSource(), claimLost, Duration.ofMinutes(4));
          }
        }));
      }
      List<Integer> sent = new ArrayList<>();
      for (Future<Integer> f : perEngine) {
        sent.add(f.get(5, TimeUnit.MINUTES));
      }
      threads.shutdown();
      assertThat(child.await(Duration.ofMinutes(5))).as("the second JVM's exit code; its output:\n%s", child.output())
          .isZero();
      long millis = (System.nanoTime() - began) / 1_000_000;
      int childSent = Integer.parseInt(child.value("SENT"));
      sent.add(childSent);

      Map<String, Crm.Outgoing> rows = crm.outgoing();
      assertThat(rows.values()).hasSize(EMAILS).allMatch(r -> r.status() == EmailStatus.SENT);
      List<String> notOnce = new ArrayList<>();
      for (Crm.Outgoing r : rows.values()) {
        if (sink.count(r.messageId()) != 1) {
          notOnce.add(r.id() + " x" + sink.count(r.messageId()));
        }
      }
      assertThat(notOnce).as("emails the server did not get exactly once").isEmpty();
      assertThat(sink.acceptedCount()).isEqualTo(EMAILS);
      assertThat(sent.stream().mapToInt(Integer::intValue).sum()).isEqualTo(EMAILS);
      assertThat(childSent).as("the second JVM did part of the work").isPositive();
      assertThat(claimLost.get() + Integer.parseInt(child.value("CLAIM_LOST"))).as("claims lost").isZero();
      System.out.println(EMAILS + " emails, engines " + sent + " (last: second JVM), " + millis + " ms");
      Figures.record(ConcurrentEnginesIT.class, "4 engines (3 threads + 1 second JVM), H2 AUTO_SERVER, one SMTP server",
          0, EMAILS, 0, 0, "per engine " + sent + ", " + millis + " ms wall clock");
    }
  }
}
