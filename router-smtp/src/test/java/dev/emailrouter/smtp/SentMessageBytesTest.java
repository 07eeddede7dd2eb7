package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An accepted result carries the exact bytes the server received, for the copy in the Sent folder. */
final class SentMessageBytesTest {
  private ScriptedSmtpServer server;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  private SendResult send(ScriptedSmtpServer.Builder script, OutgoingEmail email) throws IOException {
    server = script.start();
    try (MailTransport.Session session = TestTransports.plain(server.port()).build().openSession()) {
      return session.send(email);
    }
  }

  private static String text(SendResult result) throws IOException {
    try (InputStream in = result.message().orElseThrow().open()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void send_whenAccepted_carriesTheBytesTheServerReceived_withoutDotStuffing() throws IOException {
    SendResult result = send(ScriptedSmtpServer.builder(),
        TestEmails.email("C-1").textBody("Hello\r\n.a line that starts with a dot\r\nBye\r\n").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(text(result)).isEqualTo(server.messages().get(0).data()).contains("\r\n.a line that starts");
  }

  @Test
  void send_withAnAttachment_carriesTheBytesTheServerReceived_writtenOnlyWhenOpened() throws IOException {
    int[] opened = new int[1];
    byte[] pdf = "%PDF-1.4 not really a pdf\n.".repeat(40).getBytes(StandardCharsets.US_ASCII);
    Attachment attachment = new Attachment("Angebot.pdf", "application/pdf", pdf.length, () -> {
      opened[0]++;
      return new ByteArrayInputStream(pdf);
    });
    SendResult result = send(ScriptedSmtpServer.builder(),
        TestEmails.email("C-2").textBody("Hello\n.dot and bare line ends\nBye").attachment(attachment).build());
    int openedBySending = opened[0];

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(opened[0]).as("nothing written again before someone reads the bytes").isEqualTo(openedBySending);
    String copy = text(result);
    assertThat(copy).isEqualTo(server.messages().get(0).data());
    assertThat(text(result)).as("the same bytes each time").isEqualTo(copy);
  }

  @Test
  void send_whenRefused_carriesNoBytes() throws IOException {
    SendResult result = send(ScriptedSmtpServer.builder().replyToEndOfData("554 5.7.1 rejected"),
        TestEmails.email("C-3").build());

    assertThat(result.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(result.message()).isEmpty();
  }
}
