package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.support.internal.mime.MimeComposer;
import jakarta.mail.Address;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeUtility;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.eclipse.angus.mail.util.CRLFOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bytes the MIME composer writes itself (router-support's {@code MimeWire}), parsed back with
 * Jakarta Mail, against what Jakarta Mail's own writer sends for the same email: every header and
 * body the same once decoded, and the bytes within RFC 5322 / 2045 limits; and those bytes through
 * this module's dot-stuffing. It stays here beside {@link MimeWireDeliveryTest}, which sends the
 * same emails, until the modules share test code.
 */
final class MimeWireTest {
  private static final Session SESSION = Session.getInstance(new Properties());
  private final MimeComposer composer = new MimeComposer(SESSION,
      Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.ofHours(2)));

  static OutgoingEmail.Builder email(String id) {
    return OutgoingEmail.builder(id, EmailAddress.of("crm@example.test", "CRM"))
        .to(EmailAddress.of("someone@example.test"))
        .subject("Subject " + id)
        .messageId(TestEmails.messageId(id));
  }

  private static String repeat(String s, int n) {
    return s.repeat(n);
  }

  static Stream<Arguments> emails() {
    List<EmailAddress> many = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      many.add(EmailAddress.of("recipient" + i + "@example.test", i % 3 == 0 ? "Recipient Nummer " + i + " Ü" : ""));
    }
    List<Arguments> cases = new ArrayList<>();
    cases.add(Arguments.of("ascii text", email("A1").textBody("Hello,\r\nthis is plain.\r\n")));
    cases.add(Arguments.of("ascii text without final line break", email("A2").textBody("no break at the end")));
    cases.add(Arguments.of("mostly ascii utf-8", email("A3").textBody("Grüße aus Köln\r\nZeile zwei\n")));
    cases.add(Arguments.of("mostly non-ascii", email("A4").textBody(repeat("日本語のテキストです。\n", 40))));
    cases.add(Arguments.of("emoji and astral", email("A5").textBody("😀😀😀 ok\n")));
    cases.add(Arguments.of("long ascii line", email("A6").textBody(repeat("0123456789", 200) + "\r\nshort\r\n")));
    cases.add(Arguments.of("line of exactly 998", email("A7").textBody(repeat("x", 998) + "\r\n")));
    cases.add(Arguments.of("line of 999", email("A8").textBody(repeat("x", 999) + "\r\n")));
    cases.add(Arguments.of("lines starting with dots", email("A9").textBody(".\r\n..hidden\r\n.end\n. \n")));
    cases.add(Arguments.of("dots in quoted-printable", email("A10").textBody(".ä\r\n.\r\n..ö")));
    cases.add(Arguments.of("From lines", email("A11").textBody("From here\nFrom there\r\n>From quoted\n")));
    cases.add(Arguments.of("CR and LF variations", email("A12").textBody("a\rb\nc\r\nd\r\r\ne\n\n\r")));
    cases.add(Arguments.of("CR and LF variations, non-ascii", email("A13").textBody("ä\rb\nc\r\nd\r\r\ne\n\n\r")));
    cases.add(Arguments.of("CR and LF variations, base64", email("A14").textBody("ää\rää\nää\r\nää\r\r\n")));
    cases.add(Arguments.of("trailing spaces and tabs", email("A15").textBody("ä trailing   \nnext\t\n \t \n end ")));
    cases.add(Arguments.of("control characters", email("A16").textBody("a\u0001b\u0000c\u001bd\n")));
    cases.add(Arguments.of("equals signs", email("A17").textBody("a=b =3D ä=\n=\n")));
    cases.add(Arguments.of("empty body", email("A18").textBody("")));
    cases.add(Arguments.of("no body at all", email("A19")));
    cases.add(Arguments.of("html only", email("A20").htmlBody("<p>Hello <b>world</b></p>\n")));
    cases.add(Arguments.of("html only, non-ascii", email("A21").htmlBody("<p>Ünïcödé ✓</p>")));
    cases.add(Arguments.of("text and html", email("A22").textBody("Hello\r\n").htmlBody("<p>Hello</p>\r\n")));
    cases.add(Arguments.of("text and html without breaks", email("A23").textBody("Hello").htmlBody("<p>Hi</p>")));
    cases.add(Arguments.of("text and html, mixed encodings",
        email("A24").textBody("Grüße\n").htmlBody(repeat("<p>日本語</p>", 30)).cc(many.subList(0, 3).toArray(new EmailAddress[0]))));
    cases.add(Arguments.of("text that looks like a boundary",
        email("A25").textBody("------=_Part_1_0\r\n--------=_Part_2_1--\r\n").htmlBody("<p>--</p>")));
    cases.add(Arguments.of("long subject, non-ascii",
        email("A26").subject(repeat("Ünïcödé Sübjéct ", 20) + "😀 end").textBody("x")));
    cases.add(Arguments.of("long ascii subject",
        email("A27").subject(repeat("word ", 60)).textBody("x")));
    cases.add(Arguments.of("ascii subject without spaces, over 998",
        email("A28").subject(repeat("y", 1200)).textBody("x")));
    cases.add(Arguments.of("subject with tab and encoded-word look",
        email("A29").subject("Re:\tfwd =?UTF-8?B?notreally?= (x)").textBody("x")));
    cases.add(Arguments.of("empty subject", email("A30").subject("").textBody("x")));
    cases.add(Arguments.of("many recipients", email("A31").to(many.toArray(new EmailAddress[0]))
        .cc(many.subList(10, 40).toArray(new EmailAddress[0])).textBody("x")));
    cases.add(Arguments.of("display names with quotes, commas, non-ascii", email("A32")
        .to(EmailAddress.of("a@example.test", "\"Quoted\" Name"), EmailAddress.of("b@example.test", "Smith, John"),
            EmailAddress.of("c@example.test", "Jörg Müller"), EmailAddress.of("d@example.test", "back\\slash"),
            EmailAddress.of("e@example.test", "=?utf-8?q?x?="), EmailAddress.of("f@bücher.example", "IDN"))
        .textBody("x")));
    OutgoingEmail.Builder threaded = email("A33").inReplyTo("<parent@mail.example.test>").textBody("x");
    for (int i = 0; i < 40; i++) {
      threaded.references("<reference-number-" + i + "@mail.example.test>");
    }
    cases.add(Arguments.of("in-reply-to and many references", threaded));
    cases.add(Arguments.of("bcc only", OutgoingEmail.builder("A34", EmailAddress.of("crm@example.test"))
        .bcc(EmailAddress.of("hidden@example.test")).messageId(TestEmails.messageId("A34")).textBody("x")));
    return cases.stream();
  }

  /** What Jakarta Mail's writer puts on the wire (CRLF line ends, a final line break), undotted. */
  static byte[] jakartaWire(MimeMessage message) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CRLFOutputStream crlf = new CRLFOutputStream(bytes);
    message.writeTo(crlf, new String[] {"Bcc", "Content-Length"});
    crlf.flush();
    byte[] b = bytes.toByteArray();
    if (b.length > 0 && b[b.length - 1] != '\n') {
      bytes.write('\r');
      bytes.write('\n');
    }
    return bytes.toByteArray();
  }

  static MimeMessage parse(byte[] bytes) throws Exception {
    return new MimeMessage(SESSION, new ByteArrayInputStream(bytes));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("emails")
  void write_parsesBackToWhatJakartaSends(String name, OutgoingEmail.Builder builder) throws Exception {
    OutgoingEmail email = builder.build();
    byte[] ours = composer.compose(email).content();
    MimeMessage jakarta = composer.composeWithJakarta(email).message();

    assertSameMessage(parse(ours), parse(jakartaWire(jakarta)), email, false);
    assertWireRules(ours);
  }

  /**
   * Asserts every header the composer sets, decoded, and every body are the same; {@code
   * lenientEnd} forgives missing line breaks at the end of a body (GreenMail drops the empty lines
   * before the closing dot, whoever wrote the message).
   */
  static void assertSameMessage(MimeMessage actual, MimeMessage expected, OutgoingEmail email, boolean lenientEnd)
      throws Exception {
    for (String header : List.of("Date", "Message-ID", "In-Reply-To", "References", "MIME-Version")) {
      assertThat(unfolded(actual, header)).as(header).isEqualTo(unfolded(expected, header));
    }
    assertThat(actual.getSubject()).isEqualTo(expected.getSubject()).isEqualTo(email.subject().strip());
    assertThat(people(actual.getFrom())).isEqualTo(people(expected.getFrom()));
    assertThat(people(actual.getRecipients(RecipientType.TO))).isEqualTo(people(expected.getRecipients(RecipientType.TO)));
    assertThat(people(actual.getRecipients(RecipientType.CC))).isEqualTo(people(expected.getRecipients(RecipientType.CC)));
    assertThat(actual.getHeader("Bcc")).isNull();
    assertSamePart(actual, expected, lenientEnd);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("emails")
  void write_afterDotStuffing_isWhatTheServerUnstuffsBack(String name, OutgoingEmail.Builder builder)
      throws Exception {
    byte[] ours = composer.compose(builder.build()).content();
    ByteArrayOutputStream stuffed = new ByteArrayOutputStream();
    SmtpConnection.writeDotStuffed(stuffed, ours);

    String[] lines = stuffed.toString(StandardCharsets.ISO_8859_1).split("\r\n", -1);
    StringBuilder unstuffed = new StringBuilder();
    for (int i = 0; i < lines.length - 1; i++) {
      assertThat(lines[i]).isNotEqualTo(".");
      unstuffed.append(lines[i].startsWith(".") ? lines[i].substring(1) : lines[i]).append("\r\n");
    }
    assertThat(unstuffed.toString()).isEqualTo(new String(ours, StandardCharsets.ISO_8859_1));
  }

  @Test
  void writeDotStuffed_doublesLeadingDotsAndEndsWithALineBreak() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SmtpConnection.writeDotStuffed(out, ".a\r\nb.\r\n.\r\n..c".getBytes(StandardCharsets.US_ASCII));

    assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("..a\r\nb.\r\n..\r\n...c\r\n");
  }

  private static String unfolded(MimeMessage m, String header) throws Exception {
    String value = m.getHeader(header, null);
    return value == null ? null : MimeUtility.unfold(value);
  }

  private static List<String> people(Address[] addresses) {
    if (addresses == null) {
      return List.of();
    }
    return Arrays.stream(addresses).map(a -> ((InternetAddress) a).getAddress() + " / "
        + ((InternetAddress) a).getPersonal()).toList();
  }

  private static void assertSamePart(Part actual, Part expected, boolean lenientEnd) throws Exception {
    ContentType actualType = new ContentType(actual.getContentType());
    ContentType expectedType = new ContentType(expected.getContentType());
    assertThat(actualType.getBaseType()).isEqualTo(expectedType.getBaseType());
    assertThat(actualType.getParameter("charset")).isEqualTo(expectedType.getParameter("charset"));
    Object actualContent = actual.getContent();
    Object expectedContent = expected.getContent();
    if (expectedContent instanceof Multipart expectedParts) {
      assertThat(actualContent).isInstanceOf(Multipart.class);
      Multipart actualParts = (Multipart) actualContent;
      assertThat(actualParts.getCount()).isEqualTo(expectedParts.getCount());
      for (int i = 0; i < expectedParts.getCount(); i++) {
        assertSamePart(actualParts.getBodyPart(i), expectedParts.getBodyPart(i), lenientEnd);
      }
    } else {
      assertThat(((jakarta.mail.internet.MimePart) actual).getEncoding())
          .isEqualTo(((jakarta.mail.internet.MimePart) expected).getEncoding());
      if (lenientEnd && actualContent instanceof String a && expectedContent instanceof String e) {
        assertThat(a.replaceFirst("(\r\n)+$", "")).isEqualTo(e.replaceFirst("(\r\n)+$", ""));
      } else {
        assertThat(actualContent).isEqualTo(expectedContent);
      }
    }
  }

  /** CRLF only, lines of at most 998 octets, every octet 7-bit (all parts declare 7bit, QP or base64). */
  static void assertWireRules(byte[] bytes) {
    assertThat(bytes.length).isGreaterThan(1);
    assertThat(bytes[bytes.length - 2]).isEqualTo((byte) '\r');
    assertThat(bytes[bytes.length - 1]).isEqualTo((byte) '\n');
    int line = 0;
    for (int i = 0; i < bytes.length; i++) {
      byte b = bytes[i];
      assertThat(b).as("octet %d", i).isBetween((byte) 0, (byte) 0x7e);
      if (b == '\r') {
        assertThat(i + 1 < bytes.length && bytes[i + 1] == '\n').as("bare CR at %d", i).isTrue();
      } else if (b == '\n') {
        assertThat(i > 0 && bytes[i - 1] == '\r').as("bare LF at %d", i).isTrue();
        line = 0;
      } else {
        assertThat(++line).as("line length at %d", i).isLessThanOrEqualTo(998);
        assertThat(b == '\t' || b >= ' ').as("control octet at %d", i).isTrue();
      }
    }
  }
}
