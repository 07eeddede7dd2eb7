package dev.emailrouter.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * The figures the README quotes: each test that proves a contract writes one line per scenario
 * (faults injected, messages handled, lost, duplicated) to {@code target/reliability-figures/CLASS.tsv},
 * rewritten on every run.
 */
final class Figures {
  private static final Path DIR = Path.of("target", "reliability-figures");
  private static final Set<String> started = new HashSet<>();

  private Figures() {}

  /**
   * Records one scenario.
   *
   * @param test the test class
   * @param scenario what was done
   * @param faults faults and crashes injected
   * @param messages emails and messages handled
   * @param lost emails or messages lost (must be 0)
   * @param duplicated unexpected duplicates (must be 0; the documented at-least-once repeats are not counted)
   * @param note anything else worth quoting
   */
  static synchronized void record(Class<?> test, String scenario, long faults, long messages, long lost,
      long duplicated, String note) {
    Path file = DIR.resolve(test.getSimpleName() + ".tsv");
    String line = String.join("\t", scenario, Long.toString(faults), Long.toString(messages), Long.toString(lost),
        Long.toString(duplicated), note) + "\n";
    try {
      Files.createDirectories(DIR);
      if (started.add(test.getName())) {
        Files.writeString(file, "scenario\tfaults\tmessages\tlost\tduplicated\tnote\n", StandardCharsets.UTF_8);
      }
      Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
