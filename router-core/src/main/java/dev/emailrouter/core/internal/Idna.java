package dev.emailrouter.core.internal;

import java.text.Normalizer;
import java.util.Objects;

/**
 * Unsupported. Domain names to the ASCII form that goes on the wire (A-labels), by IDNA2008 as UTS
 * #46 applies it with non-transitional processing: {@code straße.de} becomes {@code
 * xn--strae-oqa.de}, not {@code strasse.de} as {@link java.net.IDN} (IDNA2003) has it, a
 * different domain. Stateless and thread-safe.
 *
 * <p>The UTS #46 mapping is approximated without its data tables, soundly for what reaches a
 * mail server: NFKC, then each code point lower-cased on its own (so a capital sigma becomes σ
 * wherever it stands, and İ becomes i plus a combining dot, as UTS #46 maps them), then NFC. The
 * deviation characters ß, ς, ZWJ and ZWNJ are kept, as non-transitional processing keeps them.
 * Each label must then consist of lower-case letters, digits and marks of the IDNA2008 letter-digit
 * categories (Ll, Lo, Lm, Mn, Mc, Nd), the hyphen, and the few context characters IDNA2008 names
 * (ZWJ, ZWNJ, middle dot, Greek keraia, Hebrew geresh and gershayim, katakana middle dot); it must
 * not start with a mark or end or start with a hyphen or a joiner. Not checked: the Bidi rule and
 * the full joiner contexts (which need Unicode data the JDK does not expose), so a few names
 * IDNA2008 refuses pass here; a DNS lookup of such a name simply fails.
 */
public final class Idna {
  private static final int BASE = 36;
  private static final int T_MIN = 1;
  private static final int T_MAX = 26;
  private static final int SKEW = 38;
  private static final int DAMP = 700;
  private static final int INITIAL_BIAS = 72;
  private static final int INITIAL_N = 128;
  private static final String ACE_PREFIX = "xn--";
  private static final int ZWNJ = 0x200C;
  private static final int ZWJ = 0x200D;

  private Idna() {}

  /**
   * The domain with every label an ASCII label: lower-cased as it is when already ASCII (an
   * {@code xn--} label is checked to decode to a valid name), else mapped and Punycode-encoded.
   * An address literal in brackets ({@code [192.0.2.1]}) is returned as it is.
   *
   * @param domain the domain, labels separated by any of the dots U+002E, U+3002, U+FF0E, U+FF61
   * @return the ASCII domain, lower case
   * @throws IllegalArgumentException naming the domain and what is wrong with it (an empty label, a
   *     label over 63 octets, a name over 253, a hyphen where none may stand, a character a domain
   *     name can't hold, a broken {@code xn--} label)
   */
  public static String toAscii(String domain) {
    Objects.requireNonNull(domain, "domain");
    if (domain.length() > 2 && domain.startsWith("[") && domain.endsWith("]")) {
      return domain;
    }
    String mapped = map(domain.replace('\u3002', '.').replace('\uFF0E', '.').replace('\uFF61', '.'), domain);
    StringBuilder out = new StringBuilder(mapped.length() + 16);
    int start = 0;
    while (true) {
      int dot = mapped.indexOf('.', start);
      String label = dot < 0 ? mapped.substring(start) : mapped.substring(start, dot);
      if (out.length() > 0) {
        out.append('.');
      }
      out.append(asciiLabel(label, domain));
      if (dot < 0) {
        break;
      }
      start = dot + 1;
    }
    if (out.length() > 253) {
      throw invalid(domain, "it is " + out.length() + " octets long in ASCII, more than the 253 a domain name may have");
    }
    return out.toString();
  }

  /**
   * {@link #toAscii(String)}, or a fallback where the domain is no valid domain name.
   *
   * @param domain the domain
   * @param fallback what to return for an invalid domain; may be {@code null}
   * @return the ASCII domain, or {@code fallback}
   */
  public static String toAsciiOrElse(String domain, String fallback) {
    try {
      return toAscii(domain);
    } catch (IllegalArgumentException e) {
      return fallback;
    }
  }

