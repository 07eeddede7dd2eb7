package dev.emailrouter.benchmarks;

import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Bar 7: many mailboxes. One engine over M Dovecot users (each with a few new messages), reading
 * {@code PARALLELISM} mailboxes at once: the time of the first tick (everything new) and of an idle
 * tick, the connections held (counted by a proxy in a separate pass, so it does not slow the
 * timed ticks), and the heap a configured mailbox costs.
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

  /** An engine over the first {@code count} users. */
  private RouterEngine engine(int port, int count) {
    RouterEngine.Builder b = RouterEngine.builder()
        .activityStore(new InMemoryActivityStore())
        .trackingPolicy(Incoming.HEADERS_ONLY)
        .mailboxParallelism(PARALLELISM);
    for (String user : users(count)) {
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
      try (RouterEngine engine = engine(port, mailboxes)) {
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
    Samples heapPerMailbox = heapPerMailbox(port);
    ctx.report().add(new Report.Row(String.format("%,d mailboxes: heap per configured mailbox, after a tick", mailboxes),
        heapPerMailbox.describe("bytes", ManyMailboxesBench::bytes), "—", "—", "—", "report", Report.Verdict.REPORT));
    int maxOpen;
    int connections;
    try (CountingProxy proxy = new CountingProxy(port); RouterEngine engine = engine(proxy.port(), mailboxes)) {
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

  /**
   * The heap one configured mailbox costs while the engine runs: the live heap with an engine of
   * {@code mailboxes} mailboxes less that with an engine of {@link #PARALLELISM} (so both hold the
   * same worker threads), each built the same way, ticked once and measured while it is reachable,
   * over the mailboxes between them; one sample per round, the two engines' order alternating.
   * (Measuring one engine against the heap once it was closed read negative: a second tick before
   * the close left garbage that the collections after it did not always free, see {@link #liveHeap}.)
   */
  private Samples heapPerMailbox(int port) {
    Samples perMailbox = new Samples();
    List<String> rounds = new ArrayList<>();
    for (int round = 0; round < ctx.bigRuns(); round++) {
      long many;
      long few;
      if (round % 2 == 0) {
        many = liveHeapWith(port, mailboxes);
        few = liveHeapWith(port, PARALLELISM);
      } else {
        few = liveHeapWith(port, PARALLELISM);
        many = liveHeapWith(port, mailboxes);
      }
      double bytes = (double) (many - few) / (mailboxes - PARALLELISM);
      perMailbox.add(bytes);
      String line = String.format(Locale.ROOT, "%,d and %d mailboxes: %,d and %,d bytes live, %s bytes per mailbox",
          mailboxes, PARALLELISM, many, few, bytes(bytes));
      rounds.add(line);
      System.out.printf("  heap per mailbox run %d: %s%n", round + 1, line);
    }
    ctx.report().note(String.format(Locale.ROOT, "Heap per configured mailbox: (live heap with an engine of %,d "
        + "mailboxes − with one of %d, the same worker threads) ÷ %,d, each engine fresh, ticked once (%d new "
        + "messages per mailbox, all rejected) and measured while it runs; live heap = the heap pools' usage after "
        + "a full collection (MemoryPoolMXBean collection usage), collecting and running finalizers until it stops "
        + "falling. Per run: %s.", mailboxes, PARALLELISM, mailboxes - PARALLELISM, PER_MAILBOX,
        String.join("; ", rounds)));
    return perMailbox;
  }

  /** The live heap with a fresh engine of {@code count} mailboxes after one tick. */
  private long liveHeapWith(int port, int count) {
    try (RouterEngine engine = engine(port, count)) {
      expect(engine.tick(), count * PER_MAILBOX);
      return liveHeap(); // the engine is closed only after this, so it is still reachable
    }
  }

  /**
   * The live heap: the heap pools' usage right after a full collection (their collection usage; the
   * heap's usage now would also count what other threads allocated since), collected again until it
   * has not fallen by 64 KB or more in two collections in a row. A tick leaves each of its IMAP
   * connections' garbage (about 17 KB, its buffers and socket) behind Angus Mail's store, folder and
   * protocol, which have finalizers: a collection only queues them, the finalizer thread runs them,
   * and only a later collection frees that memory. Two collections in a row counted the 17 MB of a
   * thousand connections or not, as that thread happened to keep up; runFinalization runs what is
   * queued, but the queue may still be filling (once, the 16 connections of the small engine's tick
   * stayed for one more collection), hence the second steady one.
   */
  private static long liveHeap() {
    long live = Long.MAX_VALUE;
    int steady = 0;
    for (int i = 0; i < 20 && steady < 2; i++) {
      System.gc();
      System.runFinalization();
      long previous = live;
      live = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP) {
          live += pool.getCollectionUsage().getUsed();
        }
      }
      steady = previous - live < 64 * 1024 ? steady + 1 : 0;
    }
    return live;
  }

  private static String bytes(double v) {
    return String.format(Locale.ROOT, "%,.0f", v);
  }

  private double tickSeconds(RouterEngine engine, int expectedRejected) {
    Stopwatch watch = Stopwatch.start();
    TickReport report = engine.tick();
    double seconds = watch.millis().value() / 1e3;
    jvmCpu.add(watch.cpuSeconds());
    machineBusy.add(watch.machineBusy() * 100);
    expect(report, expectedRejected);
    return seconds;
  }

  private static void expect(TickReport report, int expectedRejected) {
    if (report.rejected().size() != expectedRejected || !report.problems().isEmpty()) {
      throw new IllegalStateException("expected " + expectedRejected + " rejected and no problems: " + report + " "
          + report.problems().stream().limit(3).toList());
    }
  }
}
