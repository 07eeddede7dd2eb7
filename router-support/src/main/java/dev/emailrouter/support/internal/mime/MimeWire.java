package dev.emailrouter.support.internal.mime;

import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayOutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes the bytes of a message without attachments (text, HTML, or both as {@code
 * multipart/alternative}) in one pass, instead of Jakarta Mail reading each body once to choose a
 * transfer encoding and again, byte by byte through a stack of streams, to write it.
 *
 * <p>The result is what Jakarta Mail would send for the same message, up to the choice of
 * boundary, header folding and encoded-word form: the same headers, the same transfer encoding for
 * each body by Jakarta's own rule ({@link MimeUtility#getEncoding(jakarta.activation.DataHandler)}:
 * 7bit when every byte is printable ASCII and no line is over 998 octets, quoted-printable when
 * ASCII bytes outnumber the others, base64 otherwise), and the same decoded content. Lines end
 * with CRLF, none is longer than 998 octets (long display names and subjects without spaces are
 * encoded, Message-IDs put on a line of their own), and the bytes end with CRLF; they are not
 * dot-stuffed. Stateless and thread-safe.
 */
final class MimeWire {
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
  /** Octets of UTF-8 per encoded word: 56 base64 characters, so "Subject: " plus one word fits 78. */
  private static final int WORD_OCTETS = 42;
  private static final AtomicLong BOUNDARIES = new AtomicLong();
  /** Byte arrays read as longs, the first byte lowest (a bit's index tells its byte's). */
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long SEVEN_BITS = 0x7f7f7f7f7f7f7f7fL;
  private static final long LOWS = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  private MimeWire() {}

  /** The headers the composer sets, already valid (no CR/LF, Message-IDs checked). */
  record Headers(String date, InternetAddress from, InternetAddress sender, InternetAddress[] to,
      InternetAddress[] cc, String messageId, String inReplyTo, String references, String subject) {}

  /**
   * The message's bytes, and whether a line of them may start with "." (which the SMTP data
   * doubles): never a header line, a boundary or a base64 line; a line of a 7bit body where its
   * text has one; any line of a quoted-printable body, unchecked. The bytes are US-ASCII.
   */
  record Wire(byte[] bytes, boolean leadingDot) {}

