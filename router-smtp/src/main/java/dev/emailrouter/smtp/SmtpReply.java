package dev.emailrouter.smtp;

import java.util.List;
import java.util.Objects;

/**
 * One SMTP reply (RFC 5321 4.2), returned as a value: every reply, 250 included, is read into one
 * of these, and what it means for the email is decided by the caller.
 *
 * @param code the three-digit reply code, 200 to 599
 * @param enhancedStatus the RFC 3463 enhanced status code of the first line ({@code "5.1.1"}), or
 *     {@code null} when the server gave none
 * @param lines the reply's lines as the server sent them (code and separator included), without
 *     their line ends; at least one
 */
record SmtpReply(int code, String enhancedStatus, List<String> lines) {
  SmtpReply {
    if (code < 200 || code > 599) {
      throw new IllegalArgumentException("code must be between 200 and 599, was " + code);
    }
    lines = List.copyOf(Objects.requireNonNull(lines, "lines"));
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("lines must hold at least one line");
    }
  }

  /** The reply of these lines; the first line's code and enhanced status are read from it. */
  static SmtpReply of(int code, List<String> lines) {
    String first = lines.get(0);
    String status = null;
    if (first.length() > 4) {
      int end = first.indexOf(' ', 4);
      if (end < 0) {
        end = first.length();
      }
      // Read by hand, not by a regular expression: every reply of every email comes through here.
      if (enhanced(first, 4, end) && first.charAt(4) == first.charAt(0)) {
        status = first.substring(4, end);
      }
    }
    return new SmtpReply(code, status, lines);
  }

  /** Whether {@code s[from, to)} is an RFC 3463 status: class 2, 4 or 5, then ".d{1,3}" twice. */
  private static boolean enhanced(String s, int from, int to) {
    if (to - from < 5) {
      return false;
    }
    char c = s.charAt(from);
    if (c != '2' && c != '4' && c != '5' || s.charAt(from + 1) != '.') {
      return false;
    }
    int i = digits(s, from + 2, to);
    if (i < 0 || i >= to || s.charAt(i) != '.') {
      return false;
    }
    return digits(s, i + 1, to) == to;
  }

  /** The index after one to three ASCII digits at {@code from}, or -1 when there are none. */
  private static int digits(String s, int from, int to) {
    int i = from;
    while (i < to && i - from < 3 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
      i++;
    }
    return i == from ? -1 : i;
  }

  /** Whether the code is 2xx. */
  boolean positive() {
    return code >= 200 && code < 300;
  }

  /** Whether the code is 4xx: refused for now. */
  boolean transientNegative() {
    return code >= 400 && code < 500;
  }

  /** Whether the code is 5xx: refused for good. */
  boolean permanentNegative() {
    return code >= 500;
  }

  /** 421: the server is closing the connection (RFC 5321 3.8). */
  boolean closing() {
    return code == 421;
  }

  /**
   * The reply on one line, e.g. {@code "250 2.0.0 Ok: queued as Q1"}; the lines of a multi-line
   * reply joined with a space.
   */
  String text() {
    return lines.size() == 1 ? lines.get(0).strip() : String.join(" ", lines).strip();
  }

  /** The first line's text after the code and separator (a 334 challenge's payload, say). */
  String argument() {
    String first = lines.get(0);
    return first.length() > 4 ? first.substring(4) : "";
  }

  @Override
  public String toString() {
    return text();
  }
}
