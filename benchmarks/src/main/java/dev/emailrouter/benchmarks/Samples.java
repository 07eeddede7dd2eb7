package dev.emailrouter.benchmarks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** The values one contender produced over the measured runs; median with min and max. Not thread-safe. */
final class Samples {
  private final List<Double> values = new ArrayList<>();

  void add(double value) {
    values.add(value);
  }

  boolean isEmpty() {
    return values.isEmpty();
  }

  int size() {
    return values.size();
  }

  double median() {
    List<Double> sorted = sorted();
    int n = sorted.size();
    if (n == 0) {
      return Double.NaN;
    }
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** The nearest-rank percentile {@code p} (0 to 100) of the values, or NaN when there are none. */
  double percentile(double p) {
    List<Double> sorted = sorted();
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  double min() {
    return values.isEmpty() ? Double.NaN : Collections.min(values);
  }

  double max() {
    return values.isEmpty() ? Double.NaN : Collections.max(values);
  }

  private List<Double> sorted() {
    List<Double> copy = new ArrayList<>(values);
    Collections.sort(copy);
    return copy;
  }

  /** E.g. {@code 3,210 (3,050–3,400)} with the given number format for each value. */
  String describe(String unit, Format format) {
    if (values.isEmpty()) {
      return "n/a";
    }
    String u = unit.isEmpty() ? "" : " " + unit;
    if (values.size() == 1) {
      return format.apply(median()) + u;
    }
    return format.apply(median()) + u + " (" + format.apply(min()) + "–" + format.apply(max()) + ")";
  }

  /** Rates: thousands separators, no decimals (one below 100). */
  static String rate(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.1f", v);
  }

  /** Ratios: two decimals and a multiplication sign. */
  static String ratio(double v) {
    // Three decimals below 2, where the bars are: a median of 0.597 must not read "0.60×" beside "≥ 0.6×".
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, v < 2 ? "%.3f×" : "%.2f×", v);
  }

  /** Milliseconds with two significant decimals below 10. */
  static String millis(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    return v >= 10 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.2f", v);
  }

  /** Formats one value. */
  @FunctionalInterface
  interface Format {
    String apply(double value);
  }
}
