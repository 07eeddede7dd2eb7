package dev.emailrouter.api;

import java.util.List;
import java.util.Objects;

/**
 * What {@link MailboxReader.Session#fetchNew} found: the headers of messages not yet handled, and
 * the cursor to store once every one of them has been handled.
 *
 * @param messages the new messages (and those asked for again), oldest first
 * @param cursor the reader's position after these messages; opaque to the engine, which stores it
 *     only once each message here was tracked, rejected, or recorded for a retry
 * @param reset {@code true} when the server invalidated the old position (IMAP UIDVALIDITY
 *     changed): the reader started over, references from before mean nothing now, and messages
 *     seen before may come again (the store's idempotent creation absorbs them)
 * @param more {@code true} when more new messages wait than were returned
 */
public record NewMessages(List<MessageHeaders> messages, String cursor, boolean reset, boolean more) {

  /**
   * Validates the components and copies the list.
   *
   * @param messages the new messages (and those asked for again), oldest first
   * @param cursor the reader's position after these messages; opaque to the engine, which stores it only once
   *     each message here was tracked, rejected, or recorded for a retry
   * @param reset {@code true} when the server invalidated the old position (IMAP UIDVALIDITY changed): the
   *     reader started over, references from before mean nothing now, and messages seen before may come again
   *     (the store's idempotent creation absorbs them)
   * @param more {@code true} when more new messages wait than were returned
   */
  public NewMessages {
    messages = List.copyOf(Objects.requireNonNull(messages, "messages"));
    Objects.requireNonNull(cursor, "cursor");
  }
}
