package dev.emailrouter.api;

import java.util.Locale;
import java.util.Objects;

/**
 * An email address ({@code local@domain}) with an optional display name.
 *
 * <p>Validated when built: control characters anywhere, even at either end (CR and LF above all,
 * which would let a value inject a header), a missing or misplaced {@code @}, whitespace or angle
 * brackets outside a quoted local part, and over-long parts are refused with an {@link
 * IllegalArgumentException} naming the value.
 * Non-ASCII characters are allowed (RFC 6531). Immutable.
 *
 * @param address the bare address, {@code local@domain}; surrounding spaces are removed
 * @param displayName the display name, or the empty string when there is none; never {@code null};
 *     surrounding spaces are removed
 */
public record EmailAddress(String address, String displayName) {

  /**
   * Validates and normalises the components.
   *
   * @param address the bare address, {@code local@domain}; surrounding spaces are removed
   * @param displayName the display name, or the empty string when there is none; never {@code null};
   *     surrounding spaces are removed
   */
  public EmailAddress {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(displayName, "displayName");
    // Before stripping: strip() would silently drop a CR or LF at either end, and a value carrying
    // one is as suspect there as inside.
    refuseControlCharacters("address", address);
    refuseControlCharacters("displayName", displayName);
    address = address.strip();
    displayName = displayName.strip();
    checkAddress(address);
  }

  /**
   * Returns the address without a display name.
   *
   * @param address the bare address, {@code local@domain}
   * @return the address
   * @throws IllegalArgumentException if the address is malformed
   */
  public static EmailAddress of(String address) {
    return new EmailAddress(address, "");
  }

  /**
   * Returns the address with a display name.
   *
   * @param address the bare address, {@code local@domain}
   * @param displayName the display name; empty for none
   * @return the address
   * @throws IllegalArgumentException if either part is malformed
   */
  public static EmailAddress of(String address, String displayName) {
    return new EmailAddress(address, displayName);
  }

  /**
   * The domain part, after the last {@code @}.
   *
   * @return the domain, as written
   */
  public String domain() {
    return address.substring(address.lastIndexOf('@') + 1);
  }

  /**
   * The address in lower case, for matching (mail systems treat addresses case-insensitively in
   * practice, although RFC 5321 lets the local part be case-sensitive).
   *
   * @return the lower-cased bare address
   */
  public String normalized() {
    return address.toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return displayName.isEmpty() ? address : displayName + " <" + address + ">";
  }

  private static void refuseControlCharacters(String name, String value) {
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw new IllegalArgumentException(name + " must not contain control characters (CR/LF would inject a header), was "
            + quote(value));
      }
    }
  }

  private static void checkAddress(String address) {
    int at = address.lastIndexOf('@');
    if (at <= 0 || at == address.length() - 1) {
      throw new IllegalArgumentException("address must look like local@domain, was " + quote(address));
    }
    // By positions, not substrings: every address the header stage reads comes through here.
    int localLength = at;
    int domainLength = address.length() - at - 1;
    if (localLength > 64) {
      throw new IllegalArgumentException("address local part must be at most 64 characters, was " + localLength
          + " in " + quote(address));
    }
    if (domainLength > 253) {
      throw new IllegalArgumentException("address domain must be at most 253 characters, was " + domainLength
          + " in " + quote(address));
    }
    boolean quoted = localLength >= 2 && address.charAt(0) == '"' && address.charAt(at - 1) == '"';
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      boolean inLocal = i < at;
      if (inLocal && quoted) {
        continue;
      }
      if (Character.isWhitespace(c) || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '(' || c == ')'
          || c == '[' && !inLocal && i != at + 1 || (c == '@' && i != at)) {
        throw new IllegalArgumentException("address must be a single bare address without spaces, quotes, brackets or separators, was "
            + quote(address));
      }
    }
    int firstDots = address.indexOf(".."); // in the local part when it starts before at - 1
    if (address.charAt(at + 1) == '.' || address.charAt(address.length() - 1) == '.'
        || address.indexOf("..", at + 1) >= 0
        || (!quoted && (address.charAt(0) == '.' || address.charAt(at - 1) == '.'
            || firstDots >= 0 && firstDots + 1 < at))) {
      throw new IllegalArgumentException("address has an empty dot-separated part, was " + quote(address));
    }
  }

  /** Renders a value for an error message, showing control characters instead of obeying them. */
  static String quote(String value) {
    StringBuilder out = new StringBuilder("\"");
    int limit = Math.min(value.length(), 200);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      if (c == '\r') {
        out.append("\\r");
      } else if (c == '\n') {
        out.append("\\n");
      } else if (Character.isISOControl(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    if (value.length() > limit) {
      out.append("...");
    }
    return out.append('"').toString();
  }
}
