package dev.emailrouter.support.internal;

import dev.emailrouter.api.MessageHeaders;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Unsupported. Parses an RFC 5322 header block into raw values by lower-case name, in message order. Values are
 * unfolded (the CRLF before continuation whitespace removed) and trimmed, but not decoded: RFC 2047
 * encoded words stay as they are. Bytes are read as UTF-8 (RFC 6532), or ISO-8859-1 where they are
 * not valid UTF-8, so no byte is lost.
 */
public final class RawHeaders {

  /**
   * The names nearly every header block carries, by length: an ASCII name among them becomes the
   * constant (no string to build, its hash already known to the maps it goes into).
   */
  private static final String[][] KNOWN_BY_LENGTH = byLength(Stream.concat(MessageHeaders.WANTED.stream(),
      Stream.of("received", "mime-version", "content-transfer-encoding", "dkim-signature", "x-mailer",
          "user-agent", "content-language", "authentication-results", "thread-topic", "delivered-to"))
      .distinct().toList());

  private RawHeaders() {}

  private static String[][] byLength(List<String> names) {
    int longest = names.stream().mapToInt(String::length).max().orElse(0);
    String[][] table = new String[longest + 1][];
    for (int length = 0; length <= longest; length++) {
      int l = length;
      table[length] = names.stream().filter(n -> n.length() == l).toArray(String[]::new);
    }
    return table;
  }

