package dev.emailrouter.core;

import dev.emailrouter.api.AutoResponse;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.IncomingMessage;
import dev.emailrouter.api.MessageHeaders;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MailDateFormat;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** Turns raw headers into what the policy sees; lenient, because incoming mail is often broken. */
final class IncomingHeaders {
  private static final Pattern LINE_BREAK = Pattern.compile("\r?\n");
  /** MailDateFormat is a SimpleDateFormat: costly to create and not thread-safe, so one per thread. */
  private static final ThreadLocal<MailDateFormat> DATE_FORMAT = ThreadLocal.withInitial(MailDateFormat::new);
  /** The newest References a reply is checked against (Server-Side Sync looks at about as many). */
  static final int MAX_REFERENCES = 32;
  /** References kept on an activity; a hostile message may carry thousands. */
  static final int MAX_REFERENCES_KEPT = 500;

  private IncomingHeaders() {}

  static IncomingMessage parse(String mailbox, MessageHeaders h) {
    String fromValue = first(h, "from");
    EmailAddress from = fromValue == null ? null : firstAddress(fromValue);
    List<String> references = new ArrayList<>();
    for (String value : all(h, "references")) {
      // Each value on its own: an id never spans two values, as it could not span the blank joining them.
      addMessageIds(value, references);
    }
    if (references.size() > MAX_REFERENCES_KEPT) {
      references = references.subList(references.size() - MAX_REFERENCES_KEPT, references.size());
    }
    String subject = first(h, "subject");
    String date = first(h, "date");
    return new IncomingMessage(mailbox, h.ref(),
        firstMessageId(first(h, "message-id")),
        from,
        addresses(all(h, "to")),
        addresses(all(h, "cc")),
        subject == null ? "" : decode(subject),
        date == null ? null : date(date),
        firstMessageId(first(h, "in-reply-to")),
        references,
        h.size(),
        classify(h),
        h);
  }

