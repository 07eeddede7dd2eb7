package dev.emailrouter.api;

import java.util.Objects;

/**
 * A reference to an existing email activity, as a store lookup returns it.
 *
 * @param activityId the CRM's id for it
 * @param status its status now
 */
public record ActivityRef(String activityId, EmailStatus status) {

  /**
   * Validates the components.
   *
   * @param activityId the CRM's id for it
   * @param status its status now
   */
  public ActivityRef {
    Objects.requireNonNull(activityId, "activityId");
    Objects.requireNonNull(status, "status");
  }
}
