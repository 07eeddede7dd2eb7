package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import jakarta.mail.Address;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What crosses the wire for international domains and long header values, on both writers (without
 * attachments: MimeWire; with: Jakarta Mail) and both ways of sending (lock-step, pipelined).
 */
final class HeaderWireTest {
  private static final Session PARSER = Session.getInstance(new Properties());

  private static ScriptedSmtpServer server(boolean pipelined) throws Exception {
    ScriptedSmtpServer.Builder script = ScriptedSmtpServer.builder();
    if (pipelined) {
      script.pipelining();
    }
    return script.start();
  }

  private static OutgoingEmail.Builder withAttachment(OutgoingEmail.Builder email, boolean attachment) {
    if (attachment) {
      byte[] bytes = "a,b\r\n1,2\r\n".getBytes(StandardCharsets.US_ASCII);
      email.attachment(new Attachment("Übersicht " + "x".repeat(300) + ".csv", "text/csv", bytes.length,
          ContentSource.ofBytes(bytes)));
    }
    return email;
  }

  private static SendResult send(ScriptedSmtpServer server, OutgoingEmail email) {
    try (MailTransport.Session session = TestTransports.plain(server.port()).build().openSession()) {
      return session.send(email);
    }
  }

  private static MimeMessage parse(String data) throws Exception {
    return new MimeMessage(PARSER, new ByteArrayInputStream(data.getBytes(StandardCharsets.ISO_8859_1)));
  }

  @ParameterizedTest(name = "attachment {0}, pipelined {1}")
  @CsvSource({"false, false", "false, true", "true, false", "true, true"})
  void send_internationalDomain_goesOutAsItsALabelInEnvelopeAndHeaders(boolean attachment, boolean pipelined)
      throws Exception {
    try (ScriptedSmtpServer server = server(pipelined)) {
      OutgoingEmail email = withAttachment(OutgoingEmail.builder("IDN-1", EmailAddress.of("vertrieb@bücher.example",
          "Vertrieb")).to(EmailAddress.of("kunde@straße.de", "Kunde")).cc(EmailAddress.of("info@faß.de"))
          .bcc(EmailAddress.of("x@βόλος.com")).subject("Angebot").textBody("Guten Tag\r\n")
          .messageId(TestEmails.messageId("IDN-1")), attachment).build();

      SendResult result = send(server, email);

      assertThat(result.outcome()).as(result.serverReply()).isEqualTo(SendResult.Outcome.ACCEPTED);
      assertThat(server.commands()).contains("MAIL FROM:<vertrieb@xn--bcher-kva.example>",
          "RCPT TO:<kunde@xn--strae-oqa.de>", "RCPT TO:<info@xn--fa-hia.de>", "RCPT TO:<x@xn--nxasmm1c.com>");
      MimeMessage received = parse(server.messages().get(0).data());
      assertThat(((InternetAddress) received.getFrom()[0]).getAddress()).isEqualTo("vertrieb@xn--bcher-kva.example");
      assertThat(((InternetAddress) received.getRecipients(RecipientType.TO)[0]).getAddress())
          .isEqualTo("kunde@xn--strae-oqa.de");
      assertThat(((InternetAddress) received.getRecipients(RecipientType.CC)[0]).getAddress())
          .isEqualTo("info@xn--fa-hia.de");
      assertThat(server.messages().get(0).data()).doesNotContainIgnoringCase("strasse").doesNotContain("x@xn--nxasmm1c");
    }
  }

  @ParameterizedTest(name = "attachment {0}, pipelined {1}")
  @CsvSource({"false, false", "true, true"})
  void send_whenOneRecipientsLocalPartIsNonAscii_refusesItAloneAndSendsToTheOthers(boolean attachment,
      boolean pipelined) throws Exception {
    try (ScriptedSmtpServer server = server(pipelined)) {
      OutgoingEmail email = withAttachment(TestEmails.email("IDN-2", "kunde@straße.de")
          .cc(EmailAddress.of("jörg@example.test")), attachment).build();

      SendResult result = send(server, email);

      assertThat(result.outcome()).as(result.serverReply()).isEqualTo(SendResult.Outcome.ACCEPTED);
      assertThat(server.messages().get(0).recipients()).containsExactly("kunde@xn--strae-oqa.de");
      assertThat(result.refused()).singleElement().satisfies(r -> {
        assertThat(r.recipient().address()).isEqualTo("jörg@example.test");
        assertThat(r.outcome()).isEqualTo(SendResult.Outcome.PERMANENT);
        assertThat(r.serverReply()).contains("non-ASCII characters before the @", "SMTPUTF8");
      });
    }
  }

  @ParameterizedTest(name = "attachment {0}, pipelined {1}")
  @CsvSource({"false, false", "false, true", "true, false", "true, true"})
  void send_longSubjectDisplayNamesAndManyRecipients_noLineOver998AndAllParseBackIdentical(boolean attachment,
      boolean pipelined) throws Exception {
    String subject = "S".repeat(3000);
    String longName = "N".repeat(2000);
    String longNameWithSpaces = "Name ".repeat(400).strip();
    String longUnicodeName = "Ü".repeat(1500);
    List<EmailAddress> to = new ArrayList<>();
    to.add(EmailAddress.of("long@example.test", longName));
    to.add(EmailAddress.of("spaces@example.test", longNameWithSpaces));
    to.add(EmailAddress.of("unicode@example.test", longUnicodeName));
    for (int i = 0; i < 200; i++) {
      to.add(EmailAddress.of("recipient" + i + "@example.test", i % 2 == 0 ? "Recipient " + i : ""));
    }
    try (ScriptedSmtpServer server = server(pipelined)) {
      OutgoingEmail email = withAttachment(OutgoingEmail.builder("LONG-1", EmailAddress.of("crm@example.test",
          "F".repeat(2500))).to(to.toArray(new EmailAddress[0])).cc(EmailAddress.of("cc@example.test", longName))
          .subject(subject).textBody("Body\r\n").messageId(TestEmails.messageId("LONG-1")), attachment).build();

      SendResult result = send(server, email);

      assertThat(result.outcome()).as(result.serverReply()).isEqualTo(SendResult.Outcome.ACCEPTED);
      String data = server.messages().get(0).data();
      assertThat(data.split("\r\n", -1)).as("lines of the message").allSatisfy(line ->
          assertThat(line.length()).as("length of line %s...", line.substring(0, Math.min(60, line.length())))
              .isLessThanOrEqualTo(998));
      MimeMessage received = parse(data);
      assertThat(received.getSubject()).isEqualTo(subject);
      assertThat(((InternetAddress) received.getFrom()[0]).getPersonal()).isEqualTo("F".repeat(2500));
      Address[] receivedTo = received.getRecipients(RecipientType.TO);
      assertThat(receivedTo).hasSize(to.size());
      for (int i = 0; i < to.size(); i++) {
        InternetAddress a = (InternetAddress) receivedTo[i];
        assertThat(a.getAddress()).isEqualTo(to.get(i).address());
        assertThat(a.getPersonal() == null ? "" : a.getPersonal()).isEqualTo(to.get(i).displayName());
      }
      assertThat(((InternetAddress) received.getRecipients(RecipientType.CC)[0]).getPersonal()).isEqualTo(longName);
    }
  }
}