  /**
   * The first value of a header, or {@code null}: {@link MessageHeaders#first} without its
   * lower-casing of the name (these names are lower case already, as the map's keys are) and its
   * Optional, for the dozen lookups per message.
   */
  private static String first(MessageHeaders h, String lowerCaseName) {
    List<String> values = h.headers().get(lowerCaseName);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** Every value of a header: {@link MessageHeaders#all} for a lower-case name. */
  private static List<String> all(MessageHeaders h, String lowerCaseName) {
    return h.headers().getOrDefault(lowerCaseName, List.of());
  }

  /** Message-IDs in a header value, in order. */
  static List<String> messageIds(String value) {
    List<String> ids = new ArrayList<>();
    addMessageIds(value, ids);
    return ids;
  }

  /** The first Message-ID in a header value, or {@code null}. */
  static String firstMessageId(String value) {
    if (value == null) {
      return null;
    }
    int[] span = new int[2];
    return nextMessageId(value, 0, span) ? value.substring(span[0], span[1]) : null;
  }

  private static void addMessageIds(String value, List<String> ids) {
    if (value == null) {
      return;
    }
    int[] span = new int[2];
    int from = 0;
    while (nextMessageId(value, from, span)) {
      ids.add(value.substring(span[0], span[1]));
      from = span[1];
    }
  }

  /**
   * Finds the next {@code <id>} at or after {@code from}: a {@code <}, one or more characters that
   * are neither angle brackets nor whitespace, a {@code >} (what the pattern {@code <[^<>\s]+>}
   * finds, by a scan: this runs for every header of every message). Sets {@code span} to the
   * match's start and end.
   */
  private static boolean nextMessageId(String value, int from, int[] span) {
    int n = value.length();
    int open = value.indexOf('<', from);
    while (open >= 0) {
      int i = open + 1;
      while (i < n && !endsId(value.charAt(i))) {
        i++;
      }
      if (i > open + 1 && i < n && value.charAt(i) == '>') {
        span[0] = open;
        span[1] = i + 1;
        return true;
      }
      // No id starts between open and i: none of those characters is a '<'.
      open = i < n ? value.indexOf('<', i) : -1;
    }
    return false;
  }

  /** The characters {@code [^<>\s]} excludes: angle brackets and the regex's {@code \s}. */
  private static boolean endsId(char c) {
    return c == '<' || c == '>' || isRegexBlank(c);
  }

  /** The regular expressions' {@code \s} (without UNICODE_CHARACTER_CLASS): space, \t, \n, \x0B, \f, \r. */
  private static boolean isRegexBlank(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
  }

  /** An unstructured value (a subject) as the store gets it: see {@link HeaderText#unstructured}. */
  static String decode(String value) {
    return HeaderText.unstructured(value);
  }

  private static Instant date(String value) {
    String text = value.strip();
    Instant usual = usualDate(text);
    if (usual != null) {
      return usual;
    }
    try {
      return DATE_FORMAT.get().parse(text).toInstant();
    } catch (ParseException | RuntimeException e) {
      return null;
    }
  }

  private static final String MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

  /**
   * A date in the form nearly every message carries ({@code Fri, 1 Mar 2024 10:00:00 +0100}, RFC
   * 5322 3.3 without obsolete parts, comments or folding), read without MailDateFormat: that
   * SimpleDateFormat cost more per message than the rest of the header stage's parsing. {@code null}
   * for anything else (another form, a date that does not exist), which MailDateFormat then reads
   * as it always did.
   */
  static Instant usualDate(String s) {
    int i = 0;
    int n = s.length();
    if (n > 5 && s.charAt(3) == ',' && s.charAt(4) == ' ') {
      i = 5; // the day name, which MailDateFormat does not check either
    }
    int dayStart = i;
    while (i < n && i - dayStart < 2 && isDigit(s.charAt(i))) {
      i++;
    }
    if (i == dayStart || n - i != 24 && n - i != 21) {
      return null;
    }
    int day = Integer.parseInt(s, dayStart, i, 10);
    // " Mar 2024 10:00:00 +0100" or " Mar 2024 10:00 +0100"
    int month = s.charAt(i) == ' ' && s.charAt(i + 4) == ' ' ? MONTHS.indexOf(s.substring(i + 1, i + 4)) : -1;
    boolean seconds = n - i == 24;
    int t = i + 10;
    if (month < 0 || month % 3 != 0 || s.charAt(i + 9) != ' ' || s.charAt(t + 2) != ':'
        || !digits(s, i + 5, i + 9) || !digits(s, t, t + 2) || !digits(s, t + 3, t + 5)) {
      return null;
    }
    int z = t + 5;
    int second = 0;
    if (seconds) {
      if (s.charAt(z) != ':' || !digits(s, z + 1, z + 3)) {
        return null;
      }
      second = Integer.parseInt(s, z + 1, z + 3, 10);
      z += 3;
    }
    char sign = s.charAt(z + 1);
    if (s.charAt(z) != ' ' || (sign != '+' && sign != '-') || !digits(s, z + 2, z + 6)) {
      return null;
    }
    try {
      int zone = Integer.parseInt(s, z + 2, z + 6, 10);
      int signum = sign == '-' ? -1 : 1;
      return java.time.LocalDateTime.of(Integer.parseInt(s, i + 5, i + 9, 10), month / 3 + 1, day,
              Integer.parseInt(s, t, t + 2, 10), Integer.parseInt(s, t + 3, t + 5, 10), second)
          .toInstant(java.time.ZoneOffset.ofHoursMinutes(signum * (zone / 100), signum * (zone % 100)));
    } catch (java.time.DateTimeException e) {
      return null; // e.g. 31 Feb, which MailDateFormat rolls over
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean digits(String s, int from, int to) {
    for (int k = from; k < to; k++) {
      if (!isDigit(s.charAt(k))) {
        return false;
      }
    }
    return true;
  }

  private static EmailAddress firstAddress(String value) {
    List<EmailAddress> out = new ArrayList<>(2);
    addAddresses(value, out); // without a list around the value and a copy of the result
    return out.isEmpty() ? null : out.get(0);
  }

  static List<EmailAddress> addresses(List<String> values) {
    if (values.isEmpty()) {
      return List.of(); // no Cc, most often
    }
    List<EmailAddress> out = new ArrayList<>(2);
    for (String value : values) {
      addAddresses(value, out);
    }
    return List.copyOf(out);
  }

  /** Adds the addresses in one header value to {@code out}. */
  private static void addAddresses(String value, List<EmailAddress> out) {
    String line = value.indexOf('\n') < 0 ? value : LINE_BREAK.matcher(value).replaceAll("");
    int before = out.size();
    if (!simpleAddresses(line, out)) {
      out.subList(before, out.size()).clear(); // what the simple reading added before it gave up
      parsedAddresses(line, out);
    }
  }

  /**
   * The common shapes, {@code a@b}, {@code <a@b>} and {@code Name <a@b>}, comma-separated, also
   * inside RFC 5322 groups ({@code Team: a@b, c@d;}, {@code undisclosed-recipients:;}), read
   * without Jakarta Mail's parser, which costs more than the rest of the header stage together. A
   * value with anything that needs the full grammar (quotes, comments, encoded words, control
   * characters, a colon that does not open a group) is left to {@link #parsedAddresses}, which
   * gives the same results for the simple shapes. Returns {@code false} when the value is not
   * simple, after adding what came before the part that is not (the caller takes it back).
   */
  private static boolean simpleAddresses(String line, List<EmailAddress> out) {
    boolean groups = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"' || c == '(' || c == ')' || c == '\\' || c < ' ' || c == 0x7f
          || (c == '=' && i + 1 < line.length() && line.charAt(i + 1) == '?')) {
        return false;
      }
      groups |= c == ':' || c == ';';
    }
    if (groups) {
      line = withoutGroupSyntax(line);
      if (line == null) {
        return false;
      }
    }
    int start = 0;
    while (start <= line.length()) {
      int comma = line.indexOf(',', start);
      int end = comma < 0 ? line.length() : comma;
      String part = line.substring(start, end).strip();
      start = end + 1;
      if (part.isEmpty()) {
        continue; // "a@b, , c@d" and a trailing comma: InternetAddress skips them too
      }
      String personal;
      String address;
      int open = part.indexOf('<');
      if (open < 0) {
        if (part.indexOf('>') >= 0 || !isPlainAddress(part)) {
          return false;
        }
        personal = "";
        address = part;
      } else {
        if (!part.endsWith(">") || part.indexOf('<', open + 1) >= 0 || part.indexOf('>') != part.length() - 1) {
          return false;
        }
        personal = HeaderText.clean(part.substring(0, open)).strip();
        address = part.substring(open + 1, part.length() - 1).strip();
        if (!isPlainAddress(address) || personal.indexOf('@') >= 0 || personal.indexOf('.') >= 0
            || personal.indexOf('[') >= 0 || personal.indexOf(']') >= 0) {
          return false; // dots and brackets in an unquoted phrase: obsolete syntax, for the full parser
        }
      }
      try {
        out.add(new EmailAddress(address, personal));
      } catch (IllegalArgumentException e) {
        return false;
      }
    }
    return true;
  }

  /**
   * The members of the groups in a value as one comma-separated list ({@code Team: a@b, c@d;
   * x@y} becomes {@code a@b, c@d, x@y}; the group's own name is not an address), or {@code null}
   * when a colon or semicolon is not group syntax (a route, a colon inside brackets, a group
   * opened twice or closed without being opened), for the full parser to judge.
   */
  private static String withoutGroupSyntax(String line) {
    StringBuilder members = new StringBuilder(line.length());
    boolean inGroup = false;
    int start = 0; // where the current list item begins
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == ':') {
        String name = line.substring(start, i);
        if (inGroup || name.isBlank() || name.indexOf('@') >= 0 || name.indexOf('<') >= 0 || name.indexOf('>') >= 0
            || name.indexOf('.') >= 0 || name.indexOf('[') >= 0 || name.indexOf(']') >= 0) {
          return null;
        }
        members.setLength(members.length() - name.length()); // the group's name is no member
        inGroup = true;
        start = i + 1;
        continue;
      }
      if (c == ';') {
        if (!inGroup) {
          return null;
        }
        inGroup = false;
        members.append(',');
        start = i + 1;
        continue;
      }
      if (c == ',') {
        start = i + 1;
      }
      members.append(c);
    }
    return inGroup ? null : members.toString();
  }

