package dev.emailrouter.imap;

import static dev.emailrouter.imap.TestMailboxes.PASSWORD;
import static dev.emailrouter.imap.TestMailboxes.USER;
import static dev.emailrouter.imap.TestMailboxes.appendSimple;
import static dev.emailrouter.imap.TestMailboxes.folder;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.testfixtures.Loopback;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IMAPS against GreenMail. GreenMail's bundled certificate names no host, so hostname verification
 * (which the reader always does) would refuse it even when trusted; the test gives GreenMail a
 * self-signed certificate for 127.0.0.1 made with the JDK's keytool (the JDK has no API for that). GreenMail reads its keystore
 * once per JVM from system properties, so this is the only test class that starts a TLS server.
 */
final class ImapMailboxReaderTlsTest {

  private static final String STORE_PASSWORD = "changeit";

  @TempDir
  static Path dir;

  private static GreenMail greenMail;
  private static Path certificate;

  @BeforeAll
  static void startServer() throws Exception {
    Path keystore = dir.resolve("imaps.p12");
    certificate = dir.resolve("imaps.pem");
    keytool("-genkeypair", "-alias", "imaps", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
        "-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1,DNS:localhost", "-keystore", keystore.toString(),
        "-storetype", "PKCS12", "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD);
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      store.load(in, STORE_PASSWORD.toCharArray());
    }
    Files.writeString(certificate, "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(store.getCertificate("imaps").getEncoded())
        + "\n-----END CERTIFICATE-----\n");
    System.setProperty("greenmail.tls.keystore.file", keystore.toString());
    System.setProperty("greenmail.tls.keystore.password", STORE_PASSWORD);
    greenMail = new GreenMail(new ServerSetup[] {Loopback.setup(ServerSetup.PROTOCOL_IMAPS),
        TestMailboxes.imap()});
    greenMail.start();
    appendSimple(folder(greenMail, greenMail.setUser("sales@example.test", USER, PASSWORD), "INBOX"), 1, 2);
  }

  @AfterAll
  static void stopServer() {
    if (greenMail != null) {
      greenMail.stop();
    }
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("keytool.log").toFile()).start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(Files.readString(dir.resolve("keytool.log"))).isZero();
  }

  private static ImapMailboxReader.Builder reader() {
    return ImapMailboxReader.builder()
        .host("127.0.0.1")
        .port(greenMail.getImaps().getPort())
        .security(Security.IMPLICIT_TLS)
        .credentials(Credentials.password(USER, PASSWORD));
  }

  @Test
  void open_withImplicitTlsAndTheCertificateTrusted_readsMessages() {
    try (MailboxReader.Session session = reader().trustedCertificates(certificate).build().open()) {
      assertThat(session.fetchNew("", Set.of(), 10).messages()).hasSize(2);
    }
  }

  @Test
  void open_withImplicitTlsAndAnOauth2Token_readsMessagesOverTls() {
    // The token store builds its own protocol object, which must take the TLS setting along.
    try (MailboxReader.Session session = reader().credentials(Credentials.oauth2(USER, PASSWORD))
        .trustedCertificates(certificate).build().open()) {
      assertThat(session.fetchNew("", Set.of(), 10).messages()).hasSize(2);
    }
  }

  @Test
  void open_withImplicitTlsAndTheCertificateNotTrusted_throwsPermanentNamingTrustedCertificates() {
    ImapMailboxReader reader = reader().build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("imap://127.0.0.1:" + greenMail.getImaps().getPort())
        .hasMessageContaining("not trusted")
        .hasMessageContaining("trustedCertificates");
  }

  @Test
  void open_withImplicitTlsAgainstAPlainPort_throwsPermanentAboutTheSecuritySetting() {
    ImapMailboxReader reader = reader().port(greenMail.getImap().getPort()).trustedCertificates(certificate).build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("check that security IMPLICIT_TLS matches port " + greenMail.getImap().getPort());
  }
}
