package dev.emailrouter.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A delivery status notification (a bounce, a delay warning, a delivery receipt) about an email the
 * CRM sent, as the engine read it from a mailbox: RFC 3464 reports and the common shapes that are
 * not (Exchange non-delivery reports, qmail, Gmail). Immutable.
 *
 * @param mailbox the mailbox the report arrived in
 * @param ref the reader's reference to the report message in that mailbox
 * @param reportMessageId the report's own Message-ID with angle brackets, or {@code null} when it
 *     has none; a store that wants each report once keys it by this and the recipient
 * @param originalMessageId the Message-ID of the email the report is about, with angle brackets
 * @param match how the report was tied to that email
 * @param envelopeId the RFC 3461 envelope id the report carried (decoded), or {@code null}
 * @param reportingMta the server that wrote the report (RFC 3464 {@code Reporting-MTA}, Exchange's
 *     generating server), or {@code null} when unknown
 * @param receivedAt when the report arrived in the mailbox, or {@code null} when unknown
 * @param recipients what happened per recipient, at least one
 */
public record DeliveryReport(String mailbox, String ref, String reportMessageId, String originalMessageId,
    Match match, String envelopeId, String reportingMta, Instant receivedAt, List<Recipient> recipients) {

  /** How a report was tied to the email it is about, in the order the engine tries them. */
  public enum Match {
    /** The report's {@code Original-Envelope-Id} (RFC 3461 ENVID) is the email's Message-ID. */
    ENVELOPE_ID,
    /** The Message-ID in the returned headers ({@code message/rfc822}, {@code text/rfc822-headers}). */
    RETURNED_HEADERS,
    /** The email's Message-ID appears in the text of the report's returned or quoted message. */
    RETURNED_TEXT
  }

  /** What a reporting server did with the email for one recipient (RFC 3464 {@code Action}). */
  public enum Action {
    /** Not delivered, and it will not be tried again: a bounce (status 5.x.x). */
    FAILED,
    /** Not delivered yet; the server keeps trying (status 4.x.x). */
    DELAYED,
    /** Delivered to the recipient's mailbox (status 2.x.x). */
    DELIVERED,
    /** Handed on to a system that sends no reports of its own. */
    RELAYED,
    /** Delivered to an alias or list that expanded it to other recipients. */
    EXPANDED
  }

  /**
   * Validates the components and copies the list.
   *
   * @param mailbox the mailbox the report arrived in
   * @param ref the reader's reference to the report message
   * @param reportMessageId the report's own Message-ID, or {@code null}
   * @param originalMessageId the Message-ID of the email the report is about
   * @param match how the report was tied to that email
   * @param envelopeId the decoded envelope id, or {@code null}
   * @param reportingMta the server that wrote the report, or {@code null}
   * @param receivedAt when the report arrived, or {@code null}
   * @param recipients what happened per recipient, at least one
   * @throws IllegalArgumentException if {@code recipients} is empty
   */
  public DeliveryReport {
    Objects.requireNonNull(mailbox, "mailbox");
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(originalMessageId, "originalMessageId");
    Objects.requireNonNull(match, "match");
    recipients = List.copyOf(recipients);
    if (recipients.isEmpty()) {
      throw new IllegalArgumentException("a delivery report needs at least one recipient, was none");
    }
  }

  /**
   * What happened to the email for one recipient.
   *
   * @param recipient the recipient's address as the report gives it ({@code Final-Recipient}, or
   *     {@code Original-Recipient} when that is all there is), without the {@code rfc822;} type
   * @param action what the server did
   * @param status the RFC 3463 status code, e.g. {@code 5.1.1}; when a report gives none, {@code
   *     5.0.0}, {@code 4.0.0} or {@code 2.0.0} after the action
   * @param diagnostic the remote server's reply or the reporting server's explanation (e.g. {@code
   *     550 5.1.1 user unknown}), at most 1,000 characters, or {@code null} when none is given
   * @param remoteMta the server that refused or accepted it ({@code Remote-MTA}), or {@code null}
   */
  public record Recipient(String recipient, Action action, String status, String diagnostic, String remoteMta) {
    private static final Pattern STATUS = Pattern.compile("[245]\\.\\d{1,3}\\.\\d{1,3}");

    /**
     * Validates the components.
     *
     * @param recipient the recipient's address as the report gives it
     * @param action what the server did
     * @param status the RFC 3463 status code
     * @param diagnostic the server's reply or explanation, or {@code null}
     * @param remoteMta the server that refused or accepted it, or {@code null}
     * @throws IllegalArgumentException if {@code status} is no RFC 3463 code or {@code diagnostic} is
     *     longer than 1,000 characters
     */
    public Recipient {
      Objects.requireNonNull(recipient, "recipient");
      Objects.requireNonNull(action, "action");
      Objects.requireNonNull(status, "status");
      if (!STATUS.matcher(status).matches()) {
        throw new IllegalArgumentException("status must be an RFC 3463 code such as 5.1.1, was " + status);
      }
      if (diagnostic != null && diagnostic.length() > 1000) {
        throw new IllegalArgumentException("diagnostic must be at most 1000 characters, was " + diagnostic.length());
      }
    }

    /**
     * Whether the email will not reach this recipient: the action is {@link Action#FAILED}.
     *
     * @return {@code true} for a bounce
     */
    public boolean failed() {
      return action == Action.FAILED;
    }
  }
}
