package dev.emailrouter.api;

import java.util.Objects;

/**
 * What {@link ActivityStore#recordIdentities} records for one claimed email before its first
 * attempt: the same values {@link ActivityStore#recordIdentity} takes.
 *
 * @param claim the claim on the email
 * @param messageId the Message-ID, with angle brackets
 * @param trackingToken the tracking token, or {@code null} when tokens are off
 * @param subject the subject as it will be sent
 */
public record EmailIdentity(Claim claim, String messageId, String trackingToken, String subject) {

  /**
   * Validates the components: all but {@code trackingToken} are required.
   *
   * @param claim the claim on the email
   * @param messageId the Message-ID, with angle brackets
   * @param trackingToken the tracking token, or {@code null} when tokens are off
   * @param subject the subject as it will be sent
   */
  public EmailIdentity {
    Objects.requireNonNull(claim, "claim");
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(subject, "subject");
  }
}