  /** UTS #46 mapping, approximated: NFKC, simple lower case per code point, NFC. */
  private static String map(String domain, String original) {
    String nfkc = Normalizer.normalize(domain, Normalizer.Form.NFKC);
    StringBuilder lower = new StringBuilder(nfkc.length());
    for (int i = 0; i < nfkc.length(); ) {
      int cp = nfkc.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == 0x130) {
        lower.append("i\u0307"); // UTS #46 maps İ so; Character.toLowerCase drops the dot
      } else {
        lower.appendCodePoint(Character.toLowerCase(cp));
      }
    }
    String mapped = Normalizer.normalize(lower, Normalizer.Form.NFC);
    if (mapped.isEmpty()) {
      throw invalid(original, "it is empty");
    }
    return mapped;
  }

  private static String asciiLabel(String label, String domain) {
    if (label.isEmpty()) {
      throw invalid(domain, "it has an empty label (two dots in a row, or a dot at either end)");
    }
    String ascii;
    if (isAscii(label)) {
      checkLdh(label, domain);
      if (label.startsWith(ACE_PREFIX)) {
        checkAceLabel(label, domain);
      }
      ascii = label;
    } else {
      checkUnicodeLabel(label, domain);
      ascii = ACE_PREFIX + encode(label);
    }
    if (ascii.length() > 63) {
      throw invalid(domain, "label " + Checks.quote(label) + " is " + ascii.length()
          + " octets long in ASCII, more than the 63 a label may have");
    }
    return ascii;
  }

  private static void checkLdh(String label, String domain) {
    for (int i = 0; i < label.length(); i++) {
      char c = label.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        throw invalid(domain, "label " + Checks.quote(label) + " holds " + describe(c)
            + "; a domain name holds letters, digits and hyphens only");
      }
    }
    checkHyphens(label, domain);
    if (label.length() >= 4 && label.charAt(2) == '-' && label.charAt(3) == '-' && !label.startsWith(ACE_PREFIX)) {
      throw invalid(domain, "label " + Checks.quote(label) + " has \"--\" in its third and fourth places, which"
          + " only xn-- labels may have");
    }
  }

  private static void checkHyphens(String label, String domain) {
    if (label.startsWith("-") || label.endsWith("-")) {
      throw invalid(domain, "label " + Checks.quote(label) + " starts or ends with a hyphen");
    }
  }

  /** An xn-- label must decode to a valid, non-ASCII label that encodes back to itself. */
  private static void checkAceLabel(String label, String domain) {
    String unicode;
    try {
      unicode = decode(label.substring(ACE_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      throw invalid(domain, "label " + Checks.quote(label) + " is no valid Punycode: " + e.getMessage());
    }
    if (isAscii(unicode)) {
      throw invalid(domain, "label " + Checks.quote(label) + " decodes to the ASCII " + Checks.quote(unicode)
          + ", which is written as it is, without xn--");
    }
    checkUnicodeLabel(unicode, domain);
    if (!map(unicode, domain).equals(unicode)) {
      throw invalid(domain, "label " + Checks.quote(label) + " decodes to " + Checks.quote(unicode)
          + ", which is not in its normal form (lower case, NFC)");
    }
  }

  private static void checkUnicodeLabel(String label, String domain) {
    checkHyphens(label, domain);
    if (label.length() >= 4 && label.charAt(2) == '-' && label.charAt(3) == '-') {
      throw invalid(domain, "label " + Checks.quote(label) + " has \"--\" in its third and fourth places");
    }
    int first = label.codePointAt(0);
    int type = Character.getType(first);
    if (type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
        || type == Character.ENCLOSING_MARK) {
      throw invalid(domain, "label " + Checks.quote(label) + " starts with a combining mark");
    }
    int last = label.codePointBefore(label.length());
    if (first == ZWJ || first == ZWNJ || last == ZWJ || last == ZWNJ) {
      throw invalid(domain, "label " + Checks.quote(label) + " starts or ends with a zero-width joiner");
    }
    for (int i = 0; i < label.length(); ) {
      int cp = label.codePointAt(i);
      i += Character.charCount(cp);
      if (!valid(cp)) {
        throw invalid(domain, "label " + Checks.quote(label) + " holds " + describe(cp)
            + ", which a domain name can't hold");
      }
    }
  }

  private static boolean valid(int cp) {
    if (cp < 0x80) {
      return (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') || cp == '-';
    }
    return switch (Character.getType(cp)) {
      case Character.LOWERCASE_LETTER, Character.OTHER_LETTER, Character.MODIFIER_LETTER, Character.NON_SPACING_MARK,
          Character.COMBINING_SPACING_MARK, Character.DECIMAL_DIGIT_NUMBER -> true;
      // IDNA2008's CONTEXTJ and CONTEXTO characters outside those categories.
      default -> cp == ZWJ || cp == ZWNJ || cp == 0x00B7 || cp == 0x0375 || cp == 0x05F3 || cp == 0x05F4
          || cp == 0x30FB;
    };
  }

  private static String describe(int cp) {
    return cp >= 0x20 && cp < 0x7f ? "'" + (char) cp + "'" : String.format("U+%04X", cp);
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  private static IllegalArgumentException invalid(String domain, String why) {
    return new IllegalArgumentException("domain " + Checks.quote(domain) + " is not a valid domain name: " + why);
  }

  /**
   * RFC 3492 Punycode of a label: its ASCII characters, a delimiter, then the others as
   * generalized variable-length integers.
   *
   * @param input the label, any code points
   * @return the encoding, without the xn-- prefix
   */
  static String encode(String input) {
    int[] cps = input.codePoints().toArray();
    StringBuilder out = new StringBuilder(cps.length + 8);
    for (int cp : cps) {
      if (cp < 0x80) {
        out.append((char) cp);
      }
    }
    int basic = out.length();
    int handled = basic;
    if (basic > 0) {
      out.append('-');
    }
    int n = INITIAL_N;
    long delta = 0;
    int bias = INITIAL_BIAS;
    while (handled < cps.length) {
      int m = Integer.MAX_VALUE;
      for (int cp : cps) {
        if (cp >= n && cp < m) {
          m = cp;
        }
      }
      delta += (long) (m - n) * (handled + 1);
      n = m;
      for (int cp : cps) {
        if (cp < n) {
          delta++;
        } else if (cp == n) {
          long q = delta;
          for (int k = BASE; ; k += BASE) {
            int t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
            if (q < t) {
              break;
            }
            out.append(digit((int) (t + (q - t) % (BASE - t))));
            q = (q - t) / (BASE - t);
          }
          out.append(digit((int) q));
          bias = adapt(delta, handled + 1, handled == basic);
          delta = 0;
          handled++;
        }
      }
      delta++;
      n++;
      if (delta > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("label too long to encode");
      }
    }
    return out.toString();
  }

  /**
   * Decodes RFC 3492 Punycode.
   *
   * @param input the encoding, without the xn-- prefix
   * @return the label
   * @throws IllegalArgumentException if it is no valid Punycode
   */
  static String decode(String input) {
    int delimiter = input.lastIndexOf('-');
    StringBuilder basic = new StringBuilder();
    if (delimiter > 0) {
      for (int i = 0; i < delimiter; i++) {
        char c = input.charAt(i);
        if (c >= 0x80) {
          throw new IllegalArgumentException("non-ASCII character before the delimiter");
        }
        basic.append(c);
      }
    }
    int[] out = basic.codePoints().toArray();
    int length = out.length;
    int[] buffer = new int[input.length() + length + 1];
    System.arraycopy(out, 0, buffer, 0, length);
    int n = INITIAL_N;
    long i = 0;
    int bias = INITIAL_BIAS;
    int in = delimiter > 0 ? delimiter + 1 : 0;
    while (in < input.length()) {
      long oldi = i;
      long w = 1;
      for (int k = BASE; ; k += BASE) {
        if (in >= input.length()) {
          throw new IllegalArgumentException("it ends in the middle of a number");
        }
        int digit = digitValue(input.charAt(in++));
        i += digit * w;
        int t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
        if (i > Integer.MAX_VALUE) {
          throw new IllegalArgumentException("a number overflows");
        }
        if (digit < t) {
          break;
        }
        w *= BASE - t;
        if (w > Integer.MAX_VALUE) {
          throw new IllegalArgumentException("a number overflows");
        }
      }
      bias = adapt(i - oldi, length + 1, oldi == 0);
      n += (int) (i / (length + 1));
      i %= length + 1;
      if (n > Character.MAX_CODE_POINT || (n >= 0xD800 && n <= 0xDFFF) || n < INITIAL_N) {
        throw new IllegalArgumentException("it encodes an invalid code point");
      }
      if (length == buffer.length) {
        throw new IllegalArgumentException("it is inconsistent");
      }
      System.arraycopy(buffer, (int) i, buffer, (int) i + 1, length - (int) i);
      buffer[(int) i] = n;
      length++;
      i++;
    }
    return new String(buffer, 0, length);
  }

  private static int adapt(long delta, int points, boolean first) {
    delta = first ? delta / DAMP : delta / 2;
    delta += delta / points;
    int k = 0;
    while (delta > ((BASE - T_MIN) * T_MAX) / 2) {
      delta /= BASE - T_MIN;
      k += BASE;
    }
    return (int) (k + (BASE - T_MIN + 1) * delta / (delta + SKEW));
  }

  private static char digit(int d) {
    return (char) (d < 26 ? 'a' + d : '0' + d - 26);
  }

  private static int digitValue(char c) {
    if (c >= 'a' && c <= 'z') {
      return c - 'a';
    }
    if (c >= 'A' && c <= 'Z') {
      return c - 'A';
    }
    if (c >= '0' && c <= '9') {
      return c - '0' + 26;
    }
    throw new IllegalArgumentException("'" + c + "' is no Punycode digit");
  }
}
