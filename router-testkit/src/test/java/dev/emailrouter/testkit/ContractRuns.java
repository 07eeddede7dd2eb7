package dev.emailrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.MethodFilter;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/** Runs a contract class through the JUnit Platform test kit and collects its verdicts. */
final class ContractRuns {

  private ContractRuns() {}

  /**
   * Runs every test of {@code contract}; returns the failed tests' messages by method name.
   *
   * @param atLeast how many tests the contract has at least (so a discovery problem can't pass)
   */
  static Map<String, String> failures(Class<?> contract, int atLeast) {
    return failures(contract, atLeast, List.of());
  }

  /**
   * Runs the tests of {@code contract} but those whose names match one of {@code skipped}.
   *
   * @param skipped regular expressions matched against {@code ClassName#methodName}
   */
  static Map<String, String> failures(Class<?> contract, int atLeast, List<String> skipped) {
    EngineTestKit.Builder run = EngineTestKit.engine("junit-jupiter").selectors(selectClass(contract));
    if (!skipped.isEmpty()) {
      run.filters(MethodFilter.excludeMethodNamePatterns(skipped.toArray(String[]::new)));
    }
    Events tests = run.execute().testEvents();
    assertThat(tests.started().count()).as("tests of %s started", contract.getSimpleName())
        .isGreaterThanOrEqualTo(atLeast);
    assertThat(tests.skipped().count()).as("tests of %s skipped", contract.getSimpleName()).isZero();
    Map<String, String> failed = new TreeMap<>();
    tests.failed().stream().forEach(e -> failed.put(name(e), message(e)));
    return failed;
  }

  private static String name(Event e) {
    return ((MethodSource) e.getTestDescriptor().getSource().orElseThrow()).getMethodName();
  }

  private static String message(Event e) {
    return e.getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable)
        .map(t -> t.getClass().getSimpleName() + ": " + t.getMessage()).orElse("");
  }
}
