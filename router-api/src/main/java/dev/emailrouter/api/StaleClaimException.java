package dev.emailrouter.api;

/**
 * Thrown by an {@link ActivityStore} when a claim no longer holds: its lease expired and the email
 * was claimed again (or changed) since. The state change it asked for was not made, so a stale
 * claimant can never overwrite the outcome of the current one (fencing).
 */
public final class StaleClaimException extends PermanentRouterException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception for a claim that no longer holds.
   *
   * @param claim the stale claim
   */
  public StaleClaimException(Claim claim) {
    super("Claim " + claim.token() + " on activity " + claim.activityId()
        + " no longer holds (its lease expired and the email was claimed again or changed); the state change was not made");
  }
}
