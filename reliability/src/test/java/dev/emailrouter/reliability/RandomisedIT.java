package dev.emailrouter.reliability;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The long randomised run (failsafe, under {@code -Pconformance}): three seeds of {@value #STEPS}
 * steps each, other seeds than the fast variant's. {@code -Drandomised.steps=N} changes the length.
 */
final class RandomisedIT {
  static final int STEPS = 400;

  @TempDir
  Path dir;

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {RandomRun.DEFAULT_SEED + 1, RandomRun.DEFAULT_SEED + 2, RandomRun.DEFAULT_SEED + 3})
  void randomSteps_keepEveryInvariantAfterEveryStepAndSettleInTheQuietPhase(long seed) {
    RandomRun.execute(dir, seed, Integer.getInteger("randomised.steps", STEPS), RandomisedIT.class);
  }
}
