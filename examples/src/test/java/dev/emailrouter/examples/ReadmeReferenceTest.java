package dev.emailrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Keeps the README's reference in step with the code: a new event, report accessor or builder
 * setting that the README does not name fails the build, so the reference can't silently fall
 * behind as it did before (issue 19, item 5).
 */
final class ReadmeReferenceTest {

  private static final Path README = Path.of("..", "README.md");

  @Test
  void eventReference_namesEveryPermittedSubtypeOfRouterEvent() throws IOException {
    List<String> firstCells = firstCellsOfTables(section("### `RouterEvent`"));

    Set<String> missing = new TreeSet<>();
    for (Class<?> type : RouterEvent.class.getPermittedSubclasses()) {
      if (!firstCells.contains("`" + type.getSimpleName() + "`")) {
        missing.add(type.getSimpleName());
      }
    }

    assertThat(missing).as("RouterEvent types missing from the README's event reference").isEmpty();
  }

  @Test
  void tickReportReference_namesEveryPublicAccessor() throws IOException {
    List<String> firstCells = firstCellsOfTables(section("### `TickReport`"));

    Set<String> missing = new TreeSet<>();
    for (Method m : TickReport.class.getDeclaredMethods()) {
      if (isPublicApi(m) && m.getParameterCount() == 0 && !isObjectMethod(m)
          && !firstCells.contains("`" + m.getName() + "()`")) {
        missing.add(m.getName());
      }
    }

    assertThat(missing).as("TickReport accessors missing from the README's report reference").isEmpty();
  }

  @Test
  void settingsTable_namesEveryPublicSetterOfTheEngineBuilder() throws IOException {
    List<String> firstCells = firstCellsOfTables(section("### `RouterEngine.builder()`"));

    Set<String> missing = new TreeSet<>();
    for (Method m : RouterEngine.Builder.class.getDeclaredMethods()) {
      if (isPublicApi(m) && m.getReturnType() == RouterEngine.Builder.class
          && firstCells.stream().noneMatch(cell -> namesSetting(cell, m.getName()))) {
        missing.add(m.getName());
      }
    }

    assertThat(missing).as("RouterEngine.Builder settings missing from the README's settings table").isEmpty();
  }

  @Test
  void quickStart_isTheCodeEmbeddingExampleCompiles() throws IOException {
    String readme = section("## Quick start in code");
    String example = Files.readString(
        Path.of("src", "main", "java", "dev", "emailrouter", "examples", "EmbeddingExample.java"), StandardCharsets.UTF_8);

    assertThat(builderChain(readme)).isNotEmpty().isEqualTo(builderChain(example));
  }

  @Test
  void firstCellsOfTables_readsOnlyTheFirstColumnOfTableRows() {
    List<String> cells = firstCellsOfTables("text `EmailSent`\n| setting | default |\n|---|---|\n"
        + "| `lease` | `tickBudget` |\n");

    assertThat(cells).containsExactly("setting", "`lease`");
  }

  /** The engine builder's code from the transport to the tracking policy, without comments and indentation. */
  private static List<String> builderChain(String source) {
    List<String> code = new ArrayList<>();
    boolean in = false;
    for (String line : source.split("\n")) {
      String stripped = line.replaceFirst("\\s*//.*$", "").strip();
      in |= stripped.startsWith(".transport(");
      if (in && !stripped.isEmpty()) {
        code.add(stripped);
      }
      if (stripped.startsWith(".trackingPolicy(")) {
        break;
      }
    }
    return code;
  }

  /** A cell names a setting as {@code `name`} or {@code `name(Type)`}, alone or beside others. */
  private static boolean namesSetting(String cell, String name) {
    return cell.contains("`" + name + "`") || cell.contains("`" + name + "(");
  }

  private static boolean isPublicApi(Method m) {
    return Modifier.isPublic(m.getModifiers()) && !Modifier.isStatic(m.getModifiers()) && !m.isSynthetic();
  }

  private static boolean isObjectMethod(Method m) {
    return Arrays.stream(Object.class.getMethods())
        .anyMatch(o -> o.getName().equals(m.getName()) && o.getParameterCount() == m.getParameterCount());
  }

  /** The README's text from a heading to the next heading of the same or a higher level. */
  private static String section(String heading) throws IOException {
    List<String> lines = Files.readAllLines(README, StandardCharsets.UTF_8);
    int start = lines.indexOf(heading);
    assertThat(start).as("README heading %s", heading).isGreaterThanOrEqualTo(0);
    int level = heading.indexOf(' ');
    int end = start + 1;
    while (end < lines.size() && (headingLevel(lines.get(end)) == 0 || headingLevel(lines.get(end)) > level)) {
      end++;
    }
    return String.join("\n", lines.subList(start, end));
  }

  /** The level of a Markdown heading line, or 0 for any other line. */
  private static int headingLevel(String line) {
    int hashes = 0;
    while (hashes < line.length() && line.charAt(hashes) == '#') {
      hashes++;
    }
    return hashes > 0 && hashes < line.length() && line.charAt(hashes) == ' ' ? hashes : 0;
  }

  private static List<String> firstCellsOfTables(String markdown) {
    List<String> cells = new ArrayList<>();
    for (String line : markdown.split("\n")) {
      if (line.startsWith("|") && !line.startsWith("|---")) {
        int next = line.indexOf('|', 1);
        cells.add(line.substring(1, next < 0 ? line.length() : next).strip());
      }
    }
    return cells;
  }
}
