package dev.emailrouter.reliability;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded random interleaving of new mail, ticks, network faults, crashes with restarts, clock
 * jumps, SMTP refusals (whole and per recipient), slow data-end replies, CRM outages and a second
 * IMAP client at work, with the invariants checked after every step (see {@link RandomRun}).
 * The fast variant: {@value #STEPS} steps; {@code -Drandomised.seed=N} and {@code
 * -Drandomised.steps=N} choose another run, and a failure prints the command for it.
 */
final class RandomisedTest {
  static final int STEPS = 120;

  @TempDir
  Path dir;

  @Test
  void randomSteps_keepEveryInvariantAfterEveryStepAndSettleInTheQuietPhase() {
    RandomRun.execute(dir, Long.getLong("randomised.seed", RandomRun.DEFAULT_SEED),
        Integer.getInteger("randomised.steps", STEPS), RandomisedTest.class);
  }
}
