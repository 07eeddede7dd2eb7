package dev.emailrouter.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What the engine asks of {@link ActivityStore#claimPendingSend(ClaimRequest)}.
 *
 * @param now the engine's clock reading; emails whose next attempt is after it are not due
 * @param lease how long the claim holds
 * @param perSender the most emails to claim for any one sender
 * @param max the most emails to claim in all
 * @param resumeAfterSender the normalised sender address served last by the previous claim, or the
 *     empty string; the store serves senders in order of their normalised address, starting with the
 *     first one after this and wrapping around, so one heavy sender can't starve the rest
 */
public record ClaimRequest(Instant now, Duration lease, int perSender, int max, String resumeAfterSender) {

  /**
   * Validates the components.
   *
   * @param now the engine's clock reading; emails whose next attempt is after it are not due
   * @param lease how long the claim holds
   * @param perSender the most emails to claim for any one sender
   * @param max the most emails to claim in all
   * @param resumeAfterSender the normalised sender address served last by the previous claim, or the empty
   *     string; the store serves senders in order of their normalised address, starting with the first one after
   *     this and wrapping around, so one heavy sender can't starve the rest
   */
  public ClaimRequest {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(resumeAfterSender, "resumeAfterSender");
    if (lease.isNegative() || lease.isZero()) {
      throw new IllegalArgumentException("lease must be positive, was " + lease);
    }
    if (perSender < 1) {
      throw new IllegalArgumentException("perSender must be at least 1, was " + perSender);
    }
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, was " + max);
    }
  }

  /**
   * When a claim made now lapses.
   *
   * @return {@code now + lease}
   */
  public Instant leaseUntil() {
    return now.plus(lease);
  }
}