  /** One {@code local@domain} without spaces, brackets or a second {@code @}. */
  private static boolean isPlainAddress(String s) {
    int at = s.indexOf('@');
    if (at <= 0 || at == s.length() - 1 || s.indexOf('@', at + 1) >= 0) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c == '<' || c == '>' || c == '[' || c == ']' || c == ',' || c >= 0x7f) {
        return false;
      }
    }
    return true;
  }

  /**
   * Jakarta Mail's lenient parser, for values that need the full address grammar. A group's
   * members are taken as addresses (the group itself is none). Display names are decoded here,
   * not by Jakarta Mail, so that they get the same lenient decoding and cleaning as subjects.
   */
  private static void parsedAddresses(String line, List<EmailAddress> out) {
    InternetAddress[] parsed;
    try {
      parsed = InternetAddress.parseHeader(line, false);
    } catch (AddressException | RuntimeException e) {
      return;
    }
    addParsed(parsed, out, 0);
  }

  private static void addParsed(InternetAddress[] parsed, List<EmailAddress> out, int depth) {
    for (InternetAddress a : parsed) {
      if (a.isGroup()) {
        if (depth == 0) { // RFC 5322 groups don't nest; a hostile value that claims so gets no deeper
          try {
            addParsed(a.getGroup(false), out, depth + 1);
          } catch (AddressException | RuntimeException e) {
            // An unreadable group: its members are skipped, as a mail client would.
          }
        }
        continue;
      }
      try {
        out.add(new EmailAddress(a.getAddress() == null ? "" : a.getAddress(), displayName(a)));
      } catch (IllegalArgumentException | NullPointerException e) {
        // Not a usable address (garbage): skipped, as a mail client would.
      }
    }
  }

  /**
   * The display name as written, decoded. InternetAddress shows the phrase as written only through
   * {@code toString()}, which puts it in quotes (escaping quote and backslash) when it needs
   * them; that is undone here.
   */
  private static String displayName(InternetAddress a) {
    String address = a.getAddress() == null ? "" : a.getAddress();
    String written = a.toString();
    String suffix = " <" + address + ">";
    if (!written.endsWith(suffix)) {
      return ""; // no display name
    }
    String phrase = written.substring(0, written.length() - suffix.length());
    if (phrase.length() >= 2 && phrase.startsWith("\"") && phrase.endsWith("\"")) {
      StringBuilder unquoted = new StringBuilder(phrase.length());
      for (int i = 1; i < phrase.length() - 1; i++) {
        char c = phrase.charAt(i);
        if (c == '\\' && i + 1 < phrase.length() - 1) {
          c = phrase.charAt(++i);
        }
        unquoted.append(c);
      }
      phrase = unquoted.toString();
    }
    return HeaderText.clean(HeaderText.decodeWords(phrase)).strip();
  }

  /** RFC 3834 and the de-facto headers auto-responders and list servers set. */
  static AutoResponse classify(MessageHeaders h) {
    String returnPath = first(h, "return-path");
    if (returnPath != null && isNullPath(returnPath)) {
      return AutoResponse.BOUNCE;
    }
    String contentType = first(h, "content-type");
    contentType = contentType == null ? "" : contentType;
    // Only 'm' and 'M' lower-case to a leading 'm': any other first character rules the bounce type out
    // without lower-casing the value (which costs a copy for nearly every message: "charset=UTF-8").
    char first = contentType.isEmpty() ? ' ' : contentType.charAt(0);
    if (first == 'm' || first == 'M') {
      contentType = contentType.toLowerCase(Locale.ROOT);
      if (contentType.startsWith("multipart/report") && contentType.contains("delivery-status")) {
        return AutoResponse.BOUNCE;
      }
    }
    String autoSubmitted = first(h, "auto-submitted");
    autoSubmitted = autoSubmitted == null ? "no" : autoSubmitted.strip().toLowerCase(Locale.ROOT);
    if (autoSubmitted.startsWith("auto-replied")) {
      return AutoResponse.AUTO_REPLY;
    }
    if (!autoSubmitted.startsWith("no") && !autoSubmitted.isEmpty()) {
      return AutoResponse.AUTO_GENERATED;
    }
    if (first(h, "x-autoreply") != null || first(h, "x-autorespond") != null) {
      return AutoResponse.AUTO_REPLY;
    }
    String precedence = first(h, "precedence");
    precedence = precedence == null ? "" : precedence.strip().toLowerCase(Locale.ROOT);
    if (precedence.equals("bulk") || precedence.equals("junk") || precedence.equals("list")) {
      return AutoResponse.AUTO_GENERATED;
    }
    if (first(h, "list-id") != null || first(h, "x-auto-response-suppress") != null || first(h, "x-loop") != null) {
      return AutoResponse.AUTO_GENERATED;
    }
    return AutoResponse.NONE;
  }

  /** Whether the value is {@code <>} once every blank ({@code \s}) is taken out: a null return path. */
  private static boolean isNullPath(String value) {
    int seen = 0; // characters other than blanks, which must be '<' then '>'
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (isRegexBlank(c)) {
        continue;
      }
      if (seen == 0 && c == '<' || seen == 1 && c == '>') {
        seen++;
      } else {
        return false;
      }
    }
    return seen == 2;
  }

  /**
   * The idempotency key: the Message-ID (Dynamics deduplicates on it too), or, for a message
   * without one, the digest of the whole message ({@link ContentDigest}), so two different
   * messages never share a key however few headers they have (an empty message, one without a
   * header block), and the same bytes read again always do. Known only once the message was
   * downloaded: the header stage may not have its body yet.
   *
   * @param contentDigest the message's {@link ContentDigest}
   */
  static String dedupKey(IncomingMessage m, String contentDigest) {
    return m.messageId() != null ? m.messageId() : contentDigest;
  }
}
