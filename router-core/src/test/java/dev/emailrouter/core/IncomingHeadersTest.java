package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.AutoResponse;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.IncomingMessage;
import dev.emailrouter.api.MessageHeaders;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class IncomingHeadersTest {

  private static IncomingMessage parse(String... nameValues) {
    Map<String, List<String>> map = new LinkedHashMap<>();
    for (int i = 0; i < nameValues.length; i += 2) {
      map.computeIfAbsent(nameValues[i], k -> new java.util.ArrayList<>()).add(nameValues[i + 1]);
    }
    return IncomingHeaders.parse("mb", new MessageHeaders("7", 123, null, map));
  }

  private static AutoResponse classify(String... nameValues) {
    return parse(nameValues).autoResponse();
  }

  @Test
  void parse_readsTheUsualHeaders() {
    IncomingMessage m = parse(
        "Message-ID", " <abc@example.org> ",
        "From", "\"Doe, Jane\" <jane@example.org>",
        "To", "a@example.com, B <b@example.com>",
        "To", "c@example.com",
        "Cc", "d@example.com",
        "Subject", "Hello",
        "Date", "Fri, 1 Mar 2024 08:00:00 +0100",
        "In-Reply-To", "<parent@example.com> (Jane's message)",
        "References", "<root@example.com>\r\n <parent@example.com>");

    assertThat(m.mailbox()).isEqualTo("mb");
    assertThat(m.ref()).isEqualTo("7");
    assertThat(m.size()).isEqualTo(123);
    assertThat(m.messageId()).isEqualTo("<abc@example.org>");
    assertThat(m.from()).isEqualTo(EmailAddress.of("jane@example.org", "Doe, Jane"));
    assertThat(m.to()).containsExactly(EmailAddress.of("a@example.com"), EmailAddress.of("b@example.com", "B"),
        EmailAddress.of("c@example.com"));
    assertThat(m.cc()).containsExactly(EmailAddress.of("d@example.com"));
    assertThat(m.subject()).isEqualTo("Hello");
    assertThat(m.sentAt()).isEqualTo(Instant.parse("2024-03-01T07:00:00Z"));
    assertThat(m.inReplyTo()).isEqualTo("<parent@example.com>");
    assertThat(m.references()).containsExactly("<root@example.com>", "<parent@example.com>");
    assertThat(m.autoResponse()).isEqualTo(AutoResponse.NONE);
  }

  @Test
  void parse_decodesRfc2047SubjectsAndNames_includingFoldedOnes() {
    IncomingMessage m = parse(
        "Subject", "=?UTF-8?B?R3LDvMOfZQ==?=\r\n =?UTF-8?Q?_aus_M=C3=BCnchen?=",
        "From", "=?ISO-8859-1?Q?J=FCrgen_M=FCller?= <jm@example.de>");

    assertThat(m.subject()).isEqualTo("Grüße aus München");
    assertThat(m.from()).isEqualTo(EmailAddress.of("jm@example.de", "Jürgen Müller"));
  }

  @Test
  void parse_keepsAnUndecodableSubjectAsWritten() {
    assertThat(parse("Subject", "=?x-unknown?Q?abc?= tail").subject()).isEqualTo("=?x-unknown?Q?abc?= tail");
    assertThat(parse("Subject", "  plain  ").subject()).isEqualTo("plain");
  }

  @Test
  void parse_withoutHeaders_givesEmptyValuesNotFailures() {
    IncomingMessage m = parse();

    assertThat(m.messageId()).isNull();
    assertThat(m.from()).isNull();
    assertThat(m.to()).isEmpty();
    assertThat(m.subject()).isEmpty();
    assertThat(m.sentAt()).isNull();
    assertThat(m.inReplyTo()).isNull();
    assertThat(m.references()).isEmpty();
  }

  @Test
  void parse_ofABrokenFrom_givesNoSender() {
    for (String broken : List.of("", "not an address", "<>", "Jane <@example.org>", "jane@", "undisclosed:;",
        "Jane <jane@exa mple.org>")) {
      assertThat(parse("From", broken).from()).as(broken).isNull();
    }
  }

  @Test
  void parse_takesTheFirstOfSeveralFromAddresses() {
    assertThat(parse("From", "a@example.org, b@example.org").from()).isEqualTo(EmailAddress.of("a@example.org"));
  }

  @Test
  void parse_skipsUnusableRecipientsAndKeepsTheRest() {
    IncomingMessage m = parse("To", "undisclosed-recipients:;", "Cc", "garbage, ok@example.com");

    assertThat(m.to()).isEmpty();
    assertThat(m.cc()).containsExactly(EmailAddress.of("ok@example.com"));
  }

  @Test
  void parse_readsTheMembersOfGroups_inTheFastReaderAndInTheFullParser() {
    IncomingMessage m = parse(
        "To", "Team: a@example.com, Bob <b@example.org>;, c@example.net",
        "Cc", "\"The Team\": \"Lee, Ann\" <ann@example.com>, d@example.org (Dee);, undisclosed-recipients:;");

    assertThat(m.to()).containsExactly(EmailAddress.of("a@example.com"), EmailAddress.of("b@example.org", "Bob"),
        EmailAddress.of("c@example.net"));
    assertThat(m.cc()).containsExactly(EmailAddress.of("ann@example.com", "Lee, Ann"),
        EmailAddress.of("d@example.org", "Dee"));
  }

  @Test
  void parse_replacesControlCharactersInDecodedSubjectsAndDisplayNames() {
    String evil = java.util.Base64.getEncoder().encodeToString(
        "Hello\r\nBcc: x@evil.example".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    IncomingMessage m = parse(
        "Subject", "=?UTF-8?B?" + evil + "?=",
        "From", "=?UTF-8?B?" + evil + "?= <jane@example.org>",
        "To", "Ann\u2028Lee <a@example.com>, \"Bob\u0085Roe\" <b@example.com>");

    assertThat(m.subject()).isEqualTo("Hello Bcc: x@evil.example");
    assertThat(m.from()).isEqualTo(EmailAddress.of("jane@example.org", "Hello Bcc: x@evil.example"));
    assertThat(m.to()).containsExactly(EmailAddress.of("a@example.com", "Ann Lee"),
        EmailAddress.of("b@example.com", "Bob Roe"));
  }

  @Test
  void parse_decodesSplitMultibyteWordsUtf7AndBrokenBase64_inSubjectsAndDisplayNames() {
    IncomingMessage m = parse(
        "Subject", "=?UTF-8?B?w6Q=?= =?UTF-8?B?w7bDvA?=",
        "From", "=?UTF-7?Q?J+APY-rg?= <j@example.de>",
        "To", "=?UTF-8?Q?M=C3?= =?UTF-8?Q?=BCller?= <m@example.de>, =?UTF-8?B?R3LDvMOf!ZQ?= <g@example.de>");

    assertThat(m.subject()).isEqualTo("äöü");
    assertThat(m.from()).isEqualTo(EmailAddress.of("j@example.de", "Jörg"));
    assertThat(m.to()).containsExactly(EmailAddress.of("m@example.de", "Müller"),
        EmailAddress.of("g@example.de", "Grüße"));
  }

  @Test
  void parse_ignoresAMessageIdWithoutAngleBrackets_andAnUnreadableDate() {
    IncomingMessage m = parse("Message-ID", "abc@example.org", "Date", "yesterday-ish");

    assertThat(m.messageId()).isNull();
    assertThat(m.sentAt()).isNull();
  }

  @Test
  void parse_keepsTheNewest500References_ofAHostileThread() {
    StringBuilder refs = new StringBuilder();
    for (int i = 0; i < 600; i++) {
      refs.append("<r").append(i).append("@x> ");
    }

    List<String> kept = parse("References", refs.toString()).references();

    assertThat(kept).hasSize(500).startsWith("<r100@x>").endsWith("<r599@x>");
  }

  @Test
  void messageIds_findsEveryIdInOrder_andNothingInGarbage() {
    assertThat(IncomingHeaders.messageIds("<a@b>\r\n\t<c@d> junk <e@f>")).containsExactly("<a@b>", "<c@d>", "<e@f>");
    assertThat(IncomingHeaders.messageIds("<a b@c> <> no ids")).isEmpty();
    assertThat(IncomingHeaders.messageIds(null)).isEmpty();
  }

  @Test
  void messageIds_andNullReturnPath_findWhatTheFormerRegularExpressionsFound() {
    // The scans replaced <[^<>\s]+> and "blanks removed equals <>": pinned against them on many values.
    java.util.regex.Pattern id = java.util.regex.Pattern.compile("<[^<>\\s]+>");
    java.util.regex.Pattern blanks = java.util.regex.Pattern.compile("\\s");
    String alphabet = "<>a@ \t\n\u000b\f\r,\u00a0(";
    java.util.Random random = new java.util.Random(15);
    for (int round = 0; round < 20_000; round++) {
      StringBuilder b = new StringBuilder();
      for (int i = random.nextInt(12); i > 0; i--) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String value = b.toString();
      List<String> expected = new java.util.ArrayList<>();
      java.util.regex.Matcher m = id.matcher(value);
      while (m.find()) {
        expected.add(m.group());
      }
      assertThat(IncomingHeaders.messageIds(value)).as(value).isEqualTo(expected);
      assertThat(IncomingHeaders.firstMessageId(value)).as(value).isEqualTo(expected.isEmpty() ? null : expected.get(0));
      boolean nullPath = blanks.matcher(value).replaceAll("").equals("<>");
      assertThat(classify("Return-Path", value) == AutoResponse.BOUNCE).as(value).isEqualTo(nullPath);
    }
  }

  @Test
  void parse_whenAnAddressListTurnsOutNotSimpleAfterItsFirstMember_listsEachAddressOnce() {
    IncomingMessage m = parse("To", "a@example.com, J. Doe <c@example.com>", "To", "e@example.com");
    assertThat(m.to()).containsExactly(EmailAddress.of("a@example.com"), EmailAddress.of("c@example.com", "J. Doe"),
        EmailAddress.of("e@example.com"));
  }

  @Test
  void parse_readsReferencesSplitOverSeveralValues_asOneList() {
    IncomingMessage m = parse("References", "<a@b> <c@", "References", "d> <e@f>");
    assertThat(m.references()).containsExactly("<a@b>", "<e@f>");
  }

  @Test
  void classify_recognisesAutoRepliesBulkMailAndBounces() {
    assertThat(classify("Auto-Submitted", "auto-replied (vacation)")).isEqualTo(AutoResponse.AUTO_REPLY);
    assertThat(classify("Auto-Submitted", "Auto-Generated")).isEqualTo(AutoResponse.AUTO_GENERATED);
    assertThat(classify("Auto-Submitted", "no")).isEqualTo(AutoResponse.NONE);
    assertThat(classify("X-Autoreply", "yes")).isEqualTo(AutoResponse.AUTO_REPLY);
    assertThat(classify("X-Autorespond", "yes")).isEqualTo(AutoResponse.AUTO_REPLY);
    assertThat(classify("Precedence", " Bulk ")).isEqualTo(AutoResponse.AUTO_GENERATED);
    assertThat(classify("Precedence", "junk")).isEqualTo(AutoResponse.AUTO_GENERATED);
    assertThat(classify("Precedence", "list")).isEqualTo(AutoResponse.AUTO_GENERATED);
    assertThat(classify("Precedence", "first-class")).isEqualTo(AutoResponse.NONE);
    assertThat(classify("List-Id", "<news.example.org>")).isEqualTo(AutoResponse.AUTO_GENERATED);
    assertThat(classify("X-Auto-Response-Suppress", "All")).isEqualTo(AutoResponse.AUTO_GENERATED);
    assertThat(classify("Return-Path", "< >")).isEqualTo(AutoResponse.BOUNCE);
    assertThat(classify("Return-Path", "<bounces@example.org>")).isEqualTo(AutoResponse.NONE);
    assertThat(classify("Content-Type", "multipart/report; report-type=delivery-status; boundary=x"))
        .isEqualTo(AutoResponse.BOUNCE);
    assertThat(classify("Content-Type", "text/plain")).isEqualTo(AutoResponse.NONE);
  }

  @Test
  void dedupKey_isTheMessageId_orTheDigestOfTheWholeMessage() {
    IncomingMessage withId = parse("Message-ID", "<a@b>", "Subject", "x");
    IncomingMessage without = parse("From", "a@example.org", "Subject", "x");
    String digest = "sha256:" + "ab".repeat(32);

    assertThat(IncomingHeaders.dedupKey(withId, digest)).isEqualTo("<a@b>");
    assertThat(IncomingHeaders.dedupKey(without, digest)).isEqualTo(digest);
  }

  @Test
  void parse_readsDatesCorrectlyFromManyThreadsAtOnce() throws Exception {
    // The date parser is shared per thread; a parser shared between threads garbles dates.
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int day = t + 1;
        results.add(pool.submit(() -> {
          Instant expected = Instant.parse("2024-03-0" + day + "T07:00:00Z");
          for (int i = 0; i < 2_000; i++) {
            if (!expected.equals(parse("Date", "Fri, " + day + " Mar 2024 08:00:00 +0100").sentAt())) {
              return false;
            }
          }
          return true;
        }));
      }
      for (java.util.concurrent.Future<Boolean> r : results) {
        assertThat(r.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * What Jakarta Mail's parser makes of a value, with each group's members taken as addresses
   * ({@code InternetAddress.getGroup}): the reference the fast path must match.
   */
  private static List<EmailAddress> viaJakartaMail(String value) {
    List<EmailAddress> out = new java.util.ArrayList<>();
    jakarta.mail.internet.InternetAddress[] parsed;
    try {
      parsed = jakarta.mail.internet.InternetAddress.parseHeader(value.replaceAll("\r?\n", ""), false);
    } catch (jakarta.mail.internet.AddressException e) {
      return out;
    }
    List<jakarta.mail.internet.InternetAddress> members = new java.util.ArrayList<>();
    for (jakarta.mail.internet.InternetAddress a : parsed) {
      try {
        members.addAll(a.isGroup() ? List.of(a.getGroup(false)) : List.of(a));
      } catch (jakarta.mail.internet.AddressException e) {
        // an unreadable group: skipped, as IncomingHeaders does
      }
    }
    for (jakarta.mail.internet.InternetAddress a : members) {
      try {
        String personal = a.getPersonal();
        out.add(new EmailAddress(a.getAddress() == null ? "" : a.getAddress(),
            personal == null ? "" : personal.replaceAll("\\p{Cntrl}", " ")));
      } catch (IllegalArgumentException | NullPointerException e) {
        // skipped, as IncomingHeaders does
      }
    }
    return out;
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {
      "a@example.com", "  a@example.com  ", "<a@example.com>", "Ann <a@example.com>", "Ann  Lee <a@example.com>",
      "Ann Lee<a@example.com>", "a@example.com, b@example.org", "Ann <a@example.com>, Bob <b@example.org>",
      "a@example.com,", ", a@example.com", "a@example.com, , b@example.org", "Ann Lee <A@Example.COM>",
      "Jörg <j@example.de>", "\"Lee, Ann\" <a@example.com>", "Ann (work) <a@example.com>",
      "a@example.com (Ann)", "=?UTF-8?Q?J=C3=B6rg?= <j@example.de>", "Team: a@example.com, b@example.org;",
      "undisclosed-recipients:;", "Team: Ann <a@example.com>;, c@example.net", "A: a@example.com;, B: b@example.org;",
      "Team: a@example.com", "Dept. Sales: a@example.com;", "a@example.com;", "<@route:a@example.com>",
      "Ann A. Lee <a@example.com>", "<a@example.com> trailing", "Ann <a@example.com", "Ann a@example.com>",
      "a@b@example.com", "@example.com", "a@", "not an address", "", "Ann <>", "<a@[10.0.0.1]>",
      "Ann <a@example.com>>", "Ann <<a@example.com>", "a@example.com\r\n b@example.org",
      "Ann\r\n <a@example.com>", "ann+tag@sub.example.co.uk", "jörg@example.de", "Ann\\Lee <a@example.com>",
      "Ann <a b@example.com>", "x@example.com, Ann <a@example.com>, \"B\" <b@example.com>"})
  void addresses_readTheCommonShapesExactlyAsJakartaMailDoes(String value) {
    assertThat(IncomingHeaders.addresses(List.of(value))).isEqualTo(viaJakartaMail(value));
  }

  @Test
  void usualDate_readsWhatMailDateFormatReads_andLeavesEveryOtherFormToIt() throws Exception {
    jakarta.mail.internet.MailDateFormat reference = new jakarta.mail.internet.MailDateFormat();
    java.util.Random random = new java.util.Random(5322);
    List<String> usual = new java.util.ArrayList<>(List.of("Fri, 1 Mar 2024 08:00:00 +0100",
        "1 Mar 2024 08:00:00 +0100", "Sun, 31 Dec 2023 23:59:59 -1130", "Mon, 29 Feb 2016 00:00 +0000",
        "Tue, 09 Jul 2024 7:05:00 -0000".replace(" 7:", " 07:")));
    String[] months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int k = 0; k < 500; k++) {
      usual.add(String.format(Locale.ROOT, "Wed, %d %s %04d %02d:%02d:%02d %s%02d%02d", 1 + random.nextInt(28),
          months[random.nextInt(12)], 1970 + random.nextInt(100), random.nextInt(24), random.nextInt(60),
          random.nextInt(60), random.nextBoolean() ? "+" : "-", random.nextInt(15), random.nextInt(60)));
    }
    for (String date : usual) {
      assertThat(IncomingHeaders.usualDate(date)).as(date).isEqualTo(reference.parse(date).toInstant());
    }
    for (String other : List.of("Fri, 1 Mar 2024 08:00:00 GMT", "Fri, 1 mar 2024 08:00:00 +0100",
        "1 Mar 24 08:00:00 +0100", "Fri, 31 Feb 2024 08:00:00 +0100", "Fri, 1 Mar 2024 08:00:00 +0100 (CET)",
        "Fri, 1 Mar 2024 08:00:60 +0100", "Fri, 1 Mar 2024 08:00:00 +0199", "yesterday", "")) {
      assertThat(IncomingHeaders.usualDate(other)).as(other).isNull();
    }
    assertThat(parse("Date", "Fri, 31 Feb 2024 08:00:00 +0100").sentAt()).as("still read by MailDateFormat")
        .isEqualTo(reference.parse("Fri, 31 Feb 2024 08:00:00 +0100").toInstant());
  }
}
