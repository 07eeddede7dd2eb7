package dev.emailrouter.reliability;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;

/**
 * A seeded corpus of hostile incoming messages, made in code: broken MIME boundaries, wrong and
 * unknown charsets and transfer encodings, raw 8-bit and NUL bytes in headers, huge headers, deep
 * nesting, missing, duplicate and malformed Message-IDs, empty messages, non-ASCII and invalid
 * addresses, odd line endings, garbage content types and file names, bad dates, binary noise; and
 * what a hostile trial found (issue 12): messages without any header, international domain names,
 * UTF-7 and split encoded words, encoded words that decode to CR/LF, RFC 5322 groups, blocked file
 * types disguised. The same seed gives the same bytes.
 */
final class HostileCorpus {

  /** One message and the category it stands for. */
  record Sample(String category, byte[] raw) {}

  private static final String CRLF = "\r\n";

  private HostileCorpus() {}

  static final String HEADERLESS = "headers: none at all (empty, leading blank line, body only)";
  static final String IDN = "addresses: international domain names";
  static final String UTF7 = "encoded words: UTF-7";
  static final String SPLIT = "encoded words: a character split across two words";
  static final String CRLF_WORD = "encoded words: decoding to CR LF";
  static final String GROUPS = "addresses: RFC 5322 groups";
  static final String EVASIONS = "attachments: blocked extensions disguised";
  static final String SHARED_ID = "Message-ID: shared by different messages";
  /** The blocked attachments {@link #EVASIONS} disguises, as a client on the desktop would save them. */
  static final List<String> EVASION_NAMES = List.of("payload.exe.", "payload.exe. .", "payload.exe::$DATA",
      "payload%2Eexe (RFC 2231)", "report.js", "tool.jar", "payload%2E + exe (RFC 2231 continuation)");
  /** What {@link #UTF7} subjects decode to (before the sample's number). */
  static final String UTF7_SUBJECT = "Gr\u00fc\u00dfe \u20ac";
  /** What {@link #SPLIT} subjects decode to (before the sample's number). */
  static final String SPLIT_SUBJECT = "Preis 5\u20ac f\u00fcr \u65e5\u672c";

  /** {@code perCategory} variants of each category (36 categories). */
  static List<Sample> generate(long seed, int perCategory) {
    Random random = new Random(seed);
    List<Sample> out = new ArrayList<>();
    List<Category> categories = categories();
    for (int i = 0; i < perCategory; i++) {
      for (Category c : categories) {
        out.add(new Sample(c.name, c.make.apply(random, i)));
      }
    }
    return out;
  }

  private record Category(String name, BiFunction<Random, Integer, byte[]> make) {}

