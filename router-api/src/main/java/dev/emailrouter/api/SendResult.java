package dev.emailrouter.api;

import java.util.List;
import java.util.Objects;

/**
 * What the outgoing server answered for one email.
 *
 * <p>The rule for partial refusals: when the server accepted the message for at least one
 * recipient, the outcome is {@link Outcome#ACCEPTED} — the message left, and sending it again would
 * duplicate it for those who got it — and the refused recipients are listed in {@link
 * #recipients()} with their own outcome and reply. The engine records the email as Sent and
 * reports each refusal when every refusal was permanent; when some recipients were refused only for
 * now ({@link Outcome#TRANSIENT}, e.g. 450 greylisting), it records the accepted ones ({@link
 * ActivityStore#markPartlySent}) and sends to the others again later with the same Message-ID.
 * When every recipient was refused, the outcome is {@link Outcome#TRANSIENT} if any refusal was
 * transient (4xx), else {@link Outcome#PERMANENT}.
 *
 * @param outcome the outcome for the email as a whole
 * @param serverReply the server's reply (code and text) that decided it, or a description of the
 *     connection failure; never a credential
 * @param recipients per-recipient results; may be empty when the failure came before any recipient
 *     was tried (a dropped connection, a refused sender)
 */
public record SendResult(Outcome outcome, String serverReply, List<RecipientResult> recipients) {

  /** How a server answered. */
  public enum Outcome {
    /** Accepted (for the email: by at least one recipient). */
    ACCEPTED,
    /** Refused for now (4xx, connection lost, timeout): try again later. */
    TRANSIENT,
    /** Refused for good (5xx, invalid address, a bad header value). */
    PERMANENT
  }

  /**
   * Validates the components and copies the list.
   *
   * @param outcome the outcome for the email as a whole
   * @param serverReply the server's reply (code and text) that decided it, or a description of the connection
   *     failure; never a credential
   * @param recipients per-recipient results; may be empty when the failure came before any recipient was
   *     tried (a dropped connection, a refused sender)
   */
  public SendResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(serverReply, "serverReply");
    recipients = List.copyOf(Objects.requireNonNull(recipients, "recipients"));
  }

  /**
   * An email the server accepted for every recipient.
   *
   * @param serverReply the reply to the end of data, e.g. {@code 250 2.0.0 Ok: queued as 1234}
   * @return the result
   */
  public static SendResult accepted(String serverReply) {
    return new SendResult(Outcome.ACCEPTED, serverReply, List.of());
  }

  /**
   * A transient failure before any recipient was refused or accepted.
   *
   * @param reason the server's reply or the connection failure
   * @return the result
   */
  public static SendResult transientFailure(String reason) {
    return new SendResult(Outcome.TRANSIENT, reason, List.of());
  }

  /**
   * A permanent failure before any recipient was refused or accepted.
   *
   * @param reason the server's reply or what was wrong with the email
   * @return the result
   */
  public static SendResult permanentFailure(String reason) {
    return new SendResult(Outcome.PERMANENT, reason, List.of());
  }

  /**
   * The recipients the server refused, transiently or permanently.
   *
   * @return the refused recipients' results, unmodifiable
   */
  public List<RecipientResult> refused() {
    return recipients.stream().filter(r -> r.outcome() != Outcome.ACCEPTED).toList();
  }

  /**
   * The recipients with this outcome, in the order of {@link #recipients()}.
   *
   * @param outcome the outcome, e.g. {@link Outcome#ACCEPTED} for those who got the email
   * @return their addresses, unmodifiable
   */
  public List<EmailAddress> recipientsWith(Outcome outcome) {
    Objects.requireNonNull(outcome, "outcome");
    return recipients.stream().filter(r -> r.outcome() == outcome).map(RecipientResult::recipient).toList();
  }

  /**
   * One recipient's result.
   *
   * @param recipient the recipient
   * @param outcome accepted, or refused transiently or permanently
   * @param serverReply the server's reply to that recipient
   */
  public record RecipientResult(EmailAddress recipient, Outcome outcome, String serverReply) {

    /**
     * Validates the components.
     *
     * @param recipient the recipient
     * @param outcome accepted, or refused transiently or permanently
     * @param serverReply the server's reply to that recipient
     */
    public RecipientResult {
      Objects.requireNonNull(recipient, "recipient");
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(serverReply, "serverReply");
    }
  }
}
