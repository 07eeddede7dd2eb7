package dev.emailrouter.support.internal.mime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import jakarta.mail.Address;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The MIME message and envelope made from an OutgoingEmail, without a server. */
final class MimeComposerTest {
  private final MimeComposer composer = new MimeComposer(Session.getInstance(new Properties()),
      Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC));

  /** A text email from the CRM to one recipient, its Message-ID recorded. */
  private static OutgoingEmail.Builder email(String id, String to) {
    return OutgoingEmail.builder(id, EmailAddress.of("crm@example.test", "CRM")).to(EmailAddress.of(to))
        .subject("Subject " + id).textBody("Body of " + id + "\r\n").messageId(messageId(id));
  }

  private static OutgoingEmail.Builder email(String id) {
    return email(id, "someone@example.test");
  }

  private static String messageId(String id) {
    return "<" + id + ".test@crm.example.test>";
  }

  private static String written(MimeMessage message) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    message.writeTo(out);
    return out.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void compose_keepsTheRecordedMessageIdThroughSaveChanges() throws Exception {
    MimeComposer.Composed composed = composer.compose(email("K-1").build());

    composed.message().saveChanges(); // Angus would put a new Message-ID here
    assertThat(composed.message().getMessageID()).isEqualTo(messageId("K-1"));
    assertThat(written(composed.message())).contains("Message-ID: " + messageId("K-1") + "\r\n");
  }

  @Test
  void compose_putsBccInTheEnvelopeOnlyAndEachAddressOnce() throws Exception {
    OutgoingEmail email = email("E-1", "a@example.test")
        .cc(EmailAddress.of("B@example.test"))
        .bcc(EmailAddress.of("hidden@example.test"), EmailAddress.of("a@example.test"))
        .build();

    MimeComposer.Composed composed = composer.compose(email);

    assertThat(Arrays.stream(composed.envelope()).map(a -> ((InternetAddress) a).getAddress()))
        .containsExactly("a@example.test", "B@example.test", "hidden@example.test");
    String headers = written(composed.message());
    assertThat(headers).doesNotContain("hidden@example.test").doesNotContainIgnoringCase("Bcc:");
    Address envelopeCc = composed.envelope()[1];
    assertThat(composed.recipient(envelopeCc)).isEqualTo(EmailAddress.of("B@example.test"));
  }

  @Test
  void compose_encodesAnInternationalizedDomainAsPunycode() throws Exception {
    MimeComposer.Composed composed = composer.compose(email("E-2", "joerg@bücher.example").build());

    assertThat(((InternetAddress) composed.envelope()[0]).getAddress()).isEqualTo("joerg@xn--bcher-kva.example");
  }

  @Test
  void compose_whenARecipientsLocalPartIsNonAscii_refusesThatRecipientNamingTheAddress() throws Exception {
    MimeComposer.Composed composed = composer.compose(email("E-3").cc(EmailAddress.of("jörg@example.test"))
        .build());

    assertThat(Arrays.stream(composed.envelope()).map(a -> ((InternetAddress) a).getAddress()))
        .containsExactly("someone@example.test");
    assertThat(composed.unaddressable()).singleElement().satisfies(r -> {
      assertThat(r.recipient()).isEqualTo(EmailAddress.of("jörg@example.test"));
      assertThat(r.outcome()).isEqualTo(dev.emailrouter.api.SendResult.Outcome.PERMANENT);
      assertThat(r.serverReply()).contains("address \"jörg@example.test\" in Cc has non-ASCII characters before the @");
    });
    assertThat(written(composed.message())).doesNotContain("rg@example.test");
  }

  @Test
  void compose_whenEveryLocalPartIsNonAscii_refusesTheEmailNamingTheAddress() {
    assertThatThrownBy(() -> composer.compose(email("E-3", "jörg@example.test").build()))
        .isInstanceOf(MimeComposer.InvalidEmailException.class)
        .hasMessageContaining("address \"jörg@example.test\" in To has non-ASCII characters before the @");
  }

  @Test
  void compose_whenSubjectHasABareCarriageReturn_refusesIt() {
    assertThatThrownBy(() -> composer.compose(email("E-4").subject("a\rb").build()))
        .hasMessageContaining("header Subject contains CR/LF")
        .hasMessageContaining("\"a\\rb\"");
  }

  @Test
  void compose_longReferences_areFoldedBelowTheLineLimit() throws Exception {
    OutgoingEmail.Builder builder = email("E-5");
    for (int i = 0; i < 40; i++) {
      builder.references("<reference-number-" + i + "@mail.example.test>");
    }

    String text = written(composer.compose(builder.build()).message());

    assertThat(text.lines()).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(998));
    assertThat(text).contains("References: <reference-number-0@mail.example.test>");
  }

  @Test
  void bccField_namesTheBccRecipientsFolded_andIsNeverInTheMessage() throws Exception {
    OutgoingEmail email = email("E-6").bcc(EmailAddress.of("hidden@bücher.example", "Verborgen Ü"),
        EmailAddress.of("other@example.test")).build();

    MimeComposer.Composed composed = composer.compose(email);

    assertThat(composed.bccField()).startsWith("Bcc: ").endsWith("\r\n")
        .contains("<hidden@xn--bcher-kva.example>", "other@example.test");
    assertThat(new String(composed.content(), StandardCharsets.US_ASCII)).doesNotContainIgnoringCase("Bcc:")
        .doesNotContain("hidden@");
    assertThat(composer.compose(email("E-7").build()).bccField()).isNull();
  }

  @Test
  void subject_nonAscii_isSplitIntoEncodedWordsOfWholeCharacters() {
    String subject = MimeWire.subject("😀".repeat(40));

    assertThat(subject.split("\r\n ")).allSatisfy(word -> {
      assertThat(word).startsWith("=?UTF-8?B?").endsWith("?=");
      assertThat(word.length()).isLessThanOrEqualTo(75);
      String decoded = new String(java.util.Base64.getDecoder().decode(word.substring(10, word.length() - 2)),
          StandardCharsets.UTF_8);
      assertThat(decoded).matches("(😀)+");
    });
  }

  /** A clock the test moves and puts in another zone. */
  private static final class SettableClock extends Clock {
    Instant now;
    ZoneId zone;

    SettableClock(Instant now, ZoneId zone) {
      this.now = now;
      this.zone = zone;
    }

    @Override
    public ZoneId getZone() {
      return zone;
    }

    @Override
    public Clock withZone(ZoneId other) {
      return new SettableClock(now, other);
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private static String dateHeader(MimeComposer.Composed composed) {
    String text = new String(composed.content(), StandardCharsets.US_ASCII);
    return text.substring(0, text.indexOf("\r\n"));
  }

  @Test
  void compose_dateHeader_followsTheClockAcrossSecondsAndZones() throws Exception {
    SettableClock clock = new SettableClock(Instant.parse("2026-03-29T00:59:59.100Z"), ZoneOffset.UTC);
    MimeComposer dated = new MimeComposer(Session.getInstance(new Properties()), clock);

    assertThat(dateHeader(dated.compose(email("D-1").build()))).isEqualTo("Date: Sun, 29 Mar 2026 00:59:59 +0000");
    clock.now = Instant.parse("2026-03-29T00:59:59.999Z");
    assertThat(dateHeader(dated.compose(email("D-2").build()))).isEqualTo("Date: Sun, 29 Mar 2026 00:59:59 +0000");
    clock.zone = ZoneId.of("Europe/Berlin");
    assertThat(dateHeader(dated.compose(email("D-3").build()))).isEqualTo("Date: Sun, 29 Mar 2026 01:59:59 +0100");
    clock.now = Instant.parse("2026-03-29T01:00:00Z"); // summer time starts in Berlin
    assertThat(dateHeader(dated.compose(email("D-4").build()))).isEqualTo("Date: Sun, 29 Mar 2026 03:00:00 +0200");
    clock.now = Instant.parse("2026-03-29T00:59:59.500Z"); // a clock set back is followed too
    assertThat(dateHeader(dated.compose(email("D-5").build()))).isEqualTo("Date: Sun, 29 Mar 2026 01:59:59 +0100");
  }

  @Test
  void compose_asciiTextBody_isWrittenAsItIsWithEveryLineEndMadeCrlf() throws Exception {
    String content = new String(composer.compose(email("B-1").textBody("a\rb\nc\r\nd\r\r\ne\n\n\r\t. x").build())
        .content(), StandardCharsets.US_ASCII);

    assertThat(content).contains("Content-Transfer-Encoding: 7bit\r\n\r\n")
        .endsWith("\r\n\r\na\r\nb\r\nc\r\nd\r\n\r\ne\r\n\r\n\r\n\t. x\r\n");
    assertThat(new String(composer.compose(email("B-2").textBody("ends with CR\r").build()).content(),
        StandardCharsets.US_ASCII)).endsWith("\r\n\r\nends with CR\r\n");
  }

  @Test
  void compose_textBody_whereASeventhBitOrLongLineAppears_isQuotedPrintable() throws Exception {
    String line998 = "x".repeat(998);
    String at998 = new String(composer.compose(email("B-3").textBody(line998 + "\n").build()).content(),
        StandardCharsets.US_ASCII);
    String at999 = new String(composer.compose(email("B-4").textBody(line998 + "x\n").build()).content(),
        StandardCharsets.US_ASCII);
    String control = new String(composer.compose(email("B-5").textBody("bell\u0007\n").build()).content(),
        StandardCharsets.US_ASCII);
    String umlaut = new String(composer.compose(email("B-6").textBody("Grüße aus Köln\n").build()).content(),
        StandardCharsets.US_ASCII);

    assertThat(at998).contains("Content-Transfer-Encoding: 7bit\r\n").endsWith("\r\n\r\n" + line998 + "\r\n");
    assertThat(at999).contains("Content-Transfer-Encoding: quoted-printable\r\n");
    assertThat(control).contains("Content-Transfer-Encoding: quoted-printable\r\n")
        .endsWith("\r\n\r\nbell=07\r\n");
    assertThat(umlaut).contains("Content-Transfer-Encoding: quoted-printable\r\n")
        .endsWith("\r\n\r\nGr=C3=BC=C3=9Fe aus K=C3=B6ln\r\n");
  }

  @Test
  void composedBytes_sayALineMayStartWithADot_exactlyWhereOneDoes() throws Exception {
    // Line breaks at the end of an eight-byte word, with the dot in the next, and in the short last one.
    String[] withDot = {".first", "a\n.b", "a\r.b", "a\r\n.b", "a\n\n.", "Grüße\n.dot", "1234567\n.b",
        "12345678123456\r\n.", "123456781234567\r.x"};
    String[] without = {"", "a.b\n", "a\n b.\n", "a\t.b", "no dot at all\r\n", "1234567\nx.", "12345678.\r\n"};
    for (String text : withDot) {
      MimeComposer.Composed composed = composer.compose(email("D-1").textBody(text).build());
      assertThat(composed.mayHaveLeadingDot()).as("%s", text).isTrue();
      assertThat(new String(composed.content(), StandardCharsets.US_ASCII)).as("%s", text).containsPattern("(?m)^\\.");
    }
    for (String text : without) {
      MimeComposer.Composed composed = composer.compose(email("D-2").textBody(text).htmlBody("<p>" + text + "</p>")
          .build());
      assertThat(composed.mayHaveLeadingDot()).as("%s", text).isFalse();
      assertThat(new String(composed.content(), StandardCharsets.US_ASCII)).as("%s", text)
          .doesNotContainPattern("(?m)^\\.");
    }
    assertThat(composer.compose(email("D-3").textBody("a").htmlBody("<p>\n.</p>").build()).mayHaveLeadingDot())
        .isTrue();
    // Jakarta's message (an attachment) is not looked at: a dot may be anywhere.
    assertThat(composer.composeWithJakarta(email("D-4").build()).mayHaveLeadingDot()).isTrue();
  }

  @Test
  void composedBytes_areUsAscii_soTheyNeverAskFor8BitMime() throws Exception {
    MimeComposer.Composed composed = composer.compose(email("E-8", "kunde@straße.de").subject("Grüße")
        .textBody("Grüße aus Köln\n").htmlBody("<p>\u20ac</p>").build());

    assertThat(composed.mayBeEightBit()).isFalse();
    for (byte b : composed.content()) {
      assertThat(b).isNotNegative();
    }
    assertThat(composer.composeWithJakarta(email("E-9").build()).mayBeEightBit()).isTrue();
  }

  @Test
  void message_ofComposedBytes_isMadeOnceAndWritesThoseBytes() throws Exception {
    MimeComposer.Composed composed = composer.compose(email("L-1").build(), null,
        EmailAddress.of("service@example.test"));

    MimeMessage message = composed.message();

    assertThat(composed.message()).isSameAs(message);
    assertThat(composed.mailFrom()).isEqualTo("service@example.test");
    assertThat(((InternetAddress) message.getFrom()[0]).getAddress()).isEqualTo("crm@example.test");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    message.writeTo(out);
    assertThat(out.toByteArray()).isEqualTo(composed.content());
  }
}
