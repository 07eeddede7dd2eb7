package dev.emailrouter.imap;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.support.internal.MailConnections;
import dev.emailrouter.support.internal.LoginCredentials;
import dev.emailrouter.support.internal.Secrets;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Folder;
import jakarta.mail.MessagingException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a reader's connections: asks the credentials supplier, logs in (with a password, or an OAuth2
 * token retried once with a fresh one when the server refuses it), selects the folder and starts
 * watching the connection's untagged responses.
 *
 * <p>One per reader; thread-safe: sessions of several threads log in through it at once.
 */
final class ImapLogin {

  private static final Logger log = LoggerFactory.getLogger(ImapLogin.class);

  private final ImapSettings settings;
  private final ImapFailures failures;
  private final String mailbox;
  /** Jakarta Mail properties of every connection, built once (the TLS trust among them). */
  private final Properties properties;
  private final Map<String, jakarta.mail.Session> sessions = new ConcurrentHashMap<>();
  /** The supplier, and the one login-and-retry-a-refused-token loop every adapter shares. */
  private final LoginCredentials credentials;

  ImapLogin(ImapSettings settings, ImapFailures failures) {
    this.settings = settings;
    this.failures = failures;
    this.mailbox = settings.describe();
    this.credentials = new LoginCredentials(settings.credentials(), mailbox, settings.username());
    this.properties = MailConnections.properties("imap", settings.host(), settings.port(), settings.security(),
        settings.trustStore(), settings.connectTimeout(), settings.readTimeout(), settings.writeTimeout());
  }

  /**
   * Logs in and selects the folder; on failure nothing stays open. The credentials supplier is
   * asked at every call, so a reconnect of a long session logs in with a fresh OAuth2 token. A
   * token the server refuses is reported to a {@link dev.emailrouter.api.TokenSource} supplier and
   * the login is tried once more with the fresh token it hands out.
   *
   * @return the open connection
   * @throws RouterException transient or permanent as {@link ImapFailures} decides, without the secret
   */
  ImapConnection connect() {
    LoggedIn in = login();
    IMAPStore store = in.store();
    String secret = in.credentials().secret();
    IMAPFolder folder;
    try {
      folder = (IMAPFolder) store.getFolder(settings.folder());
      folder.open(Folder.READ_WRITE);
    } catch (MessagingException | RuntimeException e) {
      ImapConnection.closeQuietly(store, mailbox, secret);
      throw Secrets.withoutSecretInCause(failures.openFolder(e, secret), secret);
    }
    ImapConnection.Watch watch;
    try {
      watch = new ImapConnection.Watch(folder.getUIDNext(), folder.getUIDValidity());
      folder.doCommand(p -> {
        p.addResponseHandler(watch);
        return null;
      });
    } catch (MessagingException | RuntimeException e) {
      ImapConnection.closeQuietly(store, mailbox, secret);
      throw Secrets.withoutSecretInCause(failures.openFolder(e, secret), secret);
    }
    return new ImapConnection(store, folder, secret, watch, mailbox);
  }

  /** A logged-in store and the credentials it logged in with (their secret kept out of every message). */
  record LoggedIn(IMAPStore store, Credentials credentials) {}

  /**
   * Logs in without selecting a folder; on failure nothing stays open. The credentials supplier is
   * asked at every call; an OAuth2 token the server refuses is reported to a {@link
   * dev.emailrouter.api.TokenSource} supplier and the login is tried once more with the fresh one.
   *
   * @return the logged-in store, which the caller closes
   * @throws RouterException transient or permanent as {@link ImapFailures} decides, without the secret
   */
  LoggedIn login() {
    return credentials.logIn((login, retry) -> {
      if (retry) {
        log.debug("{}: the server refused the OAuth2 token; logging in once more with a fresh one", mailbox);
      }
      String secret = login.secret();
      boolean oauth2 = login.kind() == Credentials.Kind.OAUTH2_TOKEN;
      jakarta.mail.Session mail = mailSession(login);
      OAuth2ImapStore.Outcome outcome = oauth2 ? new OAuth2ImapStore.Outcome(settings.host(), settings.port()) : null;
      IMAPStore store = oauth2 ? new OAuth2ImapStore(mail, outcome)
          : new PasswordImapStore(mail, settings.host(), settings.port());
      try {
        store.connect(settings.host(), settings.port(), login.username(), secret);
        return new LoggedIn(store, login);
      } catch (MessagingException | RuntimeException e) {
        ImapConnection.closeQuietly(store, mailbox, secret);
        if (outcome == null || !(e instanceof AuthenticationFailedException)
            || (outcome.mechanism == null && outcome.offeredInstead == null)) {
          throw Secrets.withoutSecretInCause(failures.login(e, login.username(), secret), secret);
        }
        RouterException failure = Secrets.withoutSecretInCause(
            failures.tokenLogin(e, login.username(), secret, outcome, retry), secret);
        if (failures.tokenRefused(outcome)) {
          throw new LoginCredentials.TokenRefused(failure);
        }
        throw failure;
      }
    });
  }

  /**
   * Asks the supplier for the credentials of one login and checks that they are for the reader's
   * user.
   */
  Credentials credentials() {
    return credentials.get();
  }

  /**
   * The Jakarta Mail session for logins with credentials of one kind, built once per reader (a
   * session reads its providers' configuration when built, which a tick should not pay for).
   */
  jakarta.mail.Session mailSession(Credentials login) {
    String key = login.kind() + (login.authorizationId() == null ? "" : "\0" + login.authorizationId());
    return sessions.computeIfAbsent(key, k -> jakarta.mail.Session.getInstance(sessionProperties(login.kind(),
        login.authorizationId())));
  }

  /** Jakarta Mail session properties for one login. */
  Properties sessionProperties(Credentials.Kind kind) {
    return sessionProperties(kind, null);
  }

  /**
   * Jakarta Mail session properties for one login; with an authorization identity, only
   * AUTHENTICATE PLAIN (which carries it), so an administrator never opens their own mailbox.
   */
  Properties sessionProperties(Credentials.Kind kind, String authorizationId) {
    Properties p = new Properties();
    p.putAll(properties);
    if (authorizationId != null) {
      p.put("mail.imap.auth.mechanisms", "PLAIN");
      p.put("mail.imap.sasl.authorizationid", authorizationId);
    }
    if (kind == Credentials.Kind.OAUTH2_TOKEN) {
      // OAuth2ImapStore's protocol runs OAUTHBEARER or XOAUTH2 from sasllogin, which Angus calls
      // only with SASL on; XOAUTH2 alone keeps Angus from ever sending the token with LOGIN.
      p.put("mail.imap.sasl.enable", "true");
      p.put("mail.imap.auth.mechanisms", "XOAUTH2");
    }
    return p;
  }
}
