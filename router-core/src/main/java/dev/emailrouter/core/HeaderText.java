package dev.emailrouter.core;

import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decodes header text the way mail clients do, more leniently than Jakarta Mail's {@code
 * MimeUtility.decodeText}: RFC 2047 encoded words anywhere in the text, adjacent words of one
 * charset and encoding decoded together (a character split between two words survives), broken
 * base64 decoded as far as it goes, UTF-7, and control characters replaced. Stateless and
 * thread-safe.
 */
final class HeaderText {
  /** charset (with an optional RFC 2231 language after '*'), encoding, text. */
  private static final Pattern WORD = Pattern.compile("=\\?([^?\\s]+)\\?([bBqQ])\\?([^?]*)\\?=");
  private static final Pattern FOLD = Pattern.compile("\r?\n(?=[ \t])");
  private static final int[] BASE64 = new int[128];

  static {
    java.util.Arrays.fill(BASE64, -1);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < alphabet.length(); i++) {
      BASE64[alphabet.charAt(i)] = i;
    }
  }

  private HeaderText() {}

  /**
   * An unstructured header value (a subject) as the store gets it: unfolded, encoded words
   * decoded, control characters replaced, surrounding spaces removed.
   */
  static String unstructured(String raw) {
    String unfolded = raw.indexOf('\n') < 0 ? raw : FOLD.matcher(raw).replaceAll("");
    return clean(decodeWords(unfolded)).strip();
  }

  /**
   * Replaces control characters with spaces, one space per run: C0 (CR and LF above all, which
   * would let a decoded value inject a header into the CRM's reply), TAB (an API value such as
   * {@code EmailAddress} refuses every ISO control character, and a one-line field has no use
   * for it), DEL, C1, and the Unicode line and paragraph separators U+2028 and U+2029.
   */
  static String clean(String s) {
    int i = 0;
    while (i < s.length() && !isControl(s.charAt(i))) {
      i++;
    }
    if (i == s.length()) {
      return s;
    }
    StringBuilder out = new StringBuilder(s.length()).append(s, 0, i);
    boolean inRun = false;
    for (; i < s.length(); i++) {
      char c = s.charAt(i);
      if (isControl(c)) {
        if (!inRun) {
          out.append(' ');
        }
        inRun = true;
      } else {
        out.append(c);
        inRun = false;
      }
    }
    return out.toString();
  }

  private static boolean isControl(char c) {
    return Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
  }

  /**
   * Decodes the RFC 2047 encoded words in a text, leaving the rest as it is. Whitespace between
   * two encoded words is dropped (RFC 2047 §6.2); the bytes of adjacent words with the same
   * charset and encoding are joined before they are decoded, so a multibyte character split
   * between them decodes right. A word of which nothing decodes, and a run of words in an unknown
   * charset, stay as written.
   */
  static String decodeWords(String text) {
    if (text.indexOf("=?") < 0) {
      return text;
    }
    List<Word> words = new ArrayList<>();
    Matcher m = WORD.matcher(text);
    while (m.find()) {
      String charset = m.group(1);
      int star = charset.indexOf('*');
      if (star >= 0) {
        charset = charset.substring(0, star); // RFC 2231 §5 language tag
      }
      char encoding = Character.toUpperCase(m.group(2).charAt(0));
      byte[] bytes = encoding == 'B' ? base64(m.group(3)) : quotedPrintable(m.group(3));
      boolean decodable = bytes.length > 0 || m.group(3).isEmpty();
      words.add(new Word(m.start(), m.end(), charset, encoding, bytes, decodable));
    }
    StringBuilder out = new StringBuilder(text.length());
    int copied = 0; // text before this index is in out
    int i = 0;
    while (i < words.size()) {
      Word first = words.get(i);
      out.append(text, copied, first.start);
      if (!first.decodable) {
        out.append(text, first.start, first.end); // nothing in it decodes: kept as written
        copied = first.end;
        i++;
        continue;
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      bytes.writeBytes(first.bytes);
      int j = i + 1;
      while (j < words.size() && words.get(j).joins(first) && isBlank(text, words.get(j - 1).end, words.get(j).start)) {
        bytes.writeBytes(words.get(j).bytes);
        j++;
      }
      int runEnd = words.get(j - 1).end;
      String decoded = decode(bytes.toByteArray(), first.charset);
      out.append(decoded != null ? decoded : text.substring(first.start, runEnd));
      copied = runEnd;
      if (decoded != null && j < words.size() && words.get(j).decodable && isBlank(text, runEnd, words.get(j).start)) {
        copied = words.get(j).start; // whitespace between two decoded words is no text
      }
      i = j;
    }
    out.append(text, copied, text.length());
    return out.toString();
  }

  private static boolean isBlank(String text, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        return false;
      }
    }
    return true;
  }

  /** One encoded word: where it is, its charset and encoding, and its bytes. */
  private record Word(int start, int end, String charset, char encoding, byte[] bytes, boolean decodable) {
    boolean joins(Word first) {
      return decodable && encoding == first.encoding && charset.equalsIgnoreCase(first.charset);
    }
  }

  /**
   * Decodes bytes in a MIME charset, with replacement characters for malformed input.
   *
   * @return the text, or {@code null} when the charset is unknown
   */
  static String decode(byte[] bytes, String charset) {
    if (Utf7.isUtf7(charset)) {
      return Utf7.decode(bytes);
    }
    Charset cs = charset(charset);
    if (cs == null) {
      return null;
    }
    try {
      // The String constructor replaces malformed input as a REPLACE decoder would, on the JDK's
      // fast paths (a text body is decoded here too, not only header words).
      return new String(bytes, cs);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The JDK charset for a MIME charset name (with MIME's aliases), or {@code null}. */
  static Charset charset(String name) {
    try {
      return Charset.forName(MimeUtility.javaCharset(name.strip()));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * Base64, leniently: characters outside the alphabet are skipped, and a missing or early
   * padding only ends a group, so as many bytes as the text holds are kept.
   */
  static byte[] base64(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(text.length() * 3 / 4 + 2);
    int bits = 0;
    int count = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '=') {
        partial(out, bits, count);
        bits = 0;
        count = 0;
        continue;
      }
      int v = base64Value(c);
      if (v < 0) {
        continue;
      }
      bits = (bits << 6) | v;
      if (++count == 4) {
        out.write(bits >>> 16);
        out.write(bits >>> 8);
        out.write(bits);
        bits = 0;
        count = 0;
      }
    }
    partial(out, bits, count);
    return out.toByteArray();
  }

  /** The 6-bit value of a base64 character (RFC 4648 alphabet, as UTF-7 uses too), or -1. */
  static int base64Value(int c) {
    return c >= 0 && c < 128 ? BASE64[c] : -1;
  }

  /** The whole bytes in an unfinished group of 2 or 3 characters; a lone character holds none. */
  private static void partial(ByteArrayOutputStream out, int bits, int count) {
    if (count == 2) {
      out.write(bits >>> 4);
    } else if (count == 3) {
      out.write(bits >>> 10);
      out.write(bits >>> 2);
    }
  }

  /** RFC 2047 "Q": '_' is a space, "=XX" a byte; a '=' that starts no hex pair stays as it is. */
  private static byte[] quotedPrintable(String text) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '_') {
        out.write(' ');
      } else if (c == '=' && i + 2 < text.length() && hex(text.charAt(i + 1)) >= 0 && hex(text.charAt(i + 2)) >= 0) {
        out.write(hex(text.charAt(i + 1)) * 16 + hex(text.charAt(i + 2)));
        i += 2;
      } else if (c < 0x80) {
        out.write(c);
      } else {
        out.writeBytes(String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return out.toByteArray();
  }

  private static int hex(char c) {
    return Character.digit(c, 16);
  }
}
