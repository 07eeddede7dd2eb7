package dev.emailrouter.smtp;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.ServerSettings;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.support.internal.AccessProbe;
import dev.emailrouter.support.internal.Checks;
import dev.emailrouter.support.internal.LoginCredentials;
import dev.emailrouter.support.internal.OAuth2Sasl;
import dev.emailrouter.support.internal.MailConnections;
import jakarta.mail.Session;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens logged-in SMTP connections ({@link SmtpConnection}) to one server and turns every way that
 * can fail into a transient or permanent {@link RouterException} naming the server: the greeting,
 * EHLO (HELO where EHLO is refused), STARTTLS where configured, and AUTH where credentials are
 * configured (PLAIN, else LOGIN, for a password; OAUTHBEARER, else XOAUTH2, for a token). Immutable
 * and thread-safe.
 */
final class SmtpConnector {
  private static final Logger log = LoggerFactory.getLogger(SmtpConnector.class);

  private static final Pattern DOMAIN = Pattern.compile(
      "(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(?:\\.\\d{1,3}){3}");
  private static final Pattern ADDRESS_LITERAL = Pattern.compile(
      "\\[(?:\\d{1,3}(?:\\.\\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]{2,45})]");

  private final String host;
  private final int port;
  private final Security security;
  /** The supplier and the shared login-and-retry loop, or {@code null} without a login. */
  private final LoginCredentials credentials;
  private final String description;
  private final String configuredEhloName;
  private final boolean deliveryStatusNotifications;
  private final SmtpConnection.Settings settings;
  private final KeyStore trust;
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Session composing;
  private volatile String ehloName;

  SmtpConnector(ServerSettings server, int port, Duration dataEndTimeout, String ehloName,
      boolean deliveryStatusNotifications) {
    this.host = server.host();
    this.port = port;
    this.security = server.security();
    KeyStore trust = server.trustStore().orElse(null);
    Duration connectTimeout = server.connectTimeout();
    Duration readTimeout = server.readTimeout();
    Duration writeTimeout = server.writeTimeout();
    this.configuredEhloName = ehloName;
    this.deliveryStatusNotifications = deliveryStatusNotifications;
    this.description = "smtp://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port + " (" + security + ")";
    // No expected user: the transport sends for many users with one login, whatever it is.
    this.credentials = server.credentials().map(c -> new LoginCredentials(c, "SMTP server " + description, null))
        .orElse(null);
    SSLSocketFactory tls = security == Security.PLAIN_TEXT_INSECURE ? null : MailConnections.sslSocketFactory(trust);
    // One watchdog thread for the write timeout of all this transport's connections.
    this.settings = new SmtpConnection.Settings(host, port, description, MailConnections.socketFactory(), tls,
        millis(connectTimeout), millis(readTimeout), millis(dataEndTimeout), writeTimeout.toNanos(),
        new WriteWatchdog("email-router-smtp-write-timeout " + description));
    this.trust = trust;
    this.connectTimeout = connectTimeout;
    this.readTimeout = readTimeout;
    this.composing = Session.getInstance(new Properties());
  }

