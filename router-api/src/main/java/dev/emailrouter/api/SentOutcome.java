package dev.emailrouter.api;

import java.time.Instant;
import java.util.Objects;

/**
 * One email the server accepted, as {@link ActivityStore#markSentAll} records it: the same values
 * {@link ActivityStore#markSent} takes.
 *
 * @param claim the claim on the email
 * @param sentAt when the server accepted it
 * @param result the server's answer (with any refused recipients)
 */
public record SentOutcome(Claim claim, Instant sentAt, SendResult result) {

  /**
   * Validates the components: all are required.
   *
   * @param claim the claim on the email
   * @param sentAt when the server accepted it
   * @param result the server's answer (with any refused recipients)
   */
  public SentOutcome {
    Objects.requireNonNull(claim, "claim");
    Objects.requireNonNull(sentAt, "sentAt");
    Objects.requireNonNull(result, "result");
  }
}
