package dev.emailrouter.pop3;

import static dev.emailrouter.pop3.TestMail.deliver;
import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.AccessStep.Check;
import dev.emailrouter.api.AccessStep.Outcome;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.testfixtures.Loopback;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class Pop3TestAccessTest {

  @RegisterExtension
  // No POP3S here: GreenMail reads its TLS keystore once per JVM, and Pop3MailboxReaderTlsTest
  // gives it a certificate of its own (its TLS steps are tested there).
  static final GreenMailExtension greenMail = new GreenMailExtension(new ServerSetup[] {
      Loopback.setup(ServerSetup.PROTOCOL_POP3), Loopback.setup(ServerSetup.PROTOCOL_SMTP)});

  private GreenMailUser user;

  @BeforeEach
  void createUser() {
    user = greenMail.setUser("sales@example.test", "sales", "secret");
  }

  private static Pop3MailboxReader.Builder reader(int port, String password) {
    return Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password("sales", password))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5));
  }

  private static List<Check> checks(AccessReport report) {
    return report.steps().stream().map(AccessStep::check).toList();
  }

  @Test
  void rightSettings_passEveryStep_andLeaveTheMaildropAsItWas() {
    deliver(user, "Subject: one\r\n\r\nbody\r\n");

    AccessReport report = reader(greenMail.getPop3().getPort(), "secret").deleteAfterProcessing(true).build()
        .testAccess();

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(checks(report)).containsExactly(Check.RESOLVE, Check.CONNECT, Check.GREETING, Check.TLS, Check.LOGIN);
    assertThat(report.step(Check.TLS).orElseThrow().outcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(report.step(Check.LOGIN).orElseThrow().detail()).contains("logged in as sales");
    assertThat(greenMail.getReceivedMessages()).hasSize(1);
  }

  @Test
  void wrongPassword_failsTheLogin_namingCredentials_withoutTheSecret() {
    AccessReport report = reader(greenMail.getPop3().getPort(), "wrong-pass").build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).isEqualTo(Check.LOGIN);
    assertThat(failure.setting()).isEqualTo("credentials");
    assertThat(report.toString()).doesNotContain("wrong-pass");
    assertThat(report.step(Check.GREETING).orElseThrow().outcome()).isEqualTo(Outcome.PASSED);
  }

  @Test
  void closedPort_failsToConnect_namingThePort_andSkipsTheLogin() throws IOException {
    int closed;
    try (ServerSocket socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }

    AccessReport report = reader(closed, "secret").build().testAccess();

    assertThat(report.firstFailure().orElseThrow().check()).isEqualTo(Check.CONNECT);
    assertThat(report.firstFailure().orElseThrow().setting()).isEqualTo("port");
    assertThat(report.step(Check.LOGIN).orElseThrow().outcome()).isEqualTo(Outcome.SKIPPED);
  }

  @Test
  void portOfAnotherService_isNamedByItsGreeting() {
    AccessReport report = reader(greenMail.getSmtp().getPort(), "secret").build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).isEqualTo(Check.GREETING);
    assertThat(failure.detail()).contains("an SMTP server, not POP3");
    assertThat(failure.setting()).isEqualTo("port");
  }

  @Test
  void silentServer_failsTheGreeting_andSuggestsImplicitTls() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        try (Socket ignored = silent.accept()) {
          ignored.getInputStream().read();
        } catch (IOException e) {
          // the test closed the server
        }
      });
      acceptor.start();

      AccessReport report = reader(silent.getLocalPort(), "secret").readTimeout(Duration.ofMillis(300)).build()
          .testAccess();

      AccessStep failure = report.firstFailure().orElseThrow();
      assertThat(failure.check()).isEqualTo(Check.GREETING);
      assertThat(failure.detail()).contains("no greeting").contains("IMPLICIT_TLS");
      acceptor.join(5_000);
    }
  }

  @Test
  void implicitTlsOnAPlainPort_failsTls_namingSecurity() {
    AccessReport report = reader(greenMail.getPop3().getPort(), "secret").security(Security.IMPLICIT_TLS).build()
        .testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).isEqualTo(Check.TLS);
    assertThat(failure.setting()).isEqualTo("security");
  }

  @Test
  void starttlsWhereTheServerOffersNone_failsTls_namingSecurity() {
    AccessReport report = reader(greenMail.getPop3().getPort(), "secret").security(Security.STARTTLS).build()
        .testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).isEqualTo(Check.TLS);
    assertThat(failure.setting()).isEqualTo("security");
  }
}
