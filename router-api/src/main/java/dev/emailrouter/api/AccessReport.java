package dev.emailrouter.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The result of Test Access (the E-mail Router's "Test Access" button, Server-Side
 * Synchronization's "Test &amp; Enable"): a reader's or a transport's settings checked step by step
 * against the real server, without running a tick. It never sends mail and never changes a
 * mailbox. Made by {@link MailboxReader#testAccess()} and {@link MailTransport#testAccess()}.
 *
 * @param target what was checked: the adapter's {@code describe()}
 * @param steps the steps in the order they were taken; after the first failure the rest are
 *     usually {@linkplain AccessStep.Outcome#SKIPPED skipped}
 */
public record AccessReport(String target, List<AccessStep> steps) {

  /**
   * Validates the components and copies the list.
   *
   * @param target what was checked: the adapter's {@code describe()}
   * @param steps the steps in the order they were taken; after the first failure the rest are usually
   *     {@linkplain AccessStep.Outcome#SKIPPED skipped}
   */
  public AccessReport {
    Objects.requireNonNull(target, "target");
    steps = List.copyOf(Objects.requireNonNull(steps, "steps"));
  }

  /**
   * Whether no step failed.
   *
   * @return {@code true} when every step passed or was skipped
   */
  public boolean ok() {
    return firstFailure().isEmpty();
  }

  /**
   * The first step that failed: the one to fix first.
   *
   * @return the step, or empty when none failed
   */
  public Optional<AccessStep> firstFailure() {
    return steps.stream().filter(s -> s.outcome() == AccessStep.Outcome.FAILED).findFirst();
  }

  /**
   * The step for one check, where it was taken.
   *
   * @param check the check
   * @return its first step, or empty
   */
  public Optional<AccessStep> step(AccessStep.Check check) {
    Objects.requireNonNull(check, "check");
    return steps.stream().filter(s -> s.check() == check).findFirst();
  }

  /**
   * The target, then one line per step.
   *
   * @return the report for a log or a console
   */
  @Override
  public String toString() {
    StringBuilder out = new StringBuilder(target).append(ok() ? ": OK" : ": FAILED");
    for (AccessStep step : steps) {
      out.append(System.lineSeparator()).append("  ").append(step);
    }
    return out.toString();
  }
}
