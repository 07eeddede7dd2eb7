package dev.emailrouter.core;

import java.util.Map;
import java.util.Objects;

/**
 * Where the engine stands in one mailbox: the reader's cursor, and the messages behind it that
 * failed and will be tried again.
 *
 * @param cursor the reader's opaque cursor; the empty string before the first sync
 * @param failures failed attempts so far by message reference, for messages still to retry
 */
public record MailboxCheckpoint(String cursor, Map<String, Integer> failures) {

  /** The checkpoint of a mailbox never read. */
  public static final MailboxCheckpoint START = new MailboxCheckpoint("", Map.of());

  /**
   * Validates and copies.
   *
   * @param cursor the reader's opaque cursor; the empty string before the first sync
   * @param failures failed attempts so far by message reference, for messages still to retry
   */
  public MailboxCheckpoint {
    Objects.requireNonNull(cursor, "cursor");
    failures = Map.copyOf(Objects.requireNonNull(failures, "failures"));
  }
}
