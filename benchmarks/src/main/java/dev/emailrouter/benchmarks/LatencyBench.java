package dev.emailrouter.benchmarks;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.smtp.SmtpTransport;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Latency from Pending Send to Sent as a host sees it: the engine at its default settings, ticked
 * every 5 s by a scheduler as the README shows, while CRM users click Send at a steady rate spread
 * over 100 senders. Real time (a minute), so it runs once; the figure to expect is about half the
 * tick interval plus the send, the point is the tail. For one thread.
 */
final class LatencyBench {
  private static final long TICK_MILLIS = 5_000;

  private final Context ctx;

  LatencyBench(Context ctx) {
    this.ctx = ctx;
  }

  void run() throws Exception {
    int perSecond = 50;
    int seconds = ctx.quick() ? 20 : 60;
    int total = perSecond * seconds;
    System.out.printf("%n== Latency: %d emails/s for %d s, a tick every %d s%n", perSecond, seconds,
        TICK_MILLIS / 1000);
    InMemoryActivityStore store = new InMemoryActivityStore();
    Map<String, Long> clickedAt = new ConcurrentHashMap<>();
    Samples latency = new Samples();
    String body = Messages.text(2048);
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    try (RouterEngine engine = RouterEngine.builder()
        .activityStore(store)
        .transport(SmtpTransport.builder()
            .host("127.0.0.1")
            .port(ctx.sink().port())
            .security(Security.PLAIN_TEXT_INSECURE)
            .ehloName("crm.test")
            .build())
        .listener(event -> {
          if (event instanceof RouterEvent.EmailSent sent) {
            Long t0 = clickedAt.remove(sent.activityId());
            if (t0 != null) {
              synchronized (latency) {
                latency.add((System.nanoTime() - t0) / 1e6);
              }
            }
          }
        })
        .build()) {
      int[] next = {0};
      long start = System.nanoTime();
      scheduler.scheduleAtFixedRate(() -> {
        // Emails due by now at the steady rate, added in one go (the timer may fire late on a busy machine).
        int due = (int) Math.min(total, (System.nanoTime() - start) / 1_000_000_000.0 * perSecond);
        for (; next[0] < due; next[0]++) {
          int i = next[0];
          String id = "lat-" + i;
          clickedAt.put(id, System.nanoTime());
          store.add(OutgoingEmail.builder(id, EmailAddress.of("sender" + (i % 100) + "@crm.test"))
              .to(EmailAddress.of("user@example.test")).subject("Quote " + i).textBody(body).build());
        }
      }, 0, 10, TimeUnit.MILLISECONDS);
      scheduler.scheduleWithFixedDelay(engine::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
      long deadline = start + TimeUnit.SECONDS.toNanos(seconds) + TimeUnit.MILLISECONDS.toNanos(3 * TICK_MILLIS);
      while (System.nanoTime() < deadline) {
        synchronized (latency) {
          if (latency.size() == total) {
            break;
          }
        }
        Thread.sleep(100); // a benchmark waiting for real time, not a test
      }
    } finally {
      scheduler.shutdownNow();
      scheduler.awaitTermination(10, TimeUnit.SECONDS);
    }
    int measured;
    double p50;
    double p99;
    double max;
    synchronized (latency) {
      measured = latency.size();
      p50 = latency.percentile(50);
      p99 = latency.percentile(99);
      max = latency.percentile(100);
    }
    String ours = String.format(Locale.ROOT, "p50 %.2f s, p99 %.2f s, max %.2f s (%,d of %,d emails sent)",
        p50 / 1e3, p99 / 1e3, max / 1e3, measured, total);
    ctx.report().add(new Report.Row(String.format(Locale.ROOT, "Latency Pending Send → Sent, default settings, a tick "
        + "every %d s, %d emails/s from 100 senders for %d s", TICK_MILLIS / 1000, perSecond, seconds), ours,
        "—", "—", "—", "report", measured == total ? Report.Verdict.REPORT : Report.Verdict.MISS));
  }
}
