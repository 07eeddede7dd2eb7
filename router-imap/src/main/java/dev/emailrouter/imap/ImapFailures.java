package dev.emailrouter.imap;

import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TransientRouterException;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.FolderClosedException;
import jakarta.mail.FolderNotFoundException;
import jakarta.mail.ReadOnlyFolderException;
import jakarta.mail.StoreClosedException;
import java.io.IOException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.eclipse.angus.mail.iap.BadCommandException;
import org.eclipse.angus.mail.iap.CommandFailedException;
import org.eclipse.angus.mail.iap.ConnectionException;
import org.eclipse.angus.mail.iap.ProtocolException;

/**
 * Translates Jakarta Mail and Angus failures into the router's exceptions at the module's edge:
 * transient when waiting may help, permanent when configuration must change. Messages name the
 * mailbox, the user and the folder, never the secret.
 */
final class ImapFailures {

  /** Response codes (RFC 5530) of a NO that may go away by itself. */
  private static final Set<String> TRANSIENT_CODES = Set.of(
      "UNAVAILABLE", "INUSE", "LIMIT", "SERVERBUG", "EXPUNGEISSUED", "OVERQUOTA", "CONTACTADMIN", "CORRUPTION");

  private final ImapSettings settings;

  ImapFailures(ImapSettings settings) {
    this.settings = settings;
  }

  /** A failure of connecting or logging in. */
  RouterException login(Exception e, String user, String secret) {
    AuthenticatingProtocol.ForeignGreetingException foreign =
        find(e, AuthenticatingProtocol.ForeignGreetingException.class);
    if (foreign != null) {
      return new PermanentRouterException(foreignGreeting(foreign.greeting()), e);
    }
    AuthenticatingProtocol.NoAuthorizationIdentityException noAuthzid =
        find(e, AuthenticatingProtocol.NoAuthorizationIdentityException.class);
    if (noAuthzid != null) {
      return new PermanentRouterException("IMAP server " + settings.server() + ": " + noAuthzid.getMessage(), e);
    }
    if (e instanceof AuthenticationFailedException) {
      return new PermanentRouterException("IMAP login for user " + user + " at " + settings.server()
          + " was refused: " + detail(e, secret) + "; check the credentials", e);
    }
    if (has(e, CertificateException.class) || has(e, CertPathValidatorException.class)
        || has(e, CertPathBuilderException.class) || has(e, SSLPeerUnverifiedException.class)) {
      return new PermanentRouterException("IMAP server " + settings.server() + " presented a TLS certificate that is "
          + "not trusted (" + detail(e, secret) + "); configure trustedCertificates(Path) or trustStore(KeyStore) "
          + "with the server's certificate or its CA", e);
    }
    if (has(e, SSLException.class)) {
      return new PermanentRouterException("TLS with IMAP server " + settings.server() + " failed: " + detail(e, secret)
          + "; check that security " + settings.security() + " matches port " + settings.port(), e);
    }
    String text = String.valueOf(e.getMessage());
    if (settings.security() == Security.STARTTLS && text.contains("STARTTLS")) {
      return new PermanentRouterException("IMAP server " + settings.server() + " does not offer STARTTLS ("
          + detail(e, secret) + "); use Security.IMPLICIT_TLS (usually port 993), or on a trusted network only "
          + "Security.PLAIN_TEXT_INSECURE", e);
    }
    if (has(e, IOException.class) || has(e, ConnectionException.class)) {
      return new TransientRouterException("IMAP server " + settings.server() + " can't be reached: "
          + detail(e, secret), e);
    }
    return new TransientRouterException("IMAP login for user " + user + " at " + settings.server() + " failed: "
        + detail(e, secret), e);
  }

  /**
   * What to say when another protocol's server answered on the IMAP port: that is configuration,
   * permanent, and the message names what answered so the fix is obvious.
   */
  private String foreignGreeting(String greeting) {
    String text = printable(greeting);
    String protocol;
    if (text.startsWith("+OK") || text.startsWith("-ERR")) {
      protocol = "a POP3 greeting";
    } else if (text.matches("^[2-5][0-9][0-9]([ -].*)?$")) {
      protocol = text.toUpperCase(Locale.ROOT).contains("LMTP") ? "an LMTP greeting" : "an SMTP greeting";
    } else {
      protocol = "a greeting that is not IMAP";
    }
    return settings.server() + " answered with " + protocol + " (" + text + "): is port " + settings.port()
        + " the IMAP port? Check the setting port (IMAP is usually 143, or 993 with implicit TLS)";
  }

