package dev.emailrouter.api;

import java.time.Instant;
import java.util.Objects;

/**
 * An engine's exclusive, time-limited hold on one email (status Sending).
 *
 * <p>The store issues a fresh {@code token} with every claim. Every later state change names the
 * claim, and the store makes it only while the email is still held by that same token (fencing):
 * once the lease has passed and another engine claimed the email, the old claim's changes fail with
 * {@link StaleClaimException}.
 *
 * @param activityId the claimed email's activity id
 * @param token a value unique to this claim, chosen by the store
 * @param leaseUntil when the claim lapses and the email becomes claimable again
 */
public record Claim(String activityId, String token, Instant leaseUntil) {

  /**
   * Validates the components.
   *
   * @param activityId the claimed email's activity id
   * @param token a value unique to this claim, chosen by the store
   * @param leaseUntil when the claim lapses and the email becomes claimable again
   */
  public Claim {
    Objects.requireNonNull(activityId, "activityId");
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(leaseUntil, "leaseUntil");
    if (token.isBlank()) {
      throw new IllegalArgumentException("token must not be blank");
    }
  }
}
