package dev.emailrouter.smtp;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.support.internal.Checks;
import dev.emailrouter.support.internal.MailConnections;
import dev.emailrouter.support.internal.OAuth2Sasl;
import dev.emailrouter.support.internal.Secrets;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens logged-in SMTP connections to one server and turns every way that can fail into a
 * transient or permanent {@link RouterException} naming the server. Immutable and thread-safe.
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
  private final Supplier<Credentials> credentials;
  private final String description;
  private final String configuredEhloName;
  private final Properties base;
  private final Session anonymous;
  private final Session password;
  private volatile String ehloName;

  SmtpConnector(String host, int port, Security security, KeyStore trust, Supplier<Credentials> credentials,
      Duration connectTimeout, Duration readTimeout, Duration writeTimeout, String ehloName) {
    this(host, port, security, trust, credentials, connectTimeout, readTimeout, writeTimeout,
        SmtpTransport.DEFAULT_DATA_END_TIMEOUT, ehloName);
  }

  SmtpConnector(String host, int port, Security security, KeyStore trust, Supplier<Credentials> credentials,
      Duration connectTimeout, Duration readTimeout, Duration writeTimeout, Duration dataEndTimeout, String ehloName) {
    this.host = host;
    this.port = port;
    this.security = security;
    this.credentials = credentials;
    this.configuredEhloName = ehloName;
    this.description = "smtp://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port + " (" + security + ")";
    Properties base = MailConnections.properties("smtp", host, port, security, trust, connectTimeout, readTimeout,
        writeTimeout);
    // The reply to the end of data gets its own wait (PipeliningSmtpTransport reads it with the socket).
    base.put(PipeliningSmtpTransport.DATA_END_TIMEOUT, Long.toString(dataEndTimeout.toMillis()));
    // Report refused recipients one by one and send to the others (SendResult's partial rule).
    base.put("mail.smtp.sendpartial", "true");
    // Throw even on success, with an SMTPAddressSucceededException per accepted recipient: the
    // only way Angus tells each recipient's reply, and the 250 reply to the end of data.
    base.put("mail.smtp.reportsuccess", "true");
    // Closing a session does not wait for the 221 reply to QUIT.
    base.put("mail.smtp.quitwait", "false");
    // The write timeout of all this transport's connections on one thread, cheap per write,
    // instead of Angus's scheduled thread pool per connection.
    base.put("mail.smtp.executor.writetimeout", new WriteWatchdog("email-router-smtp-write-timeout " + description));
    this.base = base;
    this.anonymous = Session.getInstance(base);
    Properties withPassword = copy(base);
    withPassword.put("mail.smtp.auth", "true");
    withPassword.put("mail.smtp.auth.mechanisms", "PLAIN LOGIN");
    this.password = Session.getInstance(withPassword);
  }

  String describe() {
    return description;
  }

  /** What to do when the server asks for a login (530). */
  String loginAdvice() {
    return credentials == null ? "configure credentials(...)"
        : "the configured login was accepted but is not allowed to send; check the account's rights";
  }

  /** The Jakarta Mail session messages are composed with; holds no credential. */
  Session mailSession() {
    return anonymous;
  }

  /**
   * Connects, says EHLO, upgrades with STARTTLS where configured, and logs in where credentials
   * are configured.
   *
   * @return a connected transport
   * @throws TransientRouterException if the server can't be reached or is not accepting now
   * @throws PermanentRouterException if the login, TLS, or the server's greeting refuses the session
   */
  PipeliningSmtpTransport connect() {
    Credentials login = login();
    if (login != null && login.kind() == Credentials.Kind.OAUTH2_TOKEN) {
      return connectWithToken(login);
    }
    Session session = login == null ? anonymous : password;
    PipeliningSmtpTransport transport = new PipeliningSmtpTransport(session, new URLName("smtp", host, port, null, null, null));
    transport.setLocalHost(ehloName());
    try {
      if (login == null) {
        transport.connect(host, port, null, null);
      } else {
        transport.connect(host, port, login.username(), login.secret());
      }
    } catch (AuthenticationFailedException e) {
      closeQuietly(transport);
      String who = login == null ? "without credentials" : "for user " + login.username();
      throw Secrets.withoutSecretInCause(new PermanentRouterException("SMTP server " + description + " refused the login "
          + who + ": " + scrub(SmtpReplies.clean(e.getMessage()), login) + "; check the credentials", e),
          login == null ? null : login.secret());
    } catch (MessagingException e) {
      closeQuietly(transport);
      throw Secrets.withoutSecretInCause(connectFailure(e, transport.getLastReturnCode(),
          transport.getLastServerResponse(), login), login == null ? null : login.secret());
    }
    if (login != null && !transport.supportsExtension("AUTH") && !transport.supportsExtension("AUTH=LOGIN")) {
      closeQuietly(transport);
      throw new PermanentRouterException("SMTP server " + description + " does not offer AUTH, so user "
          + login.username() + " can't log in; remove the credentials if the server relays without a login, or"
          + " use STARTTLS or IMPLICIT_TLS if it offers AUTH only over TLS");
    }
    log.debug("connected to {}", description);
    return transport;
  }

  /**
   * Connects without Angus's login and authenticates with OAUTHBEARER (where the server offers it)
   * or XOAUTH2 ourselves: Angus has no OAUTHBEARER and leaves the 334 error challenge of a refused
   * token unanswered. A refused token is reported to a {@link dev.emailrouter.api.TokenSource}
   * supplier, and the login is tried once more with the fresh token it hands out. The AUTH
   * exchange bypasses Angus's protocol trace ({@link UntracedCommands}): it carries the token.
   */
  private PipeliningSmtpTransport connectWithToken(Credentials first) {
    Credentials login = first;
    for (int attempt = 1; ; attempt++) {
      PipeliningSmtpTransport transport = new PipeliningSmtpTransport(Session.getInstance(base),
          new URLName("smtp", host, port, null, null, null));
      transport.setLocalHost(ehloName());
      try {
        transport.connect(host, port, null, null);
      } catch (MessagingException e) {
        closeQuietly(transport);
        throw connectFailure(e, transport.getLastReturnCode(), transport.getLastServerResponse(), login);
      }
      String offered = transport.getExtensionParameter("AUTH");
      if (offered == null) {
        closeQuietly(transport);
        throw new PermanentRouterException("SMTP server " + description + " does not offer AUTH, so user "
            + login.username() + " can't log in with an OAuth2 token; use STARTTLS or IMPLICIT_TLS if it offers AUTH"
            + " only over TLS");
      }
      OAuth2Sasl.Mechanism mechanism = OAuth2Sasl.choose(Arrays.asList(offered.trim().split("\\s+")));
      if (mechanism == null) {
        closeQuietly(transport);
        throw new PermanentRouterException("SMTP server " + description + " offers AUTH " + offered.trim()
            + " but neither OAUTHBEARER nor XOAUTH2, so user " + login.username() + " can't log in with an OAuth2"
            + " token; configure a password, or a server that takes OAuth2");
      }
      TokenRefusal refusal;
      try {
        refusal = authenticate(transport.socket(), mechanism, login);
      } catch (IOException e) {
        closeQuietly(transport);
        throw connectFailure(new MessagingException("AUTH " + mechanism + " failed", e), -1, null, login);
      }
      if (refusal == null) {
        log.debug("connected to {} as {} with {}", description, login.username(), mechanism);
        return transport;
      }
      closeQuietly(transport);
      if (refusal.code >= 400 && refusal.code < 500) {
        throw new TransientRouterException("SMTP server " + description + " could not check the OAuth2 token of user "
            + login.username() + " now (" + mechanism + "): " + refusal.reply + "; retrying later");
      }
      if (attempt == 1 && OAuth2Sasl.invalidate(credentials, login)) {
        log.debug("{} refused the OAuth2 token of {} ({}); logging in once more with a fresh token", description,
            login.username(), refusal.reply);
        login = login();
        continue;
      }
      throw new PermanentRouterException("SMTP server " + description + " refused the OAuth2 login of user "
          + login.username() + " (" + mechanism + "): " + refusal.reply
          + (refusal.status == null ? "" : ", token status " + refusal.status)
          + (attempt > 1 ? ", also with a freshly fetched token" : "")
          + "; check that the token's application may send as this user and its scope covers SMTP");
    }
  }

  /** A refused AUTH: the final reply, its code, and the status the error challenge named, if any. */
  private record TokenRefusal(int code, String reply, String status) {}

  /** Runs AUTH; {@code null} when the server accepted (235). */
  private TokenRefusal authenticate(Socket socket, OAuth2Sasl.Mechanism mechanism, Credentials login)
      throws IOException {
    UntracedCommands.Reply reply = UntracedCommands.command(socket, "AUTH " + mechanism + " "
        + mechanism.initialResponse(login.username(), login.secret(), host, port));
    String status = null;
    if (reply.code() == 334) {
      // The token was refused: the challenge carries the error, and the server sends its final
      // reply only once the client has answered it.
      String challenge = SmtpReplies.clean(reply.text());
      status = OAuth2Sasl.challengeStatus(challenge.startsWith("334") ? challenge.substring(3) : challenge);
      reply = UntracedCommands.command(socket, mechanism.errorChallengeAnswer());
      if (reply.code() == 334) {
        reply = UntracedCommands.command(socket, "*"); // RFC 4954: cancels the exchange
      }
    }
    if (reply.code() == 235) {
      return null;
    }
    if (reply.code() == -1) {
      throw new EOFException("the server closed the connection during AUTH " + mechanism);
    }
    return new TokenRefusal(reply.code(), scrub(SmtpReplies.clean(reply.text()), login), status);
  }

  private Credentials login() {
    if (credentials == null) {
      return null;
    }
    Credentials login;
    try {
      login = credentials.get();
    } catch (RouterException e) {
      throw e;
    } catch (RuntimeException e) {
      // The supplier's message could quote a secret; its type says enough.
      throw new TransientRouterException("the credentials supplier for " + description + " failed with "
          + e.getClass().getName(), e);
    }
    if (login == null) {
      throw new PermanentRouterException("the credentials supplier for " + description
          + " returned null; it must return Credentials for every login");
    }
    return login;
  }

  private RouterException connectFailure(MessagingException e, int code, String reply, Credentials login) {
    Throwable tls = tlsFailure(e);
    if (tls != null) {
      return new PermanentRouterException(tlsAdvice(tls), e);
    }
    IOException io = SmtpReplies.find(e, IOException.class);
    if (io instanceof ConnectException || io instanceof NoRouteToHostException) {
      return new TransientRouterException("can't connect to SMTP server " + description + ": "
          + io.getMessage(), e);
    }
    if (io instanceof SocketTimeoutException) {
      return new TransientRouterException("SMTP server " + description + " did not answer in time: "
          + io.getMessage(), e);
    }
    if (io instanceof UnknownHostException) {
      return new TransientRouterException("SMTP server host " + host + " is unknown (" + description
          + "); check the host name", e);
    }
    if (io != null) {
      return new TransientRouterException("connection to SMTP server " + description + " failed: " + io, e);
    }
    String message = String.valueOf(e.getMessage());
    if (message.contains("does not support STARTTLS")) {
      return new PermanentRouterException("SMTP server " + description + " does not offer STARTTLS, which security"
          + " STARTTLS requires; nothing was sent. Use IMPLICIT_TLS if the server takes TLS on another port (often"
          + " 465), or PLAIN_TEXT_INSECURE only on a network you trust", e);
    }
    String said = scrub(SmtpReplies.clean(reply), login);
    String protocol = code == -1 ? otherProtocol(reply) : null;
    if (protocol != null) {
      // Retrying can't help: the port belongs to another service until the configuration changes.
      return new PermanentRouterException("SMTP server " + description + " answered with " + protocol + " greeting ("
          + Checks.quote(said.length() > 200 ? said.substring(0, 200) + "..." : said) + "), so port " + port
          + " on host " + host + " is not an SMTP port; nothing was sent. Set port(...) to the SMTP server's port"
          + " (587 for STARTTLS submission, 465 for IMPLICIT_TLS, 25 between servers)", e);
    }
    if (code >= 400 && code < 500) {
      return new TransientRouterException("SMTP server " + description + " is not accepting sessions now: " + said, e);
    }
    if (code >= 500 && code < 600) {
      return new PermanentRouterException("SMTP server " + description + " refused the session: " + said, e);
    }
    return new TransientRouterException("can't open an SMTP session with " + description + ": "
        + scrub(message, login), e);
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

  private static Throwable tlsFailure(MessagingException e) {
    Throwable t = SmtpReplies.find(e, SSLException.class);
    if (t != null) {
      return t;
    }
    t = SmtpReplies.find(e, CertificateException.class);
    if (t != null) {
      return t;
    }
    // Angus checks the certificate's names itself and throws a bare IOException.
    IOException io = SmtpReplies.find(e, IOException.class);
    if (io != null && io.getMessage() != null) {
      String m = io.getMessage().toLowerCase(Locale.ROOT);
      if (m.contains("server is not trusted") || m.contains("identity")) {
        return io;
      }
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

  static void closeQuietly(SMTPTransport transport) {
    try {
      transport.close();
    } catch (MessagingException | RuntimeException e) {
      log.debug("closing an SMTP connection failed, ignored: {}", e.toString());
    }
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

  private static Properties copy(Properties source) {
    Properties p = new Properties();
    p.putAll(source);
    return p;
  }
}
