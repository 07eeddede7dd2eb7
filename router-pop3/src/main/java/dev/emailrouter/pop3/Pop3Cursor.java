package dev.emailrouter.pop3;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The POP3 reader's cursor: the set of UIDLs already handled, as an opaque string.
 *
 * <p>Two forms: {@code v1:} followed by the UIDLs separated by single spaces (RFC 1939 UIDLs are
 * 1-70 characters from 0x21 to 0x7E, so a space never occurs in one), and, once that text grows past
 * {@link #COMPRESS_ABOVE} characters, {@code v1z:} followed by the same text deflated and encoded
 * in URL-safe Base64 without padding. Sequential UIDLs (Dovecot's {@code %08Xu%08Xv}, GreenMail's
 * numbers) compress five- to sevenfold. The set is bounded by the caller: it keeps only UIDLs the server
 * still lists. A UIDL outside 0x21-0x7E (servers that break RFC 1939), or holding {@code %}, is
 * percent-encoded so the separator stays unambiguous.
 *
 * <p>Stateless; thread-safe.
 */
final class Pop3Cursor {

  static final String PLAIN_PREFIX = "v1:";
  static final String COMPRESSED_PREFIX = "v1z:";
  /** Cursor text longer than this is stored deflated. */
  static final int COMPRESS_ABOVE = 2048;
  /** Refuses to inflate a cursor beyond this (64 MB is a million 64-character UIDLs). */
  private static final int MAX_INFLATED = 64 * 1024 * 1024;

  private Pop3Cursor() {}

  /**
   * Encodes a set of UIDLs.
   *
   * @param uidls the UIDLs, in the order they should be written (server order keeps it stable)
   * @return the cursor
   */
  static String encode(Collection<String> uidls) {
    StringBuilder text = new StringBuilder();
    for (String uidl : uidls) {
      if (text.length() > 0) {
        text.append(' ');
      }
      escape(uidl, text);
    }
    if (text.length() <= COMPRESS_ABOVE) {
      return PLAIN_PREFIX + text;
    }
    return COMPRESSED_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(
        deflate(text.toString().getBytes(StandardCharsets.US_ASCII)));
  }

  /**
   * Decodes a cursor this class wrote.
   *
   * @param cursor the cursor, or the empty string for the first sync
   * @return the UIDLs it holds (a new mutable set)
   * @throws IllegalArgumentException if {@code cursor} is not a POP3 cursor
   */
  static Set<String> decode(String cursor) {
    String text;
    if (cursor.isEmpty()) {
      return new HashSet<>();
    } else if (cursor.startsWith(PLAIN_PREFIX)) {
      text = cursor.substring(PLAIN_PREFIX.length());
    } else if (cursor.startsWith(COMPRESSED_PREFIX)) {
      try {
        text = new String(inflate(Base64.getUrlDecoder().decode(cursor.substring(COMPRESSED_PREFIX.length()))),
            StandardCharsets.US_ASCII);
      } catch (IllegalArgumentException | DataFormatException e) {
        throw new IllegalArgumentException("the compressed POP3 cursor is damaged: " + e.getMessage(), e);
      }
    } else {
      throw new IllegalArgumentException("not a POP3 cursor (it should start with " + PLAIN_PREFIX + " or "
          + COMPRESSED_PREFIX + "): " + abbreviate(cursor));
    }
    Set<String> uidls = new HashSet<>();
    boolean escaped = text.indexOf('%') >= 0;
    int start = 0;
    while (start < text.length()) {
      int end = text.indexOf(' ', start);
      if (end < 0) {
        end = text.length();
      }
      if (end > start) {
        uidls.add(escaped ? unescape(text, start, end) : text.substring(start, end));
      }
      start = end + 1;
    }
    return uidls;
  }

  private static void escape(String uidl, StringBuilder out) {
    for (byte b : uidl.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xFF;
      if (c >= 0x21 && c <= 0x7E && c != '%') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      }
    }
  }

  private static String unescape(String text, int start, int end) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(end - start);
    for (int i = start; i < end; i++) {
      char c = text.charAt(i);
      if (c != '%') {
        bytes.write(c);
        continue;
      }
      int hi = i + 1 < end ? Character.digit(text.charAt(i + 1), 16) : -1;
      int lo = i + 2 < end ? Character.digit(text.charAt(i + 2), 16) : -1;
      if (hi < 0 || lo < 0) {
        throw new IllegalArgumentException("the POP3 cursor holds a bad escape at character " + i);
      }
      bytes.write((hi << 4) | lo);
      i += 2;
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static byte[] deflate(byte[] input) {
    // On UIDL lists level 1 comes within 5% of level 6 in half the time (100,000 UIDLs: ~45 ms).
    Deflater deflater = new Deflater(Deflater.BEST_SPEED);
    try {
      deflater.setInput(input);
      deflater.finish();
      ByteArrayOutputStream out = new ByteArrayOutputStream(input.length / 4 + 64);
      byte[] buffer = new byte[8192];
      while (!deflater.finished()) {
        out.write(buffer, 0, deflater.deflate(buffer));
      }
      return out.toByteArray();
    } finally {
      deflater.end();
    }
  }

  private static byte[] inflate(byte[] input) throws DataFormatException {
    Inflater inflater = new Inflater();
    try {
      inflater.setInput(input);
      ByteArrayOutputStream out = new ByteArrayOutputStream(input.length * 8);
      byte[] buffer = new byte[8192];
      while (!inflater.finished()) {
        int n = inflater.inflate(buffer);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new DataFormatException("truncated");
        }
        out.write(buffer, 0, n);
        if (out.size() > MAX_INFLATED) {
          throw new DataFormatException("longer than " + MAX_INFLATED + " bytes");
        }
      }
      return out.toByteArray();
    } finally {
      inflater.end();
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? "'" + s + "'" : "'" + s.substring(0, 40) + "...' (" + s.length() + " characters)";
  }
}
