package dev.emailrouter.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An incoming message as the {@link TrackingPolicy} sees it: its decoded headers, before the body
 * was downloaded.
 *
 * @param mailbox the description of the mailbox it came from
 * @param ref the reader's reference to it
 * @param messageId its Message-ID with angle brackets, or {@code null} when it has none
 * @param from the sender, or {@code null} when the From header is missing or not an address
 * @param to the To recipients that could be parsed
 * @param cc the Cc recipients that could be parsed
 * @param subject the decoded subject, or the empty string
 * @param sentAt the Date header, or {@code null} when missing or unreadable
 * @param inReplyTo the In-Reply-To Message-ID, or {@code null}
 * @param references the References Message-IDs, oldest first
 * @param size the size in bytes, or -1 when unknown
 * @param autoResponse whether it is an automatic message, and which kind
 * @param headers the raw headers as fetched
 */
public record IncomingMessage(
    String mailbox,
    String ref,
    String messageId,
    EmailAddress from,
    List<EmailAddress> to,
    List<EmailAddress> cc,
    String subject,
    Instant sentAt,
    String inReplyTo,
    List<String> references,
    long size,
    AutoResponse autoResponse,
    MessageHeaders headers) {

  /**
   * Validates the components and copies the lists.
   *
   * @param mailbox the description of the mailbox it came from
   * @param ref the reader's reference to it
   * @param messageId its Message-ID with angle brackets, or {@code null} when it has none
   * @param from the sender, or {@code null} when the From header is missing or not an address
   * @param to the To recipients that could be parsed
   * @param cc the Cc recipients that could be parsed
   * @param subject the decoded subject, or the empty string
   * @param sentAt the Date header, or {@code null} when missing or unreadable
   * @param inReplyTo the In-Reply-To Message-ID, or {@code null}
   * @param references the References Message-IDs, oldest first
   * @param size the size in bytes, or -1 when unknown
   * @param autoResponse whether it is an automatic message, and which kind
   * @param headers the raw headers as fetched
   */
  public IncomingMessage {
    Objects.requireNonNull(mailbox, "mailbox");
    Objects.requireNonNull(ref, "ref");
    to = List.copyOf(Objects.requireNonNull(to, "to"));
    cc = List.copyOf(Objects.requireNonNull(cc, "cc"));
    Objects.requireNonNull(subject, "subject");
    references = List.copyOf(Objects.requireNonNull(references, "references"));
    Objects.requireNonNull(autoResponse, "autoResponse");
    Objects.requireNonNull(headers, "headers");
  }
}
