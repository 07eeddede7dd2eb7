package dev.emailrouter.support.internal.mime;

import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeUtility;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * An address whose display name is not ASCII, its encoded form (RFC 2047) made here rather than by
 * Jakarta Mail: {@link MimeUtility#encodeWord(String, String, String)} looks its stream provider up
 * through a {@link java.util.ServiceLoader} for every encoded word (jakartaee/mail-api#861),
 * which cost more than the rest of composing an email with such a name. The encoded words are the
 * ones Jakarta writes for UTF-8 with its default settings: Q when ASCII characters outnumber the
 * others, else B; a word split in halves (never between a surrogate pair) until each fits 75
 * characters; words separated by a space. Immutable once made.
 */
final class PersonalAddress extends InternetAddress {
  private static final long serialVersionUID = 1L;
  /** Characters Jakarta's Q encoder encodes in a phrase, besides controls, space and non-ASCII. */
  private static final String WORD_SPECIALS = "=_?\"#$%&'(),.:;<>@[\\]^`{|}~";
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();
  /** What an encoded word leaves for the encoded text: 75 less "=?UTF-8?X?" and "?=". */
  private static final int AVAILABLE = 68 - "UTF-8".length();

  /**
   * An address with a display name.
   *
   * @param address the address, its domain in A-labels
   * @param personal the display name, with a character that is not ASCII
   */
  PersonalAddress(String address, String personal) {
    this.address = address;
    this.personal = personal;
    this.encodedPersonal = encode(personal);
  }

  /** Whether Jakarta Mail writes the name as it is (no encoded word): no character it counts as not ASCII. */
  static boolean isAscii(String personal) {
    for (int i = 0; i < personal.length(); i++) {
      if (nonAscii(personal.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean nonAscii(char c) {
    return c >= 0x7f || (c < ' ' && c != '\r' && c != '\n' && c != '\t');
  }

  /** The name as UTF-8 encoded words, as {@code MimeUtility.encodeWord(name, "UTF-8", null)} has it. */
  static String encode(String name) {
    int ascii = 0;
    int other = 0;
    for (int i = 0; i < name.length(); i++) {
      if (nonAscii(name.charAt(i))) {
        other++;
      } else {
        ascii++;
      }
    }
    boolean base64 = other >= ascii;
    StringBuilder out = new StringBuilder(name.length() * 3);
    encode(name, base64, base64 ? "=?UTF-8?B?" : "=?UTF-8?Q?", true, out);
    return out.toString();
  }

  private static void encode(String text, boolean base64, String prefix, boolean first, StringBuilder out) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int length = base64 ? (bytes.length + 2) / 3 * 4 : qLength(bytes);
    int size = text.length();
    if (length > AVAILABLE && size > 1) {
      int split = size / 2;
      if (Character.isHighSurrogate(text.charAt(split - 1))) {
        split--;
      }
      if (split > 0) {
        encode(text.substring(0, split), base64, prefix, first, out);
      }
      encode(text.substring(split, size), base64, prefix, false, out);
      return;
    }
    if (!first) {
      out.append(' ');
    }
    out.append(prefix);
    if (base64) {
      out.append(Base64.getEncoder().encodeToString(bytes));
    } else {
      for (byte b : bytes) {
        int c = b & 0xff;
        if (c == ' ') {
          out.append('_');
        } else if (qEncoded(c)) {
          out.append('=').append(HEX[c >> 4]).append(HEX[c & 0xf]);
        } else {
          out.append((char) c);
        }
      }
    }
    out.append("?=");
  }

  private static boolean qEncoded(int c) {
    return c < ' ' || c >= 0x7f || WORD_SPECIALS.indexOf(c) >= 0;
  }

  private static int qLength(byte[] bytes) {
    int length = 0;
    for (byte b : bytes) {
      length += qEncoded(b & 0xff) ? 3 : 1;
    }
    return length;
  }
}
