package dev.emailrouter.api;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The headers of one mailbox message, as a {@link MailboxReader} fetched them before deciding
 * whether to download the whole message.
 *
 * @param ref the reader's reference to the message (an IMAP UID, a POP3 UIDL), stable across
 *     sessions
 * @param size the message's size in bytes as the server reports it, or -1 when unknown
 * @param receivedAt when the server received it (IMAP INTERNALDATE), or {@code null} when unknown
 * @param headers raw header values (still RFC 2047 encoded) by lower-case name, in message order;
 *     a reader includes at least the names in {@link #WANTED}
 */
public record MessageHeaders(String ref, long size, Instant receivedAt, Map<String, List<String>> headers) {

  /** The header names the engine and the built-in policies read, lower case. */
  public static final List<String> WANTED = List.of(
      "message-id", "from", "sender", "reply-to", "to", "cc", "subject", "date", "in-reply-to", "references",
      "auto-submitted", "precedence", "x-auto-response-suppress", "x-loop", "return-path", "list-id",
      "content-type", "x-autoreply", "x-autorespond", "thread-index");

  /**
   * Validates the components and copies the map with lower-case names.
   *
   * @param ref the reader's reference to the message (an IMAP UID, a POP3 UIDL), stable across sessions
   * @param size the message's size in bytes as the server reports it, or -1 when unknown
   * @param receivedAt when the server received it (IMAP INTERNALDATE), or {@code null} when unknown
   * @param headers raw header values (still RFC 2047 encoded) by lower-case name, in message order; a reader
   *     includes at least the names in {@link #WANTED}
   */
  public MessageHeaders {
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(headers, "headers");
    if (size < -1) {
      throw new IllegalArgumentException("size must be -1 (unknown) or at least 0, was " + size);
    }
    // One pass, sized once. List.copyOf returns a list that is already unmodifiable (List.of) as it
    // is, so a reader that builds its values that way pays for no second copy of them.
    Map<String, List<String>> copy = new LinkedHashMap<>(headers.size() * 4 / 3 + 1);
    for (Map.Entry<String, List<String>> e : headers.entrySet()) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      List<String> values = List.copyOf(e.getValue());
      List<String> before = copy.putIfAbsent(name, values);
      if (before != null) { // two names that differ only in case: one header, values in map order
        List<String> both = new java.util.ArrayList<>(before.size() + values.size());
        both.addAll(before);
        both.addAll(values);
        copy.put(name, List.copyOf(both));
      }
    }
    headers = java.util.Collections.unmodifiableMap(copy);
  }

  /**
   * The first value of a header.
   *
   * @param name the header name, any case
   * @return the raw value, or empty when the header is absent
   */
  public Optional<String> first(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
  }

  /**
   * Every value of a header.
   *
   * @param name the header name, any case
   * @return the raw values, empty when the header is absent
   */
  public List<String> all(String name) {
    return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
  }
}