  /**
   * Parses the header block at the start of {@code bytes[offset, offset + length)}, up to the first
   * blank line or the end.
   *
   * @param bytes the message or its header block
   * @param offset where the block starts
   * @param length how many bytes there are from {@code offset}
   * @return raw values by lower-case name, in message order; the lists are for reading only (a
   *     single value's list is unmodifiable)
   */
  public static Map<String, List<String>> parse(byte[] bytes, int offset, int length) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    int end = offset + length;
    int pos = offset;
    // The field being read: its first line [fieldStart, fieldEnd), the first colon in it (or -1),
    // its continuation lines as [start, end) pairs, and whether all of those bytes are ASCII.
    int fieldStart = -1;
    int fieldEnd = 0;
    int colon = -1;
    int[] more = null;
    int moreCount = 0;
    boolean ascii = true;
    while (pos < end) {
      int lf = pos;
      boolean lineAscii = true;
      int firstColon = -1;
      while (lf < end && bytes[lf] != '\n') {
        byte b = bytes[lf];
        lineAscii &= b >= 0;
        if (b == ':' && firstColon < 0) {
          firstColon = lf;
        }
        lf++;
      }
      int lineEnd = lf;
      while (lineEnd > pos && bytes[lineEnd - 1] == '\r') {
        lineEnd--;
      }
      int lineStart = pos;
      pos = lf + 1;
      if (lineEnd == lineStart) {
        break; // the blank line that ends the header block
      }
      byte first = bytes[lineStart];
      if (first == ' ' || first == '\t') {
        if (fieldStart >= 0) {
          if (more == null) {
            more = new int[8];
          } else if (moreCount * 2 == more.length) {
            more = Arrays.copyOf(more, more.length * 2);
          }
          more[moreCount * 2] = lineStart;
          more[moreCount * 2 + 1] = lineEnd;
          moreCount++;
          ascii &= lineAscii;
        }
        continue;
      }
      if (fieldStart >= 0) {
        field(headers, bytes, fieldStart, fieldEnd, colon, more, moreCount, ascii);
      }
      fieldStart = lineStart;
      fieldEnd = lineEnd;
      colon = firstColon < lineEnd ? firstColon : -1;
      moreCount = 0;
      ascii = lineAscii;
    }
    if (fieldStart >= 0) {
      field(headers, bytes, fieldStart, fieldEnd, colon, more, moreCount, ascii);
    }
    return headers;
  }

  /**
   * Adds one field: its first line {@code bytes[start, end)} with its first colon at {@code colon}
   * (-1 for none), and {@code moreCount} continuation lines in {@code more}. A line without a colon,
   * or with nothing before it, is no header field (e.g. an mbox "From " line) and is ignored with its
   * continuation lines. An ASCII field (nearly all) becomes strings straight from the bytes; any
   * other is decoded line by line ({@link #decode}), as UTF-8 or ISO-8859-1 each.
   */
  private static void field(Map<String, List<String>> headers, byte[] bytes, int start, int end, int colon,
      int[] more, int moreCount, boolean ascii) {
    if (colon <= start) {
      return;
    }
    if (!ascii) {
      String line = decode(bytes, start, end - start);
      int c = line.indexOf(':'); // the same colon: no UTF-8 sequence holds the byte ':'
      StringBuilder value = new StringBuilder(line.length() - c);
      value.append(line, c + 1, line.length());
      for (int i = 0; i < moreCount; i++) {
        value.append(decode(bytes, more[2 * i], more[2 * i + 1] - more[2 * i]));
      }
      add(headers, line.substring(0, c).strip().toLowerCase(Locale.ROOT), value.toString().strip());
      return;
    }
    add(headers, asciiName(bytes, start, colon), asciiValue(bytes, colon + 1, end, more, moreCount));
  }

  /** The ASCII name in {@code bytes[start, end)}, stripped and in lower case; a constant for a usual name. */
  private static String asciiName(byte[] bytes, int start, int end) {
    while (start < end && isWhitespace(bytes[start])) {
      start++;
    }
    while (end > start && isWhitespace(bytes[end - 1])) {
      end--;
    }
    int length = end - start;
    if (length < KNOWN_BY_LENGTH.length) {
      for (String known : KNOWN_BY_LENGTH[length]) {
        if (equalsIgnoringCase(bytes, start, known)) {
          return known;
        }
      }
    }
    byte[] lower = new byte[length];
    for (int i = 0; i < length; i++) {
      byte b = bytes[start + i];
      lower[i] = b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
    }
    return new String(lower, StandardCharsets.ISO_8859_1);
  }

  /** The ASCII value: the rest of the first line and the continuation lines whole, joined and stripped. */
  private static String asciiValue(byte[] bytes, int start, int end, int[] more, int moreCount) {
    if (moreCount == 0) {
      while (start < end && isWhitespace(bytes[start])) {
        start++;
      }
      while (end > start && isWhitespace(bytes[end - 1])) {
        end--;
      }
      return new String(bytes, start, end - start, StandardCharsets.ISO_8859_1);
    }
    int length = end - start;
    for (int i = 0; i < moreCount; i++) {
      length += more[2 * i + 1] - more[2 * i];
    }
    byte[] joined = new byte[length];
    System.arraycopy(bytes, start, joined, 0, end - start);
    int at = end - start;
    for (int i = 0; i < moreCount; i++) {
      int n = more[2 * i + 1] - more[2 * i];
      System.arraycopy(bytes, more[2 * i], joined, at, n);
      at += n;
    }
    return asciiValue(joined, 0, length, null, 0);
  }

  /** {@link Character#isWhitespace} for an ASCII byte, as {@link String#strip} judges it. */
  private static boolean isWhitespace(byte b) {
    return b == ' ' || (b >= '\t' && b <= '\r') || (b >= 0x1c && b <= 0x1f);
  }

  private static boolean equalsIgnoringCase(byte[] bytes, int start, String lower) {
    for (int i = 0; i < lower.length(); i++) {
      int b = bytes[start + i];
      if (b >= 'A' && b <= 'Z') {
        b += 'a' - 'A';
      }
      if (b != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static void add(Map<String, List<String>> headers, String name, String v) {
    if (name.isEmpty()) {
      return;
    }
    List<String> before = headers.get(name);
    if (before == null) {
      // Most headers occur once: an unmodifiable list, which MessageHeaders keeps without a copy.
      headers.put(name, List.of(v));
    } else if (before.size() == 1) {
      List<String> both = new ArrayList<>(2);
      both.add(before.get(0));
      both.add(v);
      headers.put(name, both);
    } else {
      before.add(v);
    }
  }

  private static String decode(byte[] bytes, int offset, int length) {
    boolean ascii = true;
    for (int i = offset; i < offset + length && ascii; i++) {
      ascii = bytes[i] >= 0;
    }
    if (ascii) {
      return new String(bytes, offset, length, StandardCharsets.US_ASCII);
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes, offset, length))
          .toString();
    } catch (CharacterCodingException e) {
      return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }
  }
}
