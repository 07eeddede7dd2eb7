package dev.emailrouter.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

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
 * <p>An accepted result may also carry the exact bytes the server received ({@link #message()}), so
 * the engine can keep a copy in the sender's Sent folder ({@link SentFolder}); a transport attaches
 * them with {@link #withMessage(ContentSource)}. They travel along with the result and are not part
 * of its value: {@link #equals(Object)}, {@link #hashCode()} and {@link #toString()} ignore them,
 * and the engine hands the store a result without them.
 *
 * @param outcome the outcome for the email as a whole
 * @param serverReply the server's reply (code and text) that decided it, or a description of the
 *     connection failure; never a credential
 * @param recipients per-recipient results; may be empty when the failure came before any recipient
 *     was tried (a dropped connection, a refused sender)
 * @param message the exact bytes the server received (CRLF line ends, not dot-stuffed), when the
 *     transport attached them; empty otherwise (and always on a refusal)
 */
public record SendResult(Outcome outcome, String serverReply, List<RecipientResult> recipients,
    Optional<ContentSource> message) {

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
   * @param message the exact bytes the server received, or empty
   * @throws IllegalArgumentException if a message is attached to a result that is not {@link
   *     Outcome#ACCEPTED}
   */
  public SendResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(serverReply, "serverReply");
    recipients = List.copyOf(Objects.requireNonNull(recipients, "recipients"));
    Objects.requireNonNull(message, "message");
    if (message.isPresent() && outcome != Outcome.ACCEPTED) {
      throw new IllegalArgumentException("message can only be attached to an ACCEPTED result, was " + outcome);
    }
  }

  /**
   * A result without the message's bytes; the form every store and most transports use.
   *
   * @param outcome the outcome for the email as a whole
   * @param serverReply the server's reply (code and text) that decided it, or a description of the connection
   *     failure; never a credential
   * @param recipients per-recipient results; may be empty when the failure came before any recipient was
   *     tried (a dropped connection, a refused sender)
   */
  public SendResult(Outcome outcome, String serverReply, List<RecipientResult> recipients) {
    this(outcome, serverReply, recipients, Optional.empty());
  }

  /**
   * The same result carrying the exact bytes the server received, for the engine's copy to the
   * Sent folder. The source is opened only when someone reads it (never when no {@link SentFolder}
   * is configured), may be opened more than once and must give the same bytes each time.
   *
   * @param message the bytes sent (CRLF line ends, not dot-stuffed)
   * @return a new result with everything else unchanged
   * @throws IllegalArgumentException if this result is not {@link Outcome#ACCEPTED}
   */
  public SendResult withMessage(ContentSource message) {
    return new SendResult(outcome, serverReply, recipients, Optional.of(Objects.requireNonNull(message, "message")));
  }

  /**
   * The same result without the message's bytes (this one when it carries none).
   *
   * @return a result with an empty {@link #message()}
   */
  public SendResult withoutMessage() {
    return message.isEmpty() ? this : new SendResult(outcome, serverReply, recipients);
  }

  /**
   * Compares outcome, reply and recipients; the attached message is not part of the value.
   *
   * @param o the other object
   * @return whether {@code o} is a result with the same outcome, reply and recipients
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof SendResult other && outcome == other.outcome && serverReply.equals(other.serverReply)
        && recipients.equals(other.recipients);
  }

  /**
   * Hashes outcome, reply and recipients, consistent with {@link #equals(Object)}.
   *
   * @return the hash code
   */
  @Override
  public int hashCode() {
    return Objects.hash(outcome, serverReply, recipients);
  }

  /**
   * Shows outcome, reply and recipients, and only whether a message is attached.
   *
   * @return the text
   */
  @Override
  public String toString() {
    return "SendResult[outcome=" + outcome + ", serverReply=" + serverReply + ", recipients=" + recipients
        + (message.isPresent() ? ", message attached" : "") + "]";
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
    // A loop, not a stream: asked for every email sent, whose recipients most often all accepted.
    List<RecipientResult> refused = null;
    for (RecipientResult r : recipients) {
      if (r.outcome() != Outcome.ACCEPTED) {
        if (refused == null) {
          refused = new ArrayList<>();
        }
        refused.add(r);
      }
    }
    return refused == null ? List.of() : List.copyOf(refused);
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
