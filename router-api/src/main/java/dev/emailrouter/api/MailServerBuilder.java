package dev.emailrouter.api;

import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The setters every mail-server adapter's builder shares (host, port, security, trust, credentials,
 * user name, timeouts), written once: each adapter's builder extends this class, so the same
 * setting is checked the same way, with the same message and the same default, whichever adapter a
 * host configures. The values go into a {@link ServerSettings.Builder}; see {@link ServerSettings}
 * for the defaults and the one rule on user name and credentials.
 *
 * <p>A generic base rather than an interface of default methods, so that the state and its checks
 * live here and each setter still returns the adapter's own builder type for chaining ({@code
 * ImapMailboxReader.builder().host(...).afterTracked(...)}). For the router's adapters; a host
 * has no reason to extend it.
 *
 * <p>Not thread-safe, as builders are.
 *
 * @param <B> the adapter's builder type, returned by every setter
 */
public abstract class MailServerBuilder<B extends MailServerBuilder<B>> {

  private ServerSettings.Builder server = ServerSettings.builder();

  /** Starts with {@link ServerSettings}' defaults. */
  protected MailServerBuilder() {}

  /**
   * Takes every shared setting from a value built once, e.g. for the reader and the transport of
   * one server; replaces what the shared setters set before. Later setters change this builder's
   * copy only.
   *
   * @param settings the server settings
   * @return this builder
   */
  public final B server(ServerSettings settings) {
    this.server = Objects.requireNonNull(settings, "server").toBuilder();
    return self();
  }

  /**
   * Sets the server's host name or IP address; required.
   *
   * @param host e.g. {@code mail.example.com}, {@code 192.0.2.10} or {@code ::1}
   * @return this builder
   * @throws IllegalArgumentException if blank or not a host name or address (a URL, say)
   * @see ServerSettings.Builder#host(String)
   */
  public final B host(String host) {
    server.host(host);
    return self();
  }

  /**
   * Sets the server's port; by default the adapter's port for its protocol and security (587, 465
   * or 25 for SMTP; 143 or 993 for IMAP; 110 or 995 for POP3).
   *
   * @param port between 1 and 65535
   * @return this builder
   * @throws IllegalArgumentException if out of range
   */
  public final B port(int port) {
    server.port(port);
    return self();
  }

  /**
   * Sets how the connection is protected; {@link Security#STARTTLS} (required: the adapter refuses a
   * server that does not offer it) by default. Plain text takes an explicit {@link
   * Security#PLAIN_TEXT_INSECURE}.
   *
   * @param security the protection
   * @return this builder
   */
  public final B security(Security security) {
    server.security(security);
    return self();
  }

  /**
   * Trusts the certificates in this store instead of the JVM's default trust store, for a server
   * with a private CA or a self-signed certificate; the server's certificate must still name the
   * host. Replaces an earlier {@link #trustedCertificates(Path)}.
   *
   * @param trustStore the trusted certificates
   * @return this builder
   */
  public final B trustStore(KeyStore trustStore) {
    server.trustStore(trustStore);
    return self();
  }

  /**
   * Trusts the certificates in a PEM (or DER) file instead of the JVM's default trust store. The
   * file is read now. Replaces an earlier {@link #trustStore(KeyStore)}.
   *
   * @param certificates a file with one or more certificates
   * @return this builder
   * @throws IllegalArgumentException if the file can't be read or holds no certificate
   */
  public final B trustedCertificates(Path certificates) {
    server.trustedCertificates(certificates);
    return self();
  }

