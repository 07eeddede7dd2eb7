package dev.emailrouter.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Runs the router's benchmarks against baselines measured in the same run, on a private Postfix
 * (smtp-sink, smtp-source) and Dovecot on 127.0.0.1, and prints the results table (also written as
 * Markdown to {@code benchmarks/target/results.md}).
 *
 * <pre>
 * mvn -B -q -Pbenchmarks -pl benchmarks -am -DskipTests package exec:exec [-Dbench=outgoing,idle] [-Dbench.quick=true]
 * </pre>
 *
 * <p>System properties: {@code bench} (comma-separated scenarios: outgoing, jdbc, jdbc-incoming, shapes, latency,
 * header, tracked, idle, pop3, memory, many, idle-latency; default all), {@code bench.pollSeconds} (idle-latency's
 * poll; default 30), {@code bench.quick} (small N for quick checks), {@code
 * bench.runs} (measured runs; default 5, or 3 in quick mode; the big scenarios use at most 3),
 * {@code bench.dir} (the servers' state folder, wiped first), {@code bench.scripts} (the checkout's
 * {@code scripts} folder), {@code bench.results} (the Markdown file). Needs root (the servers start
 * as root and drop privileges) and Debian's postfix and dovecot packages. Not thread-safe; a
 * program, not a library type.
 */
public final class Benchmarks {
  static final List<String> ALL = List.of("outgoing", "jdbc", "jdbc-incoming", "shapes", "latency", "header", "tracked",
      "idle", "pop3", "memory", "many", "idle-latency");

  private Benchmarks() {}

  /**
   * Runs the selected scenarios and prints the table.
   *
   * @param args ignored; settings come from system properties
   * @throws Exception when the servers can't be started
   */
  public static void main(String[] args) throws Exception {
    Set<String> selected = new LinkedHashSet<>();
    String bench = System.getProperty("bench", "all").strip();
    for (String s : bench.split(",")) {
      String name = s.strip().toLowerCase(Locale.ROOT);
      if (name.equals("all") || name.isEmpty()) {
        selected.addAll(ALL);
      } else if (ALL.contains(name)) {
        selected.add(name);
      } else {
        throw new IllegalArgumentException("bench must list some of " + ALL + " (or all), was " + bench);
      }
    }
    boolean quick = Boolean.parseBoolean(System.getProperty("bench.quick", "false"));
    int runs = Integer.getInteger("bench.runs", 0);
    if (runs <= 0) {
      runs = quick ? 3 : 5;
    }
    // Four warm-up runs of every contender before the measured ones: the JIT compiles the router's
    // code (far more of it than a raw client's) over several runs, and its compiler threads' CPU
    // counts against the router's figures meanwhile. Run alone, the header stage's CPU per message
    // fell over eight runs (139, 62, 56, 51, 48, 28, 26, 22 µs); the raw clients are flat from the first.
    int warmups = Integer.getInteger("bench.warmups", 0);
    if (warmups <= 0) {
      warmups = quick ? 1 : 4;
    }
    Path dir = Path.of(System.getProperty("bench.dir", "/tmp/email-router-benchmarks"));
    Path scripts = Path.of(System.getProperty("bench.scripts", "../scripts"));
    Path results = Path.of(System.getProperty("bench.results", "target/results.md"));
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new IllegalStateException("the benchmarks start private Postfix and Dovecot instances and must run as "
          + "root (they drop privileges themselves)");
    }

    String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    String loadBefore = loadAverage();
    System.out.printf("Email Router benchmarks: %s, %s, %d measured runs (after %d warm-up runs)%n", selected,
        quick ? "QUICK mode (small N)" : "full N", runs, warmups);

    Report report = new Report();
    Path work = Files.createTempDirectory("email-router-bench-");
    List<String> users = new ArrayList<>(List.of(HeaderBench.USER, TrackedBench.USER, Pop3Bench.USER,
        MemoryBench.USER, IdleBench.user(1_000), IdleBench.user(10_000), IdleBench.user(100_000)));
    Context probe = new Context(null, null, report, quick, runs, warmups, work);
    ManyMailboxesBench manyProbe = new ManyMailboxesBench(probe);
    if (selected.contains("many")) {
      users.addAll(manyProbe.users());
    }
    if (selected.contains("idle-latency")) {
      users.addAll(IdleLatencyBench.users());
    }
    if (selected.contains("jdbc-incoming")) {
      users.add(TrackedJdbcBench.USER);
    }
    boolean failed = false;
    try (Lab lab = Lab.start(dir, scripts, users);
        SmtpSink sink = SmtpSink.start(dir.resolve("log").resolve("smtp-sink.log"))) {
      Context ctx = new Context(lab, sink, report, quick, runs, warmups, work);
      long startedNanos = System.nanoTime();
      int k = 0;
      for (String name : selected) {
        k++;
        System.out.printf("%n### scenario %d of %d: %s%s%n", k, selected.size(), name,
            timeLeft(startedNanos, k - 1, selected.size()));
        try {
          runScenario(name, ctx);
        } catch (Exception | Error e) {
          failed = true;
          e.printStackTrace();
          System.err.println(lab.logTail());
          report.add(new Report.Row(name, "failed: " + e, "—", "—", "—", "—", Report.Verdict.FAILED));
        }
        // Written as it goes, so an interrupted run keeps what it measured.
        report.writeMarkdown(results, header(started, loadBefore, loadAverage(), quick, runs, warmups)
            .replace("\n", "  \n") + "  \n(partial: " + k + " of " + selected.size() + " scenarios done)");
      }
    } finally {
      Lab.deleteTree(work);
    }

