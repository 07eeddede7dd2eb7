package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The engine and this transport together, for a sender whose domain is internationalized. */
final class InternationalSenderTest {

  @Test
  void tick_whenTheSendersDomainIsInternational_generatesAMessageIdWithItsALabelAndSends() throws Exception {
    InMemoryActivityStore store = new InMemoryActivityStore();
    store.add(OutgoingEmail.builder("e-idn", EmailAddress.of("vertrieb@bücher.example", "Vertrieb"))
        .to(EmailAddress.of("kunde@straße.de")).subject("Angebot").textBody("Guten Tag").build());
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder().start();
        RouterEngine engine = RouterEngine.builder().activityStore(store)
            .transport(TestTransports.plain(server.port()).build()).build()) {

      engine.tick();

      InMemoryActivityStore.StoredEmail stored = store.find("e-idn").orElseThrow();
      assertThat(stored.status()).as(stored.lastReason()).isEqualTo(EmailStatus.SENT);
      String messageId = stored.email().messageId();
      assertThat(messageId).endsWith("@xn--bcher-kva.example>");
      MimeMessage received = new MimeMessage(Session.getInstance(new Properties()),
          new ByteArrayInputStream(server.messages().get(0).data().getBytes(StandardCharsets.ISO_8859_1)));
      assertThat(received.getMessageID()).isEqualTo(messageId);
      assertThat(server.messages().get(0).recipients()).containsExactly("kunde@xn--strae-oqa.de");
    }
  }
}
