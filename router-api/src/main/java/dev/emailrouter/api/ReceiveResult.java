package dev.emailrouter.api;

import java.util.Objects;

/**
 * What {@link ActivityStore#createReceived} did.
 *
 * @param activityId the activity for the message
 * @param created {@code true} when this call created it, {@code false} when it existed already
 * @param contentDigest the {@link ReceivedEmail#contentDigest() contentDigest} kept with the
 *     activity: when it existed already, the one it was created with, which the engine compares
 *     with the message at hand to report a different message that reused a Message-ID; {@code
 *     null} when the store keeps no digests (nothing is compared then)
 */
public record ReceiveResult(String activityId, boolean created, String contentDigest) {

  /**
   * Validates the components.
   *
   * @param activityId the activity for the message
   * @param created {@code true} when this call created it, {@code false} when it existed already
   * @param contentDigest the {@link ReceivedEmail#contentDigest() contentDigest} kept with the activity: when
   *     it existed already, the one it was created with, which the engine compares with the message at hand to
   *     report a different message that reused a Message-ID; {@code null} when the store keeps no digests
   *     (nothing is compared then)
   */
  public ReceiveResult {
    Objects.requireNonNull(activityId, "activityId");
  }

  /**
   * A result without a content digest, from a store that keeps none.
   *
   * @param activityId the activity for the message
   * @param created {@code true} when this call created it
   */
  public ReceiveResult(String activityId, boolean created) {
    this(activityId, created, null);
  }
}
