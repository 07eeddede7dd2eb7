package dev.emailrouter.benchmarks;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.core.internal.MailConnections;
import dev.emailrouter.smtp.SmtpTransport;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Bar 1: outgoing email from the in-memory store through {@code RouterEngine.tick()} and {@code
 * SmtpTransport} into smtp-sink (claims and status updates included), against plain Jakarta Mail
 * with one reused connection per thread, Jakarta Mail's {@code Transport.send} per message, and
 * smtp-source; then the same over STARTTLS through a Postfix TLS front for smtp-sink.
 */
final class OutgoingBench {
  private static final String TO = "user@example.test";
  private static final int SENDERS = 10;

  private final Context ctx;

  OutgoingBench(Context ctx) {
    this.ctx = ctx;
  }

  /** One configuration: size, count, parallel sessions, security. */
  private record Config(String name, int bodyBytes, int count, int sessions, Security security, int port,
      KeyStore trust, int perMessageCount) {}

  void run() throws Exception {
    int sinkPort = ctx.sink().port();
    int n2k = ctx.n(10_000, 500);
    int n50k = ctx.n(1_000, 200);
    List<Config> configs = new ArrayList<>(List.of(
        new Config("Outgoing 2 KB, 1 session", 2048, n2k, 1, Security.PLAIN_TEXT_INSECURE, sinkPort, null, n2k),
        new Config("Outgoing 2 KB, 4 sessions", 2048, n2k, 4, Security.PLAIN_TEXT_INSECURE, sinkPort, null, n2k),
        new Config("Outgoing 50 KB, 1 session", 50 * 1024, n50k, 1, Security.PLAIN_TEXT_INSECURE, sinkPort, null,
            n50k),
        new Config("Outgoing 50 KB, 4 sessions", 50 * 1024, n50k, 4, Security.PLAIN_TEXT_INSECURE, sinkPort, null,
            n50k)));
    int tlsPort = Processes.freePorts(1).get(0);
    try {
      ctx.lab().addTlsFront(tlsPort, sinkPort);
      KeyStore trust = MailConnections.trustStoreOf(ctx.lab().caPem());
      // A TLS handshake per message is slow: the per-message baseline sends a fifth as many (a rate all the same).
      configs.add(new Config("Outgoing 2 KB STARTTLS, 4 sessions", 2048, n2k, 4, Security.STARTTLS, tlsPort, trust,
          Math.max(100, n2k / 5)));
      ctx.report().note("STARTTLS: Postfix smtpd (self-signed certificate) on 127.0.0.1 in front of smtp-sink as its "
          + "before-queue proxy filter (smtpd_proxy_filter): TLS is terminated by Postfix, nothing is queued. "
          + "smtp-source speaks no TLS, so there is no protocol-limit row for it; the per-message baseline sends "
          + "a fifth of the messages (handshakes are slow), its rate compares all the same.");
    } catch (RuntimeException e) {
      ctx.report().note("STARTTLS skipped: the Postfix TLS front for smtp-sink could not be set up: " + e.getMessage());
    }

    ctx.report().note("Outgoing: ours = InMemoryActivityStore → RouterEngine.tick() → SmtpTransport, with sendSessions = "
        + "maxSessions = the sessions shown, 10 senders, batchPerSender and maxPerTick high enough for one tick, "
        + "tracking tokens on; timed from the first tick until every email is Sent (claim, Message-ID and token "
        + "recorded, MIME composed, sent, markSent), filling the store is not timed. Baselines compose the same "
        + "text/plain message in the timed loop. smtp-source sends the same body size (-l) with -d.");
    for (Config c : configs) {
      System.out.printf("%n== %s: %,d messages%n", c.name(), c.count());
      Rounds rounds = new Rounds(c.name(), "msg/s")
          .add("ours", () -> ours(c))
          .add("jakarta-reused", () -> jakarta(c, c.count(), true))
          .add("jakarta-per-message", () -> jakarta(c, c.perMessageCount(), false));
      boolean plain = c.security() == Security.PLAIN_TEXT_INSECURE;
      if (plain) {
        rounds.add("smtp-source", () -> SmtpSink.source(c.port(), c.sessions(), c.bodyBytes(), c.count()));
      }
      rounds.run(ctx.warmups(), ctx.runs());
      String scenario = c.name() + ", N=" + String.format("%,d", c.count());
      String oursText = rounds.describe("ours", "msg/s", "msg");
      row(scenario, oursText, rounds, "Jakarta Mail reused connection, same sessions", "jakarta-reused", 1.0, false);
      row(scenario, oursText, rounds, "Jakarta Mail Transport.send per message, same threads", "jakarta-per-message",
          2.0, false);
      if (plain) {
        row(scenario, oursText, rounds, "smtp-source -d, same sessions (protocol limit)", "smtp-source", 0.6, true);
      }
    }
  }

