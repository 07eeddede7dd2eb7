package dev.emailrouter.benchmarks;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs several contenders in rounds: every round runs each contender once, in an order that rotates
 * from round to round, so slow drift of a shared machine hits all of them alike. The first rounds are
 * warm-up (JIT, server caches) and not kept. Ratios are taken within each round, then summarised.
 * For one thread.
 */
final class Rounds {

  /** One measured run of a contender; returns its figure (a rate, or a time) and its CPU cost. */
  @FunctionalInterface
  interface Contender {
    Stopwatch.Figure run() throws Exception;
  }

  /**
   * For profiling: {@code -Dbench.only=ours} runs only the contenders named (comparisons then show
   * n/a).
   */
  private static final java.util.Set<String> ONLY = only();

  private final String scenario;
  private final String unit;
  private final Map<String, Contender> contenders = new LinkedHashMap<>();
  private final Map<String, Samples> samples = new HashMap<>();
  private final Map<String, Samples> cpu = new HashMap<>();
  private final List<Map<String, Double>> rounds = new ArrayList<>();

  private Report report;

  Rounds(String scenario, String unit) {
    this.scenario = scenario;
    this.unit = unit;
  }

  /** Keeps every round's raw line in {@code report} too (for the results file). */
  Rounds recordingTo(Report report) {
    this.report = report;
    return this;
  }

  Rounds add(String name, Contender contender) {
    samples.put(name, new Samples());
    cpu.put(name, new Samples());
    if (ONLY.isEmpty() || ONLY.contains(name)) {
      contenders.put(name, contender);
    }
    return this;
  }

  /** Runs {@code warmups + runs} rounds and keeps the last {@code runs}. */
  Rounds run(int warmups, int runs) throws Exception {
    List<String> names = new ArrayList<>(contenders.keySet());
    for (int round = 0; round < warmups + runs; round++) {
      boolean warm = round < warmups;
      Map<String, Double> figures = new HashMap<>();
      Map<String, Double> cpus = new HashMap<>();
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %s %s %d of %d:", scenario,
          warm ? "warm-up" : "run", warm ? round + 1 : round - warmups + 1, warm ? warmups : runs));
      for (int i = 0; i < names.size(); i++) {
        String name = names.get((i + round) % names.size());
        System.gc();
        Stopwatch.Figure figure = contenders.get(name).run();
        figures.put(name, figure.value());
        line.append(String.format(Locale.ROOT, " %s=%s", name, Samples.rate(figure.value())));
        if (!Double.isNaN(figure.cpuMicrosPerItem())) {
          cpus.put(name, figure.cpuMicrosPerItem());
          line.append(String.format(Locale.ROOT, " (%.0f µs CPU)", figure.cpuMicrosPerItem()));
        }
      }
      System.out.println(line.append(' ').append(unit));
      if (report != null) {
        report.raw(line.toString().strip());
      }
      if (!warm) {
        rounds.add(figures);
        figures.forEach((name, figure) -> samples.get(name).add(figure));
        cpus.forEach((name, c) -> cpu.get(name).add(c));
      }
    }
    return this;
  }

  Samples of(String name) {
    Samples s = samples.get(name);
    if (s == null) {
      throw new IllegalArgumentException("no contender " + name);
    }
    return s;
  }

  /** A contender's rate with its CPU cost per item, e.g. {@code 1,842 msg/s (1,700–2,200); CPU 410 µs/msg}. */
  String describe(String name, String unit, String item) {
    String text = of(name).describe(unit, Samples::rate);
    Samples c = cpu.get(name);
    if (c != null && !c.isEmpty()) {
      text += "; CPU " + c.describe("µs/" + item, Samples::rate);
    }
    return text;
  }

  /** {@code a ÷ b} within each kept round. */
  Samples ratio(String a, String b) {
    Samples s = new Samples();
    for (Map<String, Double> r : rounds) {
      if (r.containsKey(a) && r.containsKey(b)) {
        s.add(r.get(a) / r.get(b));
      }
    }
    return s;
  }

  private static java.util.Set<String> only() {
    String value = System.getProperty("bench.only", "").strip();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (String n : value.split(",")) {
      if (!n.isBlank()) {
        names.add(n.strip());
      }
    }
    return names;
  }
}
