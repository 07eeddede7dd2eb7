package dev.emailrouter.support.internal;

import java.time.Duration;
import java.util.Objects;

/**
 * Unsupported. Setting checks for the adapters' own settings; the settings every mail-server
 * adapter shares (host, port, timeouts) are checked by {@code dev.emailrouter.api.ServerSettings},
 * whose timeout sentence {@link #timeout(String, Duration)} repeats so a host gets the same sentence
 * for the same mistake.
 */
public final class Checks {
  private static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  private Checks() {}

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