  /** The greeting cut to a readable length, control characters replaced: it comes from the network. */
  private static String printable(String text) {
    String cut = text.length() > 120 ? text.substring(0, 120) + "..." : text;
    StringBuilder out = new StringBuilder(cut.length());
    cut.strip().codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? (int) '?' : c));
    return out.toString();
  }

  /** Whether the server refused the token itself, rather than being unable to check it now. */
  boolean tokenRefused(OAuth2ImapStore.Outcome outcome) {
    String code = outcome.responseCode();
    return code == null || !TRANSIENT_CODES.contains(code);
  }

  /**
   * A failed OAuth2 login: the server offered neither mechanism (permanent), could not check the
   * token now ({@code [UNAVAILABLE]} and the like: transient, the identity provider may be down), or
   * refused the token (permanent, after the retry with a fresh token where there was one).
   */
  RouterException tokenLogin(Exception e, String user, String secret, OAuth2ImapStore.Outcome outcome,
      boolean retried) {
    if (outcome.mechanism == null) {
      return new PermanentRouterException("IMAP server " + settings.server() + " offers neither OAUTHBEARER nor XOAUTH2 ("
          + outcome.offeredInstead + "), so user " + user + " of " + settings.describe() + " can't log in with an "
          + "OAuth2 token; configure a password, or check that TLS is on if the server offers them only over TLS", e);
    }
    String said = outcome.reply == null ? detail(e, secret) : scrub(outcome.reply, secret);
    if (!tokenRefused(outcome)) {
      return new TransientRouterException("IMAP server " + settings.server() + " could not check the OAuth2 token of user "
          + user + " of " + settings.describe() + " now (" + outcome.mechanism + "): " + said + "; retrying later", e);
    }
    return new PermanentRouterException("IMAP server " + settings.server() + " refused the OAuth2 login of user " + user
        + " of " + settings.describe() + " (" + outcome.mechanism + "): " + said
        + (outcome.challengeStatus == null ? "" : ", token status " + outcome.challengeStatus)
        + (retried ? ", also with a freshly fetched token" : "")
        + "; check that the token's application may read this mailbox and its scope covers IMAP", e);
  }

  private static String scrub(String text, String secret) {
    return secret == null || secret.isEmpty() ? text : text.replace(secret, "***");
  }

  /** A failure of selecting the folder. */
  RouterException openFolder(Exception e, String secret) {
    if (e instanceof FolderNotFoundException) {
      return new PermanentRouterException("IMAP folder '" + settings.folder() + "' does not exist for user "
          + settings.username() + " at " + settings.server() + "; check the folder setting", e);
    }
    if (e instanceof ReadOnlyFolderException) {
      return new PermanentRouterException("IMAP folder '" + settings.folder() + "' at " + settings.server()
          + " is read-only for user " + settings.username() + "; post-actions need write access", e);
    }
    return during("opening folder '" + settings.folder() + "'", e, secret);
  }

  /** A failure during the session. */
  RouterException during(String what, Exception e, String secret) {
    if (connectionLost(e)) {
      return new TransientRouterException("connection to IMAP server " + settings.server() + " was lost while "
          + what + " of " + settings.describe() + ": " + detail(e, secret), e);
    }
    CommandFailedException no = find(e, CommandFailedException.class);
    if (no != null) {
      String code = responseCode(no);
      String message = "IMAP server " + settings.server() + " refused " + what + " of " + settings.describe() + ": "
          + detail(e, secret);
      return code == null || TRANSIENT_CODES.contains(code)
          ? new TransientRouterException(message, e)
          : new PermanentRouterException(message, e);
    }
    if (has(e, BadCommandException.class)) {
      return new PermanentRouterException("IMAP server " + settings.server() + " rejected the command for " + what
          + " of " + settings.describe() + " as invalid: " + detail(e, secret), e);
    }
    return new TransientRouterException("IMAP " + what + " of " + settings.describe() + " failed: "
        + detail(e, secret), e);
  }

  /** Whether the connection is gone (the server said BYE, the socket failed or timed out). */
  static boolean connectionLost(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof FolderClosedException || t instanceof StoreClosedException
          || t instanceof ConnectionException || (t instanceof IOException && !(t instanceof SSLException))) {
        return true;
      }
    }
    return false;
  }

  private static String responseCode(ProtocolException e) {
    if (e.getResponse() == null) {
      return null;
    }
    String rest = e.getResponse().getRest();
    if (rest == null || !rest.startsWith("[")) {
      return null;
    }
    int end = rest.indexOf(']');
    int space = rest.indexOf(' ');
    int stop = space > 0 && space < end ? space : end;
    return stop > 1 ? rest.substring(1, stop).toUpperCase(Locale.ROOT) : null;
  }

  /** The failure's own message and its root cause's, without the secret. */
  static String detail(Throwable e, String secret) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String top = message(e);
    String bottom = message(root);
    String text = root == e || top.contains(bottom) ? top : top + " (" + bottom + ")";
    return secret == null || secret.isEmpty() ? text : text.replace(secret, "***");
  }

  private static String message(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m.strip();
  }

  private static boolean has(Throwable e, Class<? extends Throwable> type) {
    return find(e, type) != null;
  }

  private static <T extends Throwable> T find(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }
}