  private static List<Category> categories() {
    return List.of(
        new Category("boundary: closing delimiter missing", HostileCorpus::boundaryUnclosed),
        new Category("boundary: declared, never used", HostileCorpus::boundaryUnused),
        new Category("boundary: empty or missing parameter", HostileCorpus::boundaryMissing),
        new Category("boundary: nested part reuses the outer boundary", HostileCorpus::boundaryReused),
        new Category("charset: unknown", HostileCorpus::charsetUnknown),
        new Category("charset: wrong for the bytes", HostileCorpus::charsetWrong),
        new Category("charset: garbage parameter", HostileCorpus::charsetGarbage),
        new Category("transfer encoding: unknown", HostileCorpus::cteUnknown),
        new Category("transfer encoding: broken base64", HostileCorpus::cteBadBase64),
        new Category("transfer encoding: broken quoted-printable", HostileCorpus::cteBadQp),
        new Category("headers: raw 8-bit and NUL bytes", HostileCorpus::raw8bitHeaders),
        new Category("headers: broken encoded words", HostileCorpus::brokenEncodedWords),
        new Category("headers: huge (long values, many fields)", HostileCorpus::hugeHeaders),
        new Category("headers: thousands of References and recipients", HostileCorpus::manyReferences),
        new Category("nesting: deep multipart", HostileCorpus::deepMultipart),
        new Category("nesting: deep message/rfc822", HostileCorpus::deepRfc822),
        new Category("Message-ID: missing", HostileCorpus::messageIdMissing),
        new Category(SHARED_ID, HostileCorpus::messageIdShared),
        new Category("Message-ID: two headers", HostileCorpus::messageIdTwice),
        new Category("Message-ID: malformed or huge", HostileCorpus::messageIdMalformed),
        new Category("empty or headers only", HostileCorpus::empty),
        new Category("addresses: non-ASCII", HostileCorpus::nonAsciiAddresses),
        new Category("addresses: invalid", HostileCorpus::invalidAddresses),
        new Category("line endings: bare LF, bare CR, NUL", HostileCorpus::lineEndings),
        new Category("content type: garbage", HostileCorpus::contentTypeGarbage),
        new Category("attachments: hostile names and types", HostileCorpus::hostileAttachments),
        new Category("dates: unreadable", HostileCorpus::badDates),
        new Category("binary noise", HostileCorpus::noise),
        new Category("automatic and looping", HostileCorpus::automatic),
        new Category(HEADERLESS, HostileCorpus::headerless),
        new Category(IDN, HostileCorpus::idnAddresses),
        new Category(UTF7, HostileCorpus::utf7Words),
        new Category(SPLIT, HostileCorpus::splitWords),
        new Category(CRLF_WORD, HostileCorpus::crlfWords),
        new Category(GROUPS, HostileCorpus::groups),
        new Category(EVASIONS, HostileCorpus::evasions));
  }

  // ---------------------------------------------------------------------------------------------

  private static String headers(Random r, String category, int i) {
    return "Message-ID: <hostile-" + category + "-" + i + "-" + Long.toHexString(r.nextLong()) + "@example.test>" + CRLF
        + "From: Ann Contact <ann@example.test>" + CRLF
        + "To: sales@crm.example.test" + CRLF
        + "Subject: hostile " + category + " " + i + CRLF
        + "Date: Fri, 1 Mar 2024 09:00:00 +0000" + CRLF
        + "MIME-Version: 1.0" + CRLF;
  }

