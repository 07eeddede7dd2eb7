package dev.emailrouter.benchmarks;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.jdbc.JdbcActivityStore;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Incoming into a database: N × 2 KB messages, all tracked in one tick, into router-jdbc's {@code
 * JdbcActivityStore} on PostgreSQL (a fresh database each run) beside the in-memory store in the same
 * rounds, with the store calls and the database round trips ({@link CountingJdbc}) per message.
 */
final class TrackedJdbcBench {
  static final String USER = "trackeddb";
  private static final int SIZE = 2048;
  private final Context ctx;
  private final int n;
  private final Map<String, long[]> counts = new HashMap<>();

  TrackedJdbcBench(Context ctx) {
    this.ctx = ctx;
    this.n = ctx.n(10_000, 1_000);
  }

  void load() throws Exception {
    ctx.lab().load(USER, n, i -> Messages.incoming(USER, i, Lab.address(USER), SIZE));
  }

  void run() throws Exception {
    String name = "Incoming tracked into a database";
    System.out.printf("%n== %s: %,d × 2 KB%n", name, n);
    try (Postgres pg = Postgres.start()) {
      Rounds rounds = new Rounds(name, "msg/s").recordingTo(ctx.report())
          .add("memory", () -> ingest(null))
          .add("postgres", () -> ingest(pg))
          .run(ctx.bigWarmups(), ctx.bigRuns());
      String scenario = "Incoming tracked, N=" + String.format("%,d", n) + " × 2 KB, one tick";
      Samples ratio = rounds.ratio("postgres", "memory");
      ctx.report().add(new Report.Row(scenario + ": JdbcActivityStore on PostgreSQL",
          rounds.describe("postgres", "msg/s", "msg") + perMessage("postgres"), "InMemoryActivityStore",
          rounds.describe("memory", "msg/s", "msg") + perMessage("memory"), ratio.describe("", Samples::ratio),
          "report", Report.Verdict.REPORT));
      ctx.report().note("Incoming into a database: one RouterEngine.tick() with maxMessagesPerMailbox = N reading one "
          + "Dovecot mailbox of N × 2 KB messages, every one tracked (TrackingPolicy.allEmail()), into router-jdbc's "
          + "JdbcActivityStore behind HikariCP on " + pg.version() + " (fsync and synchronous_commit on, a fresh "
          + "database per run) or into InMemoryActivityStore; CPU is this JVM's, not PostgreSQL's. Round trips: "
          + "JDBC execute calls (a batch counts once) + commits + rollbacks, counted by a proxy over the DataSource.");
    }
  }

  private String perMessage(String key) {
    long[] c = counts.get(key);
    if (c == null) {
      return "";
    }
    String text = String.format(Locale.ROOT, "; %.2f store calls/msg", c[0] / (double) n);
    if (c[1] >= 0) {
      text += String.format(Locale.ROOT, "; %.2f DB round trips/msg (%.2f statements, %.2f commits)",
          (c[1] + c[2]) / (double) n, c[1] / (double) n, c[2] / (double) n);
    }
    return text;
  }

  private Stopwatch.Figure ingest(Postgres pg) throws Exception {
    ActivityStore backing;
    CountingJdbc jdbc = null;
    if (pg == null) {
      backing = new InMemoryActivityStore();
    } else {
      DataSource ds = pg.database(4);
      JdbcActivityStore.createSchema(ds);
      jdbc = new CountingJdbc();
      backing = new JdbcActivityStore(jdbc.wrap(ds));
    }
    CountingStore store = new CountingStore(backing);
    try (RouterEngine engine = Incoming.engine(store, Incoming.imap(ctx.lab().imapPort(), USER),
        TrackingPolicy.allEmail(), n)) {
      if (jdbc != null) {
        jdbc.reset(); // the schema check when the engine was built is not the ingest's
      }
      long calls0 = store.calls();
      Stopwatch watch = Stopwatch.start();
      TickReport report = engine.tick();
      Stopwatch.Figure rate = watch.rate(n);
      if (report.tracked().size() != n) {
        throw new IllegalStateException("expected " + n + " tracked, got " + report + " " + report.problems());
      }
      counts.put(pg == null ? "memory" : "postgres", new long[] {store.calls() - calls0,
          jdbc == null ? -1 : jdbc.statements(), jdbc == null ? -1 : jdbc.commits()});
      return rate;
    }
  }
}
