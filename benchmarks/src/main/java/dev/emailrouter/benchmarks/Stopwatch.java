package dev.emailrouter.benchmarks;

import java.lang.management.ManagementFactory;

/**
 * Wall time and this JVM's CPU time (all threads, GC and JIT included) over a measured section, so
 * a run reports its cost per message next to its rate. CPU time is steadier than wall time on a
 * shared machine: other people's load slows a run down but does not make it burn more CPU.
 */
final class Stopwatch {
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private final long wall0;
  private final long cpu0;
  private final long[] machine0;

  private Stopwatch() {
    machine0 = machineJiffies();
    cpu0 = OS.getProcessCpuTime();
    wall0 = System.nanoTime();
  }

  /** This JVM's CPU seconds since the start. */
  double cpuSeconds() {
    return (OS.getProcessCpuTime() - cpu0) / 1e9;
  }

  /** How busy all the machine's CPUs were since the start, 0 to 1 (everyone's processes), or NaN. */
  double machineBusy() {
    long[] now = machineJiffies();
    if (now == null || machine0 == null || now[1] == machine0[1]) {
      return Double.NaN;
    }
    return (double) (now[0] - machine0[0]) / (now[1] - machine0[1]);
  }

  /** Busy and total jiffies of all CPUs from /proc/stat, or null. */
  private static long[] machineJiffies() {
    try {
      String line = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0);
      String[] f = line.trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]); // idle + iowait
      return new long[] {total - idle, total};
    } catch (java.io.IOException | RuntimeException e) {
      return null;
    }
  }

  static Stopwatch start() {
    return new Stopwatch();
  }

  /** A rate of {@code count} items with the JVM's CPU per item; the CPU is unknown for work in another process. */
  Figure rate(long count) {
    long wall = System.nanoTime() - wall0;
    long cpu = OS.getProcessCpuTime() - cpu0;
    return new Figure(count / (wall / 1e9), cpu / 1e3 / count);
  }

  /** A rate measured around another process (its CPU is not ours to see). */
  Figure externalRate(long count) {
    long wall = System.nanoTime() - wall0;
    return new Figure(count / (wall / 1e9), Double.NaN);
  }

  /** Milliseconds elapsed, with no CPU figure. */
  Figure millis() {
    return new Figure((System.nanoTime() - wall0) / 1e6, Double.NaN);
  }

  /**
   * One run's result.
   *
   * @param value the rate (or time)
   * @param cpuMicrosPerItem this JVM's CPU microseconds per item, or NaN
   */
  record Figure(double value, double cpuMicrosPerItem) {}
}