  /**
   * Test Access: the shared probe (resolve, connect, TLS, greeting), then AUTH offered, the SIZE
   * limit, the real login, and MAIL FROM with the sender followed by RSET. Nothing is sent.
   */
  AccessReport testAccess(EmailAddress sender) {
    AccessProbe.Result probe = AccessProbe.probe(AccessProbe.Protocol.SMTP, host, port, security, trust,
        connectTimeout, readTimeout);
    List<AccessStep> steps = new ArrayList<>(probe.steps());
    if (!probe.reachable()) {
      for (AccessStep.Check check : List.of(AccessStep.Check.AUTH, AccessStep.Check.SIZE_LIMIT,
          AccessStep.Check.LOGIN, AccessStep.Check.SENDER)) {
        steps.add(AccessStep.skipped(check, "the server was not reached"));
      }
      return new AccessReport(description, steps);
    }
    String auth = probe.parameters("AUTH");
    if (credentials == null) {
      steps.add(AccessStep.skipped(AccessStep.Check.AUTH, "no credentials are configured: the server must relay "
          + "for this client without a login" + (auth == null ? "" : " (it offers AUTH " + auth + ")")));
    } else if (auth == null) {
      steps.add(AccessStep.failed(AccessStep.Check.AUTH, "the server offers no AUTH"
          + (security == Security.PLAIN_TEXT_INSECURE ? " on a plain-text connection (many offer it only over TLS)"
              : "") + "; remove the credentials if it relays without a login", "credentials"));
    } else {
      steps.add(AccessStep.passed(AccessStep.Check.AUTH, "offers AUTH " + auth));
    }
    String size = probe.parameters("SIZE");
    steps.add(size == null || size.isBlank() || size.equals("0")
        ? AccessStep.passed(AccessStep.Check.SIZE_LIMIT, "the server announces no size limit")
        : AccessStep.passed(AccessStep.Check.SIZE_LIMIT, "the server accepts messages up to " + size + " bytes"));
    SmtpConnection connection;
    try {
      connection = connect();
    } catch (RouterException e) {
      String text = String.valueOf(e.getMessage());
      steps.add(AccessStep.failed(AccessStep.Check.LOGIN, text,
          text.contains("refused the login") || text.contains("OAuth2 login") || text.contains("does not offer AUTH")
              ? "credentials" : null));
      steps.add(AccessStep.skipped(AccessStep.Check.SENDER, "no session"));
      return new AccessReport(description, steps);
    }
    try {
      steps.add(credentials == null
          ? AccessStep.passed(AccessStep.Check.LOGIN, "a session opened without a login")
          : AccessStep.passed(AccessStep.Check.LOGIN, "logged in"));
      if (sender == null) {
        steps.add(AccessStep.skipped(AccessStep.Check.SENDER, "no sender to check: pass one to testAccess(sender), "
            + "or log in with an address"));
      } else {
        steps.add(senderStep(connection, sender.address()));
        connection.execute("RSET");
      }
    } catch (IOException e) {
      steps.add(AccessStep.failed(AccessStep.Check.SENDER, "the connection failed: " + e.getMessage(), null));
    } finally {
      connection.quit();
    }
    return new AccessReport(description, steps);
  }

