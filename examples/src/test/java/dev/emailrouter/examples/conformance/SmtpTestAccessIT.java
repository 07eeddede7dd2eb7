package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.AccessStep.Check;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.Security;
import dev.emailrouter.smtp.SmtpTransport;
import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** Test Access of the SMTP transport against Postfix: each kind of wrong setting is named, nothing is sent. */
final class SmtpTestAccessIT {
  private final MailServers servers = MailServers.get();

  private SmtpTransport.Builder transport(int port) {
    return SmtpTransport.builder().host("127.0.0.1").port(port).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem());
  }

  @Test
  void rightSettings_passEveryStep_withTheSizeLimitAndTheSender() {
    AccessReport report = transport(servers.smtpPort()).build().testAccess(EmailAddress.of("user@example.test"));

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(report.step(Check.GREETING).orElseThrow().detail()).contains("ESMTP");
    assertThat(report.step(Check.TLS).orElseThrow().detail()).startsWith("TLSv1.");
    assertThat(report.step(Check.SIZE_LIMIT).orElseThrow().detail()).contains("bytes");
    assertThat(report.step(Check.SENDER).orElseThrow().outcome()).isEqualTo(AccessStep.Outcome.PASSED);
  }

  @Test
  void aSenderPostfixRefuses_failsTheSenderStep_with553_andNamesThePermission() {
    AccessReport report = transport(servers.smtpPort()).build().testAccess(EmailAddress.of("refused@example.test"));

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.SENDER);
    assertThat(failure.detail()).contains("553").contains("send-as");
  }

  @Test
  void dovecotsPop3Port_isNamedAsAPop3Server() {
    AccessReport report = transport(servers.pop3Port()).build().testAccess();

    assertThat(report.firstFailure().orElseThrow().detail()).as(report.toString())
        .contains("a POP3 server, not SMTP");
  }

  @Test
  void closedPort_failsToConnect() throws IOException {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }

    AccessReport report = transport(closed).build().testAccess();

    assertThat(report.firstFailure().orElseThrow().check()).as(report.toString()).isEqualTo(Check.CONNECT);
  }

  @Test
  void untrustedCertificate_failsTls_namingTrustedCertificates() {
    AccessReport report = SmtpTransport.builder().host("127.0.0.1").port(servers.smtpPort())
        .security(Security.STARTTLS).build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.TLS);
    assertThat(failure.setting()).isEqualTo("trustedCertificates");
  }
}
