package dev.emailrouter.benchmarks;

import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bar 4: a tick with no new mail on mailboxes of 1,000 / 10,000 / 100,000 messages: its time (the
 * median of many idle ticks per run), and the IMAP commands it sends, counted by a proxy; the same
 * with the reader keeping its connection between ticks ({@code keepConnection}), beside a raw client
 * on a connection kept open.
 */
final class IdleBench {
  private static final int[] SIZES = {1_000, 10_000, 100_000};
  /** The bar of an idle tick with a kept connection, on loopback. */
  private static final double KEPT_BAR_MS = 2.0;
  private static final String KEPT = "ours-kept";
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
    int biggest = SIZES[SIZES.length - 1];
    ImapMailboxReader keptReader = Incoming.imapKeepingConnection(port, user(biggest));
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
      RouterEngine keptEngine = Incoming.engine(new InMemoryActivityStore(), keptReader, Incoming.HEADERS_ONLY,
          100_000);
      engines.put(-1, keptEngine);
      if (keptEngine.tick().rejected().size() != biggest) {
        throw new IllegalStateException("the first tick of the reader keeping its connection should see all "
            + biggest + " messages");
      }
      Rounds rounds = new Rounds("idle tick", "ms").recordingTo(ctx.report());
      for (int size : SIZES) {
        rounds.add(Integer.toString(size), () -> idleMillis(engines.get(size)));
      }
      rounds.add(KEPT, () -> idleMillis(keptEngine));
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
      Samples keptMs = rounds.of(KEPT);
      ctx.report().add(new Report.Row("Idle tick with keepConnection, mailbox of " + String.format("%,d", biggest)
          + " messages", keptMs.describe("ms", Samples::millis),
          "raw client on a connection kept open and selected: NOOP + UID FETCH UIDNEXT:* (UID)",
          rounds.of("kept-connection").describe("ms", Samples::millis),
          rounds.ratio(KEPT, "kept-connection").describe("", Samples::ratio), "≤ " + KEPT_BAR_MS + " ms",
          keptMs.isEmpty() ? Report.Verdict.REPORT
              : keptMs.median() <= KEPT_BAR_MS ? Report.Verdict.PASS : Report.Verdict.MISS));
      ctx.report().add(new Report.Row("Idle tick, keepConnection vs a login every tick, " + String.format("%,d",
          biggest) + " messages", keptMs.describe("ms", Samples::millis), "the same reader logging in every tick",
          rounds.of(Integer.toString(biggest)).describe("ms", Samples::millis),
          rounds.ratio(KEPT, Integer.toString(biggest)).describe("", Samples::ratio), "report",
          Report.Verdict.REPORT));
      ctx.report().note("Idle tick: the median of " + ticks + " ticks per run with nothing new. By default the "
          + "reader connects and logs in on every tick, so the time is mostly Dovecot's login; with "
          + "keepConnection(5 min) it keeps the connection selected between ticks and an idle tick is one NOOP. "
          + "Round trips counted by a proxy on one idle tick after the first sync.");
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
      keptReader.close();
    }
    roundTrips(port, 1_000, false);
    roundTrips(port, 100_000, false);
    roundTrips(port, 100_000, true);
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

  private void roundTrips(int port, int size, boolean keep) throws Exception {
    try (CountingProxy proxy = new CountingProxy(port);
        ImapMailboxReader reader = keep ? Incoming.imapKeepingConnection(proxy.port(), user(size))
            : Incoming.imap(proxy.port(), user(size));
        RouterEngine engine = Incoming.engine(new InMemoryActivityStore(), reader, Incoming.HEADERS_ONLY, 100_000)) {
      engine.tick(); // first sync
      proxy.reset();
      TickReport idle = engine.tick();
      if (!idle.events().isEmpty()) {
        throw new IllegalStateException("an idle tick had events: " + idle);
      }
      List<String> commands = proxy.commands();
      List<String> check = new ArrayList<>();
      for (String c : commands) {
        if (!SESSION.contains(c) && !(keep && c.equals("NOOP"))) {
          check.add(c);
        }
      }
      String scenario = "Idle tick" + (keep ? " with keepConnection" : "") + ", " + String.format("%,d", size)
          + " messages: IMAP round trips (proxy count)";
      int bar = keep ? 1 : 3;
      int roundTrips = commands.size() + proxy.continuations();
      String ours = roundTrips + (roundTrips == 1 ? " round trip: " : " round trips: ") + commands.size()
          + (commands.size() == 1 ? " command (" : " commands (") + String.join(", ", commands) + ")"
          + (proxy.continuations() == 0 ? "" : " + " + proxy.continuations() + " continuation(s)") + " on "
          + proxy.connections() + (keep ? " new connection(s), on the kept one" : " connection (plus the TCP connect and greeting)")
          + "; looking for new mail beyond " + (keep ? "NOOP" : "SELECT's UIDNEXT") + ": "
          + (check.isEmpty() ? "nothing" : String.join(", ", check));
      ctx.report().add(new Report.Row(scenario, ours, "—", "—", "—", "≤ " + bar + " round trip" + (bar > 1 ? "s" : ""),
          roundTrips <= bar ? Report.Verdict.PASS : Report.Verdict.MISS));
      System.out.println("  idle tick" + (keep ? " (keepConnection)" : "") + " on " + size + ": " + commands
          + ", continuations " + proxy.continuations() + ", new connections " + proxy.connections());
    }
  }
}
