package dev.emailrouter.api;

import java.util.Objects;

/**
 * Whether to make an incoming message a CRM email activity, and why.
 *
 * @param track {@code true} to create a Received activity
 * @param reason the reason, modelled on Dynamics' CheckIncomingEmail
 * @param detail a short human-readable explanation for reports and logs, or the empty string
 */
public record TrackingDecision(boolean track, Reason reason, String detail) {

  /** Reasons for a decision; the first eight are Dynamics' CheckIncomingEmail reason codes. */
  public enum Reason {
    /** An activity for this message exists already. */
    DUPLICATE,
    /** The policy wants correlated mail, and this message answers no CRM email. */
    NO_CORRELATION_MATCH,
    /** The message answers a CRM email. */
    CORRELATION_MATCH,
    /** Neither the sender nor a recipient is a CRM record the policy accepts. */
    NO_RECIPIENT_MATCH,
    /** Sent between CRM users or queues only. */
    INTERNAL_EMAIL_REJECTED,
    /** The sender is a CRM record the policy accepts. */
    SENDER_MATCH,
    /** The policy accepts all mail. */
    ACCEPT_ALL,
    /** The From header is missing or not a valid address. */
    INVALID_SENDER,
    /** The policy tracks no email at all. */
    TRACKING_DISABLED,
    /** An automatic message (auto-reply, bulk, bounce) that answers no CRM email. */
    AUTO_RESPONSE,
    /** A message the router sent itself, come back (a mail loop). */
    LOOP,
    /** Larger than the configured size cap; not downloaded. */
    TOO_LARGE
  }

  /**
   * Validates the components.
   *
   * @param track {@code true} to create a Received activity
   * @param reason the reason, modelled on Dynamics' CheckIncomingEmail
   * @param detail a short human-readable explanation for reports and logs, or the empty string
   */
  public TrackingDecision {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(detail, "detail");
  }

  /**
   * A decision to track.
   *
   * @param reason why
   * @param detail an explanation, or the empty string
   * @return the decision
   */
  public static TrackingDecision track(Reason reason, String detail) {
    return new TrackingDecision(true, reason, detail);
  }

  /**
   * A decision to reject.
   *
   * @param reason why
   * @param detail an explanation, or the empty string
   * @return the decision
   */
  public static TrackingDecision reject(Reason reason, String detail) {
    return new TrackingDecision(false, reason, detail);
  }
}
