package dev.emailrouter.api;

import java.util.Objects;

/**
 * What {@link ActivityStore#createReceived} did.
 *
 * @param activityId the activity for the message
 * @param created {@code true} when this call created it, {@code false} when it existed already
 */
public record ReceiveResult(String activityId, boolean created) {

  /** Validates the components. */
  public ReceiveResult {
    Objects.requireNonNull(activityId, "activityId");
  }
}
