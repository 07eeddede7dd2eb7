package dev.emailrouter.benchmarks;

import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bar 4: a tick with no new mail on mailboxes of 1,000 / 10,000 / 100,000 messages: its time (the
 * median of many idle ticks per run), and the IMAP commands it sends, counted by a proxy.
 */
final class IdleBench {
  private static final int[] SIZES = {1_000, 10_000, 100_000};
  /** Commands that open, check or close the session rather than look for mail. */
  private static final Set<String> SESSION = Set.of("CAPABILITY", "LOGIN", "AUTHENTICATE", "STARTTLS", "ID",
      "ENABLE", "SELECT", "EXAMINE", "UNSELECT", "CLOSE", "LOGOUT");

  private final Context ctx;
  private final int ticks;

  IdleBench(Context ctx) {
    this.ctx = ctx;
    this.ticks = ctx.quick() ? 10 : 30;
  }

  static String user(int size) {
    return "idle" + (size / 1000) + "k";
  }

  void load() throws Exception {
    for (int size : SIZES) {
      String user = user(size);
      ctx.lab().load(user, size, i -> Messages.incoming(user, i, Lab.address(user), 600));
    }
  }

  void run() throws Exception {
    int port = ctx.lab().imapPort();
    System.out.printf("%n== Idle tick on 1,000 / 10,000 / 100,000 messages (%d ticks per run)%n", ticks);
    Map<Integer, RouterEngine> engines = new LinkedHashMap<>();
    try {
      for (int size : SIZES) {
        RouterEngine engine = Incoming.engine(new InMemoryActivityStore(), Incoming.imap(port, user(size)),
            Incoming.HEADERS_ONLY, 100_000);
        engines.put(size, engine);
        long t0 = System.nanoTime();
        TickReport first = engine.tick();
        if (first.rejected().size() != size) {
          throw new IllegalStateException("the first tick on " + size + " messages should see them all: " + first);
        }
        System.out.printf("  first sync of %,d messages: %.0f ms%n", size, (System.nanoTime() - t0) / 1e6);
      }
      Rounds rounds = new Rounds("idle tick", "ms").recordingTo(ctx.report());
      for (int size : SIZES) {
        rounds.add(Integer.toString(size), () -> idleMillis(engines.get(size)));
      }
      int biggest = SIZES[SIZES.length - 1];
      try (RawImap kept = new RawImap(port)) {
        kept.command("LOGIN \"" + Lab.address(user(biggest)) + "\" \"" + Lab.PASSWORD + "\"");
        kept.command("SELECT INBOX");
        rounds.add("kept-connection", () -> keptMillis(kept, biggest + 1));
        rounds.run(ctx.warmups(), ctx.runs());
        kept.command("LOGOUT");
      }
      ctx.report().add(new Report.Row("Idle tick, mailbox of " + String.format("%,d", biggest) + " messages",
          rounds.of(Integer.toString(biggest)).describe("ms", Samples::millis),
          "raw client on a connection kept open and selected: NOOP + UID FETCH UIDNEXT:* (UID)",
          rounds.of("kept-connection").describe("ms", Samples::millis),
          rounds.ratio(Integer.toString(biggest), "kept-connection").describe("", Samples::ratio), "report",
          Report.Verdict.REPORT));
      ctx.report().note("Idle tick: the median of " + ticks + " ticks per run with nothing new; the reader "
          + "connects and logs in on every tick (the engine holds no connection between ticks), so the time is "
          + "mostly Dovecot's login. Round trips counted by a proxy on one idle tick after the first sync.");
      for (int size : SIZES) {
        String scenario = "Idle tick, mailbox of " + String.format("%,d", size) + " messages";
        if (size == SIZES[0]) {
          ctx.report().add(new Report.Row(scenario, rounds.of("1000").describe("ms", Samples::millis), "—", "—", "—",
              "report", Report.Verdict.REPORT));
        } else {
          Samples ratio = rounds.ratio(Integer.toString(size), "1000");
          boolean bar = size == 100_000;
          ctx.report().add(new Report.Row(scenario, rounds.of(Integer.toString(size)).describe("ms", Samples::millis),
              "idle tick on 1,000 messages", rounds.of("1000").describe("ms", Samples::millis),
              ratio.describe("", Samples::ratio), bar ? "≤ 1.5×" : "report",
              !bar ? Report.Verdict.REPORT : ratio.median() <= 1.5 ? Report.Verdict.PASS : Report.Verdict.MISS));
        }
      }
    } finally {
      engines.values().forEach(RouterEngine::close);
    }
    roundTrips(port, 1_000);
    roundTrips(port, 100_000);
  }

  /** What a client that keeps its connection pays to learn that nothing is new: two round trips. */
  private Stopwatch.Figure keptMillis(RawImap imap, int uidNext) throws Exception {
    Samples s = new Samples();
    for (int i = 0; i < ticks; i++) {
      long t0 = System.nanoTime();
      imap.command("NOOP");
      imap.command("UID FETCH " + uidNext + ":* (UID)");
      s.add((System.nanoTime() - t0) / 1e6);
    }
    return new Stopwatch.Figure(s.median(), Double.NaN);
  }

  private Stopwatch.Figure idleMillis(RouterEngine engine) {
    Samples s = new Samples();
    for (int i = 0; i < ticks; i++) {
      long t0 = System.nanoTime();
      TickReport report = engine.tick();
      s.add((System.nanoTime() - t0) / 1e6);
      if (!report.events().isEmpty()) {
        throw new IllegalStateException("an idle tick had events: " + report + " " + report.problems());
      }
    }
    return new Stopwatch.Figure(s.median(), Double.NaN);
  }

  private void roundTrips(int port, int size) throws Exception {
    try (CountingProxy proxy = new CountingProxy(port);
        RouterEngine engine = Incoming.engine(new InMemoryActivityStore(),
            Incoming.imap(proxy.port(), user(size)), Incoming.HEADERS_ONLY, 100_000)) {
      engine.tick(); // first sync
      proxy.reset();
      TickReport idle = engine.tick();
      if (!idle.events().isEmpty()) {
        throw new IllegalStateException("an idle tick had events: " + idle);
      }
      List<String> commands = proxy.commands();
      List<String> check = new ArrayList<>();
      for (String c : commands) {
        if (!SESSION.contains(c)) {
          check.add(c);
        }
      }
      String scenario = "Idle tick, " + String.format("%,d", size) + " messages: IMAP round trips (proxy count)";
      int roundTrips = commands.size() + proxy.continuations();
      String ours = roundTrips + " round trips: " + commands.size() + " commands (" + String.join(", ", commands) + ")"
          + (proxy.continuations() == 0 ? "" : " + " + proxy.continuations() + " continuation(s)") + " on "
          + proxy.connections() + " connection (plus the TCP connect and greeting); looking for new mail beyond "
          + "SELECT's UIDNEXT: " + (check.isEmpty() ? "nothing" : String.join(", ", check));
      ctx.report().add(new Report.Row(scenario, ours, "—", "—", "—", "≤ 3 round trips",
          roundTrips <= 3 ? Report.Verdict.PASS : Report.Verdict.MISS));
      System.out.println("  idle tick on " + size + ": " + commands + ", continuations " + proxy.continuations());
    }
  }
}
