package dev.emailrouter.smtp;

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
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The MIME message and envelope made from an OutgoingEmail, without a server. */
final class MimeComposerTest {
  private final MimeComposer composer = new MimeComposer(Session.getInstance(new Properties()),
      Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC));

  private static String written(MimeMessage message) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    message.writeTo(out);
    return out.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void compose_keepsTheRecordedMessageIdThroughSaveChanges() throws Exception {
    MimeComposer.Composed composed = composer.compose(TestEmails.email("K-1").build());

    composed.message().saveChanges(); // Angus would put a new Message-ID here
    assertThat(composed.message().getMessageID()).isEqualTo(TestEmails.messageId("K-1"));
    assertThat(written(composed.message())).contains("Message-ID: " + TestEmails.messageId("K-1") + "\r\n");
  }

  @Test
  void compose_putsBccInTheEnvelopeOnlyAndEachAddressOnce() throws Exception {
    OutgoingEmail email = TestEmails.email("E-1", "a@example.test")
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
    MimeComposer.Composed composed = composer.compose(TestEmails.email("E-2", "joerg@bücher.example").build());

    assertThat(((InternetAddress) composed.envelope()[0]).getAddress()).isEqualTo("joerg@xn--bcher-kva.example");
  }

  @Test
  void compose_whenARecipientsLocalPartIsNonAscii_refusesThatRecipientNamingTheAddress() throws Exception {
    MimeComposer.Composed composed = composer.compose(TestEmails.email("E-3").cc(EmailAddress.of("jörg@example.test"))
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
    assertThatThrownBy(() -> composer.compose(TestEmails.email("E-3", "jörg@example.test").build()))
        .isInstanceOf(MimeComposer.InvalidEmailException.class)
        .hasMessageContaining("address \"jörg@example.test\" in To has non-ASCII characters before the @");
  }

  @Test
  void compose_whenSubjectHasABareCarriageReturn_refusesIt() {
    assertThatThrownBy(() -> composer.compose(TestEmails.email("E-4").subject("a\rb").build()))
        .hasMessageContaining("header Subject contains CR/LF")
        .hasMessageContaining("\"a\\rb\"");
  }

  @Test
  void compose_longReferences_areFoldedBelowTheLineLimit() throws Exception {
    OutgoingEmail.Builder builder = TestEmails.email("E-5");
    for (int i = 0; i < 40; i++) {
      builder.references("<reference-number-" + i + "@mail.example.test>");
    }

    String text = written(composer.compose(builder.build()).message());

    assertThat(text.lines()).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(998));
    assertThat(text).contains("References: <reference-number-0@mail.example.test>");
  }
}
