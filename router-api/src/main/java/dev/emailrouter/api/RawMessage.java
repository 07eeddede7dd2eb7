package dev.emailrouter.api;

import java.util.Objects;

/**
 * A whole mailbox message (RFC 5322 bytes), as a {@link MailboxReader} downloaded it.
 *
 * @param ref the reader's reference to the message, as in {@link MessageHeaders#ref()}
 * @param size the size in bytes, or -1 when unknown
 * @param content opens the message's bytes; valid until the reader session that returned it closes
 */
public record RawMessage(String ref, long size, ContentSource content) {

  /**
   * Validates the components.
   *
   * @param ref the reader's reference to the message, as in {@link MessageHeaders#ref()}
   * @param size the size in bytes, or -1 when unknown
   * @param content opens the message's bytes; valid until the reader session that returned it closes
   */
  public RawMessage {
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(content, "content");
    if (size < -1) {
      throw new IllegalArgumentException("size must be -1 (unknown) or at least 0, was " + size);
    }
  }
}