  private static int millis(Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, d.toMillis()));
  }

  String describe() {
    return description;
  }

  /**
   * MAIL FROM with the sender, then RCPT TO the sender itself: most servers (Postfix with its
   * default {@code smtpd_delay_reject}) judge the sender only at RCPT time. No DATA follows.
   */
  private static AccessStep senderStep(SmtpConnection connection, String sender) throws IOException {
    String mailFrom = "MAIL FROM:<" + sender + ">";
    SmtpReply mail = connection.execute(mailFrom);
    if (!mail.positive()) {
      return refusedSender(mailFrom, mail);
    }
    String rcptTo = "RCPT TO:<" + sender + ">";
    SmtpReply rcpt = connection.execute(rcptTo);
    if (rcpt.positive()) {
      return AccessStep.passed(AccessStep.Check.SENDER, mailFrom + " and " + rcptTo + " accepted; RSET, nothing "
          + "sent");
    }
    if (rcpt.code() == 553 || rcpt.text().toLowerCase(Locale.ROOT).contains("sender")) {
      return refusedSender(rcptTo + " (after " + mailFrom + ")", rcpt);
    }
    return AccessStep.passed(AccessStep.Check.SENDER, mailFrom + " accepted; " + rcptTo + " answered "
        + printable(rcpt.text()) + ", about the recipient, not the sender; RSET, nothing sent");
  }

  private static AccessStep refusedSender(String command, SmtpReply reply) {
    return AccessStep.failed(AccessStep.Check.SENDER, command + " refused: " + printable(reply.text())
        + (reply.permanentNegative() ? "; the server does not let this login send as that address: grant it "
            + "send-as on the server, or send from an address it may use" : ""), "credentials");
  }

  private static String printable(String text) {
    String flat = text.replaceAll("[\\r\\n]+", " ").replaceAll("\\p{Cntrl}", "?");
    return flat.length() > 300 ? flat.substring(0, 300) + "..." : flat;
  }

  /** Whether credentials are configured. */
  boolean hasLogin() {
    return credentials != null;
  }

  /** The login name of the credentials, asked of the supplier now, or {@code null} without credentials. */
  String loginName() {
    Credentials login = credentials == null ? null : credentials.get();
    return login == null ? null : login.username();
  }

  /** Whether DSN parameters (RFC 3461) go out where the server offers DSN. */
  boolean deliveryStatusNotifications() {
    return deliveryStatusNotifications;
  }

  /** The watchdog every connection's writes are guarded by. */
  WriteWatchdog writeWatchdog() {
    return settings.watchdog();
  }

  /** What to do when the server asks for a login (530). */
  String loginAdvice() {
    return credentials == null ? "configure credentials(...)"
        : "the configured login was accepted but is not allowed to send; check the account's rights";
  }

  /** The Jakarta Mail session messages are composed with (MIME only); holds no credential. */
  Session mailSession() {
    return composing;
  }

  /**
   * Connects, says EHLO, upgrades with STARTTLS where configured, and logs in where credentials
   * are configured.
   *
   * @return a connected, logged-in connection
   * @throws TransientRouterException if the server can't be reached or is not accepting now
   * @throws PermanentRouterException if the login, TLS, or the server's greeting refuses the session
   */
  SmtpConnection connect() {
    if (credentials == null) {
      SmtpConnection connection = open(null);
      log.debug("connected to {}", description);
      return connection;
    }
    return credentials.logIn((login, retry) -> {
      if (retry) {
        log.debug("{} refused the OAuth2 token of {}; logging in once more with a fresh token", description,
            login.username());
      }
      SmtpConnection connection = open(login);
      Refusal refusal;
      try {
        refusal = login.kind() == Credentials.Kind.OAUTH2_TOKEN ? authenticateToken(connection, login)
            : authenticatePassword(connection, login);
      } catch (IOException e) {
        connection.close();
        throw connectFailure(e, login);
      } catch (RuntimeException e) {
        connection.close();
        throw e;
      }
      if (refusal == null) {
        log.debug("connected to {} as {}", description, login.username());
        return connection;
      }
      connection.quit();
      boolean token = login.kind() == Credentials.Kind.OAUTH2_TOKEN;
      if (refusal.code() < 500) {
        throw new TransientRouterException("SMTP server " + description + " could not check the "
            + (token ? "OAuth2 token" : "login") + " of user " + login.username() + " now"
            + (token ? " (" + refusal.mechanism() + ")" : "") + ": " + refusal.reply() + "; retrying later");
      }
      if (!token) {
        throw new PermanentRouterException("SMTP server " + description + " refused the login for user "
            + login.username() + ": " + refusal.reply() + "; check the credentials");
      }
      throw new LoginCredentials.TokenRefused(new PermanentRouterException("SMTP server " + description
          + " refused the OAuth2 login of user " + login.username() + " (" + refusal.mechanism() + "): "
          + refusal.reply() + (refusal.status() == null ? "" : ", token status " + refusal.status())
          + (retry ? ", also with a freshly fetched token" : "")
          + "; check that the token's application may send as this user and its scope covers SMTP"));
    });
  }

  /** Connects, reads the greeting, says EHLO and, where configured, starts TLS and says EHLO again. */
  private SmtpConnection open(Credentials login) {
    SmtpConnection connection;
    try {
      connection = SmtpConnection.open(settings, security == Security.IMPLICIT_TLS);
    } catch (IOException e) {
      throw connectFailure(e, login);
    }
    try {
      SmtpReply greeting = connection.greeting();
      if (greeting.code() != 220) {
        throw sessionRefused("", greeting, login);
      }
      hello(connection, login);
      if (security == Security.STARTTLS) {
        if (!connection.capabilities().startTls()) {
          throw new PermanentRouterException("SMTP server " + description + " does not offer STARTTLS, which security"
              + " STARTTLS requires; nothing was sent. Use IMPLICIT_TLS if the server takes TLS on another port (often"
              + " 465), or PLAIN_TEXT_INSECURE only on a network you trust");
        }
        SmtpReply started = connection.startTls(settings.tls(), host, port);
        if (started.code() != 220) {
          throw sessionRefused("STARTTLS ", started, login);
        }
        hello(connection, login);
      }
      return connection;
    } catch (IOException e) {
      connection.close();
      throw connectFailure(e, login);
    } catch (RuntimeException e) {
      connection.close();
      throw e;
    }
  }

  /** EHLO, and HELO where the server refuses EHLO (RFC 5321 3.2) but for 421. */
  private void hello(SmtpConnection connection, Credentials login) throws IOException {
    SmtpReply ehlo = connection.ehlo(ehloName());
    if (ehlo.positive()) {
      return;
    }
    if (ehlo.closing()) {
      throw sessionRefused("EHLO ", ehlo, login);
    }
    SmtpReply helo = connection.helo(ehloName());
    if (!helo.positive()) {
      throw sessionRefused("HELO ", helo, login);
    }
  }

  private RouterException sessionRefused(String stage, SmtpReply reply, Credentials login) {
    String said = scrub(reply.text(), login);
    if (reply.transientNegative()) {
      return new TransientRouterException("SMTP server " + description + " is not accepting sessions now: " + stage
          + said);
    }
    if (reply.permanentNegative()) {
      return new PermanentRouterException("SMTP server " + description + " refused the session: " + stage + said);
    }
    return new TransientRouterException("can't open an SMTP session with " + description + ": unexpected reply "
        + (stage.isEmpty() ? "to the connection" : "to " + stage.strip()) + ": " + said);
  }

  /** A refused AUTH: the final reply, its code, the mechanism, and the status an error challenge named. */
  private record Refusal(int code, String reply, String mechanism, String status) {}

  private void requireAuth(SmtpConnection connection, Credentials login) {
    if (!connection.capabilities().auth()) {
      throw new PermanentRouterException("SMTP server " + description + " does not offer AUTH, so user "
          + login.username() + " can't log in"
          + (login.kind() == Credentials.Kind.OAUTH2_TOKEN ? " with an OAuth2 token; use STARTTLS or IMPLICIT_TLS if"
              + " it offers AUTH only over TLS"
              : "; remove the credentials if the server relays without a login, or use STARTTLS or IMPLICIT_TLS if it"
                  + " offers AUTH only over TLS"));
    }
  }

  /** AUTH PLAIN where offered, else AUTH LOGIN; {@code null} when the server accepted (235). */
  private Refusal authenticatePassword(SmtpConnection connection, Credentials login) throws IOException {
    requireAuth(connection, login);
    java.util.Set<String> offered = connection.capabilities().authMechanisms();
    SmtpReply reply;
    String mechanism;
    if (offered.contains("PLAIN")) {
      mechanism = "PLAIN";
      String response = base64("\0" + login.username() + "\0" + login.secret());
      reply = connection.executeSecret("AUTH PLAIN " + response, "AUTH PLAIN ****");
      if (reply.code() == 334) {
        // A server that wants the response on a line of its own (RFC 4954 4).
        reply = connection.executeSecret(response, "****");
      }
    } else if (offered.contains("LOGIN")) {
      mechanism = "LOGIN";
      reply = connection.executeSecret("AUTH LOGIN", "AUTH LOGIN");
      if (reply.code() == 334) {
        reply = connection.executeSecret(base64(login.username()), "(user name)");
      }
      if (reply.code() == 334) {
        reply = connection.executeSecret(base64(login.secret()), "****");
      }
    } else {
      throw new PermanentRouterException("SMTP server " + description + " offers AUTH "
          + String.join(" ", offered) + " but neither PLAIN nor LOGIN, so user " + login.username()
          + " can't log in with a password");
    }
    if (reply.code() == 334) {
      reply = connection.executeSecret("*", "*"); // RFC 4954: cancels the exchange
    }
    if (reply.code() == 235) {
      return null;
    }
    return new Refusal(reply.code(), scrub(reply.text(), login), mechanism, null);
  }

  /**
   * OAUTHBEARER (where the server offers it) or XOAUTH2. A refused token comes back as a 334
   * challenge with the error, which must be answered before the server sends its final reply.
   */
  private Refusal authenticateToken(SmtpConnection connection, Credentials login) throws IOException {
    requireAuth(connection, login);
    java.util.Set<String> offered = connection.capabilities().authMechanisms();
    OAuth2Sasl.Mechanism mechanism = OAuth2Sasl.choose(offered);
    if (mechanism == null) {
      throw new PermanentRouterException("SMTP server " + description + " offers AUTH " + String.join(" ", offered)
          + " but neither OAUTHBEARER nor XOAUTH2, so user " + login.username() + " can't log in with an OAuth2"
          + " token; configure a password, or a server that takes OAuth2");
    }
    SmtpReply reply = connection.executeSecret("AUTH " + mechanism + " "
        + mechanism.initialResponse(login.username(), login.secret(), host, port), "AUTH " + mechanism + " ****");
    String status = null;
    if (reply.code() == 334) {
      status = OAuth2Sasl.challengeStatus(reply.argument());
      reply = connection.executeSecret(mechanism.errorChallengeAnswer(), mechanism.errorChallengeAnswer());
      if (reply.code() == 334) {
        reply = connection.executeSecret("*", "*"); // RFC 4954: cancels the exchange
      }
    }
    if (reply.code() == 235) {
      return null;
    }
    return new Refusal(reply.code(), scrub(reply.text(), login), mechanism.name(), status);
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private RouterException connectFailure(IOException e, Credentials login) {
    if (e instanceof SmtpConnection.MalformedReplyException malformed) {
      String said = scrub(malformed.text(), login);
      String protocol = otherProtocol(said);
      if (protocol != null) {
        // Retrying can't help: the port belongs to another service until the configuration changes.
        return new PermanentRouterException("SMTP server " + description + " answered with " + protocol + " greeting ("
            + Checks.quote(said.length() > 200 ? said.substring(0, 200) + "..." : said) + "), so port " + port
            + " on host " + host + " is not an SMTP port; nothing was sent. Set port(...) to the SMTP server's port"
            + " (587 for STARTTLS submission, 465 for IMPLICIT_TLS, 25 between servers)", e);
      }
      return new TransientRouterException("can't open an SMTP session with " + description + ": "
          + scrub(e.getMessage(), login), e);
    }
    Throwable tls = tlsFailure(e);
    if (tls != null) {
      return new PermanentRouterException(tlsAdvice(tls), e);
    }
    if (e instanceof ConnectException || e instanceof NoRouteToHostException) {
      return new TransientRouterException("can't connect to SMTP server " + description + ": " + e.getMessage(), e);
    }
    if (e instanceof SocketTimeoutException) {
      return new TransientRouterException("SMTP server " + description + " did not answer in time: "
          + e.getMessage(), e);
    }
    if (e instanceof UnknownHostException) {
      return new TransientRouterException("SMTP server host " + host + " is unknown (" + description
          + "); check the host name", e);
    }
    if (e instanceof EOFException) {
      return new TransientRouterException("can't open an SMTP session with " + description + ": "
          + e.getMessage(), e);
    }
    return new TransientRouterException("connection to SMTP server " + description + " failed: " + e, e);
  }

  /** The TLS failure in this exception or its causes (an untrusted or misnamed certificate, a handshake). */
  private static Throwable tlsFailure(Throwable e) {
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof SSLException || t instanceof CertificateException) {
        return t;
      }
    }
    return null;
  }

  /**
   * The protocol whose greeting this is ("an IMAP", "a POP3", ...), or {@code null} when it is not
   * one that is recognized. Only the greeting can carry these: an SMTP reply starts with a code.
   */
  static String otherProtocol(String greeting) {
    if (greeting == null) {
      return null;
    }
    String g = greeting.stripLeading();
    if (g.startsWith("* OK") || g.startsWith("* PREAUTH") || g.startsWith("* BYE")) {
      return "an IMAP";
    }
    if (g.startsWith("+OK") || g.startsWith("-ERR")) {
      return "a POP3";
    }
    if (g.startsWith("SSH-")) {
      return "an SSH";
    }
    if (g.startsWith("HTTP/")) {
      return "an HTTP";
    }
    return null;
  }

  private String tlsAdvice(Throwable tls) {
    String detail = tls.getMessage() == null ? tls.getClass().getName() : tls.getMessage();
    String lower = detail.toLowerCase(Locale.ROOT);
    if (lower.contains("pkix") || lower.contains("certification path") || lower.contains("trust anchor")
        || tls instanceof CertificateException) {
      return "TLS with SMTP server " + description + " failed: its certificate is not trusted (" + detail
          + "); configure trustedCertificates(...) or trustStore(...) with the server's certificate or CA";
    }
    if (tls instanceof SSLPeerUnverifiedException || lower.contains("identity") || lower.contains("not trusted")
        || lower.contains("subject alternative name") || lower.contains("no name matching")) {
      return "TLS with SMTP server " + description + " failed: its certificate does not name host " + host + " ("
          + detail + "); connect with a host name the certificate lists, or have the certificate reissued";
    }
    if (tls instanceof SSLHandshakeException || tls instanceof SSLException) {
      return "TLS with SMTP server " + description + " failed (" + detail + "); check that security " + security
          + " and port " + port + " match what the server offers, and configure trustedCertificates(...) for a"
          + " private CA";
    }
    return "TLS with SMTP server " + description + " failed: " + detail;
  }

  private static String scrub(String text, Credentials login) {
    if (login == null || login.secret().length() < 3 || text == null) {
      return text;
    }
    return text.replace(login.secret(), "***");
  }

  private String ehloName() {
    if (configuredEhloName != null) {
      return configuredEhloName;
    }
    String name = ehloName;
    if (name == null) {
      name = defaultEhloName();
      ehloName = name; // a benign race: every thread computes the same name
    }
    return name;
  }

  static String defaultEhloName() {
    try {
      InetAddress local = InetAddress.getLocalHost();
      String name = local.getCanonicalHostName();
      if (name != null && DOMAIN.matcher(name).matches() && !IPV4.matcher(name).matches()) {
        return name;
      }
      return addressLiteral(local);
    } catch (UnknownHostException | SecurityException e) {
      return "[127.0.0.1]";
    }
  }

  private static String addressLiteral(InetAddress address) {
    String text = address.getHostAddress();
    int scope = text.indexOf('%');
    if (scope >= 0) {
      text = text.substring(0, scope);
    }
    return address instanceof Inet6Address ? "[IPv6:" + text + "]" : "[" + text + "]";
  }

  static boolean isValidEhloName(String name) {
    return (DOMAIN.matcher(name).matches() && !IPV4.matcher(name).matches()) || ADDRESS_LITERAL.matcher(name).matches();
  }
}
