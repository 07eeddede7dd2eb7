package dev.emailrouter.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The results table: one row per comparison (or per reported figure), plus notes, printed as an
 * aligned text table and written as Markdown. Thread-safe enough for its use (rows are added from
 * the main thread only).
 */
final class Report {

  /** What a row concluded against its bar. */
  enum Verdict {
    PASS, MISS, REPORT, GOAL_MET, GOAL_MISSED, FAILED;

    String label() {
      return switch (this) {
        case PASS -> "PASS";
        case MISS -> "MISS";
        case REPORT -> "(reported)";
        case GOAL_MET -> "goal met";
        case GOAL_MISSED -> "goal missed";
        case FAILED -> "ERROR";
      };
    }
  }

  /**
   * One line of the table.
   *
   * @param scenario what was measured (with N and sizes)
   * @param ours the router's figure, median (min–max)
   * @param baseline the baseline's name
   * @param baselineValue the baseline's figure, median (min–max)
   * @param ratio ours ÷ baseline per run, median (min–max)
   * @param bar the bar, e.g. {@code ≥ 1.0×}
   * @param verdict PASS/MISS or reported only
   */
  record Row(String scenario, String ours, String baseline, String baselineValue, String ratio, String bar,
      Verdict verdict) {}

  private static final String[] HEADINGS = {"Scenario", "Ours", "Baseline", "Baseline figure", "Ratio", "Bar",
      "Result"};

  private final List<Row> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final List<String> raw = new ArrayList<>();

  synchronized void add(Row row) {
    rows.add(row);
    System.out.println("  -> " + row.scenario() + " | " + row.ours() + " | " + row.baseline() + " " + row.baselineValue()
        + " | " + row.ratio() + " | " + row.bar() + " | " + row.verdict().label());
  }

  synchronized void note(String note) {
    notes.add(note);
  }

  /** One round's raw figures, kept for the Markdown file's appendix (warm-ups included, marked). */
  synchronized void raw(String line) {
    raw.add(line);
  }

  synchronized List<Row> rows() {
    return List.copyOf(rows);
  }

  synchronized String text(String header) {
    int[] width = new int[HEADINGS.length];
    for (int i = 0; i < HEADINGS.length; i++) {
      width[i] = HEADINGS[i].length();
    }
    for (Row r : rows) {
      String[] cells = cells(r);
      for (int i = 0; i < cells.length; i++) {
        width[i] = Math.max(width[i], cells[i].length());
      }
    }
    StringBuilder out = new StringBuilder(header).append('\n');
    appendLine(out, HEADINGS, width);
    StringBuilder rule = new StringBuilder();
    for (int w : width) {
      rule.append("-".repeat(w)).append("-+-");
    }
    out.append(rule, 0, rule.length() - 3).append('\n');
    for (Row r : rows) {
      appendLine(out, cells(r), width);
    }
    if (!notes.isEmpty()) {
      out.append('\n');
      for (String n : notes) {
        out.append("* ").append(n).append('\n');
      }
    }
    return out.toString();
  }

  synchronized String markdown(String header) {
    StringBuilder out = new StringBuilder(header).append("\n\n");
    out.append('|');
    for (String h : HEADINGS) {
      out.append(' ').append(h).append(" |");
    }
    out.append("\n|");
    for (int i = 0; i < HEADINGS.length; i++) {
      out.append("---|");
    }
    out.append('\n');
    for (Row r : rows) {
      out.append('|');
      for (String c : cells(r)) {
        out.append(' ').append(c.replace("|", "\\|")).append(" |");
      }
      out.append('\n');
    }
    if (!notes.isEmpty()) {
      out.append('\n');
      for (String n : notes) {
        out.append("- ").append(n).append('\n');
      }
    }
    if (!raw.isEmpty()) {
      out.append("\n## Raw figures, round by round\n\n```\n");
      raw.forEach(l -> out.append(l).append('\n'));
      out.append("```\n");
    }
    return out.toString();
  }

  void writeMarkdown(Path file, String header) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, markdown(header), StandardCharsets.UTF_8);
  }

  private static String[] cells(Row r) {
    return new String[] {r.scenario(), r.ours(), r.baseline(), r.baselineValue(), r.ratio(), r.bar(),
        r.verdict().label()};
  }

  private static void appendLine(StringBuilder out, String[] cells, int[] width) {
    for (int i = 0; i < cells.length; i++) {
      out.append(cells[i]).append(" ".repeat(width[i] - cells[i].length()));
      if (i < cells.length - 1) {
        out.append(" | ");
      }
    }
    out.append('\n');
  }
}