    report.note("GreenMail: not used. Every scenario ran against real servers on 127.0.0.1: Postfix's smtp-sink and "
        + "smtp-source, Postfix smtpd (STARTTLS front), Dovecot (IMAP, POP3).");
    report.note("Baselines use plain Jakarta Mail (Angus) with the same session properties as the router (timeouts, "
        + "TCP_NODELAY socket factories, TLS trust); without TCP_NODELAY, Jakarta Mail stalls on 50 KB messages "
        + "(Nagle's algorithm against delayed ACKs: about 21 msg/s per-message on these machines).");
    long heap = Runtime.getRuntime().maxMemory();
    report.note("Heap: every contender runs in this one JVM, " + (heap >> 20) + " MB, fixed (-Xms = -Xmx, "
        + "-Dbench.heap to change it); System.gc() runs between rounds, so one contender's garbage is not collected "
        + "in another's time. With a growable heap that collection shrank the heap and the next round faulted its "
        + "memory in again: at four send sessions about one page fault per message sent (57,000 in five rounds of "
        + "the router, 2,700 for the raw client), a cost of the harness, not of a long-running host. Runs published "
        + "before 2026-12-07 15:30 had it.");
    report.note("Each figure: median of the measured runs (min–max). Ratios are ours ÷ baseline within each run "
        + "(contenders alternate order run by run), then the median (min–max) of those.");
    String header = header(started, loadBefore, loadAverage(), quick, runs, warmups);
    System.out.println();
    System.out.println(report.text(header));
    report.writeMarkdown(results, header.replace("\n", "  \n"));
    System.out.println("Markdown: " + results.toAbsolutePath());
    if (failed) {
      System.exit(1);
    }
  }

  private static void runScenario(String name, Context ctx) throws Exception {
    switch (name) {
      case "outgoing" -> new OutgoingBench(ctx).run();
      case "jdbc" -> new OutgoingBench(ctx).runDefaults();
      case "jdbc-incoming" -> {
        TrackedJdbcBench b = new TrackedJdbcBench(ctx);
        b.load();
        b.run();
      }
      case "shapes" -> new OutgoingShapesBench(ctx).run();
      case "latency" -> new LatencyBench(ctx).run();
      case "header" -> {
        HeaderBench b = new HeaderBench(ctx);
        b.load();
        b.run();
      }
      case "tracked" -> {
        TrackedBench b = new TrackedBench(ctx);
        b.load();
        b.run();
      }
      case "idle" -> {
        IdleBench b = new IdleBench(ctx);
        b.load();
        b.run();
      }
      case "pop3" -> {
        Pop3Bench b = new Pop3Bench(ctx);
        b.load();
        b.run();
      }
      case "memory" -> {
        MemoryBench b = new MemoryBench(ctx);
        b.load();
        b.run();
      }
      case "many" -> {
        ManyMailboxesBench b = new ManyMailboxesBench(ctx);
        b.load();
        b.run();
      }
      case "idle-latency" -> new IdleLatencyBench(ctx).run();
      default -> throw new IllegalArgumentException("unknown scenario " + name);
    }
  }

  /** A rough estimate from the scenarios done so far (they differ in length; a hint, not a promise). */
  private static String timeLeft(long startedNanos, int done, int total) {
    if (done == 0) {
      return "";
    }
    double perScenario = (System.nanoTime() - startedNanos) / 1e9 / done;
    return String.format(Locale.ROOT, " (about %.0f min left, from %.1f min per scenario so far)",
        perScenario * (total - done) / 60, perScenario / 60);
  }

  private static String header(String started, String loadBefore, String loadAfter, boolean quick, int runs,
      int warmups) {
    String only = System.getProperty("bench.only", "").strip();
    return "Email Router benchmarks, " + started + (quick ? " (QUICK mode: small N, not for the README)" : "")
        + (only.isEmpty() ? "" : " (PROFILING: only " + only + " ran)") + "\n"
        + "Machine: " + Runtime.getRuntime().availableProcessors() + " CPUs (" + cpuModel() + "), "
        + memory() + ", " + System.getProperty("os.name") + " " + System.getProperty("os.version") + "\n"
        + "Java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + "; "
        + "servers: Dovecot " + version(List.of("dovecot", "--version")) + ", Postfix "
        + version(List.of("postconf", "-d", "-h", "mail_version")) + ", all on 127.0.0.1\n"
        + "Code: git " + version(List.of("git", "describe", "--always", "--dirty", "--abbrev=12")) + "; JVM flags: "
        + String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) + "\n"
        + "Load average (1/5/15 min) before: " + loadBefore + ", after: " + loadAfter + "; measured runs: " + runs
        + " (3 for the big scenarios), after " + warmups + " warm-up runs of every contender (1 for the big scenarios)";
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException e) {
      // unknown
    }
    return "unknown CPU";
  }

  private static String memory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"), StandardCharsets.UTF_8)) {
        if (line.startsWith("MemTotal:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return String.format(Locale.ROOT, "%.0f GB RAM", kb / 1024.0 / 1024.0);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // unknown
    }
    return "unknown RAM";
  }

  private static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg"), StandardCharsets.UTF_8).split(" ");
      return parts[0] + " / " + parts[1] + " / " + parts[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static String version(List<String> command) {
    try {
      String out = Processes.run(command, java.util.Map.of(), 30).strip();
      int space = out.indexOf(' ');
      return space > 0 ? out.substring(0, space) : out;
    } catch (RuntimeException e) {
      return "unknown";
    }
  }
}
