package dev.emailrouter.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The figures the README quotes: each test that proves a contract writes one line per scenario
 * (faults injected, messages handled, lost, duplicated, documented at-least-once repeats, different
 * messages merged into one activity by mistake, recipients of a Sent email that never received it) to {@code
 * target/reliability-figures/CLASS.tsv}, rewritten on every run; {@code summary.md} beside them
 * adds them up per class, rewritten after every line (and printed when the JVM ends).
 */
final class Figures {
  private static final Path DIR = Path.of("target", "reliability-figures");
  private static final String HEADER = "scenario\tfaults\tmessages\tlost\tduplicated\trepeats\tmerged\tundelivered"
      + "\tnote\n";
  private static final int COLUMNS = 8;
  private static final Set<String> started = new HashSet<>();
  /** Worlds closed on this thread since its test started (tests run one at a time per thread). */
  private static final ThreadLocal<List<Snapshot>> closed = ThreadLocal.withInitial(ArrayList::new);
  private static boolean hooked;

  private Figures() {}

  /**
   * What a {@link World} counted: faults and crashes injected, emails and activities, accepted copies
   * beyond one, different messages merged into one activity (as far as the world knows what it
   * delivered), and recipients of Sent emails the server never accepted the email for.
   */
  record Snapshot(long faults, long messages, long repeats, long merged, long undelivered) {}

  static void closed(Snapshot s) {
    closed.get().add(s);
  }

  /**
   * Records each passing test of a class as one scenario, with what its worlds counted. The test
   * asserts that nothing was lost or duplicated beyond the documented repeat, so a pass is what
   * lets the line say 0 and 0.
   */
  static final class Watcher implements TestWatcher, BeforeEachCallback {
    @Override
    public void beforeEach(ExtensionContext context) {
      take(); // worlds an earlier test of another class closed on this thread are not this test's
    }

    @Override
    public void testSuccessful(ExtensionContext context) {
      List<Snapshot> worlds = take();
      String method = context.getRequiredTestMethod().getName();
      String display = context.getDisplayName();
      String scenario = display.startsWith(method) ? method : method + " [" + display + "]";
      long repeats = worlds.stream().mapToLong(Snapshot::repeats).sum();
      record(context.getRequiredTestClass(), scenario, worlds.stream().mapToLong(Snapshot::faults).sum(),
          worlds.stream().mapToLong(Snapshot::messages).sum(), 0, 0, repeats,
          worlds.stream().mapToLong(Snapshot::merged).sum(), worlds.stream().mapToLong(Snapshot::undelivered).sum(),
          "");
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      take();
    }

    @Override
    public void testAborted(ExtensionContext context, Throwable cause) {
      take();
    }

    private static List<Snapshot> take() {
      List<Snapshot> out = List.copyOf(closed.get());
      closed.get().clear();
      return out;
    }
  }

  /** Records one scenario without documented repeats; see the other overload. */
  static void record(Class<?> test, String scenario, long faults, long messages, long lost, long duplicated,
      String note) {
    record(test, scenario, faults, messages, lost, duplicated, 0, note);
  }

  /**
   * Records one scenario.
   *
   * @param test the test class
   * @param scenario what was done
   * @param faults faults and crashes injected
   * @param messages emails and messages handled
   * @param lost emails or messages lost (must be 0)
   * @param duplicated unexpected duplicates (must be 0; the documented at-least-once repeats are not counted)
   * @param repeats the documented at-least-once repeats (accepted by the server, Sent not recorded)
   * @param note anything else worth quoting
   */
  static void record(Class<?> test, String scenario, long faults, long messages, long lost,
      long duplicated, long repeats, String note) {
    record(test, scenario, faults, messages, lost, duplicated, repeats, 0, 0, note);
  }

  /**
   * Records one scenario with every column.
   *
   * @param merged different messages that ended up as one activity (must be 0)
   * @param undelivered recipients of a Sent or partly sent email that never received it once the
   *     test's quiet phase was over (must be 0)
   * @see #record(Class, String, long, long, long, long, long, String)
   */
  static synchronized void record(Class<?> test, String scenario, long faults, long messages, long lost,
      long duplicated, long repeats, long merged, long undelivered, String note) {
    Path file = DIR.resolve(test.getSimpleName() + ".tsv");
    String line = String.join("\t", scenario.replace('\t', ' '), Long.toString(faults), Long.toString(messages),
        Long.toString(lost), Long.toString(duplicated), Long.toString(repeats), Long.toString(merged),
        Long.toString(undelivered), note.replace('\t', ' ')) + "\n";
    try {
      Files.createDirectories(DIR);
      if (started.add(test.getName())) {
        Files.writeString(file, HEADER, StandardCharsets.UTF_8);
      }
      Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      Files.writeString(DIR.resolve("summary.md"), summary(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!hooked) {
      hooked = true;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println(summary()), "figures-summary"));
    }
  }

  /** The table of every class's figures found in the directory (this JVM's and other runs' of the same build). */
  static synchronized String summary() {
    TreeMap<String, long[]> rows = new TreeMap<>();
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".tsv")).toList()) {
        long[] sums = new long[COLUMNS];
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          String[] c = line.split("\t", -1);
          if (line.startsWith("scenario\t") || c.length < 6) {
            continue;
          }
          sums[0]++;
          for (int i = 1; i <= 4; i++) {
            sums[i] += Long.parseLong(c[i]);
          }
          for (int i = 5; i <= 7; i++) {
            // older lines have fewer columns: what they lack counts 0
            sums[i] += c.length > i + 1 && c[i].matches("\\d+") ? Long.parseLong(c[i]) : 0;
          }
        }
        rows.put(f.getFileName().toString().replace(".tsv", ""), sums);
      }
    } catch (IOException e) {
      return "(no figures: " + e + ")";
    }
    StringBuilder sb = new StringBuilder("| Test class | Scenarios | Faults injected | Messages | Lost | Duplicated"
        + " | Documented repeats | Merged by mistake | Recipients never delivered |\n"
        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    long[] total = new long[COLUMNS];
    rows.forEach((name, s) -> {
      sb.append("| ").append(name);
      for (int i = 0; i < COLUMNS; i++) {
        sb.append(" | ").append(s[i]);
        total[i] += s[i];
      }
      sb.append(" |\n");
    });
    sb.append("| **Total**");
    for (long t : total) {
      sb.append(" | **").append(t).append("**");
    }
    return sb.append(" |\n").toString();
  }
}
