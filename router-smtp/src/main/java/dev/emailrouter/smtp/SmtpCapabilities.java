package dev.emailrouter.smtp;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The service extensions a server listed in its reply to EHLO (RFC 5321 4.1.1.1), parsed once per
 * EHLO: an answer to HELO has none.
 *
 * @param keywords every extension keyword, upper case
 * @param pipelining PIPELINING (RFC 2920)
 * @param sizeLimit the SIZE (RFC 1870) limit in octets, 0 when SIZE is offered without a limit, -1
 *     when SIZE is not offered
 * @param eightBitMime 8BITMIME (RFC 6152)
 * @param smtpUtf8 SMTPUTF8 (RFC 6531)
 * @param dsn DSN (RFC 3461)
 * @param startTls STARTTLS (RFC 3207)
 * @param authMechanisms the SASL mechanisms of AUTH (RFC 4954) and of the older {@code AUTH=}
 *     form, upper case; empty when AUTH is not offered
 */
record SmtpCapabilities(Set<String> keywords, boolean pipelining, long sizeLimit, boolean eightBitMime,
    boolean smtpUtf8, boolean dsn, boolean startTls, Set<String> authMechanisms) {

  /** What a server that answered HELO (or listed nothing) offers: nothing. */
  static final SmtpCapabilities NONE = new SmtpCapabilities(Set.of(), false, -1, false, false, false, false, Set.of());

  SmtpCapabilities {
    keywords = Set.copyOf(keywords);
    authMechanisms = Set.copyOf(authMechanisms);
    if (sizeLimit < -1) {
      throw new IllegalArgumentException("sizeLimit must be -1 or more, was " + sizeLimit);
    }
  }

  /** Whether AUTH is offered at all. */
  boolean auth() {
    return !authMechanisms.isEmpty() || keywords.contains("AUTH");
  }

  /** Parses the lines of a positive EHLO reply; the first line (the server's name) is skipped. */
  static SmtpCapabilities parse(SmtpReply ehlo) {
    Set<String> keywords = new LinkedHashSet<>();
    Set<String> mechanisms = new LinkedHashSet<>();
    long size = -1;
    List<String> lines = ehlo.lines();
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i);
      String text = line.length() > 4 ? line.substring(4).strip() : "";
      if (text.isEmpty()) {
        continue;
      }
      String[] words = text.split("[ \t]+");
      String keyword = words[0].toUpperCase(Locale.ROOT);
      List<String> params = new ArrayList<>(List.of(words).subList(1, words.length));
      if (keyword.startsWith("AUTH=")) {
        // The pre-RFC 4954 form some servers still list beside AUTH: "AUTH=LOGIN PLAIN".
        params.add(0, keyword.substring(5));
        keyword = "AUTH";
      }
      keywords.add(keyword);
      switch (keyword) {
        case "AUTH" -> params.forEach(p -> mechanisms.add(p.toUpperCase(Locale.ROOT)));
        case "SIZE" -> {
          long limit = 0;
          if (!params.isEmpty()) {
            try {
              limit = Math.max(0, Long.parseLong(params.get(0)));
            } catch (NumberFormatException e) {
              limit = 0; // a limit we can't read is no limit we can honour
            }
          }
          size = limit;
        }
        default -> {
          // other extensions are kept as keywords only
        }
      }
    }
    return new SmtpCapabilities(keywords, keywords.contains("PIPELINING"), size, keywords.contains("8BITMIME"),
        keywords.contains("SMTPUTF8"), keywords.contains("DSN"), keywords.contains("STARTTLS"), mechanisms);
  }
}