  /**
   * Logs in with a supplier asked at every login, so passwords can rotate and OAuth2 tokens stay
   * fresh. A {@link Credentials.Kind#OAUTH2_TOKEN} logs in with OAUTHBEARER where the server offers
   * it, else XOAUTH2 (neither offered: a permanent failure). When the supplier is a {@link
   * TokenSource} (such as router-oauth2's {@code OAuth2TokenProvider}) and the server refuses the
   * token, the source is told and the login is tried once more with a fresh token; a second refusal
   * is permanent. A supplier that throws a {@link RouterException} decides whether the failure is
   * transient; any other exception counts as transient, {@code null} as permanent. The user name
   * must be set with a plain supplier (see {@link ServerSettings}). Replaces earlier credentials.
   *
   * @param credentials the supplier, called on the thread that logs in
   * @return this builder
   */
  public final B credentials(Supplier<Credentials> credentials) {
    server.credentials(credentials);
    return self();
  }

  /**
   * Logs in with fixed credentials; they also give the user name ({@link Credentials#mailboxUser()})
   * unless {@link #username(String)} sets it, which must then be the same user. With {@link
   * Credentials#onBehalfOf(String)} an administrator logs in with SASL PLAIN carrying that user as
   * authorization identity (RFC 4616), never with a mechanism that would open the administrator's
   * own mailbox. Replaces earlier credentials.
   *
   * @param credentials the login
   * @return this builder
   */
  public final B credentials(Credentials credentials) {
    server.credentials(credentials);
    return self();
  }

  /**
   * Sets the user name that names the mailbox (a reader's {@code describe()}, and so the engine's
   * default checkpoint key); taken from fixed credentials or a {@link TokenSource} that states its
   * user when not set, required with any other supplier. Whatever the order of the calls, it must
   * name the same user as those credentials: {@code build()} fails otherwise.
   *
   * @param username the login name, e.g. {@code sales@example.com}
   * @return this builder
   * @throws IllegalArgumentException if blank or holding whitespace or control characters
   */
  public final B username(String username) {
    server.username(username);
    return self();
  }

  /**
   * Sets how long to wait for the TCP connection; 10 seconds by default ({@link
   * ServerSettings#DEFAULT_CONNECT_TIMEOUT}), never infinite.
   *
   * @param timeout between 1 ms and 1 hour
   * @return this builder
   * @throws IllegalArgumentException if out of range
   */
  public final B connectTimeout(Duration timeout) {
    server.connectTimeout(timeout);
    return self();
  }

  /**
   * Sets how long to wait for each read from the server; 60 seconds by default, never infinite.
   *
   * @param timeout between 1 ms and 1 hour
   * @return this builder
   * @throws IllegalArgumentException if out of range
   */
  public final B readTimeout(Duration timeout) {
    server.readTimeout(timeout);
    return self();
  }

  /**
   * Sets how long one write to the server may block; 60 seconds by default, never infinite.
   *
   * @param timeout between 1 ms and 1 hour
   * @return this builder
   * @throws IllegalArgumentException if out of range
   */
  public final B writeTimeout(Duration timeout) {
    server.writeTimeout(timeout);
    return self();
  }

  /**
   * The shared settings as set so far, for the adapter's {@code build()}.
   *
   * @return the settings
   * @throws IllegalStateException if no host was set
   * @throws IllegalArgumentException if the user name disagrees with the credentials' user
   */
  protected final ServerSettings serverSettings() {
    return server.build();
  }

  /**
   * The shared settings for an adapter that logs in to one mailbox: as {@link #serverSettings()},
   * and credentials and a user name are required.
   *
   * @return the settings, with credentials and user name present
   * @throws IllegalStateException if host, credentials or user name are missing
   * @throws IllegalArgumentException if the user name disagrees with the credentials' user
   */
  protected final ServerSettings mailboxSettings() {
    ServerSettings settings = server.build();
    if (settings.credentials().isEmpty()) {
      throw new IllegalStateException(
          "credentials are required: call credentials(Credentials) or credentials(Supplier<Credentials>)");
    }
    if (settings.username().isEmpty()) {
      throw new IllegalStateException("username is required with a credentials supplier: it names the mailbox "
          + "in describe() and the checkpoint key");
    }
    return settings;
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }
}
