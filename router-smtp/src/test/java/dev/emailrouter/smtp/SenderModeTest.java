package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.smtp.SmtpTransport.SenderMode;
import org.junit.jupiter.api.Test;

/** A service account sending for CRM users: send as, envelope of the account, on behalf, and the fallback. */
final class SenderModeTest {

  private static final EmailAddress ACCOUNT = EmailAddress.of("router@example.test");
  private static final EmailAddress UNA = EmailAddress.of("una@example.test", "Una User");
  private static final String REFUSAL = "553 5.7.1 <una@example.test>: Sender address rejected: not owned by user "
      + "router@example.test";

  private static OutgoingEmail fromUna(String id) {
    return OutgoingEmail.builder(id, UNA).to(EmailAddress.of("carl@example.test")).subject("Offer " + id)
        .textBody("Hello\r\n").messageId(TestEmails.messageId(id)).build();
  }

  private static SendResult send(SmtpTransport transport, OutgoingEmail email) {
    try (MailTransport.Session session = transport.openSession()) {
      return session.send(email);
    }
  }

  private static String headers(ScriptedSmtpServer.Received received) {
    return received.data().substring(0, received.data().indexOf("\r\n\r\n") + 2);
  }

  @Test
  void sendAs_theDefault_usesTheUserAsFromAndEnvelope_withoutSender() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder().start()) {
      assertThat(send(TestTransports.plain(server.port()).build(), fromUna("S-1")).outcome())
          .isEqualTo(Outcome.ACCEPTED);

      ScriptedSmtpServer.Received received = server.messages().get(0);
      assertThat(received.from()).isEqualTo("una@example.test");
      assertThat(headers(received)).contains("From: Una User <una@example.test>").doesNotContain("Sender:");
    }
  }

  @Test
  void sendOnBehalf_putsTheAccountInSenderAndTheEnvelope_andTheUserInFrom() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder().start()) {
      SmtpTransport transport = TestTransports.plain(server.port()).senderMode(SenderMode.SEND_ON_BEHALF)
          .serviceAccount(ACCOUNT).build();

      assertThat(send(transport, fromUna("S-2")).outcome()).isEqualTo(Outcome.ACCEPTED);

      ScriptedSmtpServer.Received received = server.messages().get(0);
      assertThat(received.from()).isEqualTo("router@example.test");
      assertThat(headers(received)).contains("From: Una User <una@example.test>")
          .contains("Sender: router@example.test");
    }
  }

  @Test
  void sendAsWithTheAccountsEnvelope_keepsFromTheUser_andBouncesGoToTheAccount() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder().start()) {
      SmtpTransport transport = TestTransports.plain(server.port())
          .senderMode(SenderMode.SEND_AS_ACCOUNT_ENVELOPE).serviceAccount(ACCOUNT).build();

      send(transport, fromUna("S-3"));

      ScriptedSmtpServer.Received received = server.messages().get(0);
      assertThat(received.from()).isEqualTo("router@example.test");
      assertThat(headers(received)).contains("From: Una User <una@example.test>").doesNotContain("Sender:");
    }
  }

  @Test
  void anEmailFromTheAccountItself_isSentPlainly_inEveryMode() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder().start()) {
      SmtpTransport transport = TestTransports.plain(server.port()).senderMode(SenderMode.SEND_ON_BEHALF)
          .serviceAccount(ACCOUNT).build();
      OutgoingEmail own = OutgoingEmail.builder("S-4", ACCOUNT).to(EmailAddress.of("carl@example.test"))
          .subject("x").textBody("x\r\n").messageId(TestEmails.messageId("S-4")).build();

      send(transport, own);

      assertThat(headers(server.messages().get(0))).doesNotContain("Sender:");
    }
  }

  @Test
  void aRefusedSendAs_failsPermanently_namingThePermissionToGrant() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder().replyToMail(REFUSAL).start()) {
      SmtpTransport transport = TestTransports.plain(server.port()).serviceAccount(ACCOUNT).build();

      SendResult result = send(transport, fromUna("S-5"));

      assertThat(result.outcome()).isEqualTo(Outcome.PERMANENT);
      assertThat(result.serverReply()).contains("553 5.7.1").contains("send-as")
          .contains("router@example.test").contains("fallbackToOnBehalf");
      assertThat(server.messages()).isEmpty();
    }
  }

  @Test
  void aRefusedSendAs_withTheFallback_isSentAtOnceOnBehalfOfTheUser() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder().replyToFirstMail(REFUSAL).start()) {
      SmtpTransport transport = TestTransports.plain(server.port()).serviceAccount(ACCOUNT)
          .fallbackToOnBehalf(true).build();

      SendResult result = send(transport, fromUna("S-6"));

      assertThat(result.outcome()).as(result.serverReply()).isEqualTo(Outcome.ACCEPTED);
      ScriptedSmtpServer.Received received = server.messages().get(0);
      assertThat(received.from()).isEqualTo("router@example.test");
      assertThat(headers(received)).contains("Sender: router@example.test").contains("From: Una User");
    }
  }

  @Test
  void aRefusalOfTheRecipients_isNotTakenForARefusedSender() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder()
        .replyToRcpt("carl@example.test", "553 5.1.3 bad recipient address syntax").start()) {
      SmtpTransport transport = TestTransports.plain(server.port()).serviceAccount(ACCOUNT)
          .fallbackToOnBehalf(true).build();

      SendResult result = send(transport, fromUna("S-7"));

      assertThat(result.outcome()).isEqualTo(Outcome.PERMANENT);
      assertThat(result.serverReply()).doesNotContain("send-as");
      assertThat(server.commands()).filteredOn(c -> c.startsWith("MAIL FROM")).hasSize(1);
    }
  }

  @Test
  void onBehalfWithoutAServiceAccount_isRefusedAtBuild() {
    assertThatThrownBy(() -> TestTransports.plain(2525).senderMode(SenderMode.SEND_ON_BEHALF).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("serviceAccount is required");
    assertThatThrownBy(() -> TestTransports.plain(2525).fallbackToOnBehalf(true).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("fallbackToOnBehalf");
  }
}
