package dev.emailrouter.api;

import java.util.Objects;

/**
 * An email the store handed to an engine, with the claim that fences every later change to it.
 *
 * @param email the email as stored
 * @param claim the claim
 */
public record ClaimedEmail(OutgoingEmail email, Claim claim) {

  /**
   * Validates the components.
   *
   * @param email the email as stored
   * @param claim the claim
   */
  public ClaimedEmail {
    Objects.requireNonNull(email, "email");
    Objects.requireNonNull(claim, "claim");
    if (!email.activityId().equals(claim.activityId())) {
      throw new IllegalArgumentException("claim is for activity " + claim.activityId() + " but the email is activity "
          + email.activityId());
    }
  }
}
