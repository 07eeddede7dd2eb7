package dev.emailrouter.support.internal;

import java.text.Normalizer;
import java.util.Objects;

/**
 * Unsupported. Domain names to the ASCII form that goes on the wire (A-labels), by IDNA2008 as UTS
 * #46 applies it with non-transitional processing: {@code straße.de} becomes {@code
 * xn--strae-oqa.de}, not {@code strasse.de} as {@link java.net.IDN} (IDNA2003) has it, a
 * different domain. Stateless and thread-safe.
 *
 * <p>The UTS #46 mapping is approximated without its data tables, soundly for what reaches a
 * mail server: the characters it ignores (soft hyphen, zero-width space, variation selectors) dropped,
 * NFKC, then each code point case folded on its own (so a capital sigma becomes σ wherever it
 * stands, İ becomes i plus a combining dot, Cherokee keeps its capitals, as UTS #46 maps them),
 * then NFC. The
 * deviation characters ß, ς, ZWJ and ZWNJ are kept, as non-transitional processing keeps them.
 * Each label must then consist of lower-case letters, digits and marks of the IDNA2008 letter-digit
 * categories (Ll, Lo, Lm, Mn, Mc, Nd), the hyphen, and the few context characters IDNA2008 names
 * (ZWJ, ZWNJ, middle dot, Greek keraia, Hebrew geresh and gershayim, katakana middle dot, Arabic-Indic
 * digits); it must not start with a mark or start or end with a hyphen, and the context characters must
 * stand where RFC 5892 allows them (ZWJ after a virama; ZWNJ after a virama or between joining
 * letters, the latter approximated by script, as the JDK has no joining types); in a name with a
 * right-to-left label, every label must keep the Bidi rule (RFC 5893). The few names IDNA2008
 * refuses that pass here fail at DNS; no valid name is refused.
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
  /** What case folding makes of U+1C80..U+1C88, variant forms of Cyrillic small letters. */
  private static final String CYRILLIC_EXTENDED_C_FOLDED = "\u0432\u0434\u043E\u0441\u0442\u0442\u044A\u0463\uA64B";

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
    if (domain.isEmpty()) {
      throw invalid(domain, "it is empty");
    }
    if (plainLdh(domain)) {
      return domain;
    }
    String[] labels = domain.replace('\u3002', '.').replace('\uFF0E', '.').replace('\uFF61', '.').split("\\.", -1);
    String[] unicode = new String[labels.length];
    boolean bidi = false;
    for (int i = 0; i < labels.length; i++) {
      String label = map(labels[i]);
      if (label.indexOf('.') >= 0) {
        throw invalid(domain, "label " + Checks.quote(labels[i]) + " holds a character that stands for a dot");
      }
      labels[i] = label;
      unicode[i] = label.startsWith(ACE_PREFIX) && isAscii(label) ? decodedOrSelf(label) : label;
      bidi |= hasRtl(unicode[i]);
    }
    StringBuilder out = new StringBuilder(domain.length() + 16);
    for (int i = 0; i < labels.length; i++) {
      if (i > 0) {
        out.append('.');
      }
      out.append(asciiLabel(labels[i], domain));
      if (bidi) {
        checkBidi(unicode[i], domain);
      }
    }
    if (out.length() > 253) {
      throw invalid(domain, "it is " + out.length() + " octets long in ASCII, more than the 253 a domain name may have");
    }
    return out.toString();
  }

  /**
   * Whether the domain is already its own ASCII form, as nearly every domain is: lower-case
   * letters, digits, hyphens and dots only, every label 1 to 63 long without a hyphen at either
   * end, no "--" anywhere (so no {@code xn--} label to check), at most 253 long. Checked in one
   * pass without the mapping, splitting and normalizing the general path does for every address
   * of every email; anything else takes that path (and its error messages).
   */
  private static boolean plainLdh(String domain) {
    int n = domain.length();
    if (n > 253) {
      return false;
    }
    int labelStart = 0;
    char previous = '.';
    for (int i = 0; i < n; i++) {
      char c = domain.charAt(i);
      if (c == '.') {
        if (i == labelStart || i - labelStart > 63 || previous == '-') {
          return false;
        }
        labelStart = i + 1;
      } else if (c == '-') {
        if (previous == '.' || previous == '-') {
          return false;
        }
      } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
        return false;
      }
      previous = c;
    }
    return n > labelStart && n - labelStart <= 63 && previous != '-';
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

  /**
   * UTS #46 mapping, approximated: the characters it ignores dropped, NFKC, case folded per code
   * point (simple lower case, except where case folding differs: İ, Cherokee), NFC.
   */
  private static String map(String domain) {
    StringBuilder kept = new StringBuilder(domain.length());
    for (int i = 0; i < domain.length(); ) {
      int cp = domain.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == 0x03F2) {
        kept.append('\u03C3'); // UTS #46 maps the lunate sigma to σ; NFKC would make it the final ς
      } else if (cp == 0x0345) {
        kept.append('\u03B9'); // case folding makes the iota subscript ι, where it stands
      } else if (cp >= 0x1F80 && cp <= 0x1FFC) {
        // Greek letters with a precomposed iota subscript fold to the letter and ι.
        String nfd = Normalizer.normalize(new String(Character.toChars(cp)), Normalizer.Form.NFD);
        kept.append(nfd.indexOf('\u0345') >= 0 ? nfd.replace('\u0345', '\u03B9') : nfd);
      } else if (!ignored(cp)) {
        kept.appendCodePoint(cp);
      }
    }
    String nfkc = Normalizer.normalize(kept, Normalizer.Form.NFKC);
    StringBuilder lower = new StringBuilder(nfkc.length());
    for (int i = 0; i < nfkc.length(); ) {
      int cp = nfkc.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == 0x130) {
        lower.append("i\u0307"); // UTS #46 maps İ so; Character.toLowerCase drops the dot
      } else if (cp >= 0x13A0 && cp <= 0x13F5) {
        lower.appendCodePoint(cp); // Cherokee folds to its capitals, which stay
      } else if (cp >= 0x13F8 && cp <= 0x13FD) {
        lower.appendCodePoint(cp - 8);
      } else if (cp >= 0xAB70 && cp <= 0xABBF) {
        lower.appendCodePoint(cp - 0xAB70 + 0x13A0);
      } else if (cp >= 0x1C80 && cp <= 0x1C88) {
        lower.append(CYRILLIC_EXTENDED_C_FOLDED.charAt(cp - 0x1C80)); // lower case already, but folded
      } else {
        lower.appendCodePoint(Character.toLowerCase(cp));
      }
    }
    return Normalizer.normalize(lower, Normalizer.Form.NFC);
  }

  /**
   * The code points UTS #46 maps to nothing: soft hyphen, invisible operators and fillers,
   * deprecated format characters, variation selectors.
   */
  private static boolean ignored(int cp) {
    return cp == 0x00AD || cp == 0x034F || cp == 0x115F || cp == 0x1160 || cp == 0x17B4 || cp == 0x17B5
        || (cp >= 0x180B && cp <= 0x180F) || cp == 0x200B || (cp >= 0x2060 && cp <= 0x2064)
        || (cp >= 0x206A && cp <= 0x206F) || cp == 0x3164 || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF
        || cp == 0xFFA0 || (cp >= 0x1BCA0 && cp <= 0x1BCA3) || (cp >= 0xE0100 && cp <= 0xE01EF);
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
    if (!map(unicode).equals(unicode)) {
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
    for (int i = 0; i < label.length(); ) {
      int cp = label.codePointAt(i);
      if (!valid(cp)) {
        throw invalid(domain, "label " + Checks.quote(label) + " holds " + describe(cp)
            + ", which a domain name can't hold");
      }
      if (!inContext(label, i, cp)) {
        throw invalid(domain, "label " + Checks.quote(label) + " holds " + describe(cp)
            + " where IDNA2008 does not allow it (RFC 5892 appendix A)");
      }
      i += Character.charCount(cp);
    }
  }

  /** The RFC 5892 contextual rules of the CONTEXTO characters this class lets through. */
  private static boolean inContext(String label, int at, int cp) {
    switch (cp) {
      case 0x00B7 -> {
        // Middle dot: only between two l (Catalan l·l).
        return at > 0 && label.charAt(at - 1) == 'l' && at + 1 < label.length() && label.charAt(at + 1) == 'l';
      }
      case 0x0375 -> {
        // Greek keraia: only before a Greek character.
        return at + 1 < label.length()
            && Character.UnicodeScript.of(label.codePointAt(at + 1)) == Character.UnicodeScript.GREEK;
      }
      case 0x05F3, 0x05F4 -> {
        // Hebrew geresh and gershayim: only after a Hebrew character.
        return at > 0 && Character.UnicodeScript.of(label.codePointBefore(at)) == Character.UnicodeScript.HEBREW;
      }
      case 0x0660, 0x0661, 0x0662, 0x0663, 0x0664, 0x0665, 0x0666, 0x0667, 0x0668, 0x0669 -> {
        // Arabic-Indic digits: not in a label with extended Arabic-Indic digits.
        return label.codePoints().noneMatch(c -> c >= 0x06F0 && c <= 0x06F9);
      }
      case 0x30FB -> {
        // Katakana middle dot: only in a label with Hiragana, Katakana or Han.
        return label.codePoints().anyMatch(c -> c != 0x30FB && switch (Character.UnicodeScript.of(c)) {
          case HIRAGANA, KATAKANA, HAN -> true;
          default -> false;
        });
      }
      case ZWJ -> {
        // Only after a virama (RFC 5892 A.2).
        return at > 0 && isVirama(label.codePointBefore(at));
      }
      case ZWNJ -> {
        // After a virama, or between joining letters (RFC 5892 A.1), approximated: see zwnjJoins.
        return at > 0 && (isVirama(label.codePointBefore(at)) || zwnjJoins(label, at));
      }
      default -> {
        return true;
      }
    }
  }

  /**
   * Whether the canonical combining class is 9 (virama), found with the JDK's normalizer, which
   * has the classes but does not expose them: canonical ordering puts a mark after one of a lower
   * class, so a virama moves behind a class-10 mark and in front of a class-8 one.
   */
  private static boolean isVirama(int cp) {
    String mark = new String(Character.toChars(cp));
    return Normalizer.normalize("a" + mark + "\u3099", Normalizer.Form.NFD).equals("a\u3099" + mark)
        && Normalizer.normalize("a\u05B0" + mark, Normalizer.Form.NFD).equals("a" + mark + "\u05B0");
  }

  /**
   * The joining context of RFC 5892 A.1 without the joining-type data the JDK lacks: skipping
   * marks, a letter of a joining script stands before ZWNJ (not one of the Arabic or Syriac letters
   * that join only to the right) and a letter of a joining script after it. Names it takes that
   * the exact rule refuses are rare and fail at DNS; none it refuses is valid.
   */
  private static boolean zwnjJoins(String label, int at) {
    int before = at;
    int prev = -1;
    while (before > 0) {
      int c = label.codePointBefore(before);
      before -= Character.charCount(c);
      if (!transparent(c)) {
        prev = c;
        break;
      }
    }
    int after = at + 1;
    int next = -1;
    while (after < label.length()) {
      int c = label.codePointAt(after);
      after += Character.charCount(c);
      if (!transparent(c)) {
        next = c;
        break;
      }
    }
    return prev >= 0 && next >= 0 && joiningScript(prev) && !joinsRightOnly(prev) && joiningScript(next);
  }

  private static boolean transparent(int cp) {
    int type = Character.getType(cp);
    return type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK || type == Character.FORMAT;
  }

  private static boolean joiningScript(int cp) {
    return switch (Character.UnicodeScript.of(cp)) {
      case ARABIC, SYRIAC, NKO, MONGOLIAN, MANDAIC, MANICHAEAN, PSALTER_PAHLAVI, PHAGS_PA, ADLAM, HANIFI_ROHINGYA,
          SOGDIAN, CHORASMIAN -> true;
      default -> false;
    };
  }

  /** Arabic and Syriac letters of joining type R (or U), which can't stand before a ZWNJ. */
  private static boolean joinsRightOnly(int cp) {
    return cp == 0x0621 || (cp >= 0x0622 && cp <= 0x0625) || cp == 0x0627 || cp == 0x0629
        || (cp >= 0x062F && cp <= 0x0632) || cp == 0x0648 || (cp >= 0x0671 && cp <= 0x0677)
        || (cp >= 0x0688 && cp <= 0x0699) || cp == 0x06C0 || (cp >= 0x06C3 && cp <= 0x06CB) || cp == 0x06CD
        || cp == 0x06CF || cp == 0x06D2 || cp == 0x06D3 || cp == 0x06D5 || cp == 0x06EE || cp == 0x06EF
        || (cp >= 0x0759 && cp <= 0x075B) || cp == 0x076B || cp == 0x076C || cp == 0x0771 || cp == 0x0773
        || cp == 0x0774 || cp == 0x0778 || cp == 0x0779 || cp == 0x0710 || (cp >= 0x0715 && cp <= 0x0719)
        || cp == 0x071E || cp == 0x0728 || cp == 0x072A || cp == 0x072C || cp == 0x072F || cp == 0x074D;
  }

  private static String decodedOrSelf(String aceLabel) {
    try {
      return decode(aceLabel.substring(ACE_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      return aceLabel; // reported as such by asciiLabel
    }
  }

  private static boolean hasRtl(String label) {
    return label.codePoints().anyMatch(c -> {
      byte d = Character.getDirectionality(c);
      return d == Character.DIRECTIONALITY_RIGHT_TO_LEFT || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC
          || d == Character.DIRECTIONALITY_ARABIC_NUMBER;
    });
  }

  /** The Bidi rule of RFC 5893 section 2, for every label of a name with a right-to-left label. */
  private static void checkBidi(String label, String domain) {
    int[] cps = label.codePoints().toArray();
    if (cps.length == 0) {
      return;
    }
    byte first = Character.getDirectionality(cps[0]);
    boolean rtl = first == Character.DIRECTIONALITY_RIGHT_TO_LEFT
        || first == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC;
    if (!rtl && first != Character.DIRECTIONALITY_LEFT_TO_RIGHT) {
      throw bidi(domain, label, "starts with a character of neither direction");
    }
    boolean en = false;
    boolean an = false;
    int last = cps.length - 1;
    while (last > 0 && Character.getDirectionality(cps[last]) == Character.DIRECTIONALITY_NONSPACING_MARK) {
      last--;
    }
    for (int i = 0; i < cps.length; i++) {
      byte d = Character.getDirectionality(cps[i]);
      boolean common = d == Character.DIRECTIONALITY_EUROPEAN_NUMBER
          || d == Character.DIRECTIONALITY_EUROPEAN_NUMBER_SEPARATOR
          || d == Character.DIRECTIONALITY_COMMON_NUMBER_SEPARATOR
          || d == Character.DIRECTIONALITY_EUROPEAN_NUMBER_TERMINATOR || d == Character.DIRECTIONALITY_OTHER_NEUTRALS
          || d == Character.DIRECTIONALITY_BOUNDARY_NEUTRAL || d == Character.DIRECTIONALITY_NONSPACING_MARK;
      boolean allowed = rtl
          ? common || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT
              || d == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC || d == Character.DIRECTIONALITY_ARABIC_NUMBER
          : common || d == Character.DIRECTIONALITY_LEFT_TO_RIGHT;
      if (!allowed) {
        throw bidi(domain, label, "mixes right-to-left and left-to-right characters");
      }
      en |= d == Character.DIRECTIONALITY_EUROPEAN_NUMBER;
      an |= d == Character.DIRECTIONALITY_ARABIC_NUMBER;
    }
    byte end = Character.getDirectionality(cps[last]);
    boolean endOk = rtl
        ? end == Character.DIRECTIONALITY_RIGHT_TO_LEFT || end == Character.DIRECTIONALITY_RIGHT_TO_LEFT_ARABIC
            || end == Character.DIRECTIONALITY_EUROPEAN_NUMBER || end == Character.DIRECTIONALITY_ARABIC_NUMBER
        : end == Character.DIRECTIONALITY_LEFT_TO_RIGHT || end == Character.DIRECTIONALITY_EUROPEAN_NUMBER;
    if (!endOk) {
      throw bidi(domain, label, "ends with a character that does not fit its direction");
    }
    if (rtl && en && an) {
      throw bidi(domain, label, "mixes European and Arabic digits");
    }
  }

  private static IllegalArgumentException bidi(String domain, String label, String why) {
    return invalid(domain, "label " + Checks.quote(label) + " " + why + " (the Bidi rule, RFC 5893)");
  }

  private static boolean valid(int cp) {
    if (cp < 0x80) {
      return (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') || cp == '-';
    }
    if (cp >= 0x13A0 && cp <= 0x13F5) {
      return true; // Cherokee capitals: what case folding leaves of Cherokee
    }
    // Conjoining Hangul jamo left over by NFC (RFC 5892 section 2.9).
    if ((cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xD7B0 && cp <= 0xD7FF)) {
      return false;
    }
    // RFC 5892 section 2.6, the exceptions to the categories.
    if (cp == 0x0640 || cp == 0x07FA || cp == 0x302E || cp == 0x302F || (cp >= 0x3031 && cp <= 0x3035)
        || cp == 0x303B) {
      return false;
    }
    if (cp == 0x06FD || cp == 0x06FE || cp == 0x0F0B || cp == 0x3007) {
      return true;
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
