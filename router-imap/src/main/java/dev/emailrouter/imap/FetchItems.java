package dev.emailrouter.imap;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The items of one untagged {@code * n FETCH (...)} response that the header stage reads (UID,
 * RFC822.SIZE, INTERNALDATE and a {@code BODY[HEADER...]} section), parsed straight from the bytes of
 * the response as Angus's framing delivers them, literals inline after their {@code {n}CRLF}. Other
 * items (FLAGS, MODSEQ, a body part, anything a server adds) are skipped whole, so they may come in
 * any order; a server may also split one message's items over several responses.
 *
 * <p>The header section is not copied: {@link #headerStart} and {@link #headerLength} point into
 * the response buffer, which is valid only until the next response is read.
 *
 * <p>Not thread-safe; made and read by one thread during one command.
 */
final class FetchItems {

  private static final String[] MONTHS =
      {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

  /** The message sequence number the response names. */
  final long number;
  /** The UID, or -1 when the response carries none (e.g. another client's flag change). */
  long uid = -1;
  /** The RFC822.SIZE, or -1 when absent. */
  long size = -1;
  /** The INTERNALDATE, or {@code null} when absent or unreadable. */
  Instant receivedAt;
  /** Whether a {@code BODY[HEADER...]} item came; its value may still be NIL (no bytes). */
  boolean header;
  /** The buffer holding the header section's bytes (the response's own buffer), or {@code null} for NIL. */
  byte[] headerBytes;
  int headerStart;
  int headerLength;

  private FetchItems(long number) {
    this.number = number;
  }

  /** Whether the response carries data we ask for, as opposed to only flags. */
  boolean carriesData() {
    return header || size >= 0;
  }

  /**
   * The message sequence number if {@code b[0, end)} is an untagged FETCH response ({@code * n
   * FETCH}), else -1. {@code end} excludes the final CRLF.
   */
  static long fetchNumber(byte[] b, int end) {
    if (end < 2 || b[0] != '*' || b[1] != ' ') {
      return -1;
    }
    int i = 2;
    long n = 0;
    int digits = 0;
    while (i < end && b[i] >= '0' && b[i] <= '9' && digits < 11) {
      n = n * 10 + (b[i++] - '0');
      digits++;
    }
    if (digits == 0 || digits > 10 || !regionIs(b, i, end, " FETCH ")) {
      return -1;
    }
    return n;
  }

  /**
   * Parses the FETCH response in {@code b[0, end)} ({@code end} excludes the final CRLF), whose
   * sequence number {@link #fetchNumber} returned.
   *
   * @return the items, or {@code null} if the response does not follow RFC 3501's syntax (e.g. a
   *     literal longer than the bytes that came, an unbalanced list), so nothing in it can be trusted
   */
  static FetchItems parse(byte[] b, int end, long number) {
    Cursor c = new Cursor(b, end);
    c.pos = indexOf(b, 2, end, (byte) ' ') + " FETCH ".length();
    FetchItems items = new FetchItems(number);
    try {
      c.expect('(');
      c.skipSpaces();
      while (c.peek() != ')') {
        int nameStart = c.pos;
        c.skipAtomWithSection();
        int nameEnd = c.pos;
        c.expect(' ');
        if (regionIsIgnoringCase(b, nameStart, nameEnd, "UID")) {
          items.uid = c.number();
        } else if (regionIsIgnoringCase(b, nameStart, nameEnd, "RFC822.SIZE")) {
          items.size = c.number();
        } else if (regionIsIgnoringCase(b, nameStart, nameEnd, "INTERNALDATE")) {
          int[] text = c.string();
          items.receivedAt = text == null ? null : internalDate(b, text[0], text[1]);
        } else if (isHeaderSection(b, nameStart, nameEnd)) {
          int[] text = c.string();
          items.header = true;
          if (text != null) {
            items.headerBytes = b;
            items.headerStart = text[0];
            items.headerLength = text[1] - text[0];
          }
        } else {
          c.skipValue(0);
        }
        c.skipSpaces();
      }
      c.expect(')');
      return c.pos == end ? items : null;
    } catch (Malformed e) {
      return null;
    }
  }

  /** {@code BODY[HEADER]}, {@code BODY[HEADER.FIELDS (...)]} and the like, not a body part. */
  private static boolean isHeaderSection(byte[] b, int start, int end) {
    return regionIsIgnoringCase(b, start, Math.min(end, start + "BODY[HEADER".length()), "BODY[HEADER");
  }

  /**
   * An INTERNALDATE ({@code "dd-Mon-yyyy hh:mm:ss +zzzz"}, the day may be space-padded), or
   * {@code null} if it is not one.
   */
  static Instant internalDate(byte[] b, int start, int end) {
    int i = start;
    if (i < end && b[i] == ' ') {
      i++;
    }
    try {
      int dayEnd = indexOf(b, i, end, (byte) '-');
      if (dayEnd < 0 || dayEnd - i < 1 || dayEnd - i > 2 || end - dayEnd != 24) {
        return null;
      }
      int day = digits(b, i, dayEnd);
      int month = -1;
      for (int m = 0; m < 12; m++) {
        if (regionIsIgnoringCase(b, dayEnd + 1, dayEnd + 4, MONTHS[m])) {
          month = m + 1;
        }
      }
      int p = dayEnd + 4; // "-yyyy hh:mm:ss +zzzz"
      if (month < 0 || b[p] != '-' || b[p + 5] != ' ' || b[p + 8] != ':' || b[p + 11] != ':' || b[p + 14] != ' ') {
        return null;
      }
      int year = digits(b, p + 1, p + 5);
      int hour = digits(b, p + 6, p + 8);
      int minute = digits(b, p + 9, p + 11);
      int second = digits(b, p + 12, p + 14);
      int sign = b[p + 15] == '-' ? -1 : b[p + 15] == '+' ? 1 : 0;
      int zone = digits(b, p + 16, p + 20);
      if (sign == 0 || zone < 0 || year < 0 || hour < 0 || minute < 0 || second < 0 || day < 0) {
        return null;
      }
      ZoneOffset offset = ZoneOffset.ofHoursMinutes(sign * (zone / 100), sign * (zone % 100));
      return LocalDateTime.of(year, month, day, hour, minute, second).toInstant(offset);
    } catch (DateTimeException e) {
      return null;
    }
  }

  /** The decimal number in {@code b[start, end)}, or -1 if there is a non-digit. */
  private static int digits(byte[] b, int start, int end) {
    int n = 0;
    for (int i = start; i < end; i++) {
      if (b[i] < '0' || b[i] > '9') {
        return -1;
      }
      n = n * 10 + (b[i] - '0');
    }
    return n;
  }

  private static int indexOf(byte[] b, int from, int end, byte x) {
    for (int i = from; i < end; i++) {
      if (b[i] == x) {
        return i;
      }
    }
    return -1;
  }

  private static boolean regionIs(byte[] b, int start, int end, String s) {
    return regionIsIgnoringCase(b, start, Math.min(end, start + s.length()), s);
  }

  /** Whether {@code b[start, end)} is {@code s} (upper-case ASCII), in any case. */
  private static boolean regionIsIgnoringCase(byte[] b, int start, int end, String s) {
    if (end - start != s.length()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      int c = b[start + i];
      if (c >= 'a' && c <= 'z') {
        c -= 'a' - 'A';
      }
      if (c != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The response does not follow the grammar; thrown inside the parser only. */
  private static final class Malformed extends Exception {
    private static final long serialVersionUID = 1L;

    Malformed() {
      super(null, null, false, false);
    }
  }

  /** A read position in one response. */
  private static final class Cursor {
    /** Deeper lists than this are no FETCH response a server sends for us: refused, not recursed into. */
    private static final int MAX_DEPTH = 32;
    private final byte[] b;
    private final int end;
    int pos;

    Cursor(byte[] b, int end) {
      this.b = b;
      this.end = end;
    }

    int peek() throws Malformed {
      if (pos >= end) {
        throw new Malformed();
      }
      return b[pos];
    }

    void expect(char c) throws Malformed {
      if (peek() != c) {
        throw new Malformed();
      }
      pos++;
    }

    void skipSpaces() {
      while (pos < end && b[pos] == ' ') {
        pos++;
      }
    }

    long number() throws Malformed {
      long n = 0;
      int start = pos;
      while (pos < end && b[pos] >= '0' && b[pos] <= '9') {
        if (pos - start >= 18) {
          throw new Malformed();
        }
        n = n * 10 + (b[pos++] - '0');
      }
      if (pos == start) {
        throw new Malformed();
      }
      return n;
    }

    /** An item name such as {@code BODY[HEADER.FIELDS (A B)]<0>}: an atom, a bracketed section, a partial origin. */
    void skipAtomWithSection() throws Malformed {
      int start = pos;
      while (pos < end && b[pos] != ' ' && b[pos] != '(' && b[pos] != ')' && b[pos] != '[') {
        pos++;
      }
      if (pos < end && b[pos] == '[') {
        int close = indexOf(b, pos, end, (byte) ']');
        if (close < 0) {
          throw new Malformed();
        }
        pos = close + 1;
        while (pos < end && b[pos] != ' ' && b[pos] != ')') {
          pos++; // "<origin>"
        }
      }
      if (pos == start) {
        throw new Malformed();
      }
    }

    /**
     * A string (quoted or literal) as {@code [start, end)} of its content, or {@code null} for NIL.
     * Quoted content keeps its backslash escapes: header fields never need them.
     */
    int[] string() throws Malformed {
      int c = peek();
      if (c == '"') {
        int start = ++pos;
        while (pos < end && b[pos] != '"') {
          pos += b[pos] == '\\' ? 2 : 1;
        }
        if (pos >= end) {
          throw new Malformed();
        }
        return new int[] {start, pos++};
      }
      if (c == '{' || c == '~') {
        int length = literalLength();
        int start = pos;
        pos += length;
        return new int[] {start, pos};
      }
      if (end - pos >= 3 && regionIsIgnoringCase(b, pos, pos + 3, "NIL")) {
        pos += 3;
        return null;
      }
      throw new Malformed();
    }

    /** Reads {@code {n}CRLF} (or {@code ~{n}CRLF}) and returns n, checked against the bytes that came. */
    private int literalLength() throws Malformed {
      if (b[pos] == '~') {
        pos++;
      }
      expect('{');
      long n = number();
      expect('}');
      expect('\r');
      expect('\n');
      if (n > end - pos) {
        throw new Malformed(); // a literal longer than the response: Angus's framing could not read it
      }
      return (int) n;
    }

    /** Skips one value of an item we don't read: atom or number, string, NIL, or a list of them. */
    void skipValue(int depth) throws Malformed {
      int c = peek();
      if (c == '(') {
        if (depth >= MAX_DEPTH) {
          throw new Malformed();
        }
        pos++;
        skipSpaces();
        while (peek() != ')') {
          skipValue(depth + 1);
          skipSpaces();
        }
        pos++;
      } else if (c == '"' || c == '{' || c == '~') {
        string();
      } else {
        int start = pos;
        while (pos < end && b[pos] != ' ' && b[pos] != '(' && b[pos] != ')') {
          if (b[pos] == '[') {
            int close = indexOf(b, pos, end, (byte) ']');
            if (close < 0) {
              throw new Malformed();
            }
            pos = close;
          }
          pos++;
        }
        if (pos == start) {
          throw new Malformed();
        }
      }
    }
  }
}
