package dev.emailrouter.core;

import dev.emailrouter.api.DeliveryReport.Action;
import dev.emailrouter.api.DeliveryReport.Recipient;
import dev.emailrouter.api.IncomingMessage;
import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognises delivery status notifications and reads what they say: RFC 3464 reports ({@code
 * multipart/report; report-type=delivery-status}) and the text shapes that are not (qmail, Exchange's
 * "Diagnostic information for administrators", Gmail's "Delivery to the following recipient failed",
 * Postfix's and Exim's text). Lenient and bounded: it reads at most {@link #MAX_SCAN} bytes of a
 * message and {@link #MAX_PART} of any part, keeps at most {@link #MAX_RECIPIENTS} recipients, and
 * never throws for what a message contains. Stateless and thread-safe.
 */
final class DeliveryReports {
  /** Bytes of a message read at most: a report's status and returned headers come first. */
  static final int MAX_SCAN = 256 * 1024;
  /** Bytes of one part read at most. */
  static final int MAX_PART = 64 * 1024;
  static final int MAX_RECIPIENTS = 100;
  /** Message-IDs found in returned text tried at most: each costs a store lookup. */
  static final int MAX_CANDIDATES = 10;
  private static final int MAX_DEPTH = 8;
  private static final int MAX_PARTS = 64;
  private static final int MAX_DIAGNOSTIC = 1000;
  private static final int MAX_FIELD = 500;
  private static final Session SESSION = Session.getInstance(new Properties());

  private static final Pattern STATUS = Pattern.compile("(?<![\\d.])([245])\\.(\\d{1,3})\\.(\\d{1,3})(?!\\.?\\d)");
  private static final Pattern SMTP_REPLY = Pattern.compile("(?<!\\d)[245]\\d\\d[ -]");
  private static final Pattern MSG_ID = Pattern.compile("<[^<>\\s]{1,500}@[^<>\\s]{1,500}>");
  private static final Pattern LABELLED_ID =
      Pattern.compile("(?im)^[ \\t>]*message-id:[ \\t]*(?:\\r?\\n[ \\t]+)?(<[^<>\\s]{1,500}@[^<>\\s]{1,500}>)");
  private static final Pattern HEADER_NAME = Pattern.compile("^([A-Za-z0-9-]{1,76}):");
  private static final Pattern ADDRESS = Pattern.compile("[^\\s<>()\",;:@]{1,256}@[A-Za-z0-9.\\[\\]:-]{1,255}");
  /** A line that is just an address, as qmail ({@code <a@b>:}), Exchange and Exim list them. */
  private static final Pattern ADDRESS_LINE =
      Pattern.compile("^[ \\t]*<?(" + ADDRESS.pattern() + ")>?(?:[ \\t]*\\([^)]{0,300}\\))?[ \\t]*:?[ \\t]*$");
  private static final Pattern QMAIL_ADDRESS = Pattern.compile("^<(" + ADDRESS.pattern() + ")>:[ \\t]*(.*)$");
  private static final Pattern HOST = Pattern.compile(
      "(?i)(?:generating server:|giving up on|connected to|remote host|host|by)[ \\t]+\\[?([A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+)\\]?");
  /** Where a text report's copy of the returned message starts: recipients are not read past it. */
  private static final Pattern RETURNED_START = Pattern.compile("(?im)^(?:[ \\t]*-+ ?below this line is a copy"
      + "|original message headers:|[ \\t]*-+ ?original message|[ \\t]*-+ ?this is a copy of the message"
      + "|[ \\t]*-+ ?the header of the original message|received: from )");
  private static final Pattern GMAIL_LIST = Pattern.compile(
      "(?i)delivery to the following recipients? (failed permanently|has been delayed|failed)");
  private static final Pattern GMAIL_NEW = Pattern.compile(
      "(?i)your message (?:wasn't|was not|has not been) delivered to (" + ADDRESS.pattern() + ")");
  private static final Pattern GMAIL_REPLY = Pattern.compile(
      "(?i)(?:the error that the other server returned was|the response from the remote server was|"
          + "the response was):[ \\t]*\\r?\\n(?:[ \\t]*\\r?\\n)?([^\\r\\n]{1,1000})");

  /** The text shape a report was read from, for logs and tests. */
  enum Shape { RFC3464, QMAIL, EXCHANGE, GMAIL, TEXT }

  /**
   * What a report says, before it is tied to an email.
   *
   * @param envelopeId the decoded RFC 3461 envelope id with angle brackets added, or null
   * @param returnedIds Message-IDs of the returned message's own header block (MIME-structured)
   * @param textIds Message-IDs in returned or quoted text, labelled ones first
   */
  record Parsed(Shape shape, String envelopeId, String reportingMta, List<Recipient> recipients,
      List<String> returnedIds, List<String> textIds) {
    Parsed {
      recipients = List.copyOf(recipients);
      returnedIds = List.copyOf(returnedIds);
      textIds = List.copyOf(textIds);
    }
  }

  private DeliveryReports() {}

  /**
   * Whether the headers alone make a message worth downloading to look for a report: a null return
   * path or a report content type, a mailer-daemon or postmaster sender, or a bounce's usual subject.
   */
  static boolean mayBe(IncomingMessage m) {
    if (m.autoResponse() == dev.emailrouter.api.AutoResponse.BOUNCE) {
      return true;
    }
    if (m.from() != null) {
      String address = m.from().address();
      int at = address.indexOf('@');
      int end = at < 0 ? address.length() : at;
      if (localIs(address, end, "mailer-daemon") || localIs(address, end, "postmaster")
          || localIs(address, end, "mail-daemon") || localIs(address, end, "mailerdaemon")
          || localStarts(address, end, "microsoftexchange")) { // Exchange Online's NDR sender
        return true;
      }
    }
    return mayStartBounceSubject(m.subject()) && BOUNCE_SUBJECT.matcher(m.subject()).find();
  }

  /**
   * Whether the local part {@code address[0, end)} is {@code word} (lower-case ASCII) in any ASCII
   * case, without a lower-case copy per message: no other character lower-cases to one of these
   * words' letters (only the Kelvin sign becomes an ASCII letter, k, which none of them has).
   */
  private static boolean localIs(String address, int end, String word) {
    return end == word.length() && localStarts(address, end, word);
  }

  private static boolean localStarts(String address, int end, String word) {
    if (end < word.length()) {
      return false;
    }
    for (int i = 0; i < word.length(); i++) {
      char c = address.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != word.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether the first character after the leading blanks ({@code \s}) can begin one of {@link
   * #BOUNCE_SUBJECT}'s words (u, d, f, m, r, n, w in either case): most subjects cannot, and they
   * need no regular expression (this runs for every message the header stage reads).
   */
  private static boolean mayStartBounceSubject(String subject) {
    for (int i = 0; i < subject.length(); i++) {
      char c = subject.charAt(i);
      if (c == ' ' || (c >= '\t' && c <= '\r')) {
        continue;
      }
      return "udfmrnwUDFMRNW".indexOf(c) >= 0;
    }
    return false;
  }

  private static final Pattern BOUNCE_SUBJECT = Pattern.compile("(?i)^\\s*(?:undeliverable|undelivered mail"
      + "|delivery status notification|failure notice|mail delivery failed|returned mail|delivery failure"
      + "|non-?delivery|delayed mail|warning: could not send|mail delivery system|delivery has failed"
      + "|unzustellbar|non remis|message not delivered)");

  /**
   * Reads the report in the first {@link #MAX_SCAN} bytes of a message.
   *
   * @param head the start of the message (or all of it)
   * @param text whether text shapes are accepted (the headers made the message a bounce candidate)
   * @return what the report says, or empty when it is not one or names no recipient
   */
  static Optional<Parsed> parse(byte[] head, boolean text) {
    try {
      return parseStrict(head, text);
    } catch (RuntimeException | StackOverflowError e) {
      // Hostile or broken input: not readable as a report, which is no failure of the message.
      return Optional.empty();
    }
  }

  /** The parts found while walking a message. */
  private static final class Found {
    String status;
    final List<String> returnedIds = new ArrayList<>();
    final StringBuilder text = new StringBuilder();
    final StringBuilder returnedText = new StringBuilder();
    int parts;
  }

  private static Optional<Parsed> parseStrict(byte[] head, boolean text) {
    byte[] bytes = head.length > MAX_SCAN ? java.util.Arrays.copyOf(head, MAX_SCAN) : head;
    Found found = new Found();
    try {
      MimeMessage message = new MimeMessage(SESSION, new ByteArrayInputStream(bytes));
      walk(message, 0, found);
    } catch (MessagingException | IOException | RuntimeException e) {
      // Unreadable as MIME: the whole start of the message is read as text below.
      found.text.setLength(0);
      found.text.append(latin1(bytes, MAX_PART * 2));
    }
    List<String> textIds = textIds(found.returnedText + "\n" + found.text);
    if (found.status != null) {
      Optional<Parsed> rfc = deliveryStatus(found.status, found.returnedIds, textIds);
      if (rfc.isPresent()) {
        return rfc;
      }
    }
    if (!text) {
      return Optional.empty();
    }
    String body = found.text.toString();
    List<Recipient> recipients = new ArrayList<>();
    Shape shape = textShape(body, recipients);
    if (recipients.isEmpty()) {
      return Optional.empty();
    }
    String reporting = null;
    Matcher g = Pattern.compile("(?i)generating server:[ \\t]*([^\\s]{1,255})").matcher(body);
    if (g.find()) {
      reporting = g.group(1);
    }
    return Optional.of(new Parsed(shape, null, reporting, recipients, found.returnedIds, textIds));
  }

  private static void walk(Part part, int depth, Found found) throws MessagingException, IOException {
    if (depth > MAX_DEPTH || ++found.parts > MAX_PARTS) {
      return;
    }
    String type = baseType(part);
    if (type.startsWith("multipart/")) {
      Object content = part.getContent();
      if (content instanceof Multipart mp) {
        int count = Math.min(mp.getCount(), MAX_PARTS);
        for (int i = 0; i < count; i++) {
          BodyPart child = mp.getBodyPart(i);
          try {
            walk(child, depth + 1, found);
          } catch (MessagingException | IOException | RuntimeException e) {
            // One unreadable part (a bad encoding) leaves the others readable.
          }
        }
      }
      return;
    }
    switch (type) {
      case "message/delivery-status", "message/global-delivery-status" -> {
        if (found.status == null) {
          found.status = read(part, MAX_PART, type.contains("global"));
        }
      }
      case "message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers" -> {
        String returned = read(part, MAX_PART, type.contains("global"));
        String block = headerBlock(returned);
        Matcher m = LABELLED_ID.matcher(block);
        while (m.find() && found.returnedIds.size() < MAX_CANDIDATES) {
          found.returnedIds.add(m.group(1));
        }
        if (found.returnedText.length() < MAX_PART * 2) {
          found.returnedText.append(returned).append('\n');
        }
      }
      case "text/plain" -> {
        if (found.text.length() < MAX_PART * 2) {
          found.text.append(read(part, MAX_PART, true)).append('\n');
        }
      }
      default -> {
        // Images, HTML, attachments: nothing a report needs.
      }
    }
  }

  private static String baseType(Part part) {
    try {
      String raw = part.getContentType();
      return raw == null ? "text/plain" : new ContentType(raw).getBaseType().toLowerCase(Locale.ROOT);
    } catch (MessagingException | RuntimeException e) {
      return "application/octet-stream";
    }
  }

  private static String read(Part part, int max, boolean utf8) throws MessagingException, IOException {
    try (InputStream in = part.getInputStream()) {
      byte[] bytes = in.readNBytes(max);
      return utf8 ? new String(bytes, StandardCharsets.UTF_8) : new String(bytes, StandardCharsets.ISO_8859_1);
    }
  }

  private static String latin1(byte[] bytes, int max) {
    return new String(bytes, 0, Math.min(bytes.length, max), StandardCharsets.ISO_8859_1);
  }

  /** The header block at the start of a text: everything before the first empty line. */
  private static String headerBlock(String text) {
    Matcher blank = Pattern.compile("\\r?\\n[ \\t]*\\r?\\n").matcher(text);
    return blank.find() ? text.substring(0, blank.start()) : text;
  }

  // --- RFC 3464 ---------------------------------------------------------------------------------

  private static Optional<Parsed> deliveryStatus(String status, List<String> returnedIds, List<String> textIds) {
    List<Map<String, String>> groups = groups(status);
    if (groups.isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> perMessage = groups.get(0);
    String envelopeId = envelopeId(perMessage.get("original-envelope-id"));
    String reportingMta = typed(perMessage.get("reporting-mta"));
    List<Recipient> recipients = new ArrayList<>();
    // A report that puts everything in one group (some do) has its recipient in the first.
    for (Map<String, String> group : perMessage.containsKey("action") ? groups : groups.subList(1, groups.size())) {
      if (recipients.size() >= MAX_RECIPIENTS) {
        break;
      }
      recipient(group).ifPresent(recipients::add);
    }
    if (recipients.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Parsed(Shape.RFC3464, envelopeId, reportingMta, recipients, returnedIds, textIds));
  }

  /** The field groups of a delivery-status body, unfolded, names lower case; bounded. */
  private static List<Map<String, String>> groups(String body) {
    List<Map<String, String>> groups = new ArrayList<>();
    Map<String, String> group = new LinkedHashMap<>();
    String name = null;
    for (String line : body.split("\\r?\\n", -1)) {
      if (line.isBlank()) {
        if (!group.isEmpty()) {
          groups.add(group);
          if (groups.size() > MAX_RECIPIENTS) {
            return groups;
          }
          group = new LinkedHashMap<>();
        }
        name = null;
        continue;
      }
      if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && name != null) {
        String joined = group.get(name) + " " + line.strip();
        group.put(name, joined.length() > MAX_DIAGNOSTIC * 2 ? joined.substring(0, MAX_DIAGNOSTIC * 2) : joined);
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        name = null;
        continue;
      }
      name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      if (group.containsKey(name)) {
        name = null; // a repeated field: the first one counts, and its continuation lines are not added
      } else {
        group.put(name, clip(line.substring(colon + 1).strip(), MAX_DIAGNOSTIC * 2));
      }
    }
    if (!group.isEmpty()) {
      groups.add(group);
    }
    return groups;
  }

  private static Optional<Recipient> recipient(Map<String, String> group) {
    String address = typed(group.get("final-recipient"));
    if (address == null || address.isEmpty()) {
      address = typed(group.get("original-recipient"));
    }
    if (address == null || address.isEmpty()) {
      return Optional.empty();
    }
    String status = status(group.get("status"));
    Action action = action(group.get("action"), status);
    if (action == null) {
      return Optional.empty();
    }
    return Optional.of(new Recipient(clip(address, MAX_FIELD), action, status != null ? status : defaultStatus(action),
        diagnostic(typed(group.get("diagnostic-code"))), clip(typed(group.get("remote-mta")), MAX_FIELD)));
  }

  /** A field value without its type ({@code rfc822;}, {@code dns;}, {@code smtp;}), or null. */
  private static String typed(String value) {
    if (value == null) {
      return null;
    }
    int semi = value.indexOf(';');
    String v = semi >= 0 && semi < 20 && value.substring(0, semi).strip().matches("[A-Za-z0-9-]+")
        ? value.substring(semi + 1) : value;
    v = v.strip();
    if (v.startsWith("<") && v.endsWith(">") && v.indexOf('@') > 0) {
      v = v.substring(1, v.length() - 1);
    }
    return v.isEmpty() ? null : v;
  }

  private static String status(String value) {
    if (value == null) {
      return null;
    }
    Matcher m = STATUS.matcher(value);
    return m.find() ? m.group(1) + "." + m.group(2) + "." + m.group(3) : null;
  }

  private static Action action(String value, String status) {
    String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
    int space = v.indexOf(' ');
    v = space > 0 ? v.substring(0, space) : v;
    return switch (v) {
      case "failed" -> Action.FAILED;
      case "delayed" -> Action.DELAYED;
      case "delivered" -> Action.DELIVERED;
      case "relayed" -> Action.RELAYED;
      case "expanded" -> Action.EXPANDED;
      default -> fromStatus(status);
    };
  }

  private static Action fromStatus(String status) {
    if (status == null) {
      return null;
    }
    return switch (status.charAt(0)) {
      case '5' -> Action.FAILED;
      case '4' -> Action.DELAYED;
      default -> Action.DELIVERED;
    };
  }

  private static String defaultStatus(Action action) {
    return switch (action) {
      case FAILED -> "5.0.0";
      case DELAYED -> "4.0.0";
      default -> "2.0.0";
    };
  }

  private static String diagnostic(String value) {
    if (value == null) {
      return null;
    }
    String v = HeaderText.clean(value).replaceAll("\\s+", " ").strip();
    return v.isEmpty() ? null : clip(v, MAX_DIAGNOSTIC);
  }

  private static String clip(String value, int max) {
    return value == null || value.length() <= max ? value : value.substring(0, max);
  }

  /**
   * An RFC 3461 envelope id as the engine sends it: the Message-ID without angle brackets, xtext
   * encoded ({@code +HH}); decoded, with the brackets put back. Null when absent or not a Message-ID.
   */
  static String envelopeId(String value) {
    String v = typed(value); // RFC 3464 allows no type here, but some write one
    if (v == null) {
      return null;
    }
    StringBuilder out = new StringBuilder(v.length());
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '+' && i + 2 < v.length() && isHex(v.charAt(i + 1)) && isHex(v.charAt(i + 2))) {
        out.append((char) Integer.parseInt(v.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        out.append(c);
      }
    }
    String id = out.toString();
    if (id.startsWith("<") && id.endsWith(">")) {
      id = id.substring(1, id.length() - 1);
    }
    if (id.isEmpty() || id.length() > 998 || id.indexOf('@') <= 0 || !id.chars().allMatch(c -> c > ' ' && c < 127)
        || id.indexOf('<') >= 0 || id.indexOf('>') >= 0) {
      return null;
    }
    return "<" + id + ">";
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
  }

  // --- returned text --------------------------------------------------------------------------

  /**
   * Message-IDs in returned or quoted text: those labelled {@code Message-ID:} first, then any
   * other, but never one in a References or In-Reply-To field (those name other emails, not this one).
   */
  static List<String> textIds(String text) {
    Set<String> ids = new LinkedHashSet<>();
    Matcher labelled = LABELLED_ID.matcher(text);
    while (labelled.find() && ids.size() < MAX_CANDIDATES) {
      ids.add(labelled.group(1));
    }
    String field = null;
    for (String line : text.split("\\r?\\n")) {
      if (ids.size() >= MAX_CANDIDATES) {
        break;
      }
      String stripped = line.startsWith(">") ? line.replaceFirst("^[> ]+", "") : line;
      Matcher name = HEADER_NAME.matcher(stripped);
      if (name.find()) {
        field = name.group(1).toLowerCase(Locale.ROOT);
      } else if (!(stripped.startsWith(" ") || stripped.startsWith("\t"))) {
        field = null;
      }
      if ("references".equals(field) || "in-reply-to".equals(field)) {
        continue;
      }
      Matcher id = MSG_ID.matcher(line);
      while (id.find() && ids.size() < MAX_CANDIDATES) {
        ids.add(id.group());
      }
    }
    return List.copyOf(ids);
  }

  // --- text shapes ----------------------------------------------------------------------------

  private static Shape textShape(String body, List<Recipient> out) {
    Matcher end = RETURNED_START.matcher(body);
    String report = end.find() ? body.substring(0, end.start()) : body;
    String lower = report.toLowerCase(Locale.ROOT);
    boolean delayed = lower.contains("delayed") || lower.contains("temporary failure")
        || lower.contains("will be retried") || lower.contains("will retry") || lower.contains("still trying");
    Matcher gmail = GMAIL_LIST.matcher(report);
    if (gmail.find()) {
      gmail(report, gmail, out);
      return Shape.GMAIL;
    }
    Matcher gmailNew = GMAIL_NEW.matcher(report);
    if (gmailNew.find()) {
      Matcher reply = GMAIL_REPLY.matcher(report);
      String diagnostic = reply.find() ? reply.group(1).strip() : null;
      add(out, gmailNew.group(1), diagnostic, remote(report), delayed);
      return Shape.GMAIL;
    }
    Shape shape = lower.contains("qmail-send") ? Shape.QMAIL
        : lower.contains("diagnostic information for administrators") ? Shape.EXCHANGE : Shape.TEXT;
    blocks(report, delayed, out);
    return shape;
  }

  /** Gmail's list: the addresses follow the heading; the details, for all of them, come after. */
  private static void gmail(String report, Matcher heading, List<Recipient> out) {
    boolean delayed = heading.group(1).toLowerCase(Locale.ROOT).contains("delayed");
    Matcher reply = GMAIL_REPLY.matcher(report);
    String diagnostic = reply.find() ? reply.group(1).strip() : null;
    String remote = remote(report);
    String[] lines = report.substring(heading.end()).split("\\r?\\n");
    boolean started = false;
    for (String line : lines) {
      Matcher a = ADDRESS_LINE.matcher(line);
      if (a.matches()) {
        started = true;
        add(out, a.group(1), diagnostic, remote, delayed);
      } else if (started && !line.isBlank()) {
        break;
      }
      if (out.size() >= MAX_RECIPIENTS) {
        break;
      }
    }
  }

  /**
   * Address blocks: a line that is an address ({@code <a@b>:} in qmail and Postfix's text,
   * {@code a@b} in Exchange's and Exim's), then its explanation up to the next blank line or
   * address. A block whose explanation carries no SMTP reply or status is kept only when it is the
   * qmail or Postfix form.
   */
  private static void blocks(String report, boolean delayed, List<Recipient> out) {
    Map<String, StringBuilder> blocks = new LinkedHashMap<>();
    Map<String, Boolean> marked = new LinkedHashMap<>();
    String current = null;
    for (String line : report.split("\\r?\\n")) {
      Matcher q = QMAIL_ADDRESS.matcher(line);
      Matcher a = ADDRESS_LINE.matcher(line);
      if (q.matches()) {
        current = q.group(1);
        blocks.putIfAbsent(current, new StringBuilder());
        blocks.get(current).append(q.group(2)).append('\n');
        marked.put(current, true);
      } else if (a.matches()) {
        current = a.group(1);
        blocks.putIfAbsent(current, new StringBuilder());
        marked.putIfAbsent(current, false);
      } else if (line.isBlank()) {
        if (current != null && blocks.get(current).length() > 0) {
          current = null;
        }
      } else if (current != null && blocks.get(current).length() < MAX_DIAGNOSTIC * 4) {
        blocks.get(current).append(line.strip()).append('\n');
      }
      if (blocks.size() > MAX_RECIPIENTS) {
        break;
      }
    }
    blocks.forEach((address, text) -> {
      String block = text.toString();
      boolean evidence = STATUS.matcher(block).find() || SMTP_REPLY.matcher(block).find();
      if (out.size() < MAX_RECIPIENTS && (evidence || marked.get(address)) && !block.isBlank()) {
        add(out, address, diagnosticLine(block), remote(block), delayed);
      }
    });
  }

  /** The line of a block that carries the server's reply, else the whole block on one line. */
  private static String diagnosticLine(String block) {
    for (String line : block.split("\n")) {
      if (SMTP_REPLY.matcher(line).find() || STATUS.matcher(line).find()) {
        String l = line.strip();
        l = l.replaceFirst("^(?i)remote host said:\\s*", "").replaceFirst("^#", "").replaceFirst("\\s*##$", "");
        return l;
      }
    }
    return block.strip().replace('\n', ' ');
  }

  private static String remote(String text) {
    Matcher h = HOST.matcher(text);
    return h.find() ? clip(h.group(1), MAX_FIELD) : null;
  }

  private static void add(List<Recipient> out, String address, String diagnostic, String remote, boolean delayed) {
    String d = diagnostic(diagnostic);
    String status = d == null ? null : status(d);
    Action action = status != null ? fromStatus(status) : delayed ? Action.DELAYED : Action.FAILED;
    out.add(new Recipient(clip(address, MAX_FIELD), action, status != null ? status : defaultStatus(action), d,
        remote));
  }
}