  /**
   * The message's bytes.
   *
   * @param text the plain text body, or {@code null}
   * @param html the HTML body, or {@code null}; with no body at all, an empty text/plain one
   */
  static Wire write(Headers h, String text, String html) {
    Body plain = text == null && html == null ? Body.of("plain", "") : text == null ? null : Body.of("plain", text);
    Body rich = html == null ? null : Body.of("html", html);
    StringBuilder head = new StringBuilder(512);
    header(head, "Date", h.date());
    header(head, "From", addresses("From", h.from()));
    if (h.sender() != null) {
      header(head, "Sender", addresses("Sender", h.sender()));
    }
    if (h.to().length > 0) {
      header(head, "To", addresses("To", h.to()));
    }
    if (h.cc().length > 0) {
      header(head, "Cc", addresses("Cc", h.cc()));
    }
    header(head, "Message-ID", fitted("Message-ID", h.messageId()));
    if (h.inReplyTo() != null) {
      header(head, "In-Reply-To", fitted("In-Reply-To", h.inReplyTo()));
    }
    if (h.references() != null) {
      header(head, "References", h.references());
    }
    header(head, "Subject", subject(h.subject()));
    header(head, "MIME-Version", "1.0");
    if (plain != null && rich != null) {
      String boundary = boundary(plain, rich);
      header(head, "Content-Type", "multipart/alternative;\r\n\tboundary=\"" + boundary + "\"");
      head.append("\r\n");
      byte[] headBytes = ascii(head);
      byte[] delimiter = ("--" + boundary + "\r\n").getBytes(StandardCharsets.US_ASCII);
      byte[] close = ("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
      Out out = new Out(headBytes.length + 2 * delimiter.length + close.length + 4 + plain.size() + rich.size());
      out.write(headBytes);
      out.write(delimiter);
      plain.writePart(out);
      out.write(CRLF);
      out.write(delimiter);
      rich.writePart(out);
      out.write(CRLF);
      out.write(close);
      return new Wire(out.bytes(), plain.leadingDot() || rich.leadingDot());
    }
    Body only = plain != null ? plain : rich;
    boolean endLine = !only.endsWithLineBreak();
    byte[] headBytes = ascii(head);
    Out out = new Out(headBytes.length + only.size() + (endLine ? 2 : 0));
    out.write(headBytes);
    only.writePart(out);
    if (endLine) {
      out.write(CRLF);
    }
    return new Wire(out.bytes(), only.leadingDot());
  }

  private static void header(StringBuilder out, String name, String value) {
    out.append(name).append(": ").append(value).append("\r\n");
  }

  /**
   * An address list header's value, folded at the spaces between and inside addresses so lines
   * stay near 78 octets. A display name with a run of characters that can't be folded under 998
   * octets (a long name without spaces) is written as UTF-8 encoded words instead (RFC 2047), which
   * fold; so no line exceeds 998 octets, whatever the names.
   *
   * @param name the header's name, for the room its first line leaves
   * @param list the addresses, their domains in ASCII already
   * @return the value, with CRLF SP where folded
   */
  static String addresses(String name, InternetAddress... list) {
    StringBuilder value = new StringBuilder(list.length * 40);
    for (int i = 0; i < list.length; i++) {
      InternetAddress a = list[i];
      String one = a.toString();
      if (a.getPersonal() != null && longestRun(one) > 998 - name.length() - 4) {
        one = encodedWords(a.getPersonal(), " ") + " <" + a.getAddress() + ">";
      }
      if (i > 0) {
        value.append(", ");
      }
      value.append(one);
    }
    return MimeUtility.fold(name.length() + 2, value.toString());
  }

  /**
   * A header value that can't be folded (a Message-ID), put on a line of its own after the colon
   * when it would not fit on the first, so that line stays within 998 octets for values up to
   * 997.
   */
  static String fitted(String name, String value) {
    return name.length() + 2 + value.length() <= 998 ? value : "\r\n " + value;
  }

  /**
   * The header fields' US-ASCII bytes (they are ASCII: addresses and subjects encoded), as {@link
   * String#getBytes} makes them: for ASCII text a copy at once, not a loop over the characters.
   */
  private static byte[] ascii(StringBuilder head) {
    return head.toString().getBytes(StandardCharsets.US_ASCII);
  }

  private static int longestRun(String text) {
    int longest = 0;
    int run = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      run = c == ' ' || c == '\t' ? 0 : run + 1;
      longest = Math.max(longest, run);
    }
    return longest;
  }

  /**
   * The message's array, sized exactly up front and filled once: the bytes are written where they
   * end up, with no buffer to grow or copy at the end.
   */
  private static final class Out {
    final byte[] buf;
    int count;

    Out(int size) {
      buf = new byte[size];
    }

    void write(byte[] bytes) {
      System.arraycopy(bytes, 0, buf, count, bytes.length);
      count += bytes.length;
    }

    byte[] bytes() {
      if (count != buf.length) {
        throw new IllegalStateException("sized " + buf.length + " bytes, wrote " + count);
      }
      return buf;
    }
  }

