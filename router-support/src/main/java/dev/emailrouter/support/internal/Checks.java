package dev.emailrouter.support.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Unsupported. The setting checks the adapters' builders share, so a host gets the same sentence
 * for the same mistake whichever adapter it configures.
 */
public final class Checks {
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%-]+");
  private static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  private Checks() {}

  /**
   * A host name or an IP address (IPv6 with or without brackets); surrounding space removed.
   *
   * @param value the setting's value
   * @return the host, without brackets
   * @throws IllegalArgumentException naming the value when it is no host
   */
  public static String host(String value) {
    Objects.requireNonNull(value, "host");
    String h = value.strip();
    if (h.length() > 2 && h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.isEmpty() || h.length() > 253 || !HOST.matcher(h).matches()) {
      throw new IllegalArgumentException("host must be a host name or an IP address such as mail.example.com, was "
          + quote(value));
    }
    return h;
  }

  /**
   * A TCP port.
   *
   * @param value the setting's value
   * @return the port
   * @throws IllegalArgumentException naming the value when out of range
   */
  public static int port(int value) {
    if (value < 1 || value > 65535) {
      throw new IllegalArgumentException("port must be between 1 and 65535, was " + value);
    }
    return value;
  }

  /**
   * A timeout between 1 ms and 1 hour: Jakarta Mail reads 0 as "wait forever".
   *
   * @param setting the setting's name, for the message
   * @param value the setting's value
   * @return the timeout
   * @throws IllegalArgumentException naming the setting and the value when out of range
   */
  public static Duration timeout(String setting, Duration value) {
    Objects.requireNonNull(value, setting);
    if (value.compareTo(Duration.ofMillis(1)) < 0 || value.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(setting + " must be between 1 ms and 1 hour (never infinite), was " + value);
    }
    return value;
  }

  /**
   * Renders a value for a message, showing control characters instead of obeying them, cut at 200
   * characters.
   *
   * @param value the value
   * @return the value in double quotes
   */
  public static String quote(String value) {
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
