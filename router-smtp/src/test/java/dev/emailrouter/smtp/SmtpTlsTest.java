package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.testfixtures.Loopback;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * TLS: implicit TLS against GreenMail's SMTPS, STARTTLS and certificate mismatches against the
 * scripted server. Certificates are trusted explicitly or not at all; identity checks stay on.
 *
 * <p>GreenMail's bundled certificate names no host (CN "GreenMail selfsigned Test Certificate", no
 * subject alternative names), so a client that checks the server's identity, as this transport
 * does, can't accept it even when trusted. GreenMail is therefore given a self-signed certificate
 * for 127.0.0.1 made by keytool; GreenMail reads it from system properties once per JVM, which is
 * why they are set before the extension starts.
 */
final class SmtpTlsTest {
  private static final Path DIR;
  private static final KeyStore SERVER_KEYS;

  static {
    try {
      DIR = Files.createTempDirectory("smtp-tls-test");
      Path p12 = TestTls.selfSigned(DIR.resolve("server.p12"), "localhost", "ip:127.0.0.1,dns:localhost");
      SERVER_KEYS = TestTls.load(p12);
      System.setProperty("greenmail.tls.keystore.file", p12.toString());
      System.setProperty("greenmail.tls.keystore.password", TestTls.PASSWORD);
      System.setProperty("greenmail.tls.key.password", TestTls.PASSWORD);
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @RegisterExtension
  static final GreenMailExtension greenMail =
      new GreenMailExtension(Loopback.setup(ServerSetup.PROTOCOL_SMTPS));

  private ScriptedSmtpServer server;

  @AfterEach
  void stopServer() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  @AfterAll
  static void removeCertificates() throws IOException {
    try (Stream<Path> files = Files.walk(DIR)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }

  private static SmtpTransport.Builder transport(String host, int port, Security security) {
    return SmtpTransport.builder()
        .host(host)
        .port(port)
        .security(security)
        .ehloName("router.example.test")
        .connectTimeout(Duration.ofSeconds(5))
        .readTimeout(Duration.ofSeconds(10));
  }

  private static SendResult sendOne(SmtpTransport transport) {
    try (MailTransport.Session session = transport.openSession()) {
      return session.send(TestEmails.email("TLS-1").build());
    }
  }

  @Test
  void implicitTls_withTheServersCertificateTrusted_sends() throws Exception {
    SmtpTransport transport = transport("127.0.0.1", greenMail.getSmtps().getPort(), Security.IMPLICIT_TLS)
        .trustStore(TestTls.trustOnly(SERVER_KEYS))
        .build();

    assertThat(sendOne(transport).outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(greenMail.getReceivedMessages()).hasSize(1);
  }

  @Test
  void implicitTls_withAnOAuth2Token_logsInOverTheTlsConnectionAndSends() throws Exception {
    // The token's AUTH goes past Angus's trace, on the socket it recorded: the TLS one.
    greenMail.setUser("crm@example.test", "crm-user", "token-tls");
    SmtpTransport transport = transport("127.0.0.1", greenMail.getSmtps().getPort(), Security.IMPLICIT_TLS)
        .trustStore(TestTls.trustOnly(SERVER_KEYS))
        .credentials(() -> dev.emailrouter.api.Credentials.oauth2("crm-user", "token-tls"))
        .build();

    assertThat(sendOne(transport).outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(greenMail.getReceivedMessages()).hasSize(1);
  }

  @Test
  void implicitTls_withTrustedCertificatesFromAPemFile_sends() throws Exception {
    Path pem = TestTls.pem(SERVER_KEYS, DIR.resolve("server.pem"));
    SmtpTransport transport = transport("localhost", greenMail.getSmtps().getPort(), Security.IMPLICIT_TLS)
        .trustedCertificates(pem)
        .build();

    assertThat(sendOne(transport).outcome()).isEqualTo(Outcome.ACCEPTED);
  }

  @Test
  void implicitTls_whenTheCertificateIsNotTrusted_throwsPermanentTellingToConfigureTrust() {
    SmtpTransport transport = transport("127.0.0.1", greenMail.getSmtps().getPort(), Security.IMPLICIT_TLS).build();

    assertThatThrownBy(() -> sendOne(transport))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("TLS with SMTP server smtp://127.0.0.1:" + greenMail.getSmtps().getPort()
            + " (IMPLICIT_TLS) failed: its certificate is not trusted")
        .hasMessageContaining("configure trustedCertificates(...) or trustStore(...)");
    assertThat(greenMail.getReceivedMessages()).isEmpty();
  }

  @Test
  void implicitTls_whenTheTrustedCertificateNamesNoSuchHost_throwsPermanentNamingTheHost() throws Exception {
    KeyStore greenMailsOwn = TestTls.greenMailBundled();
    server = ScriptedSmtpServer.builder().implicitTls(TestTls.serverContext(greenMailsOwn)).start();
    SmtpTransport transport = transport(server.host(), server.port(), Security.IMPLICIT_TLS)
        .trustStore(TestTls.trustOnly(greenMailsOwn))
        .build();

    assertThatThrownBy(() -> sendOne(transport))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("its certificate does not name host 127.0.0.1");
    assertThat(server.messages()).isEmpty();
  }

  @Test
  void implicitTls_againstAPlainTextServer_throwsPermanentAboutSecurityAndPort() throws Exception {
    server = ScriptedSmtpServer.builder().start();
    SmtpTransport transport = transport(server.host(), server.port(), Security.IMPLICIT_TLS).build();

    assertThatThrownBy(() -> sendOne(transport))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("check that security IMPLICIT_TLS and port " + server.port() + " match");
  }

  @Test
  void startTls_andImplicitTls_waitForASlowReplyToTheEndOfDataBeyondTheReadTimeout() throws Exception {
    // The data-end wait is set on the socket under the TLS layer: checked for both ways TLS starts.
    for (Security security : List.of(Security.STARTTLS, Security.IMPLICIT_TLS)) {
      ScriptedSmtpServer.Builder script = ScriptedSmtpServer.builder().delayEndOfDataReply(Duration.ofSeconds(2));
      SSLContext keys = TestTls.serverContext(SERVER_KEYS);
      server = (security == Security.STARTTLS ? script.startTls(keys) : script.implicitTls(keys)).start();
      SmtpTransport transport = transport(server.host(), server.port(), security)
          .trustStore(TestTls.trustOnly(SERVER_KEYS))
          .readTimeout(Duration.ofSeconds(1))
          .build();

      assertThat(sendOne(transport).outcome()).as("over %s", security).isEqualTo(Outcome.ACCEPTED);
      assertThat(server.connections()).as("connections over %s", security).isEqualTo(1);
      assertThat(server.messages()).as("messages over %s", security).hasSize(1);
      server.close();
      server = null;
    }
  }

  @Test
  void startTls_withTheServersCertificateTrusted_upgradesBeforeAnythingIsSent() throws Exception {
    server = ScriptedSmtpServer.builder().startTls(TestTls.serverContext(SERVER_KEYS)).start();
    SmtpTransport transport = transport(server.host(), server.port(), Security.STARTTLS)
        .trustStore(TestTls.trustOnly(SERVER_KEYS))
        .build();

    assertThat(sendOne(transport).outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(server.commands()).startsWith("EHLO router.example.test", "STARTTLS", "EHLO router.example.test");
    assertThat(server.messages()).hasSize(1);
  }

  @Test
  void startTls_whenTheCertificateIsNotTrusted_throwsPermanentAndSendsNothing() throws Exception {
    server = ScriptedSmtpServer.builder().startTls(TestTls.serverContext(SERVER_KEYS)).start();
    SmtpTransport transport = transport(server.host(), server.port(), Security.STARTTLS).build();

    assertThatThrownBy(() -> sendOne(transport))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("(STARTTLS) failed: its certificate is not trusted")
        .hasMessageContaining("trustedCertificates(...)");
    assertThat(server.commands()).containsExactly("EHLO router.example.test", "STARTTLS");
  }
}