  private static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static String text(Random r, int words) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < words; i++) {
      sb.append(Long.toString(r.nextLong() & Long.MAX_VALUE, 36)).append(i % 12 == 11 ? CRLF : " ");
    }
    return sb.append(CRLF).toString();
  }

  private static byte[] boundaryUnclosed(Random r, int i) {
    return latin1(headers(r, "unclosed", i) + "Content-Type: multipart/mixed; boundary=\"b1\"" + CRLF + CRLF
        + "--b1" + CRLF + "Content-Type: text/plain" + CRLF + CRLF + text(r, 20)
        + "--b1" + CRLF + "Content-Type: application/pdf; name=a.pdf" + CRLF
        + "Content-Transfer-Encoding: base64" + CRLF + CRLF
        + Base64.getMimeEncoder().encodeToString(new byte[100 + r.nextInt(2000)]) + CRLF);
  }

  private static byte[] boundaryUnused(Random r, int i) {
    return latin1(headers(r, "unused", i) + "Content-Type: multipart/alternative; boundary=\"never-" + i + "\"" + CRLF
        + CRLF + text(r, 40));
  }

  private static byte[] boundaryMissing(Random r, int i) {
    String type = i % 2 == 0 ? "multipart/mixed; boundary=\"\"" : "multipart/related";
    return latin1(headers(r, "missing", i) + "Content-Type: " + type + CRLF + CRLF
        + "--" + CRLF + "Content-Type: text/plain" + CRLF + CRLF + text(r, 10) + "----" + CRLF);
  }

  private static byte[] boundaryReused(Random r, int i) {
    return latin1(headers(r, "reused", i) + "Content-Type: multipart/mixed; boundary=\"same\"" + CRLF + CRLF
        + "--same" + CRLF + "Content-Type: multipart/alternative; boundary=\"same\"" + CRLF + CRLF
        + "--same" + CRLF + "Content-Type: text/plain" + CRLF + CRLF + text(r, 10)
        + "--same" + CRLF + "Content-Type: text/html" + CRLF + CRLF + "<p>" + text(r, 5) + "</p>" + CRLF
        + "--same--" + CRLF + "--same--" + CRLF);
  }

  private static byte[] charsetUnknown(Random r, int i) {
    String[] names = {"x-klingon", "utf-9", "windows-9999", "ebcdic-xyz", "unicode-1-1-utf-7", "", "\"\"", "ks_c"};
    return concat(latin1(headers(r, "charset-unknown", i) + "Content-Type: text/plain; charset=" + names[i % names.length]
        + CRLF + CRLF), randomBytes(r, 200));
  }

  private static byte[] charsetWrong(Random r, int i) {
    String[] declared = {"utf-8", "us-ascii", "utf-16", "utf-32", "iso-2022-jp", "shift_jis", "big5", "utf-16le"};
    byte[] body = i % 2 == 0 ? latin1("caf\u00e9 na\u00efve \u00fc\u00df" + CRLF) : randomBytes(r, 1 + 2 * r.nextInt(50));
    return concat(latin1(headers(r, "charset-wrong", i) + "Content-Type: text/plain; charset=" + declared[i % declared.length]
        + CRLF + "Content-Transfer-Encoding: 8bit" + CRLF + CRLF), body);
  }

  private static byte[] charsetGarbage(Random r, int i) {
    String[] params = {"charset=\"utf-8", "charset=utf-8\"; x=", "charset==", "charset=\u00ff\u00fe", "charset",
        "charset=\"\\\"\"", "charset=utf-8;charset=latin1", "charset=" + "x".repeat(5000)};
    return latin1(headers(r, "charset-garbage", i) + "Content-Type: text/plain; " + params[i % params.length] + CRLF + CRLF
        + text(r, 10));
  }

  private static byte[] cteUnknown(Random r, int i) {
    String[] names = {"x-rot13", "base65", "binary", "7bit; x=y", "quoted-printable-ish", "x-uuencode", "", "8bit 8bit"};
    return concat(latin1(headers(r, "cte-unknown", i) + "Content-Type: text/plain; charset=utf-8" + CRLF
        + "Content-Transfer-Encoding: " + names[i % names.length] + CRLF + CRLF), randomBytes(r, 300), latin1(CRLF));
  }

  private static byte[] cteBadBase64(Random r, int i) {
    String body = switch (i % 4) {
      case 0 -> "!!!not base64 at all***" + CRLF;
      case 1 -> "QUJD=RE=F" + CRLF + "====" + CRLF;
      case 2 -> Base64.getEncoder().encodeToString(randomBytes(r, 500)).substring(1) + CRLF;
      default -> "\u00ff\u00fe" + Base64.getEncoder().encodeToString(randomBytes(r, 50)) + "\u0000" + CRLF;
    };
    return latin1(headers(r, "bad-base64", i) + "Content-Type: multipart/mixed; boundary=z" + CRLF + CRLF
        + "--z" + CRLF + "Content-Type: text/plain; charset=utf-8" + CRLF + "Content-Transfer-Encoding: base64" + CRLF + CRLF
        + body + "--z" + CRLF + "Content-Type: image/png; name=x.png" + CRLF + "Content-Transfer-Encoding: base64" + CRLF
        + CRLF + body + "--z--" + CRLF);
  }

  private static byte[] cteBadQp(Random r, int i) {
    String body = switch (i % 4) {
      case 0 -> "soft break at the very end =";
      case 1 -> "bad escapes =ZZ =G1 =\u00ff=" + CRLF + "=" + CRLF;
      case 2 -> "x".repeat(20_000) + "=3D" + CRLF;
      default -> "=E9=E8=" + CRLF + "=0D=0A=00" + CRLF;
    };
    return latin1(headers(r, "bad-qp", i) + "Content-Type: text/plain; charset=iso-8859-1" + CRLF
        + "Content-Transfer-Encoding: quoted-printable" + CRLF + CRLF + body);
  }

  private static byte[] raw8bitHeaders(Random r, int i) {
    byte[] subject = switch (i % 4) {
      case 0 -> "Subject: Gr\u00fc\u00dfe aus K\u00f6ln \u2013 \u65e5\u672c".getBytes(StandardCharsets.UTF_8);
      case 1 -> latin1("Subject: caf\u00e9 cr\u00e8me br\u00fbl\u00e9e");
      case 2 -> concat(latin1("Subject: nul"), new byte[] {0, 0}, latin1("in the middle"));
      default -> concat(latin1("Subject: "), randomBytes(r, 80));
    };
    byte[] from = i % 2 == 0 ? "From: J\u00f6rg M\u00fcller <joerg@example.test>".getBytes(StandardCharsets.UTF_8)
        : latin1("From: Jos\u00e9 <jose@example.test>");
    return concat(latin1("Message-ID: <raw8-" + i + "@example.test>" + CRLF), from, latin1(CRLF), subject,
        latin1(CRLF + "To: sales@crm.example.test" + CRLF + CRLF), latin1(text(r, 10)));
  }

  private static byte[] brokenEncodedWords(Random r, int i) {
    String[] words = {"=?utf-8?B?!!!?=", "=?x-unknown?Q?abc?=", "=?utf-8?Q?unterminated", "=?utf-8?X?abc?=",
        "=?utf-8?B?" + "A".repeat(10_001) + "?=", "=??B?YWJj?=", "=?utf-8*en?Q?=FF=FE?=", "=?=?=?=?"};
    String w = words[i % words.length];
    return latin1("Message-ID: <ew-" + i + "@example.test>" + CRLF + "From: " + w + " <ann@example.test>" + CRLF
        + "To: " + w + " <sales@crm.example.test>" + CRLF + "Subject: " + w + " " + w + CRLF
        + "Content-Type: text/plain; name=\"" + w + "\"" + CRLF + "Content-Disposition: attachment; filename=\"" + w + "\""
        + CRLF + CRLF + text(r, 5));
  }

  private static byte[] hugeHeaders(Random r, int i) {
    StringBuilder sb = new StringBuilder(headers(r, "huge", i));
    switch (i % 3) {
      case 0 -> sb.append("X-Long: ").append("y".repeat(200_000 + r.nextInt(800_000))).append(CRLF);
      case 1 -> {
        for (int k = 0; k < 5_000 + r.nextInt(5_000); k++) {
          sb.append("X-Field-").append(k).append(": value ").append(k).append(CRLF);
        }
      }
      default -> {
        sb.append("Subject: folded");
        for (int k = 0; k < 20_000; k++) {
          sb.append(CRLF).append(" part").append(k);
        }
        sb.append(CRLF);
      }
    }
    return latin1(sb.append(CRLF).append(text(r, 10)).toString());
  }

  private static byte[] manyReferences(Random r, int i) {
    StringBuilder sb = new StringBuilder(headers(r, "refs", i));
    sb.append("References:");
    for (int k = 0; k < 3_000 + r.nextInt(3_000); k++) {
      sb.append(" <ref-").append(k).append("@example.test>").append(k % 3 == 2 ? CRLF : "");
    }
    sb.append(CRLF).append("In-Reply-To: <ref-0@example.test> <ref-1@example.test> garbage").append(CRLF);
    if (i % 2 == 0) {
      sb.append("Cc: ");
      for (int k = 0; k < 1_500; k++) {
        sb.append("person").append(k).append("@example.test, ");
      }
      sb.append("last@example.test").append(CRLF);
    }
    return latin1(sb.append(CRLF).append(text(r, 10)).toString());
  }

  private static byte[] deepMultipart(Random r, int i) {
    int depth = 30 + r.nextInt(300);
    StringBuilder sb = new StringBuilder(headers(r, "deep", i));
    sb.append("Content-Type: multipart/mixed; boundary=\"d0\"").append(CRLF).append(CRLF);
    for (int d = 0; d < depth; d++) {
      sb.append("--d").append(d).append(CRLF).append("Content-Type: multipart/mixed; boundary=\"d").append(d + 1)
          .append("\"").append(CRLF).append(CRLF);
    }
    sb.append("--d").append(depth).append(CRLF).append("Content-Type: text/plain").append(CRLF).append(CRLF)
        .append(text(r, 5));
    for (int d = depth; d >= 0; d--) {
      sb.append("--d").append(d).append("--").append(CRLF);
    }
    return latin1(sb.toString());
  }

  private static byte[] deepRfc822(Random r, int i) {
    int depth = 20 + r.nextInt(100);
    String inner = "From: inner@example.test" + CRLF + "Subject: innermost" + CRLF + CRLF + text(r, 5);
    for (int d = 0; d < depth; d++) {
      inner = "From: level" + d + "@example.test" + CRLF + "Subject: level " + d + CRLF + "MIME-Version: 1.0" + CRLF
          + "Content-Type: message/rfc822" + CRLF + CRLF + inner;
    }
    return latin1(headers(r, "rfc822", i) + "Content-Type: message/rfc822" + CRLF + CRLF + inner);
  }

  private static byte[] messageIdMissing(Random r, int i) {
    // Pairs with identical stable headers: the digest that stands in for the Message-ID is the same.
    return latin1("From: Ann Contact <ann@example.test>" + CRLF + "To: sales@crm.example.test" + CRLF
        + "Subject: no Message-ID " + (i / 2) + CRLF + "Date: Fri, 1 Mar 2024 09:00:00 +0000" + CRLF + CRLF
        + text(r, 10));
  }

  private static byte[] messageIdShared(Random r, int i) {
    return latin1("Message-ID: <shared-" + (i / 2) + "@example.test>" + CRLF + "From: someone" + i + "@example.test" + CRLF
        + "To: sales@crm.example.test" + CRLF + "Subject: a different message " + i + CRLF + CRLF + text(r, 10));
  }

  private static byte[] messageIdTwice(Random r, int i) {
    return latin1("Message-ID: <first-" + i + "@example.test>" + CRLF + "From: ann@example.test" + CRLF
        + "Message-ID: <second-" + i + "@example.test>" + CRLF + "Subject: two ids" + CRLF + CRLF + text(r, 5));
  }

  private static byte[] messageIdMalformed(Random r, int i) {
    String[] ids = {"no-brackets-" + i + "@example.test", "<>", "<a b " + i + "@c>", "<" + "m".repeat(3_000) + i + "@x>",
        "<<nested-" + i + "@x>>", "<unterminated-" + i + "@x", "\u00e9t\u00e9-" + i + "@x", "<" + i + ">"};
    return latin1("Message-ID: " + ids[i % ids.length] + CRLF + "From: ann@example.test" + CRLF + "Subject: odd id " + i
        + CRLF + CRLF + text(r, 5));
  }

  private static byte[] empty(Random r, int i) {
    return switch (i % 6) {
      case 0 -> new byte[0];
      case 1 -> latin1(CRLF);
      case 2 -> latin1("Message-ID: <headers-only-" + i + "@example.test>" + CRLF + "From: ann@example.test");
      case 3 -> latin1(CRLF + CRLF + "a body without headers " + i + CRLF);
      case 4 -> latin1("From: ann@example.test" + CRLF + CRLF);
      default -> latin1(" " + CRLF + "\t" + CRLF);
    };
  }

  private static byte[] nonAsciiAddresses(Random r, int i) {
    String[] froms = {"J\u00f6rg <j\u00f6rg@ex\u00e4mple.de>", "\u7528\u6237@\u4f8b\u5b50.\u4e2d\u56fd",
        "=?utf-8?B?SsO2cmc=?= <joerg@xn--exmple-cua.de>", "\"M\u00fcller, Hans\" <hans@m\u00fcller.example>",
        "\u0444\u0451\u0434\u043e\u0440@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",
        "caf\u00e9@example.test", "<\u00fc@\u00fc>", "\u00e9@\u00e9.\u00e9"};
    return concat(("Message-ID: <nonascii-" + i + "@example.test>" + CRLF + "From: " + froms[i % froms.length] + CRLF
        + "To: " + froms[(i + 1) % froms.length] + ", sales@crm.example.test" + CRLF + "Subject: hi" + CRLF + CRLF)
        .getBytes(StandardCharsets.UTF_8), latin1(text(r, 5)));
  }

  private static byte[] invalidAddresses(Random r, int i) {
    String[] froms = {"@@@", "<>", "undisclosed-recipients:;", "a@", "@b", "\"unterminated <x@y>", "<x@y", "x@y@z",
        "Group: a@b, c@d;", "(comment only)", "<a@b> <c@d>", "a" + "b".repeat(500) + "@example.test"};
    return latin1("Message-ID: <invalid-addr-" + i + "@example.test>" + CRLF + "From: " + froms[i % froms.length] + CRLF
        + "To: " + froms[(i + 3) % froms.length] + CRLF + "Cc: ,,,;;;" + CRLF + "Reply-To: " + froms[(i + 5) % froms.length]
        + CRLF + "Subject: bad addresses" + CRLF + CRLF + text(r, 5));
  }

  private static byte[] lineEndings(Random r, int i) {
    String nl = switch (i % 3) {
      case 0 -> "\n";
      case 1 -> "\r";
      default -> "\r\r\n";
    };
    String msg = headers(r, "eol", i).replace(CRLF, nl) + "Content-Type: text/plain" + nl + nl + text(r, 20)
        .replace(CRLF, nl);
    return concat(latin1(msg), i % 2 == 0 ? new byte[] {0, 0, 0, 'x', 0} : new byte[0]);
  }

  private static byte[] contentTypeGarbage(Random r, int i) {
    String[] types = {"text/", "/plain", ";;;", "multipart/", "text/plain; ; ; ;", "\u00ff/\u00fe",
        "application/octet-stream; name=", "text/plain (comment"};
    return latin1(headers(r, "ctype", i) + "Content-Type: " + types[i % types.length] + CRLF
        + "Content-Disposition: ;;; filename" + CRLF + CRLF + text(r, 10));
  }

  private static byte[] hostileAttachments(Random r, int i) {
    String[] names = {"../../../etc/passwd", "C:\\Windows\\system32\\evil.exe", "a\u0000b.txt", "x".repeat(10_000) + ".pdf",
        "invoice.pdf.exe", "\r\nBcc: victim@example.test", "=?utf-8?B?Li4vZXZpbC5iYXQ=?=", "CON"};
    String name = names[i % names.length];
    String rfc2231 = i % 2 == 0 ? "filename*0*=utf-8''%E2%82%AC; filename*1=\"" + i + "\"" : "filename*=broken'%ZZ";
    return latin1(headers(r, "attach", i) + "Content-Type: multipart/mixed; boundary=q" + CRLF + CRLF
        + "--q" + CRLF + "Content-Type: text/plain" + CRLF + CRLF + text(r, 5)
        + "--q" + CRLF + "Content-Type: application/x-msdownload; name=\"" + name + "\"" + CRLF
        + "Content-Disposition: attachment; filename=\"" + name + "\"" + CRLF + "Content-Transfer-Encoding: base64" + CRLF
        + CRLF + Base64.getMimeEncoder().encodeToString(randomBytes(r, 300)) + CRLF
        + "--q" + CRLF + "Content-Type: application/pdf" + CRLF + "Content-Disposition: attachment; " + rfc2231 + CRLF
        + CRLF + text(r, 5) + "--q" + CRLF + "Content-Type: message/rfc822" + CRLF + CRLF + "garbage, not a message"
        + CRLF + "--q--" + CRLF);
  }

  private static byte[] badDates(Random r, int i) {
    String[] dates = {"yesterday", "Fri, 31 Feb 2024 25:61:61 +9999", "Mon, 1 Jan 99999 00:00:00 +0000", "",
        "0", "Thu, 01 Jan 1970 00:00:00 -2400", "\u00ff\u00fe", "Sun, 6 Nov 1994 08:49:37 GMT (comment (nested"};
    return latin1("Message-ID: <date-" + i + "@example.test>" + CRLF + "From: ann@example.test" + CRLF + "Date: "
        + dates[i % dates.length] + CRLF + "Received: from x by y; " + dates[(i + 1) % dates.length] + CRLF
        + "Subject: when?" + CRLF + CRLF + text(r, 5));
  }

  private static byte[] noise(Random r, int i) {
    return randomBytes(r, 1 + r.nextInt(i % 2 == 0 ? 200 : 64 * 1024));
  }

  private static byte[] automatic(Random r, int i) {
    String[] extra = {"Auto-Submitted: auto-replied", "Precedence: bulk", "Return-Path: <>", "X-Loop: crm",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=r", "List-Id: <list.example.test>",
        "X-Autoreply: yes", "Auto-Submitted: auto-generated"};
    return latin1(headers(r, "auto", i) + extra[i % extra.length] + CRLF + CRLF + text(r, 5));
  }

  /** No header block at all: each variant different from every other (but the one empty file). */
  private static byte[] headerless(Random r, int i) {
    return switch (i % 3) {
      case 0 -> i == 0 ? new byte[0] : latin1("no header, just a line " + i + " " + text(r, 3));
      case 1 -> latin1(CRLF + "a body after a leading blank line, number " + i + CRLF + text(r, 6));
      default -> latin1("Hello,\r\nthis message " + i + " is a body without headers: " + text(r, 8));
    };
  }

  /** RFC 6532 (raw UTF-8) addresses with international domain names, IDNA2003 and 2008 disagree on ß. */
  private static byte[] idnAddresses(Random r, int i) {
    String[] froms = {"J\u00f6rg <joerg@stra\u00dfe.de>", "leser@b\u00fccher.example",
        "=?utf-8?Q?Stra=C3=9Fe?= <kunde@stra\u00dfe.de>", "\"B\u00fccher, Team\" <team@b\u00fccher.example>"};
    return concat(("Message-ID: <idn-" + i + "@example.test>" + CRLF + "From: " + froms[i % froms.length] + CRLF
        + "To: sales@crm.example.test, kunde@stra\u00dfe.de" + CRLF + "Cc: leser@b\u00fccher.example" + CRLF
        + "Subject: IDN " + i + CRLF + "MIME-Version: 1.0" + CRLF + "Content-Type: text/plain; charset=utf-8" + CRLF
        + CRLF).getBytes(StandardCharsets.UTF_8), latin1(text(r, 5)));
  }

  /** Subjects and display names in UTF-7 encoded words (RFC 2152), as some old clients send them. */
  private static byte[] utf7Words(Random r, int i) {
    String word = i % 2 == 0 ? "=?UTF-7?Q?Gr+APwA3w-e_+IKw-?=" : "=?utf-7?B?" + b64("Gr+APwA3w-e +IKw-") + "?=";
    return latin1("Message-ID: <utf7-" + i + "@example.test>" + CRLF + "From: " + word + " <ann@example.test>" + CRLF
        + "To: sales@crm.example.test" + CRLF + "Subject: " + word + " " + i + CRLF + CRLF + text(r, 5));
  }

  /** A multibyte character split across two adjacent encoded words of one charset (as mail clients send). */
  private static byte[] splitWords(Random r, int i) {
    byte[] utf8 = ("Preis 5\u20ac f\u00fcr \u65e5\u672c").getBytes(StandardCharsets.UTF_8);
    int cut = "Preis 5".length() + 1 + (i % 2); // inside the euro sign's three bytes
    String first;
    String second;
    if (i % 4 < 2) {
      first = "=?UTF-8?B?" + Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(utf8, 0, cut)) + "?=";
      second = "=?UTF-8?B?" + Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(utf8, cut, utf8.length))
          + "?=";
    } else {
      first = "=?UTF-8?Q?" + q(java.util.Arrays.copyOfRange(utf8, 0, cut)) + "?=";
      second = "=?UTF-8?Q?" + q(java.util.Arrays.copyOfRange(utf8, cut, utf8.length)) + "?=";
    }
    return latin1("Message-ID: <split-" + i + "@example.test>" + CRLF + "From: ann@example.test" + CRLF
        + "To: sales@crm.example.test" + CRLF + "Subject: " + first + CRLF + " " + second + " " + i + CRLF + CRLF
        + text(r, 5));
  }

  /** Encoded words that decode to a CR LF and a header after it: a header injection into the CRM's reply. */
  private static byte[] crlfWords(Random r, int i) {
    String evil = "=?UTF-8?B?" + b64("Hello\r\nBcc: x@evil.example") + "?=";
    String evilQ = "=?UTF-8?Q?Hello=0D=0ABcc=3A_x=40evil.example?="; // ':' and '@' encoded, as RFC 2047 5(3) asks
    String word = i % 2 == 0 ? evil : evilQ;
    return latin1("Message-ID: <crlf-" + i + "@example.test>" + CRLF + "From: " + word + " <ann@example.test>" + CRLF
        + "To: " + word + " <sales@crm.example.test>" + CRLF + "Subject: " + word + " " + i + CRLF + CRLF + text(r, 5));
  }

  /** RFC 5322 groups in To and Cc: the members are recipients like any other. */
  private static byte[] groups(Random r, int i) {
    return latin1("Message-ID: <group-" + i + "@example.test>" + CRLF + "From: ann@example.test" + CRLF
        + "To: Team " + i + ": bea@example.test, Cy <cy@example.test>;" + CRLF
        + "Cc: Undisclosed recipients:;, Sales: sales@crm.example.test;, dan@example.test" + CRLF
        + "Subject: group " + i + CRLF + CRLF + text(r, 5));
  }

  /** A blocked file type under a name that evades a naive extension check; the only attachment. */
  private static byte[] evasions(Random r, int i) {
    int k = i % EVASION_NAMES.size();
    String disposition = switch (k) {
      case 3 -> "attachment; filename*=utf-8''payload%2Eexe";
      case 6 -> "attachment; filename*0*=utf-8''payload%2E; filename*1=exe";
      default -> "attachment; filename=\"" + EVASION_NAMES.get(k) + "\"";
    };
    String type = k == 5 ? "application/java-archive" : k == 4 ? "application/javascript" : "application/octet-stream";
    String nameParam = k == 3 || k == 6 ? "" : "; name=\"" + EVASION_NAMES.get(k) + "\"";
    return latin1(headers(r, "evasion", i) + "Content-Type: multipart/mixed; boundary=ev" + CRLF + CRLF
        + "--ev" + CRLF + "Content-Type: text/plain" + CRLF + CRLF + "see attached " + i + CRLF
        + "--ev" + CRLF + "Content-Type: " + type + nameParam + CRLF + "Content-Disposition: " + disposition + CRLF
        + "Content-Transfer-Encoding: base64" + CRLF + CRLF
        + Base64.getMimeEncoder().encodeToString(concat(latin1("MZ"), randomBytes(r, 200))) + CRLF + "--ev--" + CRLF);
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String q(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    for (byte b : bytes) {
      int c = b & 0xff;
      if (c > 32 && c < 127 && c != '=' && c != '?' && c != '_') {
        sb.append((char) c);
      } else if (c == ' ') {
        sb.append('_');
      } else {
        sb.append('=').append(String.format("%02X", c));
      }
    }
    return sb.toString();
  }

  private static byte[] randomBytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }
}
