package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.AccessStep.Check;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.pop3.Pop3MailboxReader;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Test Access of a POP3 reader against Dovecot: each kind of wrong setting is named. */
final class Pop3TestAccessIT {
  private final MailServers servers = MailServers.get();

  private Pop3MailboxReader.Builder reader(int port, String password) {
    return Pop3MailboxReader.builder().host("127.0.0.1").port(port).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem())
        .credentials(Credentials.password("user@example.test", password))
        .readTimeout(Duration.ofSeconds(10));
  }

  @Test
  void rightSettings_passEveryStep_withStlsAndTheTlsVersion() {
    AccessReport report = reader(servers.pop3Port(), MailServers.PASSWORD).build().testAccess();

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(report.step(Check.GREETING).orElseThrow().detail()).contains("+OK");
    assertThat(report.step(Check.TLS).orElseThrow().detail()).startsWith("TLSv1.");
    assertThat(report.step(Check.LOGIN).orElseThrow().outcome()).isEqualTo(AccessStep.Outcome.PASSED);
  }

  @Test
  void wrongPassword_failsTheLogin_namingCredentials() {
    AccessReport report = reader(servers.pop3Port(), "not-the-password").build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.LOGIN);
    assertThat(failure.setting()).isEqualTo("credentials");
    assertThat(report.toString()).doesNotContain("not-the-password");
  }

  @Test
  void postfixsPort_isNamedAsAnSmtpServer() {
    AccessReport report = reader(servers.smtpPort(), MailServers.PASSWORD).build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.GREETING);
    assertThat(failure.detail()).contains("an SMTP server, not POP3").contains("ESMTP");
    assertThat(failure.setting()).isEqualTo("port");
  }

  @Test
  void dovecotsImapPort_isNamedAsAnImapServer() {
    AccessReport report = reader(servers.imapPort(), MailServers.PASSWORD).build().testAccess();

    assertThat(report.firstFailure().orElseThrow().detail()).as(report.toString())
        .contains("an IMAP server, not POP3");
  }

  @Test
  void closedPort_failsToConnect() throws IOException {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }

    AccessReport report = reader(closed, MailServers.PASSWORD).build().testAccess();

    assertThat(report.firstFailure().orElseThrow().check()).as(report.toString()).isEqualTo(Check.CONNECT);
    assertThat(report.firstFailure().orElseThrow().setting()).isEqualTo("port");
  }

  @Test
  void untrustedCertificate_failsTls_namingTrustedCertificates() {
    AccessReport report = Pop3MailboxReader.builder().host("127.0.0.1").port(servers.pop3Port())
        .security(Security.STARTTLS)
        .credentials(Credentials.password("user@example.test", MailServers.PASSWORD))
        .build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.TLS);
    assertThat(failure.setting()).isEqualTo("trustedCertificates");
    assertThat(report.step(Check.LOGIN).orElseThrow().outcome()).isEqualTo(AccessStep.Outcome.SKIPPED);
  }
}
