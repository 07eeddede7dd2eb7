package dev.emailrouter.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** Certificates for TLS tests: self-signed key pairs made with the JDK's keytool, and trust stores. */
final class TestTls {
  static final String PASSWORD = "changeit";

  private TestTls() {}

  /**
   * Makes a PKCS12 file with a self-signed key pair (alias {@code server}) valid for two days.
   *
   * @param file where to write it
   * @param commonName the subject's CN
   * @param subjectAltNames e.g. {@code "ip:127.0.0.1,dns:localhost"}
   */
  static Path selfSigned(Path file, String commonName, String subjectAltNames) throws IOException, InterruptedException {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "server", "-keyalg", "RSA",
        "-keysize", "2048", "-validity", "2", "-dname", "CN=" + commonName, "-ext", "SAN=" + subjectAltNames,
        "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD)
        .redirectErrorStream(true)
        .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("keytool failed: " + output);
    }
    return file;
  }

  static KeyStore load(Path p12) throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(p12)) {
      return load(in);
    }
  }

  /** GreenMail's own self-signed certificate, bundled in its jar (CN "GreenMail selfsigned Test Certificate"). */
  static KeyStore greenMailBundled() throws IOException, GeneralSecurityException {
    try (InputStream in = TestTls.class.getClassLoader().getResourceAsStream("greenmail.p12")) {
      if (in == null) {
        throw new IOException("greenmail.p12 is not on the class path");
      }
      return load(in);
    }
  }

  private static KeyStore load(InputStream in) throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(in, PASSWORD.toCharArray());
    return store;
  }

  static SSLContext serverContext(KeyStore keys) throws GeneralSecurityException {
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, PASSWORD.toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), null, null);
    return context;
  }

  /** A trust store holding the certificates of the key entries, as a client configures it. */
  static KeyStore trustOnly(KeyStore keys) throws IOException, GeneralSecurityException {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    for (String alias : Collections.list(keys.aliases())) {
      trust.setCertificateEntry(alias, keys.getCertificate(alias));
    }
    return trust;
  }

  /** Writes the certificates of the key entries as PEM. */
  static Path pem(KeyStore keys, Path file) throws IOException, GeneralSecurityException {
    StringBuilder out = new StringBuilder();
    Base64.Encoder encoder = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
    for (String alias : Collections.list(keys.aliases())) {
      Certificate certificate = keys.getCertificate(alias);
      out.append("-----BEGIN CERTIFICATE-----\n")
          .append(encoder.encodeToString(certificate.getEncoded()))
          .append("\n-----END CERTIFICATE-----\n");
    }
    Files.writeString(file, out, StandardCharsets.US_ASCII);
    return file;
  }
}