  private void row(String scenario, String oursText, Rounds rounds, String baselineName, String key, double bar,
      boolean goalOnly) {
    Samples ratio = rounds.ratio("ours", key);
    double median = ratio.median();
    Report.Verdict verdict = goalOnly
        ? (median >= bar ? Report.Verdict.GOAL_MET : Report.Verdict.GOAL_MISSED)
        : (median >= bar ? Report.Verdict.PASS : Report.Verdict.MISS);
    ctx.report().add(new Report.Row(scenario, oursText, baselineName, rounds.describe(key, "msg/s", "msg"),
        ratio.describe("", Samples::ratio), (goalOnly ? "goal ≥ " : "≥ ") + bar + "×", verdict));
  }

  /** The router: store → tick() → SmtpTransport, until every email is Sent. */
  private Stopwatch.Figure ours(Config c) {
    InMemoryActivityStore store = new InMemoryActivityStore();
    String body = Messages.text(c.bodyBytes());
    for (int i = 0; i < c.count(); i++) {
      store.add(OutgoingEmail.builder("email-" + i, EmailAddress.of("sender" + (i % SENDERS) + "@crm.test"))
          .to(EmailAddress.of(TO))
          .subject("Your order " + i)
          .textBody(body)
          .build());
    }
    SmtpTransport.Builder transport = SmtpTransport.builder()
        .host("127.0.0.1")
        .port(c.port())
        .security(c.security())
        .ehloName("crm.test")
        .maxSessions(c.sessions());
    if (c.trust() != null) {
      transport.trustStore(c.trust());
    }
    int perSender = (c.count() + SENDERS - 1) / SENDERS;
    try (RouterEngine engine = RouterEngine.builder()
        .activityStore(store)
        .transport(transport.build())
        .sendSessions(c.sessions())
        .batchPerSender(Math.min(1000, perSender))
        .maxPerTick(c.count())
        .build()) {
      Stopwatch watch = Stopwatch.start();
      int sent = 0;
      while (sent < c.count()) {
        TickReport report = engine.tick();
        if (report.sent().isEmpty()) {
          throw new IllegalStateException("a tick sent nothing: " + report + " " + report.problems() + " "
              + report.failed() + " " + report.retried());
        }
        sent += report.sent().size();
      }
      return watch.rate(c.count());
    }
  }

  /**
   * Plain Jakarta Mail, with the same session properties the router uses (timeouts, TCP_NODELAY
   * socket factories, TLS trust): {@code threads} threads, each composing and sending its share,
   * over one connected Transport ({@code reused}) or with {@code Transport.send} per message.
   */
  private Stopwatch.Figure jakarta(Config c, int count, boolean reused) throws Exception {
    Properties props = MailConnections.properties("smtp", "127.0.0.1", c.port(), c.security(), c.trust(),
        Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofSeconds(60));
    props.put("mail.smtp.localhost", "crm.test");
    Session session = Session.getInstance(props);
    String body = Messages.text(c.bodyBytes());
    int threads = c.sessions();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      Stopwatch watch = Stopwatch.start();
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int from = count * t / threads;
        int to = count * (t + 1) / threads;
        futures.add(pool.submit(() -> {
          if (reused) {
            try (Transport transport = session.getTransport("smtp")) {
              transport.connect();
              for (int i = from; i < to; i++) {
                MimeMessage m = compose(session, i, body);
                transport.sendMessage(m, m.getAllRecipients());
              }
            }
          } else {
            for (int i = from; i < to; i++) {
              Transport.send(compose(session, i, body));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
      return watch.rate(count);
    } finally {
      pool.shutdownNow();
    }
  }

  private static MimeMessage compose(Session session, int i, String body) throws MessagingException {
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress("sender" + (i % SENDERS) + "@crm.test"));
    m.setRecipient(Message.RecipientType.TO, new InternetAddress(TO));
    m.setSubject("Your order " + i, "UTF-8");
    m.setSentDate(new Date());
    m.setText(body, "UTF-8");
    m.saveChanges();
    return m;
  }
}
