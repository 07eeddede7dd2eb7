package dev.emailrouter.support.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Unsupported. Parses an RFC 5322 header block into raw values by lower-case name, in message order. Values are
 * unfolded (the CRLF before continuation whitespace removed) and trimmed, but not decoded: RFC 2047
 * encoded words stay as they are. Bytes are read as UTF-8 (RFC 6532), or ISO-8859-1 where they are
 * not valid UTF-8, so no byte is lost.
 */
public final class RawHeaders {

  private RawHeaders() {}

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
    String name = null;
    StringBuilder value = new StringBuilder();
    while (pos < end) {
      int lf = pos;
      while (lf < end && bytes[lf] != '\n') {
        lf++;
      }
      int lineEnd = lf;
      while (lineEnd > pos && bytes[lineEnd - 1] == '\r') {
        lineEnd--;
      }
      String line = decode(bytes, pos, lineEnd - pos);
      pos = lf + 1;
      if (line.isEmpty()) {
        break; // the blank line that ends the header block
      }
      char first = line.charAt(0);
      if (first == ' ' || first == '\t') {
        if (name != null) {
          value.append(line);
        }
        continue;
      }
      add(headers, name, value);
      int colon = line.indexOf(':');
      if (colon <= 0) {
        name = null; // not a header field (e.g. an mbox "From " line): ignored
        value.setLength(0);
        continue;
      }
      name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      value.setLength(0);
      value.append(line, colon + 1, line.length());
    }
    add(headers, name, value);
    return headers;
  }

  private static void add(Map<String, List<String>> headers, String name, StringBuilder value) {
    if (name != null && !name.isEmpty()) {
      String v = value.toString().strip();
      List<String> before = headers.get(name);
      if (before == null) {
        // Most headers occur once: an unmodifiable list, which MessageHeaders keeps without a copy.
        headers.put(name, List.of(v));
      } else if (before.size() == 1) {
        List<String> more = new ArrayList<>(2);
        more.add(before.get(0));
        more.add(v);
        headers.put(name, more);
      } else {
        before.add(v);
      }
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