  /**
   * A boundary none of the 7bit bodies contains (quoted-printable never has "=_", base64 never
   * "_"), so the parts can't end early.
   */
  private static String boundary(Body... bodies) {
    while (true) {
      String boundary = "----=_Part_" + BOUNDARIES.incrementAndGet() + "_"
          + Long.toHexString(ThreadLocalRandom.current().nextLong());
      byte[] b = boundary.getBytes(StandardCharsets.US_ASCII);
      boolean clash = false;
      for (Body body : bodies) {
        clash |= body.encoding.equals("7bit") && body.contains(boundary, b);
      }
      if (!clash) {
        return boundary;
      }
    }
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /**
   * The Subject header's value: as it is when printable ASCII, folded at spaces as Jakarta folds
   * it (dropping trailing white space, as Jakarta does); else (or when a word is too long to fold
   * under 998) UTF-8 base64 encoded words of whole characters, one per line.
   */
  static String subject(String subject) {
    boolean printable = true;
    for (int i = 0; i < subject.length() && printable; i++) {
      char c = subject.charAt(i);
      printable = (c >= ' ' && c < 0x7f) || c == '\t';
    }
    if (printable) {
      String folded = MimeUtility.fold("Subject: ".length(), subject);
      if (longestLine(folded) + "Subject: ".length() <= 998) {
        return folded;
      }
    }
    return encodedWords(subject, "\r\n ");
  }

  /** The length of the longest of the lines CRLF separates, counted without a regular expression. */
  private static int longestLine(String text) {
    int longest = 0;
    int start = 0;
    while (true) {
      int end = text.indexOf("\r\n", start);
      longest = Math.max(longest, (end < 0 ? text.length() : end) - start);
      if (end < 0) {
        return longest;
      }
      start = end + 2;
    }
  }

  /** UTF-8 base64 encoded words of whole characters, at most 75 characters each, joined so. */
  private static String encodedWords(String text, String separator) {
    StringBuilder value = new StringBuilder(text.length() * 2);
    Base64.Encoder base64 = Base64.getEncoder();
    int start = 0;
    while (start < text.length()) {
      int end = start;
      int octets = 0;
      while (end < text.length()) {
        int cp = text.codePointAt(end);
        int n = utf8Length(cp);
        if (octets + n > WORD_OCTETS) {
          break;
        }
        octets += n;
        end += Character.charCount(cp);
      }
      if (value.length() > 0) {
        value.append(separator);
      }
      value.append("=?UTF-8?B?")
          .append(base64.encodeToString(text.substring(start, end).getBytes(StandardCharsets.UTF_8)))
          .append("?=");
      start = end;
    }
    return value.toString();
  }

  private static int utf8Length(int codePoint) {
    return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
  }

  /**
   * A text body, encoded. Printable ASCII text (nearly every body) is only measured here and
   * written, line ends made CRLF, straight into the message's array by {@link #writePart}; other
   * text is encoded to its own array first.
   */
  private static final class Body {
    final String encoding;
    /** The part's header lines and the empty line after them. */
    private final byte[] partHeaders;
    /** The 7bit text written as it is but for line ends, or {@code null} when {@link #encoded} holds the bytes. */
    private final String ascii;
    /** The 7bit text's bytes and bare line ends, or {@code null} when {@link #encoded} holds the bytes. */
    private final SevenBit seven;
    private final byte[] encoded;
    private final int length;

    private Body(String subtype, int encoding, String ascii, SevenBit seven, byte[] encoded, int length) {
      this.encoding = ENCODINGS[encoding];
      this.partHeaders = PART_HEADERS[(subtype.equals("html") ? ENCODINGS.length : 0) + encoding];
      this.ascii = ascii;
      this.seven = seven;
      this.encoded = encoded;
      this.length = length;
    }

    static Body of(String subtype, String text) {
      byte[] raw = text.getBytes(StandardCharsets.UTF_8);
      SevenBit seven = sevenBit(raw, text);
      if (seven != null) {
        return new Body(subtype, 0, text, seven, null, seven.length());
      }
      // Not 7bit as it is: its UTF-8 bytes decide, as Jakarta Mail's rule reads them.
      long scan = scan(raw);
      int encoding = (int) (scan >>> 32);
      byte[] encoded = switch (encoding) {
        case 0 -> canonicalLineEnds(raw, (int) scan);
        case 1 -> quotedPrintable(raw);
        default -> base64(raw);
      };
      return new Body(subtype, encoding, null, null, encoded, encoded.length);
    }

    int size() {
      return partHeaders.length + length;
    }

    /**
     * Whether a line of the written body may start with "." : for 7bit text, where the text starts
     * with one or has one after a CR or LF (found in the 7bit test's pass); base64 never;
     * quoted-printable may.
     */
    boolean leadingDot() {
      if (seven == null) {
        return !encoding.equals("base64");
      }
      return seven.leadingDot();
    }

    boolean endsWithLineBreak() {
      if (ascii == null) {
        return encoded.length == 0 || encoded[encoded.length - 1] == '\n';
      }
      // A final CR becomes CRLF too.
      char last = ascii.isEmpty() ? '\n' : ascii.charAt(ascii.length() - 1);
      return last == '\n' || last == '\r';
    }

    /** Whether the encoded body holds the boundary (which has no CR or LF, so line ends don't matter). */
    boolean contains(String boundary, byte[] boundaryBytes) {
      return ascii != null ? ascii.contains(boundary) : MimeWire.contains(encoded, boundaryBytes);
    }

    void writePart(Out out) {
      out.write(partHeaders);
      if (seven == null) {
        out.write(encoded);
        return;
      }
      out.count = seven.writeTo(out.buf, out.count);
    }
  }

  /**
   * A text body that is 7bit as it is: its bytes (US-ASCII) and where its bare CRs and LFs are,
   * found while checking it, so it is written with every line end CRLF by copying the runs between
   * them, with no second search for line ends.
   *
   * @param bare the indexes of the bare CRs and LFs, ascending, in the first {@code bareCount}
   */
  private record SevenBit(byte[] bytes, int[] bare, int bareCount, boolean leadingDot) {
    int length() {
      return bytes.length + bareCount;
    }

    /** Copies the text into the array, each bare CR or LF written as CRLF; returns the index after it. */
    int writeTo(byte[] buf, int o) {
      int start = 0;
      for (int k = 0; k < bareCount; k++) {
        int end = bare[k];
        System.arraycopy(bytes, start, buf, o, end - start);
        o += end - start;
        buf[o++] = '\r';
        buf[o++] = '\n';
        start = end + 1;
      }
      System.arraycopy(bytes, start, buf, o, bytes.length - start);
      return o + bytes.length - start;
    }
  }

  private static final String[] ENCODINGS = {"7bit", "quoted-printable", "base64"};
  /** Written for every part: made once, text/plain with each encoding, then text/html. */
  private static final byte[][] PART_HEADERS = new byte[2 * ENCODINGS.length][];

  static {
    for (int i = 0; i < PART_HEADERS.length; i++) {
      PART_HEADERS[i] = ("Content-Type: text/" + (i < ENCODINGS.length ? "plain" : "html")
          + "; charset=UTF-8\r\nContent-Transfer-Encoding: " + ENCODINGS[i % ENCODINGS.length] + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII);
    }
  }

  /**
   * The length of the text as a 7bit body with CRLF line ends, or -1 when it is not one: when a
   * character is not printable ASCII (tab, CR and LF aside) or a line is over 998 characters,
   * where {@link #scan} decides on the UTF-8 bytes. For ASCII text characters and UTF-8 bytes are
   * the same, so the result is what {@link #scan} finds.
   *
   * <p>Read as UTF-8 bytes, eight at a time. {@link String#getBytes(java.nio.charset.Charset)}
   * copies a compact string of ASCII characters at once (a vectorised check and a copy, not a loop
   * over its characters); any other character but a lone surrogate (which becomes '?') takes more
   * than one byte, so an array longer than the text means it is not ASCII. A word of eight
   * ordinary bytes (most of them) is passed over whole; in a word with control bytes (line ends),
   * DEL or '?' only those bytes are looked at, each '?' checked against the text. Twice as fast as
   * a loop over the characters on a 50 KB body.
   */
  static int sevenBitLength(String text) {
    SevenBit seven = sevenBit(text.getBytes(StandardCharsets.UTF_8), text);
    return seven == null ? -1 : seven.length();
  }

  /** {@link #sevenBitLength}'s test on the text's UTF-8 bytes: the body to write, or {@code null} when not 7bit. */
  private static SevenBit sevenBit(byte[] b, String text) {
    int n = b.length;
    if (n != text.length()) {
      return null;
    }
    int[] bare = new int[Math.max(16, n / 64)];
    int bareCount = 0;
    int lineStart = 0;
    boolean leadingDot = n > 0 && b[0] == '.';
    for (int i = 0; i < n; i += Long.BYTES) {
      // The last word may be short: its missing bytes read as 0 (a control byte), masked off.
      long special = i + Long.BYTES <= n ? special((long) LONGS.get(b, i))
          : special(tail(b, i)) & ((1L << ((n - i) * Byte.SIZE)) - 1);
      for (; special != 0; special &= special - 1) {
        int j = i + (Long.numberOfTrailingZeros(special) >>> 3);
        int r = sevenBitByte(b, j, text, lineStart);
        if (r == NOT_7BIT) {
          return null;
        }
        if (r != SAME_LINE) {
          lineStart = j + 1;
          leadingDot |= lineStart < n && b[lineStart] == '.';
          if (r == BARE_LINE_BREAK) {
            bare = append(bare, bareCount++, j);
          }
        }
      }
    }
    return n - lineStart > 998 ? null : new SevenBit(b, bare, bareCount, leadingDot);
  }

  /** The bytes from {@code i} to the end (fewer than eight) as a word, the first byte lowest. */
  private static long tail(byte[] b, int i) {
    long w = 0;
    for (int k = i; k < b.length; k++) {
      w |= (b[k] & 0xffL) << ((k - i) * Byte.SIZE);
    }
    return w;
  }

  /** The array with the index put at {@code count}, grown if full. */
  private static int[] append(int[] indexes, int count, int index) {
    int[] out = count == indexes.length ? Arrays.copyOf(indexes, 2 * count) : indexes;
    out[count] = index;
    return out;
  }

  /** {@link #sevenBitByte}: an ordinary byte within a line. */
  private static final int SAME_LINE = 0;
  /** {@link #sevenBitByte}: a line break that is CRLF already (or the CR of one). */
  private static final int LINE_BREAK = 1;
  /** {@link #sevenBitByte}: a bare CR or LF, which takes one more byte as CRLF. */
  private static final int BARE_LINE_BREAK = Integer.MIN_VALUE;
  /** {@link #sevenBitByte}: not 7bit (a control byte, a non-ASCII character, or a line too long). */
  private static final int NOT_7BIT = -1;

  /** What the byte at {@code j} is in a 7bit body; the line it may end began at {@code lineStart}. */
  private static int sevenBitByte(byte[] b, int j, String text, int lineStart) {
    int c = b[j];
    if (c == '\r' || c == '\n') {
      if (j - lineStart > 998) {
        return NOT_7BIT;
      }
      boolean bare = c == '\r' ? j + 1 >= b.length || b[j + 1] != '\n' : j == 0 || b[j - 1] != '\r';
      return bare ? BARE_LINE_BREAK : LINE_BREAK;
    }
    if (c == '?') {
      return text.charAt(j) == '?' ? SAME_LINE : NOT_7BIT;
    }
    return c >= 0x7f || c < 0 || (c < ' ' && c != '\t') ? NOT_7BIT : SAME_LINE;
  }

  /**
   * The high bit of each byte of the word (read little-endian: the first byte lowest) that is
   * under 0x20, DEL, '?' or has its own high bit set; exact, byte by byte (no carry crosses a
   * byte, as each sum is of the low seven bits).
   */
  private static long special(long w) {
    long low = w & SEVEN_BITS;
    long control = ~(low + 0x6060606060606060L);
    long del = low + LOWS;
    long q = (w ^ 0x3f3f3f3f3f3f3f3fL) & SEVEN_BITS;
    long question = ~((q + SEVEN_BITS) | q);
    return (control | del | question | w) & HIGHS;
  }

  /**
   * One pass over a text part's UTF-8 bytes: in the high half the index in {@link #ENCODINGS} of
   * Jakarta Mail's choice (its {@code AsciiOutputStream} rule), in the low half how many bare CRs
   * and LFs there are (each takes one more byte as CRLF).
   */
  private static long scan(byte[] raw) {
    int ascii = 0;
    int other = 0;
    int line = 0;
    int bare = 0;
    boolean longLine = false;
    int previous = 0;
    for (int i = 0; i < raw.length; i++) {
      int b = raw[i] & 0xff;
      if (b == '\r') {
        line = 0;
        if (i + 1 >= raw.length || raw[i + 1] != '\n') {
          bare++;
        }
      } else if (b == '\n') {
        line = 0;
        if (previous != '\r') {
          bare++;
        }
      } else if (++line > 998) {
        longLine = true;
      }
      if (b >= 0x7f || (b < ' ' && b != '\r' && b != '\n' && b != '\t')) {
        other++;
      } else {
        ascii++;
      }
      previous = b;
    }
    int encoding = other == 0 ? (longLine ? 1 : 0) : ascii > other ? 1 : 2;
    return ((long) encoding << 32) | bare;
  }

  /** CR, LF and CRLF each become CRLF, as Angus's CRLFOutputStream puts a 7bit body on the wire. */
  private static byte[] canonicalLineEnds(byte[] raw, int bare) {
    if (bare == 0) {
      return raw;
    }
    byte[] out = new byte[raw.length + bare];
    int o = 0;
    for (int i = 0; i < raw.length; i++) {
      byte b = raw[i];
      if (b == '\r') {
        out[o++] = '\r';
        out[o++] = '\n';
        if (i + 1 < raw.length && raw[i + 1] == '\n') {
          i++;
        }
      } else if (b == '\n') {
        out[o++] = '\r';
        out[o++] = '\n';
      } else {
        out[o++] = b;
      }
    }
    return out;
  }

  /**
   * Quoted-printable as Jakarta's {@code QPEncoderStream} writes it: CR, LF and CRLF become CRLF,
   * tabs, "=", controls and non-ASCII are encoded, a space before a line end is encoded, and soft
   * line breaks keep lines at 76 characters.
   */
  private static byte[] quotedPrintable(byte[] raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length + raw.length / 2 + 16);
    int count = 0;
    boolean gotSpace = false;
    boolean gotCr = false;
    for (byte value : raw) {
      int c = value & 0xff;
      if (gotSpace) {
        count = qpOutput(out, ' ', c == '\r' || c == '\n', count);
        gotSpace = false;
      }
      if (c == '\r') {
        gotCr = true;
        out.writeBytes(CRLF);
        count = 0;
      } else {
        if (c == '\n') {
          if (!gotCr) {
            out.writeBytes(CRLF);
            count = 0;
          }
        } else if (c == ' ') {
          gotSpace = true;
        } else {
          count = qpOutput(out, c, c < ' ' || c >= 0x7f || c == '=', count);
        }
        gotCr = false;
      }
    }
    if (gotSpace) {
      qpOutput(out, ' ', true, count);
    }
    return out.toByteArray();
  }

  private static int qpOutput(ByteArrayOutputStream out, int c, boolean encode, int count) {
    // 75 characters, and room for the "=" of a soft line break.
    if (encode) {
      if ((count += 3) > 75) {
        out.write('=');
        out.writeBytes(CRLF);
        count = 3;
      }
      out.write('=');
      out.write(HEX[c >> 4]);
      out.write(HEX[c & 0xf]);
    } else {
      if (++count > 75) {
        out.write('=');
        out.writeBytes(CRLF);
        count = 1;
      }
      out.write(c);
    }
    return count;
  }

  /** Base64 in lines of 76 with CRLF, the last line ended too; the bytes as they are, as Jakarta. */
  private static byte[] base64(byte[] raw) {
    byte[] encoded = Base64.getMimeEncoder().encode(raw);
    byte[] out = new byte[encoded.length + 2];
    System.arraycopy(encoded, 0, out, 0, encoded.length);
    out[encoded.length] = '\r';
    out[encoded.length + 1] = '\n';
    return out;
  }
}
