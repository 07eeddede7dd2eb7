package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.AccessStep.Check;
import dev.emailrouter.api.AccessStep.Outcome;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.testfixtures.Loopback;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class SmtpTestAccessTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(new ServerSetup[] {
      Loopback.setup(ServerSetup.PROTOCOL_SMTP), Loopback.setup(ServerSetup.PROTOCOL_IMAP)});

  private static int smtpPort() {
    return greenMail.getSmtp().getPort();
  }

  @Test
  void aRelayWithoutLogin_passesEveryStep_andTheSenderIsCheckedWithoutSendingAnything() {
    AccessReport report = TestTransports.plain(smtpPort()).build()
        .testAccess(EmailAddress.of("una@example.test"));

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(report.steps()).extracting(AccessStep::check).containsExactly(Check.RESOLVE, Check.CONNECT,
        Check.GREETING, Check.TLS, Check.AUTH, Check.SIZE_LIMIT, Check.LOGIN, Check.SENDER);
    assertThat(report.step(Check.AUTH).orElseThrow().outcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(report.step(Check.SENDER).orElseThrow().detail())
        .contains("MAIL FROM:<una@example.test> and RCPT TO:<una@example.test> accepted");
    assertThat(greenMail.getReceivedMessages()).isEmpty();
  }

  @Test
  void aWrongPassword_failsTheLogin_namingCredentials_withoutTheSecret() {
    greenMail.setUser("crm@example.test", "crm-user", "right-password");

    AccessReport report = TestTransports.plain(smtpPort())
        .credentials(() -> Credentials.password("crm-user", "wrong-s3cret")).build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.LOGIN);
    assertThat(failure.setting()).isEqualTo("credentials");
    assertThat(report.step(Check.AUTH).orElseThrow().outcome()).isEqualTo(Outcome.PASSED);
    assertThat(report.toString()).doesNotContain("wrong-s3cret");
  }

  @Test
  void theLoginsOwnAddress_isTheSenderChecked_whenNoneIsGiven() {
    greenMail.setUser("crm@example.test", "crm@example.test", "right-password");

    AccessReport report = TestTransports.plain(smtpPort())
        .credentials(() -> Credentials.password("crm@example.test", "right-password")).build().testAccess();

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(report.step(Check.SENDER).orElseThrow().detail()).contains("MAIL FROM:<crm@example.test> and");
  }

  @Test
  void theImapPort_isNamedAsAnImapServer() {
    AccessReport report = TestTransports.plain(greenMail.getImap().getPort()).build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).isEqualTo(Check.GREETING);
    assertThat(failure.detail()).contains("an IMAP server, not SMTP");
    assertThat(failure.setting()).isEqualTo("port");
  }

  @Test
  void aRefusedSender_failsTheSenderStep_namingThePermissionToGrant_andIsReset() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder()
        .replyToMail("553 5.7.1 <una@example.test>: Sender address rejected: not owned by user crm").start()) {

      AccessReport report = TestTransports.plain(server.port()).build()
          .testAccess(EmailAddress.of("una@example.test"));

      AccessStep failure = report.firstFailure().orElseThrow();
      assertThat(failure.check()).as(report.toString()).isEqualTo(Check.SENDER);
      assertThat(failure.detail()).contains("553 5.7.1").contains("grant it send-as");
      List<String> commands = server.commands();
      assertThat(commands).anyMatch(c -> c.startsWith("RSET")).noneMatch(c -> c.startsWith("RCPT"))
          .noneMatch(c -> c.startsWith("DATA"));
    }
  }

  @Test
  void aSenderRefusedOnlyAtRcptTime_asPostfixDoes_failsTheSenderStep() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder()
        .replyToRcpt("una@example.test", "553 5.7.1 <una@example.test>: Sender address rejected: not owned by user crm")
        .start()) {

      AccessReport report = TestTransports.plain(server.port()).build()
          .testAccess(EmailAddress.of("una@example.test"));

      AccessStep failure = report.firstFailure().orElseThrow();
      assertThat(failure.check()).as(report.toString()).isEqualTo(Check.SENDER);
      assertThat(failure.detail()).contains("RCPT TO:<una@example.test>").contains("Sender address rejected");
      assertThat(server.commands()).noneMatch(c -> c.startsWith("DATA"));
    }
  }

  @Test
  void aRecipientSideRefusalOfTheSendersOwnAddress_doesNotFailTheSender() throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder()
        .replyToRcpt("una@example.test", "550 5.1.1 <una@example.test>: Recipient address rejected: User unknown")
        .start()) {

      AccessReport report = TestTransports.plain(server.port()).build()
          .testAccess(EmailAddress.of("una@example.test"));

      assertThat(report.ok()).as(report.toString()).isTrue();
      assertThat(report.step(Check.SENDER).orElseThrow().detail()).contains("about the recipient, not the sender");
    }
  }
}
