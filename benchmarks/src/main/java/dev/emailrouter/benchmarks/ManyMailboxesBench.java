package dev.emailrouter.benchmarks;

import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import java.util.ArrayList;
import java.util.List;

/**
 * Bar 7: many mailboxes. One engine over M Dovecot users (each with a few new messages), reading
 * {@code PARALLELISM} mailboxes at once: the time of the first tick (everything new) and of an idle
 * tick, and the connections held (counted by a proxy in a separate pass, so it does not slow the
 * timed ticks).
 */
final class ManyMailboxesBench {
  static final int PARALLELISM = 16;
  static final int PER_MAILBOX = 5;
  private final Context ctx;
  private final int mailboxes;
  /** Over every timed tick: this JVM's CPU seconds, and how busy the whole machine was (percent). */
  private final Samples jvmCpu = new Samples();
  private final Samples machineBusy = new Samples();

  ManyMailboxesBench(Context ctx) {
    this.ctx = ctx;
    this.mailboxes = ctx.n(1_000, 100);
  }

  static List<String> users(int count) {
    List<String> users = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      users.add(String.format("mb%04d", i));
    }
    return users;
  }

  List<String> users() {
    return users(mailboxes);
  }

  void load() throws Exception {
    ctx.lab().loadMany(users(), PER_MAILBOX, (user, i) -> Messages.incoming(user, i, Lab.address(user), 1024));
  }

  private RouterEngine engine(int port) {
    RouterEngine.Builder b = RouterEngine.builder()
        .activityStore(new InMemoryActivityStore())
        .trackingPolicy(Incoming.HEADERS_ONLY)
        .mailboxParallelism(PARALLELISM);
    for (String user : users()) {
      b.mailbox(Mailbox.ofUser("user-" + user, Incoming.imap(port, user)));
    }
    return b.build();
  }

  void run() throws Exception {
    int port = ctx.lab().imapPort();
    System.out.printf("%n== %,d mailboxes × %d new messages, %d at once%n", mailboxes, PER_MAILBOX, PARALLELISM);
    Samples first = new Samples();
    Samples idle = new Samples();
    int runs = ctx.bigRuns();
    for (int run = 0; run < ctx.bigWarmups() + runs; run++) {
      boolean warm = run < ctx.bigWarmups();
      try (RouterEngine engine = engine(port)) {
        System.gc();
        double firstSeconds = tickSeconds(engine, mailboxes * PER_MAILBOX);
        Samples idleRun = new Samples();
        for (int i = 0; i < 3; i++) {
          idleRun.add(tickSeconds(engine, 0));
        }
        System.out.printf("  many mailboxes %s %d: first tick %.2f s, idle tick %.2f s%n", warm ? "warm-up" : "run",
            warm ? run + 1 : run - ctx.bigWarmups() + 1, firstSeconds, idleRun.median());
        if (!warm) {
          first.add(firstSeconds);
          idle.add(idleRun.median());
        }
      }
    }
    // What the engine keeps: the live heap with the engine (after a tick) less the live heap once it
    // is closed and unreachable, both after full collections in the same state of the JVM. (The
    // heap before building it was no baseline: the earlier runs' garbage and caches made the
    // difference negative.)
    long heapPerMailbox = retainedPerMailbox(port);
    ctx.report().add(new Report.Row(String.format("%,d mailboxes: heap per configured mailbox, after a tick", mailboxes),
        String.format(java.util.Locale.ROOT, "%,d bytes", heapPerMailbox), "—", "—", "—", "report",
        Report.Verdict.REPORT));
    int maxOpen;
    int connections;
    try (CountingProxy proxy = new CountingProxy(port); RouterEngine engine = engine(proxy.port())) {
      engine.tick();
      proxy.reset();
      engine.tick();
      maxOpen = proxy.maxOpen();
      connections = proxy.connections();
    }
    String held = "connections: at most " + maxOpen + " open at once, " + connections + " per idle tick";
    ctx.report().note(String.format(java.util.Locale.ROOT, "Many mailboxes: each mailbox costs one IMAP connection "
        + "and login per tick (the reader connects per tick); during the timed ticks this JVM used %s CPU s per tick "
        + "while the machine's CPUs were %s %% busy (Dovecot forks an imap-login and an imap process per "
        + "connection with its default settings). The proxy counts a connection until its close reaches it, so "
        + "'at most' can exceed the %d readers by one.", jvmCpu.describe("", Samples::millis),
        machineBusy.describe("", Samples::millis), PARALLELISM));
    String scenario = String.format("%,d mailboxes, %d read at once", mailboxes, PARALLELISM);
    ctx.report().add(new Report.Row(scenario + ": first tick (" + PER_MAILBOX + " new each)",
        first.describe("s", Samples::millis) + "; " + held, "—", "—", "—", "< 60 s",
        first.median() < 60 ? Report.Verdict.PASS : Report.Verdict.MISS));
    ctx.report().add(new Report.Row(scenario + ": idle tick", idle.describe("s", Samples::millis) + "; " + held, "—",
        "—", "—", "< 60 s", idle.median() < 60 ? Report.Verdict.PASS : Report.Verdict.MISS));
  }

  private long retainedPerMailbox(int port) throws Exception {
    RouterEngine engine = engine(port);
    engine.tick();
    long with = usedHeapAfterGc();
    engine.tick(); // the engine stays reachable until the heap with it was measured
    engine.close();
    engine = null;
    long without = usedHeapAfterGc();
    return (with - without) / mailboxes;
  }

  /** Live heap after a full collection (run twice: the first may leave finalizable garbage). */
  private static long usedHeapAfterGc() {
    System.gc();
    System.gc();
    java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
    return memory.getHeapMemoryUsage().getUsed();
  }

  private double tickSeconds(RouterEngine engine, int expectedRejected) {
    Stopwatch watch = Stopwatch.start();
    TickReport report = engine.tick();
    double seconds = watch.millis().value() / 1e3;
    jvmCpu.add(watch.cpuSeconds());
    machineBusy.add(watch.machineBusy() * 100);
    if (report.rejected().size() != expectedRejected || !report.problems().isEmpty()) {
      throw new IllegalStateException("expected " + expectedRejected + " rejected and no problems: " + report + " "
          + report.problems().stream().limit(3).toList());
    }
    return seconds;
  }
}
