package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.AccessStep.Check;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.imap.ImapMailboxReader;
import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** Test Access of an IMAP reader against Dovecot: each kind of wrong setting is named. */
final class ImapTestAccessIT {
  private final MailServers servers = MailServers.get();

  private ImapMailboxReader.Builder reader(int port, String password) {
    return ImapMailboxReader.builder().host("127.0.0.1").port(port).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem())
        .credentials(Credentials.password("user@example.test", password));
  }

  @Test
  void rightSettings_passEveryStep() {
    AccessReport report = reader(servers.imapPort(), MailServers.PASSWORD)
        .afterTracked(ImapMailboxReader.PostAction.moveTo("Tracked-" + System.nanoTime())).build().testAccess();

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(report.step(Check.GREETING).orElseThrow().detail()).contains("* OK");
    assertThat(report.step(Check.TLS).orElseThrow().detail()).startsWith("TLSv1.");
    // INBOX, the afterTracked folder, and the default quarantine folder.
    assertThat(report.steps()).filteredOn(s -> s.check() == Check.FOLDER).hasSize(3);
  }

  @Test
  void wrongPassword_failsTheLogin_namingCredentials() {
    AccessReport report = reader(servers.imapPort(), "not-the-password").build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.LOGIN);
    assertThat(failure.setting()).isEqualTo("credentials");
    assertThat(report.toString()).doesNotContain("not-the-password");
  }

  @Test
  void aMissingFolder_failsTheFolderStep() {
    AccessReport report = reader(servers.imapPort(), MailServers.PASSWORD).folder("Does-Not-Exist").build()
        .testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.FOLDER);
    assertThat(failure.setting()).isEqualTo("folder");
  }

  @Test
  void postfixsPort_isNamedAsAnSmtpServer() {
    AccessReport report = reader(servers.smtpPort(), MailServers.PASSWORD).build().testAccess();

    assertThat(report.firstFailure().orElseThrow().detail()).as(report.toString())
        .contains("an SMTP server, not IMAP");
  }

  @Test
  void closedPort_failsToConnect() throws IOException {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }

    assertThat(reader(closed, MailServers.PASSWORD).build().testAccess().firstFailure().orElseThrow().check())
        .isEqualTo(Check.CONNECT);
  }

  @Test
  void untrustedCertificate_failsTls_namingTrustedCertificates() {
    AccessReport report = ImapMailboxReader.builder().host("127.0.0.1").port(servers.imapPort())
        .security(Security.STARTTLS).credentials(Credentials.password("user@example.test", MailServers.PASSWORD))
        .build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.TLS);
    assertThat(failure.setting()).isEqualTo("trustedCertificates");
  }
}
