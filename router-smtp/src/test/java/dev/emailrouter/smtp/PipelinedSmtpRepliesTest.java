package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every case of {@link SmtpRepliesTest} again against a server that offers PIPELINING and answers
 * the envelope only once DATA has arrived (a lock-step client would hang), so each refusal shape
 * must map exactly as it does lock-step; plus what crosses the wire.
 */
final class PipelinedSmtpRepliesTest extends SmtpRepliesTest {

  @Override
  ScriptedSmtpServer.Builder script() {
    return ScriptedSmtpServer.builder().pipelining();
  }

  @Override
  boolean pipelining() {
    return true;
  }

  private static SmtpTransport transportTo(ScriptedSmtpServer s) {
    return SmtpTransport.builder()
        .host(s.host())
        .port(s.port())
        .security(Security.PLAIN_TEXT_INSECURE)
        .ehloName("router.example.test")
        .connectTimeout(Duration.ofSeconds(5))
        .readTimeout(Duration.ofSeconds(2))
        .build();
  }

  @Test
  void send_whenPipeliningOffered_sendsMailRcptAndDataWithoutWaitingAndTheContentAfter354() throws Exception {
    try (ScriptedSmtpServer s = ScriptedSmtpServer.builder().pipelining().start();
         MailTransport.Session session = transportTo(s).openSession()) {
      for (int i = 1; i <= 3; i++) {
        SendResult result = session.send(TestEmails.email("P-" + i, "a@example.test", "b@example.test").build());
        assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
        assertThat(result.serverReply()).isEqualTo("250 2.0.0 Ok: queued as Q" + i);
      }
      assertThat(s.connections()).isEqualTo(1);
      assertThat(s.messages()).hasSize(3);
      assertThat(s.messages().get(0).recipients()).containsExactly("a@example.test", "b@example.test");
      assertThat(s.messages().get(0).data()).contains("Message-ID: ").contains("\r\n\r\n");
      List<String> envelope = s.commands().stream().filter(c -> !c.startsWith("EHLO")).limit(4).toList();
      assertThat(envelope).containsExactly("MAIL FROM:<crm@example.test>", "RCPT TO:<a@example.test>",
          "RCPT TO:<b@example.test>", "DATA");
      // MAIL and both RCPTs of each email had the next command behind them.
      assertThat(s.commandsSentWithoutWaiting()).isGreaterThanOrEqualTo(9);
    }
  }

  @Test
  void send_whenPipeliningNotOffered_waitsForEachReply() throws Exception {
    try (ScriptedSmtpServer s = ScriptedSmtpServer.builder().start();
         MailTransport.Session session = transportTo(s).openSession()) {
      SendResult result = session.send(TestEmails.email("L-1", "a@example.test", "b@example.test").build());
      assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
      assertThat(s.messages()).hasSize(1);
      assertThat(s.commandsSentWithoutWaiting()).isZero();
    }
  }
}
