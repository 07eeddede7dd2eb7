package dev.emailrouter.core;

/**
 * Decodes UTF-7 (RFC 2152), which the JDK has no charset for, yet some old mailers still label
 * subjects and bodies with. Lenient: bytes that are not 7-bit are kept as Latin-1 characters, a
 * shifted sequence ends at the first character outside the base64 alphabet, and an unpaired
 * surrogate becomes U+FFFD. Stateless and thread-safe.
 */
final class Utf7 {
  private Utf7() {}

  /** Whether a MIME charset name means UTF-7 (with the aliases mailers have used for it). */
  static boolean isUtf7(String charset) {
    String c = charset.strip().toLowerCase(java.util.Locale.ROOT);
    return c.equals("utf-7") || c.equals("utf7") || c.equals("unicode-1-1-utf-7") || c.equals("x-unicode-2-0-utf-7")
        || c.equals("csunicode11utf7");
  }

  /** Decodes UTF-7 bytes; never fails. */
  static String decode(byte[] bytes) {
    StringBuilder out = new StringBuilder(bytes.length);
    int i = 0;
    while (i < bytes.length) {
      int b = bytes[i] & 0xff;
      if (b != '+') {
        out.append((char) b);
        i++;
        continue;
      }
      i++;
      if (i < bytes.length && bytes[i] == '-') {
        out.append('+'); // "+-" is a literal plus sign
        i++;
        continue;
      }
      int bits = 0;
      int bitCount = 0;
      while (i < bytes.length) {
        int c = bytes[i] & 0xff;
        int v = HeaderText.base64Value(c);
        if (v < 0) {
          break;
        }
        bits = (bits << 6) | v;
        bitCount += 6;
        if (bitCount >= 16) {
          bitCount -= 16;
          out.append((char) ((bits >>> bitCount) & 0xffff));
        }
        i++;
      }
      if (i < bytes.length && bytes[i] == '-') {
        i++; // the '-' that ends a shifted sequence is absorbed; any other character is itself
      }
    }
    return withoutLoneSurrogates(out);
  }

  private static String withoutLoneSurrogates(StringBuilder s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        s.setCharAt(i, '\uFFFD');
      }
    }
    return s.toString();
  }
}
