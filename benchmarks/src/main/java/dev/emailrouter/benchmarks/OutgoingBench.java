package dev.emailrouter.benchmarks;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.ServerSettings;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.smtp.SmtpTransport;
import dev.emailrouter.support.internal.MailConnections;
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
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Bar 1: outgoing email from the in-memory store through {@code RouterEngine.tick()} and {@code
 * SmtpTransport} into smtp-sink (claims and status updates included), against plain Jakarta Mail
 * with one reused connection per thread, Jakarta Mail's {@code Transport.send} per message, raw
 * pipelining socket clients (per email, and across emails: the protocol limit, {@link RawSmtp}) and
 * Postfix's smtp-source (a lock-step client without PIPELINING); then the same over STARTTLS
 * through a Postfix TLS front for smtp-sink. The Jakarta baselines are configured as a competent user would: no write timeout (Angus
 * runs a scheduler thread per connection for it), {@code mail.from} set, {@code saveChanges()} once.
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
    // For profiling: -Dbench.scenario=... keeps only the scenarios whose name contains it.
    String only = System.getProperty("bench.scenario", "").strip();
    configs.removeIf(c -> !c.name().contains(only));
    int tlsPort = Processes.freePorts(1).get(0);
    try {
      if (!"Outgoing 2 KB STARTTLS, 4 sessions".contains(only)) {
        throw new IllegalStateException("not asked for (bench.scenario=" + only + ")");
      }
      ctx.lab().addTlsFront(tlsPort, sinkPort);
      // The CA file read as the adapters' builders read trustedCertificates(...).
      KeyStore trust = ServerSettings.builder().host("127.0.0.1").trustedCertificates(ctx.lab().caPem()).build()
          .trustStore().orElseThrow();
      // A TLS handshake per message is slow: the per-message baseline sends a fifth as many (a rate all the same).
      configs.add(new Config("Outgoing 2 KB STARTTLS, 4 sessions", 2048, n2k, 4, Security.STARTTLS, tlsPort, trust,
          Math.max(100, n2k / 5)));
      ctx.report().note("STARTTLS: Postfix smtpd (self-signed certificate) on 127.0.0.1 in front of smtp-sink as its "
          + "before-queue proxy filter (smtpd_proxy_filter): TLS is terminated by Postfix, nothing is queued. "
          + "smtp-source speaks no TLS, so there is no protocol-limit row for it; the per-message baseline sends "
          + "a fifth of the messages (handshakes are slow), its rate compares all the same.");
    } catch (IllegalStateException e) {
      ctx.report().note("STARTTLS skipped: " + e.getMessage());
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
      Rounds rounds = new Rounds(c.name(), "msg/s").recordingTo(ctx.report())
          .add("ours", () -> ours(c))
          .add("jakarta-reused", () -> jakarta(c, c.count(), true))
          .add("jakarta-per-message", () -> jakarta(c, c.perMessageCount(), false));
      boolean plain = c.security() == Security.PLAIN_TEXT_INSECURE;
      if (plain) {
        rounds.add("raw-pipelining", () -> RawSmtp.send(c.port(), c.sessions(), c.bodyBytes(), c.count(),
            "sender0@crm.test", TO, false));
        rounds.add("raw-across", () -> RawSmtp.send(c.port(), c.sessions(), c.bodyBytes(), c.count(),
            "sender0@crm.test", TO, true));
        rounds.add("smtp-source", () -> SmtpSink.source(c.port(), c.sessions(), c.bodyBytes(), c.count()));
      }
      rounds.run(ctx.warmups(), ctx.runs());
      String scenario = c.name() + ", N=" + String.format("%,d", c.count());
      String oursText = rounds.describe("ours", "msg/s", "msg");
      row(scenario, oursText, rounds, "Jakarta Mail reused connection, same sessions", "jakarta-reused", 1.0, false);
      row(scenario, oursText, rounds, "Jakarta Mail Transport.send per message, same threads", "jakarta-per-message",
          2.0, false);
      if (plain) {
        row(scenario, oursText, rounds, "raw pipelining socket client, per email, bytes prepared up front, same "
            + "sessions", "raw-pipelining", 0.8, false);
        // The bar is against the client pipelining per email; this one does what the router
        // now does too, and is the stricter reference: a goal, printed beside it.
        row(scenario, oursText, rounds, "raw socket client pipelining across emails too, bytes prepared up front, "
            + "same sessions (protocol limit)", "raw-across", 0.8, true);
        row(scenario, oursText, rounds, "smtp-source -d, same sessions (lock-step, no PIPELINING)", "smtp-source",
            0.6, true);
      }
    }
  }

  /**
   * The engine as a host runs it: default settings (6 per sender, 600 per tick), ticks back to back,
   * 100 senders so a tick can be full; through the in-memory store, and through router-jdbc's {@code
   * JdbcActivityStore} on an H2 file and on PostgreSQL (fsync on) with 1, 2 and 4 engines side by
   * side, as threads of this JVM and as separate JVMs ({@link EngineNode}), with the store calls and
   * the database round trips per email. Every email must be sent exactly once: checked by the
   * engines' reports and by the Message-IDs smtp-sink received.
   */
  void runDefaults() throws Exception {
    int n = ctx.n(10_000, 600);
    String name = "Outgoing 2 KB, default settings";
    System.out.printf("%n== %s: %,d messages%n", name, n);
    Map<String, long[]> counts = new java.util.concurrent.ConcurrentHashMap<>();
    java.nio.file.Path sinkDir = java.nio.file.Files.createTempDirectory("email-router-sink-");
    Processes.run(List.of("chmod", "777", sinkDir.toString()), Map.of(), 30);
    java.nio.file.Path dump = sinkDir.resolve("received.dump");
    try (Postgres pg = Postgres.start();
        SmtpSink sink = SmtpSink.start(ctx.work().resolve("smtp-sink-jdbc.log"), dump)) {
      Rounds rounds = new Rounds(name, "msg/s").recordingTo(ctx.report())
          .add("memory", () -> received(dump, n, defaults(n, Store.MEMORY, 1, pg, sink.port(), counts)))
          .add("h2", () -> received(dump, n, defaults(n, Store.H2, 1, pg, sink.port(), counts)))
          .add("postgres-1", () -> received(dump, n, defaults(n, Store.POSTGRES, 1, pg, sink.port(), counts)))
          .add("postgres-2", () -> received(dump, n, defaults(n, Store.POSTGRES, 2, pg, sink.port(), counts)))
          .add("postgres-4", () -> received(dump, n, defaults(n, Store.POSTGRES, 4, pg, sink.port(), counts)))
          .add("postgres-2-jvms", () -> received(dump, n, nodes(n, 2, pg, sink.port(), counts)))
          .add("postgres-4-jvms", () -> received(dump, n, nodes(n, 4, pg, sink.port(), counts)))
          .run(ctx.bigWarmups(), ctx.bigRuns());
      String scenario = name + ", N=" + String.format("%,d", n) + ", 100 senders, 1 session per engine";
      String memory = rounds.describe("memory", "msg/s", "msg") + perEmail(counts, "memory", n);
      for (String key : List.of("postgres-1", "postgres-2", "postgres-4", "postgres-2-jvms", "postgres-4-jvms",
          "h2")) {
        Samples ratio = rounds.ratio(key, "memory");
        boolean bar = key.equals("postgres-1");
        String what;
        if (key.equals("h2")) {
          what = "JdbcActivityStore on an H2 file";
        } else if (key.endsWith("-jvms")) {
          what = "JdbcActivityStore on PostgreSQL, " + key.split("-")[1] + " engines in separate JVMs";
        } else {
          what = "JdbcActivityStore on PostgreSQL, " + key.substring(key.indexOf('-') + 1) + " engine(s)";
        }
        ctx.report().add(new Report.Row(scenario + ": " + what, rounds.describe(key, "msg/s", "msg")
            + perEmail(counts, key, n), "one engine, InMemoryActivityStore", memory,
            ratio.describe("", Samples::ratio), bar ? "≥ 0.5×" : "report", !bar ? Report.Verdict.REPORT
                : ratio.median() >= 0.5 ? Report.Verdict.PASS : Report.Verdict.MISS));
      }
      ctx.report().note("Default settings: RouterEngine with batchPerSender 6 and maxPerTick 600 (the defaults), "
          + "tick() called back to back in each engine's thread until every email is Sent, each email sent exactly "
          + "once (checked by the engines' reports and by the Message-IDs smtp-sink received, for every engine "
          + "count); router-jdbc's JdbcActivityStore behind HikariCP on H2 2.x (a file database) and on "
          + pg.version() + " started from io.zonky.test's binaries with fsync and synchronous_commit on, a fresh "
          + "database per run; filling the store is not timed. Separate JVMs: each engine in a child JVM "
          + "(-Xmx512m, started fresh each run, so its JIT starts cold) with its own pool of 3 connections, "
          + "timed from the go sent to the ready children until the last reports nothing left to send; their CPU "
          + "is the children's. DB round trips: JDBC execute calls (a batch counts once) + commits + rollbacks, "
          + "counted by a proxy over the DataSource.");
    } finally {
      Lab.deleteTree(sinkDir);
    }
  }

  private enum Store { MEMORY, H2, POSTGRES }

  /** Store calls, then DB statements and commits (-1: no database), over the last run of {@code key}. */
  private static String perEmail(Map<String, long[]> counts, String key, int n) {
    long[] c = counts.get(key);
    if (c == null) {
      return "";
    }
    String text = String.format(java.util.Locale.ROOT, "; %.2f store calls/email", c[0] / (double) n);
    if (c[1] >= 0) {
      text += String.format(java.util.Locale.ROOT, "; %.2f DB round trips/email (%.2f statements, %.2f commits)",
          (c[1] + c[2]) / (double) n, c[1] / (double) n, c[2] / (double) n);
    }
    return text;
  }

  /**
   * Checks what smtp-sink received since the last check: every email exactly once by Message-ID, and
   * nothing else; then empties the dump for the next run.
   */
  private static Stopwatch.Figure received(java.nio.file.Path dump, int n, Stopwatch.Figure figure)
      throws java.io.IOException {
    Map<String, Integer> byMessageId = new java.util.HashMap<>();
    if (java.nio.file.Files.exists(dump)) {
      try (var lines = java.nio.file.Files.lines(dump, java.nio.charset.StandardCharsets.ISO_8859_1)) {
        lines.filter(l -> l.regionMatches(true, 0, "Message-ID:", 0, 11))
            .forEach(l -> byMessageId.merge(l.substring(11).strip(), 1, Integer::sum));
      }
      java.nio.file.Files.write(dump, new byte[0]); // emptied: smtp-sink appends the next run's messages from the start
    }
    long twice = byMessageId.values().stream().filter(c -> c > 1).count();
    int total = byMessageId.values().stream().mapToInt(Integer::intValue).sum();
    if (twice > 0 || byMessageId.size() != n) {
      throw new IllegalStateException("smtp-sink received " + total + " messages with " + byMessageId.size()
          + " distinct Message-IDs (" + twice + " more than once) for " + n + " emails");
    }
    return figure;
  }

  /** A fresh store of {@code kind} filled with {@code n} emails from 100 senders; its pool goes to {@code closing}. */
  private dev.emailrouter.api.ActivityStore fill(int n, Store kind, int poolSize, Postgres pg, java.nio.file.Path dir,
      CountingJdbc jdbc, List<AutoCloseable> closing) throws Exception {
    String body = Messages.text(2048);
    java.util.function.Consumer<OutgoingEmail> add;
    dev.emailrouter.api.ActivityStore backing;
    if (kind == Store.MEMORY) {
      InMemoryActivityStore memory = new InMemoryActivityStore();
      backing = memory;
      add = memory::add;
    } else {
      com.zaxxer.hikari.HikariDataSource ds;
      if (kind == Store.H2) {
        ds = new com.zaxxer.hikari.HikariDataSource();
        ds.setJdbcUrl("jdbc:h2:file:" + dir.resolve("crm"));
        ds.setUsername("sa");
        ds.setMaximumPoolSize(poolSize);
      } else {
        ds = pg.database(poolSize);
      }
      closing.add(ds);
      dev.emailrouter.jdbc.JdbcActivityStore.createSchema(ds);
      dev.emailrouter.jdbc.JdbcActivityStore store = new dev.emailrouter.jdbc.JdbcActivityStore(jdbc.wrap(ds));
      backing = store;
      add = store::addPendingSend;
    }
    for (int i = 0; i < n; i++) {
      add.accept(OutgoingEmail.builder("email-" + i, EmailAddress.of("sender" + (i % 100) + "@crm.test"))
          .to(EmailAddress.of(TO))
          .subject("Your order " + i)
          .textBody(body)
          .build());
    }
    jdbc.reset();
    return backing;
  }

  private Stopwatch.Figure defaults(int n, Store kind, int engines, Postgres pg, int sinkPort,
      Map<String, long[]> counts) throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory(ctx.work(), "h2-");
    List<AutoCloseable> closing = new ArrayList<>();
    try {
      CountingJdbc jdbc = new CountingJdbc();
      CountingStore store = new CountingStore(fill(n, kind, 2 * engines + 1, pg, dir, jdbc, closing));
      java.util.Set<String> sentIds = java.util.concurrent.ConcurrentHashMap.newKeySet();
      java.util.concurrent.atomic.AtomicInteger duplicates = new java.util.concurrent.atomic.AtomicInteger();
      List<RouterEngine> running = new ArrayList<>();
      for (int e = 0; e < engines; e++) {
        RouterEngine engine = RouterEngine.builder()
            .activityStore(store)
            .transport(SmtpTransport.builder()
                .host("127.0.0.1")
                .port(sinkPort)
                .security(Security.PLAIN_TEXT_INSECURE)
                .ehloName("crm.test")
                .build())
            .build();
        running.add(engine);
        closing.add(0, engine); // engines close before their pool
      }
      jdbc.reset();
      ExecutorService pool = Executors.newFixedThreadPool(engines);
      try {
        Stopwatch watch = Stopwatch.start();
        List<Future<?>> futures = new ArrayList<>();
        for (RouterEngine engine : running) {
          futures.add(pool.submit(() -> {
            long lastProgress = System.nanoTime();
            while (sentIds.size() < n) {
              TickReport report = engine.tick();
              for (var sent : report.sent()) {
                if (!sentIds.add(sent.activityId())) {
                  duplicates.incrementAndGet();
                }
              }
              if (!report.failed().isEmpty() || !report.problems().isEmpty()) {
                throw new IllegalStateException("problems: " + report.problems() + " " + report.failed());
              }
              if (!report.sent().isEmpty()) {
                lastProgress = System.nanoTime();
              } else {
                // The other engines hold the due emails (claimed, being sent): wait a little, as a
                // scheduler would, instead of hammering the database with empty claims.
                if (System.nanoTime() - lastProgress > 60_000_000_000L) {
                  throw new IllegalStateException(kind + " with " + engines + " engine(s): nothing sent for 60 s with "
                      + (n - sentIds.size()) + " emails unsent; last tick: " + report.events());
                }
                Thread.sleep(10);
              }
            }
            return null;
          }));
        }
        for (Future<?> f : futures) {
          f.get();
        }
        Stopwatch.Figure figure = watch.rate(n);
        if (duplicates.get() > 0) {
          throw new IllegalStateException(duplicates.get() + " emails were sent twice with " + engines + " engines");
        }
        counts.put(kind == Store.MEMORY ? "memory" : kind == Store.H2 ? "h2" : "postgres-" + engines,
            new long[] {store.calls(), kind == Store.MEMORY ? -1 : jdbc.statements(),
                kind == Store.MEMORY ? -1 : jdbc.commits()});
        return figure;
      } finally {
        pool.shutdownNow();
      }
    } finally {
      for (AutoCloseable c : closing) {
        c.close();
      }
      Lab.deleteTree(dir);
    }
  }

  /** What one {@link EngineNode} reported. */
  private record NodeResult(long doneNanos, long cpuNanos, long calls, long statements, long commits,
      List<String> sent) {}

  /**
   * {@code engines} engines in separate JVMs ({@link EngineNode}) on one PostgreSQL database, timed
   * from the go sent to the ready nodes until the last one finds nothing left to send.
   */
  private Stopwatch.Figure nodes(int n, int engines, Postgres pg, int sinkPort, Map<String, long[]> counts)
      throws Exception {
    List<AutoCloseable> closing = new ArrayList<>();
    List<Process> processes = new ArrayList<>();
    ExecutorService readers = Executors.newFixedThreadPool(engines);
    try {
      fill(n, Store.POSTGRES, 2, pg, null, new CountingJdbc(), closing);
      String url = ((com.zaxxer.hikari.HikariDataSource) closing.get(0)).getJdbcUrl();
      String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<java.io.BufferedReader> outs = new ArrayList<>();
      List<java.nio.file.Path> logs = new ArrayList<>();
      for (int e = 0; e < engines; e++) {
        java.nio.file.Path log = ctx.work().resolve("node-" + e + ".log");
        logs.add(log);
        Process p = new ProcessBuilder(javaBin, "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp",
            System.getProperty("java.class.path"), EngineNode.class.getName(), url, Integer.toString(sinkPort))
            .redirectError(log.toFile())
            .start();
        processes.add(p);
        outs.add(new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
            java.nio.charset.StandardCharsets.UTF_8)));
      }
      for (int e = 0; e < engines; e++) {
        String line = outs.get(e).readLine();
        if (!"ready".equals(line)) {
          throw new IllegalStateException("node " + e + " did not start: " + line + " "
              + java.nio.file.Files.readString(logs.get(e)));
        }
      }
      long t0 = System.nanoTime();
      for (Process p : processes) {
        p.getOutputStream().write("go\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        p.getOutputStream().flush();
      }
      List<Future<NodeResult>> results = new ArrayList<>();
      for (int e = 0; e < engines; e++) {
        java.io.BufferedReader out = outs.get(e);
        java.nio.file.Path log = logs.get(e);
        results.add(readers.submit(() -> {
          long doneNanos = 0;
          Map<String, Long> done = new java.util.HashMap<>();
          List<String> sent = new ArrayList<>();
          for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith("done ")) {
              doneNanos = System.nanoTime();
              for (String kv : line.substring(5).split(" ")) {
                String[] parts = kv.split("=", 2);
                done.put(parts[0], Long.parseLong(parts[1]));
              }
            } else if (line.startsWith("sent ")) {
              sent.add(line.substring(5));
            } else if (line.equals("end")) {
              return new NodeResult(doneNanos, done.get("cpu"), done.get("calls"), done.get("statements"),
                  done.get("commits"), sent);
            }
          }
          throw new IllegalStateException("a node ended early: " + java.nio.file.Files.readString(log));
        }));
      }
      long lastDone = 0;
      long cpu = 0;
      long[] sums = new long[3];
      java.util.Set<String> sentIds = new java.util.HashSet<>();
      int duplicates = 0;
      for (Future<NodeResult> f : results) {
        NodeResult r = f.get(10, java.util.concurrent.TimeUnit.MINUTES);
        lastDone = Math.max(lastDone, r.doneNanos());
        cpu += r.cpuNanos();
        sums[0] += r.calls();
        sums[1] += r.statements();
        sums[2] += r.commits();
        for (String id : r.sent()) {
          if (!sentIds.add(id)) {
            duplicates++;
          }
        }
      }
      if (duplicates > 0 || sentIds.size() != n) {
        throw new IllegalStateException(engines + " nodes sent " + sentIds.size() + " distinct emails of " + n + ", "
            + duplicates + " more than once");
      }
      counts.put("postgres-" + engines + "-jvms", sums);
      return new Stopwatch.Figure(n / ((lastDone - t0) / 1e9), cpu / 1e3 / n);
    } finally {
      readers.shutdownNow();
      for (Process p : processes) {
        if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      for (AutoCloseable c : closing) {
        c.close();
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
    // As a competent user configures it: no write timeout (Angus would start a scheduler thread per
    // connection for it), the envelope sender set once for the session, the localhost name given.
    props.remove("mail.smtp.writetimeout");
    props.put("mail.smtp.localhost", "crm.test");
    props.put("mail.from", "sender0@crm.test");
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
                m.saveChanges(); // sendMessage does not call it; once per message
                transport.sendMessage(m, m.getAllRecipients());
              }
            }
          } else {
            for (int i = from; i < to; i++) {
              Transport.send(compose(session, i, body)); // calls saveChanges() itself, once
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
    return m;
  }
}
