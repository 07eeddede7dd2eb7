package dev.emailrouter.pop3;

import static dev.emailrouter.pop3.TestMail.deliver;
import static dev.emailrouter.pop3.TestMail.raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.testfixtures.Loopback;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POP3S against GreenMail with a self-signed certificate. GreenMail's bundled certificate names no
 * host, so the reader's host name check (which stays on) would refuse it even when trusted; this
 * test makes a self-signed one for 127.0.0.1 with the JDK's keytool and hands it to GreenMail
 * through its keystore system property, read once when its first TLS server socket is made.
 */
final class Pop3MailboxReaderTlsTest {

  private static final String PASSWORD = "changeit";

  @TempDir
  static Path dir;

  private static GreenMail greenMail;
  private static Certificate certificate;

  @BeforeAll
  static void startPop3sWithCertificateFor127001() throws Exception {
    Path keystore = dir.resolve("pop3s.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "greenmail", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-storetype", "PKCS12",
        "-keystore", keystore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD, "-noprompt")
        .redirectErrorStream(true)
        .start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(keytool.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(output).isZero();

    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      store.load(in, PASSWORD.toCharArray());
    }
    certificate = store.getCertificate("greenmail");

    System.setProperty("greenmail.tls.keystore.file", keystore.toString());
    System.setProperty("greenmail.tls.keystore.password", PASSWORD);
    greenMail = new GreenMail(Loopback.setup(ServerSetup.PROTOCOL_POP3S));
    greenMail.start();
    deliver(greenMail.setUser("sales@example.test", "sales", "secret"), raw("m1", "over tls", "hello\r\n"));
  }

  @AfterAll
  static void stop() {
    if (greenMail != null) {
      greenMail.stop();
    }
  }

  private static Pop3MailboxReader.Builder builder() {
    return Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(greenMail.getPop3s().getPort())
        .security(Security.IMPLICIT_TLS)
        .credentials(Credentials.password("sales", "secret"))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5));
  }

  private static void assertReads(MailboxReader reader) {
    try (MailboxReader.Session session = reader.open()) {
      assertThat(session.fetchNew("", Set.of(), 10).messages())
          .singleElement()
          .satisfies(m -> assertThat(m.first("subject")).contains("over tls"));
    }
  }

  @Test
  void open_withSelfSignedCertificateTrustedByKeyStore_readsTheMailbox() throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("pop3s", certificate);

    assertReads(builder().trustStore(trust).build());
  }

  @Test
  void open_withSelfSignedCertificateTrustedByPemFile_readsTheMailbox() throws Exception {
    Path pem = dir.resolve("pop3s.pem");
    Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded())
        + "\n-----END CERTIFICATE-----\n", StandardCharsets.US_ASCII);

    assertReads(builder().trustedCertificates(pem).build());
  }

  @Test
  void open_withUntrustedCertificate_throwsPermanentSayingToConfigureTrustedCertificates() {
    MailboxReader reader = builder().build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining(reader.describe())
        .hasMessageContaining("TLS")
        .hasMessageContaining("trustedCertificates");
  }

  @Test
  void testAccess_withUntrustedCertificate_failsTls_namingTrustedCertificates_andSkipsTheLogin() {
    AccessReport report = builder().build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(AccessStep.Check.TLS);
    assertThat(failure.setting()).isEqualTo("trustedCertificates");
    assertThat(report.step(AccessStep.Check.LOGIN).orElseThrow().outcome()).isEqualTo(AccessStep.Outcome.SKIPPED);
  }

  @Test
  void testAccess_withTheCertificateTrusted_passesTls_namingTheProtocolVersion() throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    trust.setCertificateEntry("pop3s", certificate);

    AccessReport report = builder().trustStore(trust).build().testAccess();

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(report.step(AccessStep.Check.TLS).orElseThrow().detail()).startsWith("TLSv1.");
  }
}
