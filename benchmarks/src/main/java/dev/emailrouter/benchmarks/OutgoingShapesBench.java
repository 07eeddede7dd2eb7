package dev.emailrouter.benchmarks;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.smtp.SmtpTransport;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * What a user asks of outgoing besides raw speed, at the engine's default settings into smtp-sink:
 * fairness (one hot sender with a backlog beside many senders with one email each: how many ticks
 * until each of them is sent) and a realistic mix (HTML and text, attachments, one to five
 * recipients, non-ASCII) beside plain text, as a rate and CPU per email. For one thread.
 */
final class OutgoingShapesBench {
  private static final String TO_DOMAIN = "example.test";

  private final Context ctx;

  OutgoingShapesBench(Context ctx) {
    this.ctx = ctx;
  }

  void run() throws Exception {
    fairness(200);
    fairness(1_000);
    mix();
  }

  /** One hot sender with 10,000 emails and {@code cold} senders with one each, all due at once. */
  private void fairness(int cold) throws Exception {
    int hot = ctx.n(10_000, 1_000);
    System.out.printf("%n== Fairness: 1 sender with %,d emails beside %,d senders with 1 each%n", hot, cold);
    InMemoryActivityStore store = new InMemoryActivityStore();
    String body = Messages.text(2048);
    for (int i = 0; i < hot; i++) {
      store.add(OutgoingEmail.builder("hot-" + i, EmailAddress.of("hot@crm.test"))
          .to(EmailAddress.of("user@" + TO_DOMAIN)).subject("Newsletter " + i).textBody(body).build());
    }
    for (int i = 0; i < cold; i++) {
      store.add(OutgoingEmail.builder("cold-" + i, EmailAddress.of("user" + i + "@crm.test"))
          .to(EmailAddress.of("user@" + TO_DOMAIN)).subject("Quote " + i).textBody(body).build());
    }
    int ticks = 0;
    int lastCold = 0;
    int coldSent = 0;
    int hotSent = 0;
    try (RouterEngine engine = defaultEngine(store)) {
      while (hotSent + coldSent < hot + cold) {
        TickReport report = engine.tick();
        ticks++;
        if (report.sent().isEmpty()) {
          throw new IllegalStateException("a tick sent nothing: " + report.problems());
        }
        for (RouterEvent.EmailSent s : report.sent()) {
          if (s.activityId().startsWith("cold-")) {
            coldSent++;
            lastCold = ticks;
          } else {
            hotSent++;
          }
        }
      }
    }
    ctx.report().add(new Report.Row("Fairness, default settings: 1 sender with " + String.format("%,d", hot)
        + " emails beside " + String.format("%,d", cold) + " senders with 1 each",
        "every one-email sender sent by tick " + lastCold + "; the backlog drained in " + ticks + " ticks",
        "—", "—", "—", "report", Report.Verdict.REPORT));
  }

  /** Plain text against a realistic mix, same count, same engine settings. */
  private void mix() throws Exception {
    int n = ctx.n(3_000, 300);
    System.out.printf("%n== Outgoing mix: %,d emails%n", n);
    Rounds rounds = new Rounds("outgoing mix", "msg/s").recordingTo(ctx.report())
        .add("plain", () -> send(n, false))
        .add("mix", () -> send(n, true))
        .run(ctx.bigWarmups(), ctx.bigRuns());
    ctx.report().add(new Report.Row("Outgoing mix, N=" + String.format("%,d", n) + ", default settings, 1 session: "
        + "HTML + text, a 30 KB PDF on every third, 1–5 recipients, non-ASCII subjects and names",
        rounds.describe("mix", "msg/s", "msg"), "same engine, plain text 2 KB, 1 recipient",
        rounds.describe("plain", "msg/s", "msg"), rounds.ratio("mix", "plain").describe("", Samples::ratio),
        "report", Report.Verdict.REPORT));
  }

  private Stopwatch.Figure send(int n, boolean mix) throws Exception {
    InMemoryActivityStore store = new InMemoryActivityStore();
    Random random = new Random(42);
    String text = Messages.text(2048);
    byte[] pdf = new byte[30 * 1024];
    random.nextBytes(pdf);
    for (int i = 0; i < n; i++) {
      store.add(mix ? mixed(i, random, text, pdf) : OutgoingEmail.builder("e-" + i,
          EmailAddress.of("sender" + (i % 100) + "@crm.test")).to(EmailAddress.of("user@" + TO_DOMAIN))
          .subject("Your order " + i).textBody(text).build());
    }
    try (RouterEngine engine = defaultEngine(store)) {
      Stopwatch watch = Stopwatch.start();
      int sent = 0;
      while (sent < n) {
        TickReport report = engine.tick();
        if (report.sent().isEmpty()) {
          throw new IllegalStateException("a tick sent nothing: " + report.problems() + " " + report.failed());
        }
        sent += report.sent().size();
      }
      return watch.rate(n);
    }
  }

  private static OutgoingEmail mixed(int i, Random random, String text, byte[] pdf) {
    OutgoingEmail.Builder b = OutgoingEmail.builder("e-" + i,
        EmailAddress.of("sender" + (i % 100) + "@crm.test", i % 2 == 0 ? "Jürgen Müller" : "Zoë Ångström"));
    int recipients = 1 + random.nextInt(5);
    List<EmailAddress> to = new ArrayList<>();
    for (int r = 0; r < recipients; r++) {
      to.add(EmailAddress.of("user" + r + "@" + TO_DOMAIN, r % 2 == 0 ? "Kunde Nr. " + r : "顧客 " + r));
    }
    b.to(to.get(0));
    if (to.size() > 1) {
      b.cc(to.subList(1, to.size()).toArray(EmailAddress[]::new));
    }
    b.subject(String.format(Locale.ROOT, "Ihr Angebot Nr. %d – Größe & Preis €%d", i, 100 + i))
        .textBody(text)
        .htmlBody("<html><body><p>Sehr geehrte Damen und Herren,</p><pre>" + text + "</pre><p>Grüße</p></body></html>");
    if (i % 3 == 0) {
      b.attachment(new Attachment("Angebot-" + i + ".pdf", "application/pdf", pdf.length, ContentSource.ofBytes(pdf)));
    }
    return b.build();
  }

  private RouterEngine defaultEngine(InMemoryActivityStore store) {
    return RouterEngine.builder()
        .activityStore(store)
        .transport(SmtpTransport.builder()
            .host("127.0.0.1")
            .port(ctx.sink().port())
            .security(Security.PLAIN_TEXT_INSECURE)
            .ehloName("crm.test")
            .build())
        .build();
  }
}
