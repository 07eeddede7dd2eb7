package dev.emailrouter.api;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * How to reach and log in to one mail server: host, port, security, trusted certificates,
 * credentials, user name and timeouts; the part every mail-server adapter (SMTP, IMAP, POP3, the
 * IMAP Sent folder) is configured with, checked in one place and with one set of defaults.
 *
 * <pre>{@code
 * ServerSettings mailServer = ServerSettings.builder()
 *     .host("mail.example.com")
 *     .credentials(Credentials.password("sales@example.com", secret))
 *     .build();
 * MailboxReader inbox = ImapMailboxReader.builder().server(mailServer).build();
 * MailTransport smtp = SmtpTransport.builder().server(mailServer).build();
 * }</pre>
 *
 * <p>Why a value of its own: the adapters' builders used to repeat these ten setters with their own
 * checks and defaults (POP3 connected with 30 s, IMAP and SMTP with 10 s; IMAP's fixed credentials
 * replaced the user name, POP3's did not). Now each adapter's builder extends {@link
 * MailServerBuilder}, whose setters write into a {@link Builder} of this class, and a host that
 * reads and sends through one server can build the value once and hand it to each adapter with
 * {@code server(ServerSettings)}.
 *
 * <p><b>Defaults</b>: {@link Security#STARTTLS} (required, never opportunistic); the port the adapter
 * chooses for its protocol and security (587/465/25 SMTP, 143/993 IMAP, 110/995 POP3); the JVM's
 * default trust store; connect timeout 10 seconds; read and write timeouts 60 seconds each.
 *
 * <p><b>User name and credentials</b>, one rule for every adapter: {@link Builder#username(String)}
 * names the mailbox (in a reader's {@code describe()} and so in the engine's default checkpoint
 * key). When it is not set, it is taken from what the credentials say before any login: the
 * mailbox user of fixed credentials ({@link Credentials#mailboxUser()}), else the user a {@link
 * TokenSource} states ({@link TokenSource#mailboxUser()}). When both are there they must agree,
 * whatever order they were set in: {@link Builder#build()} fails naming both settings and both
 * users rather than the first login much later. A plain credentials supplier says nothing before
 * it is asked, so with one the user name must be set (readers require it); what it returns may log
 * in under another name that opens the same mailbox, such as Dovecot's master-user form {@code
 * user*admin} (the IMAP reader alone also checks each login's {@link Credentials#mailboxUser()}
 * against the user name, as it always did).
 *
 * <p>Immutable and thread-safe; {@link #toString()} never shows a secret.
 */
public final class ServerSettings {

  /** The connect timeout of every adapter unless set; one value so no adapter waits longer than another. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** The read timeout of every adapter unless set. */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);
  /** The write timeout of every adapter unless set. */
  public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(60);

  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._:%-]+");
  private static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  private final String host;
  private final int port;
  private final Security security;
  private final KeyStore trustStore;
  private final Supplier<Credentials> credentials;
  private final String username;
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Duration writeTimeout;

  private ServerSettings(Builder b, String username) {
    this.host = b.host;
    this.port = b.port;
    this.security = b.security;
    this.trustStore = b.trustStore;
    this.credentials = b.credentials;
    this.username = username;
    this.connectTimeout = b.connectTimeout;
    this.readTimeout = b.readTimeout;
    this.writeTimeout = b.writeTimeout;
  }

  /**
   * Starts a builder with the defaults; {@link Builder#host(String)} is required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding these settings, to change some of them.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.host = host;
    b.port = port;
    b.security = security;
    b.trustStore = trustStore;
    b.credentials = credentials;
    b.username = username;
    b.connectTimeout = connectTimeout;
    b.readTimeout = readTimeout;
    b.writeTimeout = writeTimeout;
    return b;
  }

  /**
   * The server's host name or address, without brackets around an IPv6 address.
   *
   * @return the host, never {@code null}
   */
  public String host() {
    return host;
  }

  /**
   * The server's port, where one was set.
   *
   * @return the port; empty: the adapter's default for its protocol and {@link #security()}
   */
  public OptionalInt port() {
    return port == 0 ? OptionalInt.empty() : OptionalInt.of(port);
  }

  /**
   * How the connection is protected.
   *
   * @return the security; default {@link Security#STARTTLS}
   */
  public Security security() {
    return security;
  }

  /**
   * The certificates trusted for the server instead of the JVM's default trust store.
   *
   * @return the trust store; empty: the JVM's default
   */
  public Optional<KeyStore> trustStore() {
    return Optional.ofNullable(trustStore);
  }

  /**
   * Where the login comes from; asked at every login.
   *
   * @return the supplier; empty: no login (an SMTP relay that takes mail without AUTH)
   */
  public Optional<Supplier<Credentials>> credentials() {
    return Optional.ofNullable(credentials);
  }

  /**
   * The user name that names the mailbox: set, or taken from the credentials (see the class
   * comment).
   *
   * @return the user name; empty when neither gave one
   */
  public Optional<String> username() {
    return Optional.ofNullable(username);
  }

  /**
   * How long to wait for the TCP connection (and, for SMTP, for a free session).
   *
   * @return the timeout; default {@link #DEFAULT_CONNECT_TIMEOUT}
   */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /**
   * How long to wait for each read from the server.
   *
   * @return the timeout; default {@link #DEFAULT_READ_TIMEOUT}
   */
  public Duration readTimeout() {
    return readTimeout;
  }

  /**
   * How long one write to the server may block.
   *
   * @return the timeout; default {@link #DEFAULT_WRITE_TIMEOUT}
   */
  public Duration writeTimeout() {
    return writeTimeout;
  }

  /**
   * Names the server, the security and the user; never a secret.
   *
   * @return e.g. {@code ServerSettings[mail.example.com:993, IMPLICIT_TLS, user sales@example.com]}
   */
  @Override
  public String toString() {
    return "ServerSettings[" + host + (port == 0 ? "" : ":" + port) + ", " + security
        + (username == null ? "" : ", user " + username) + (credentials == null ? ", no login" : "") + "]";
  }

  /**
   * Configures {@link ServerSettings}. Each setter checks its value at once and names the setting
   * and the value when it refuses one; {@link #build()} checks the combination.
   *
   * <p>Not thread-safe; a builder may build several values.
   */
  public static final class Builder {
    private String host;
    private int port;
    private Security security = Security.STARTTLS;
    private KeyStore trustStore;
    private Supplier<Credentials> credentials;
    /** The mailbox user of fixed credentials, or {@code null} with a supplier or none. */
    private String fixedUser;
    private String username;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration readTimeout = DEFAULT_READ_TIMEOUT;
    private Duration writeTimeout = DEFAULT_WRITE_TIMEOUT;

    private Builder() {}

    /**
     * Sets the server's host name or IP address; required. Surrounding space and the brackets
     * of an IPv6 address are removed.
     *
     * @param host e.g. {@code mail.example.com}, {@code 192.0.2.10} or {@code ::1}
     * @return this builder
     * @throws IllegalArgumentException if blank or not a host name or address (a URL, say)
     */
    public Builder host(String host) {
      Objects.requireNonNull(host, "host");
      String h = host.strip();
      if (h.length() > 2 && h.startsWith("[") && h.endsWith("]")) {
        h = h.substring(1, h.length() - 1);
      }
      if (h.isEmpty() || h.length() > 253 || !HOST.matcher(h).matches()) {
        throw new IllegalArgumentException("host must be a host name or an IP address such as mail.example.com, was "
            + quote(host));
      }
      this.host = h;
      return this;
    }

    /**
     * Sets the server's port; by default the adapter's port for its protocol and security.
     *
     * @param port between 1 and 65535
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder port(int port) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port must be between 1 and 65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * Sets how the connection is protected; {@link Security#STARTTLS} (required, not opportunistic)
     * by default. Plain text takes an explicit {@link Security#PLAIN_TEXT_INSECURE}.
     *
     * @param security the protection
     * @return this builder
     */
    public Builder security(Security security) {
      this.security = Objects.requireNonNull(security, "security");
      return this;
    }

    /**
     * Trusts the certificates in this store instead of the JVM's default trust store, for a server
     * with a private CA or a self-signed certificate; the server's certificate must still name the
     * host. Replaces an earlier {@link #trustedCertificates(Path)}.
     *
     * @param trustStore the trusted certificates
     * @return this builder
     */
    public Builder trustStore(KeyStore trustStore) {
      this.trustStore = Objects.requireNonNull(trustStore, "trustStore");
      return this;
    }

    /**
     * Trusts the certificates in a PEM (or DER) file instead of the JVM's default trust store. The
     * file is read now. Replaces an earlier {@link #trustStore(KeyStore)}.
     *
     * @param certificates a file with one or more certificates
     * @return this builder
     * @throws IllegalArgumentException if the file can't be read or holds no certificate
     */
    public Builder trustedCertificates(Path certificates) {
      Objects.requireNonNull(certificates, "trustedCertificates");
      this.trustStore = trustStoreOf(certificates);
      return this;
    }

    /**
     * Logs in with a supplier asked at every login, so passwords can rotate and a {@link
     * TokenSource} can hand out fresh OAuth2 tokens (a refused token is reported to it and the login
     * tried once more). A plain supplier says nothing about its user before it is asked, so {@link
     * #username(String)} names the mailbox then; a {@link TokenSource} that states its user supplies
     * the user name. Replaces earlier credentials.
     *
     * @param credentials the supplier, called on the thread that logs in; must not return {@code null}
     * @return this builder
     */
    public Builder credentials(Supplier<Credentials> credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      this.fixedUser = null;
      return this;
    }

    /**
     * Logs in with fixed credentials; they also give the user name ({@link
     * Credentials#mailboxUser()}: the user an administrator logs in on behalf of, else the login
     * name) unless {@link #username(String)} sets it, which must then be the same user. Replaces
     * earlier credentials.
     *
     * @param credentials the login
     * @return this builder
     */
    public Builder credentials(Credentials credentials) {
      Objects.requireNonNull(credentials, "credentials");
      this.credentials = () -> credentials;
      this.fixedUser = credentials.mailboxUser();
      return this;
    }

    /**
     * Sets the user name that names the mailbox, which the credentials must log in to; required by
     * the readers with a supplier that does not state its user.
     *
     * @param username the login name, e.g. {@code sales@example.com}
     * @return this builder
     * @throws IllegalArgumentException if blank or holding whitespace or control characters
     */
    public Builder username(String username) {
      Objects.requireNonNull(username, "username");
      if (username.isBlank()
          || username.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
        throw new IllegalArgumentException("username must be a login name without spaces, was " + quote(username));
      }
      this.username = username;
      return this;
    }

    /**
     * Sets how long to wait for the TCP connection; {@link #DEFAULT_CONNECT_TIMEOUT} (10 seconds) by
     * default, never infinite.
     *
     * @param timeout between 1 ms and 1 hour
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout("connectTimeout", timeout);
      return this;
    }

    /**
     * Sets how long to wait for each read from the server; 60 seconds by default, never infinite.
     *
     * @param timeout between 1 ms and 1 hour
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = timeout("readTimeout", timeout);
      return this;
    }

    /**
     * Sets how long one write to the server may block; 60 seconds by default, never infinite.
     *
     * @param timeout between 1 ms and 1 hour
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder writeTimeout(Duration timeout) {
      this.writeTimeout = timeout("writeTimeout", timeout);
      return this;
    }

    /**
     * Builds the settings; connects nothing and asks no credentials supplier.
     *
     * @return the settings
     * @throws IllegalStateException if no host was set
     * @throws IllegalArgumentException if the user name disagrees with the user of fixed
     *     credentials or of a {@link TokenSource}; the message names both settings and both users
     */
    public ServerSettings build() {
      if (host == null) {
        throw new IllegalStateException("host is required, was not set: call host(\"mail.example.com\")");
      }
      String stated = fixedUser;
      String statedBy = "credentials(Credentials)";
      if (stated == null && credentials instanceof TokenSource source) {
        stated = source.mailboxUser().orElse(null);
        statedBy = "the username of the credentials' token source (" + source.getClass().getSimpleName() + ")";
      }
      if (username != null && stated != null && !username.equals(stated)) {
        throw new IllegalArgumentException("username is " + quote(username) + " but " + statedBy + " is for user "
            + quote(stated) + "; both must name the mailbox the login opens: set them to the same user, or leave "
            + "username(...) out to take the credentials' user");
      }
      return new ServerSettings(this, username != null ? username : stated);
    }
  }

  /** A timeout between 1 ms and 1 hour: Jakarta Mail reads 0 as "wait forever". */
  private static Duration timeout(String setting, Duration value) {
    Objects.requireNonNull(value, setting);
    if (value.compareTo(Duration.ofMillis(1)) < 0 || value.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(setting + " must be between 1 ms and 1 hour (never infinite), was " + value);
    }
    return value;
  }

  /** Reads PEM or DER certificates into a trust store. */
  private static KeyStore trustStoreOf(Path certificates) {
    try (InputStream in = Files.newInputStream(certificates)) {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("trusted-" + i++, certificate);
      }
      if (i == 0) {
        throw new IllegalArgumentException("trusted certificates file " + certificates + " holds no certificate");
      }
      return store;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("trusted certificates file " + certificates + " can't be read: "
          + e.getMessage(), e);
    }
  }

  /** A value for a message: in double quotes, control characters shown, cut at 200 characters. */
  private static String quote(String value) {
    StringBuilder out = new StringBuilder("\"");
    int limit = Math.min(value.length(), 200);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      if (Character.isISOControl(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append(value.length() > limit ? "...\"" : "\"").toString();
  }
}
