package dev.emailrouter.benchmarks;

import java.nio.file.Path;

/**
 * What every scenario needs: the servers, the sink, the report, and the run settings.
 *
 * @param lab Postfix + Dovecot
 * @param sink smtp-sink, or {@code null} when no scenario needs it
 * @param report where rows go
 * @param quick smaller N for quick checks
 * @param runs measured runs per scenario (the big ones may use fewer)
 * @param warmups warm-up runs of every contender before them (the expensive scenarios: {@link #bigWarmups})
 * @param work a scratch folder
 */
record Context(Lab lab, SmtpSink sink, Report report, boolean quick, int runs, int warmups, Path work) {

  /** {@code full} in a full run, a tenth of it (at least {@code min}) in quick mode. */
  int n(int full, int min) {
    return quick ? Math.max(min, full / 10) : full;
  }

  /**
   * Warm-up runs for the expensive scenarios (a database, separate JVMs, a thousand mailboxes):
   * one, so a full run stays near half an hour; they compare figures of the same code or report
   * no ratio against a baseline.
   */
  int bigWarmups() {
    return Math.min(warmups, 1);
  }

  /** Runs for the expensive scenarios: at most 3. */
  int bigRuns() {
    return Math.min(runs, 3);
  }
}
