package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.eclipse.angus.mail.smtp.SMTPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The SMTP client protocol layer at the wire: EHLO and HELO, extensions parsed, MAIL FROM parameters, the data. */
final class SmtpProtocolTest {
  private ScriptedSmtpServer server;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  private SendResult sendOne(ScriptedSmtpServer.Builder script, dev.emailrouter.api.OutgoingEmail email)
      throws IOException {
    server = script.start();
    try (MailTransport.Session session = TestTransports.plain(server.port()).build().openSession()) {
      return session.send(email);
    }
  }

  private String mailFrom() {
    return server.commands().stream().filter(c -> c.startsWith("MAIL")).findFirst().orElseThrow();
  }

  @Test
  void send_whenTheServerRefusesEhlo_fallsBackToHeloAndSendsPlainMailFrom() throws IOException {
    SendResult result = sendOne(ScriptedSmtpServer.builder().refuseEhlo(), TestEmails.email("H-1").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(server.commands()).startsWith("EHLO router.example.test", "HELO router.example.test",
        "MAIL FROM:<crm@example.test>");
    assertThat(server.messages()).hasSize(1);
  }

  @Test
  void send_whenTheServerOffersSize_declaresTheMessageSizeOnMailFrom() throws IOException {
    SendResult result = sendOne(ScriptedSmtpServer.builder().extensions("SIZE 10240000"),
        TestEmails.email("S-1").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    int size = server.messages().get(0).data().getBytes(StandardCharsets.UTF_8).length;
    assertThat(mailFrom()).isEqualTo("MAIL FROM:<crm@example.test> SIZE=" + size);
  }

  @Test
  void send_withAnAttachmentWhoseSizeIsNotKnownBeforeWriting_leavesSizeOut() throws IOException {
    Attachment pdf = new Attachment("a.pdf", "application/pdf", 3, () -> new ByteArrayInputStream(new byte[] {1, 2, 3}));
    SendResult result = sendOne(ScriptedSmtpServer.builder().extensions("SIZE"),
        TestEmails.email("S-2").attachment(pdf).build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(mailFrom()).isEqualTo("MAIL FROM:<crm@example.test>");
  }

  @Test
  void send_withoutEightBitContent_asksForNoBodyTypeEvenWhere8bitmimeIsOffered() throws IOException {
    sendOne(ScriptedSmtpServer.builder().extensions("8BITMIME", "SMTPUTF8"),
        TestEmails.email("B-1").textBody("Grüße, ½ €\r\n").build());

    assertThat(mailFrom()).isEqualTo("MAIL FROM:<crm@example.test>");
  }

  @Test
  void send_whenTheServerSendsMoreAfterItsReplyToStartTls_failsWithoutSendingAnything() throws Exception {
    // A man in the middle's injection (CVE-2011-0411): bytes before the handshake must not count as TLS.
    try (java.net.ServerSocket listener = new java.net.ServerSocket(0, 5, java.net.InetAddress.getByName("127.0.0.1"))) {
      Thread fake = new Thread(() -> {
        try (java.net.Socket s = listener.accept()) {
          java.io.BufferedReader in = new java.io.BufferedReader(
              new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
          java.io.OutputStream out = s.getOutputStream();
          out.write("220 mitm.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
          in.readLine();
          out.write("250-mitm.test\r\n250 STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
          in.readLine();
          out.write("220 go ahead\r\n250 injected\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          in.readLine();
        } catch (IOException e) {
          // the client went away
        }
      });
      fake.setDaemon(true);
      fake.start();
      SmtpTransport transport = TestTransports.plain(listener.getLocalPort())
          .security(dev.emailrouter.api.Security.STARTTLS).build();

      try (MailTransport.Session session = transport.openSession()) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> session.send(TestEmails.email("M-1").build()))
            .isInstanceOf(dev.emailrouter.api.RouterException.class)
            .hasMessageContaining("after its reply to STARTTLS");
      }
    }
  }

  @Test
  void send_whenAuthIsAnsweredWith4xx_throwsTransientWithoutThePassword_andAcceptedLoginSends() throws IOException {
    server = ScriptedSmtpServer.builder().replyToAuth("454 4.7.0 Temporary authentication failure").start();
    SmtpTransport refusing = TestTransports.plain(server.port())
        .credentials(dev.emailrouter.api.Credentials.password("crm-user", "s3cret-pw")).build();

    try (MailTransport.Session session = refusing.openSession()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> session.send(TestEmails.email("A-1").build()))
          .isInstanceOf(dev.emailrouter.api.TransientRouterException.class)
          .hasMessageContaining("could not check the login of user crm-user now: 454 4.7.0")
          .hasMessageNotContaining("s3cret-pw");
    }
    assertThat(server.commands()).noneMatch(c -> c.startsWith("MAIL"));
    server.close();

    server = ScriptedSmtpServer.builder().replyToAuth("235 2.7.0 Authentication successful").start();
    SmtpTransport accepting = TestTransports.plain(server.port())
        .credentials(dev.emailrouter.api.Credentials.password("crm-user", "s3cret-pw")).build();
    try (MailTransport.Session session = accepting.openSession()) {
      assertThat(session.send(TestEmails.email("A-2").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
    }
    String expected = java.util.Base64.getEncoder()
        .encodeToString("\0crm-user\0s3cret-pw".getBytes(StandardCharsets.UTF_8));
    assertThat(server.commands()).containsSubsequence("EHLO router.example.test", "AUTH PLAIN " + expected,
        "MAIL FROM:<crm@example.test>");
  }

  @Test
  void ehloReply_isParsedIntoTheExtensionsTheClientUses() {
    SmtpCapabilities offered = SmtpCapabilities.parse(SmtpReply.of(250, List.of("250-mx.example.test Hello",
        "250-PIPELINING", "250-SIZE 35882577", "250-8bitmime", "250-AUTH LOGIN PLAIN XOAUTH2", "250-AUTH=LOGIN",
        "250-STARTTLS", "250-DSN", "250 SMTPUTF8")));

    assertThat(offered.pipelining()).isTrue();
    assertThat(offered.sizeLimit()).isEqualTo(35_882_577L);
    assertThat(offered.eightBitMime()).isTrue();
    assertThat(offered.smtpUtf8()).isTrue();
    assertThat(offered.dsn()).isTrue();
    assertThat(offered.startTls()).isTrue();
    assertThat(offered.authMechanisms()).containsExactlyInAnyOrder("LOGIN", "PLAIN", "XOAUTH2");
    assertThat(SmtpCapabilities.parse(SmtpReply.of(250, List.of("250 mx.example.test"))))
        .isEqualTo(SmtpCapabilities.NONE);
  }

  @Test
  void reply_readsTheEnhancedStatusOfTheFirstLineOnly() {
    assertThat(SmtpReply.of(550, List.of("550 5.1.1 <a@b>: unknown")).enhancedStatus()).isEqualTo("5.1.1");
    assertThat(SmtpReply.of(250, List.of("250 Ok")).enhancedStatus()).isNull();
    assertThat(SmtpReply.of(451, List.of("451-4.3.0 one", "451 4.3.0 two")).text())
        .isEqualTo("451-4.3.0 one 451 4.3.0 two");
  }

  /**
   * A message that writes itself (with attachments) goes through the data stream: its bytes must be
   * what Angus's SMTP data stream made of them (bare CR and LF made CRLF, leading dots doubled).
   */
  @ParameterizedTest
  @ValueSource(strings = {"a\nb\rc\r\nd", ".a\n.b\r\r\n.", "..\r\n.\r\n", "x", "", "\r\n", "a\r", ".\n\n.x"})
  void dataStream_writesWhatAngusWroteForTheSameBytes(String text) throws Exception {
    byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    ByteArrayOutputStream angus = new ByteArrayOutputStream();
    SMTPOutputStream reference = new SMTPOutputStream(angus);
    reference.write(bytes);
    reference.ensureAtBOL();
    reference.flush();
    angus.write(".\r\n".getBytes(StandardCharsets.US_ASCII));

    ByteArrayOutputStream ours = new ByteArrayOutputStream();
    SmtpConnection.DataStream data = SmtpConnection.dataStreamOver(ours);
    for (int i = 0; i < bytes.length; i += 3) { // in pieces, so state crosses writes
      data.write(bytes, i, Math.min(3, bytes.length - i));
    }
    data.end();

    assertThat(ours.toString(StandardCharsets.ISO_8859_1)).isEqualTo(angus.toString(StandardCharsets.ISO_8859_1));
  }
}
