package dev.emailrouter.smtp;

import java.nio.charset.StandardCharsets;

/**
 * RFC 3461 4 xtext, the encoding of DSN parameters (ENVID, ORCPT): every octet outside {@code '!'}
 * to {@code '~'}, and {@code '+'} and {@code '='}, is written as {@code "+"} and two upper-case hex
 * digits. Stateless.
 */
final class Xtext {
  /** RFC 3461 4.4: an ENVID is at most 100 characters. */
  static final int MAX_ENVID = 100;
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private Xtext() {}

  /** The xtext of the text's UTF-8 octets. */
  static String encode(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(bytes.length + 8);
    for (byte b : bytes) {
      int c = b & 0xff;
      if (c < '!' || c > '~' || c == '+' || c == '=') {
        out.append('+').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      } else {
        out.append((char) c);
      }
    }
    return out.toString();
  }

  /**
   * The ENVID for an email: its recorded Message-ID without the angle brackets, as xtext; {@code
   * null} when that is longer than {@link #MAX_ENVID} characters (the ENVID is then left out). The
   * bounce parser reads the Message-ID back from it, so this is a contract: don't change it.
   *
   * @param messageId the recorded Message-ID, e.g. {@code <a1b2@crm.example.com>}
   */
  static String envid(String messageId) {
    String bare = messageId;
    if (bare.length() >= 2 && bare.charAt(0) == '<' && bare.charAt(bare.length() - 1) == '>') {
      bare = bare.substring(1, bare.length() - 1);
    }
    String encoded = encode(bare);
    return encoded.length() > MAX_ENVID ? null : encoded;
  }
}
