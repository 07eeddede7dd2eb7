package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Delivery status notification requests (RFC 3461) on MAIL FROM and RCPT TO, as the server sees them. */
final class SmtpDsnTest {
  private ScriptedSmtpServer server;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  private SendResult send(ScriptedSmtpServer.Builder script, SmtpTransport.Builder settings, OutgoingEmail email)
      throws IOException {
    server = script.start();
    SmtpTransport transport = settings == null ? TestTransports.plain(server.port()).build()
        : settings.port(server.port()).build();
    try (MailTransport.Session session = transport.openSession()) {
      return session.send(email);
    }
  }

  private List<String> envelopeCommands() {
    return server.commands().stream().filter(c -> c.startsWith("MAIL") || c.startsWith("RCPT")).toList();
  }

  @Test
  void send_whenTheServerOffersDsn_asksForFailureAndDelayReportsWithTheMessageIdAsEnvid() throws IOException {
    SendResult result = send(ScriptedSmtpServer.builder().extensions("DSN"), null,
        TestEmails.email("D-1", "a@example.test", "b@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(envelopeCommands()).containsExactly(
        "MAIL FROM:<crm@example.test> RET=HDRS ENVID=D-1.test@crm.example.test",
        "RCPT TO:<a@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@example.test",
        "RCPT TO:<b@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@example.test");
  }

  @Test
  void send_whenTheServerOffersDsnAndPipelining_sendsTheSameParametersInTheGroup() throws IOException {
    SendResult result = send(ScriptedSmtpServer.builder().extensions("DSN").pipelining(), null,
        TestEmails.email("D-2", "a@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(envelopeCommands()).containsExactly(
        "MAIL FROM:<crm@example.test> RET=HDRS ENVID=D-2.test@crm.example.test",
        "RCPT TO:<a@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@example.test");
    assertThat(server.commandsSentWithoutWaiting()).isPositive();
  }

  @Test
  void send_whenTheServerDoesNotOfferDsn_sendsNoDsnParameter() throws IOException {
    SendResult result = send(ScriptedSmtpServer.builder().extensions("8BITMIME", "PIPELINING"), null,
        TestEmails.email("D-3", "a@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(envelopeCommands()).containsExactly("MAIL FROM:<crm@example.test>", "RCPT TO:<a@example.test>");
  }

  @Test
  void send_withDeliveryStatusNotificationsOff_sendsNoDsnParameterEvenWhereOffered() throws IOException {
    SendResult result = send(ScriptedSmtpServer.builder().extensions("DSN"),
        TestTransports.plain(1).deliveryStatusNotifications(false), TestEmails.email("D-4", "a@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(envelopeCommands()).containsExactly("MAIL FROM:<crm@example.test>", "RCPT TO:<a@example.test>");
  }

  @Test
  void send_envidAndOrcpt_encodePlusEqualsAndOtherOctetsAsXtext() throws IOException {
    SendResult result = send(ScriptedSmtpServer.builder().extensions("DSN"), null,
        TestEmails.email("X-1", "a+tag=x@example.test").messageId("<a+b=c~!@crm.example.test>").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(envelopeCommands()).containsExactly(
        "MAIL FROM:<crm@example.test> RET=HDRS ENVID=a+2Bb+3Dc~!@crm.example.test",
        "RCPT TO:<a+tag=x@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;a+2Btag+3Dx@example.test");
  }

  @Test
  void send_whenTheEncodedMessageIdIsLongerThan100Characters_leavesEnvidOutButAsksForReports() throws IOException {
    String local = "x".repeat(100 - "@crm.example.test".length());
    String longest = "<" + local + "@crm.example.test>";
    String tooLong = "<" + local + "+@crm.example.test>"; // one '+' more: three characters of xtext

    send(ScriptedSmtpServer.builder().extensions("DSN"), null,
        TestEmails.email("L-1", "a@example.test").messageId(longest).build());
    List<String> first = envelopeCommands();
    server.close();
    send(ScriptedSmtpServer.builder().extensions("DSN"), null,
        TestEmails.email("L-2", "a@example.test").messageId(tooLong).build());

    assertThat(first.get(0)).isEqualTo("MAIL FROM:<crm@example.test> RET=HDRS ENVID=" + local + "@crm.example.test");
    assertThat(envelopeCommands().get(0)).isEqualTo("MAIL FROM:<crm@example.test> RET=HDRS");
    assertThat(envelopeCommands().get(1)).endsWith(" NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@example.test");
  }

  @Test
  void xtext_encodesEveryOctetOutsideBangToTildeAndPlusAndEquals() {
    assertThat(Xtext.encode("a b+c=d\u00e9~!")).isEqualTo("a+20b+2Bc+3Dd+C3+A9~!");
    assertThat(Xtext.envid("<id@host>")).isEqualTo("id@host");
  }
}
