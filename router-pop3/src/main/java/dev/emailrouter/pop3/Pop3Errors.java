package dev.emailrouter.pop3;

import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.TransientRouterException;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.MessagingException;
import java.security.GeneralSecurityException;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLException;

/**
 * Translates what Jakarta Mail throws into the router's transient/permanent split, with messages
 * that name the mailbox and say what to do, and never carry the secret.
 *
 * <p>Stateless; thread-safe.
 */
final class Pop3Errors {

  /** What Angus says of a server line that is neither {@code +OK} nor {@code -ERR}. */
  private static final String UNEXPECTED = "Unexpected response:";

  private Pop3Errors() {}

  /**
   * Translates a failure while connecting and logging in.
   *
   * @param mailbox the mailbox description
   * @param user the login name
   * @param secret the password or token, to scrub from server text (never shown)
   * @param failure what Jakarta Mail threw
   * @return the exception to throw
   */
  static RouterException login(String mailbox, String user, String secret, Exception failure) {
    String serverText = scrub(ownMessage(failure), secret);
    if (failure instanceof AuthenticationFailedException) {
      if (serverText.contains("STLS")) {
        return new PermanentRouterException(mailbox + ": the server does not offer STLS, which security STARTTLS "
            + "requires (" + serverText + "); use IMPLICIT_TLS (usually port 995) if the server offers it, or "
            + "PLAIN_TEXT_INSECURE only on a trusted network", failure);
      }
      if (isIoFailure(serverText)) {
        return new TransientRouterException(mailbox + ": the connection failed while logging in as " + user + " ("
            + serverText + "); retrying later", failure);
      }
      return refusedLogin(mailbox, user, serverText, failure);
    }
    RouterException otherProtocol = otherProtocol(mailbox, secret, failure);
    return otherProtocol != null ? otherProtocol : connection(mailbox, "connecting", secret, failure);
  }

  /**
   * A server that greets with neither {@code +OK} nor {@code -ERR} speaks another protocol: the
   * port points at an IMAP, SMTP or other service. Retrying can't help, so this is permanent and
   * says what answered. Angus reports such a line as "Unexpected response: LINE" inside its
   * "Connect failed"; an {@code -ERR} greeting (a POP3 server refusing for now) and a server that
   * never greets (a read timeout) are not this, and stay transient.
   *
   * @return the exception, or {@code null} when the failure is not an unexpected greeting
   */
  private static RouterException otherProtocol(String mailbox, String secret, Exception failure) {
    String text = chainText(failure);
    int at = text.indexOf(UNEXPECTED);
    if (at < 0 || !text.startsWith("Connect failed")) {
      return null;
    }
    String answered = scrub(text.substring(at + UNEXPECTED.length()).trim(), secret);
    if (answered.length() > 200) {
      answered = answered.substring(0, 200) + "...";
    }
    String upper = answered.toUpperCase(Locale.ROOT);
    String kind;
    if (upper.startsWith("* OK") || upper.startsWith("* PREAUTH") || upper.startsWith("* BYE")) {
      kind = "an IMAP greeting";
    } else if (answered.matches("^[2-5][0-9][0-9]([ -].*)?$")) {
      kind = upper.contains("LMTP") ? "an LMTP greeting" : "an SMTP greeting";
    } else {
      kind = null;
    }
    // The description ends with ":port" (Pop3MailboxReader builds it so).
    String port = mailbox.substring(mailbox.lastIndexOf(':') + 1);
    String what = kind == null ? " answered with '" + answered + "', which is not a POP3 greeting"
        : " answered with " + kind + " (" + answered + ")";
    return new PermanentRouterException(mailbox + what + ": is " + port + " the POP3 port? Check the setting "
        + "port(...) of this mailbox's reader (POP3 listens on 110, or 995 with IMPLICIT_TLS)", failure);
  }

  /**
   * Translates a failed OAuth2 login ({@link Pop3TokenLogin}): STLS refused, TLS or the connection
   * failing, the server offering neither OAUTHBEARER nor XOAUTH2 (permanent), unable to check the
   * token now ({@code [SYS/TEMP]}, {@code [IN-USE]}, {@code [LOGIN-DELAY]}: transient), or refusing
   * the token (permanent, after the retry with a fresh token where there was one).
   *
   * @param mailbox the mailbox description
   * @param user the login name
   * @param secret the token, to scrub from server text
   * @param attempt what the login saw
   * @param retried whether this was the second login, with a freshly fetched token
   * @param failure what Jakarta Mail threw
   * @return the exception to throw
   */
  static RouterException tokenLogin(String mailbox, String user, String secret, Pop3TokenLogin attempt,
      boolean retried, Exception failure) {
    if (attempt.stlsRefused != null) {
      return new PermanentRouterException(mailbox + ": the server does not offer STLS, which security STARTTLS "
          + "requires (" + scrub(attempt.stlsRefused, secret) + "); use IMPLICIT_TLS (usually port 995) if the server "
          + "offers it, or PLAIN_TEXT_INSECURE only on a trusted network", failure);
    }
    if (attempt.reply == null && attempt.mechanism == null && attempt.offeredInstead == null) {
      return login(mailbox, user, secret, failure); // never got as far as AUTH: TLS, the connection
    }
    if (attempt.mechanism == null) {
      return new PermanentRouterException(mailbox + ": the server offers neither OAUTHBEARER nor XOAUTH2 ("
          + attempt.offeredInstead + "), so user " + user + " can't log in with an OAuth2 token; configure a "
          + "password, or check that TLS is on if the server offers them only over TLS", failure);
    }
    String said = attempt.reply == null ? scrub(chainText(failure), secret) : scrub(attempt.reply, secret);
    if (attempt.reply != null && isTemporary(attempt.reply)) {
      return new TransientRouterException(mailbox + ": the server could not check the OAuth2 token of user " + user
          + " now (" + attempt.mechanism + ", server said: " + said + "); retrying later", failure);
    }
    if (attempt.reply == null) {
      return new TransientRouterException(mailbox + ": the connection failed during the OAuth2 login of user " + user
          + " (" + said + "); retrying later", failure);
    }
    return new PermanentRouterException(mailbox + ": the server refused the OAuth2 login of user " + user + " ("
        + attempt.mechanism + ", server said: " + said + ")"
        + (attempt.challengeStatus == null ? "" : ", token status " + attempt.challengeStatus)
        + (retried ? ", also with a freshly fetched token" : "")
        + "; check that the token's application may read this mailbox and its scope covers POP", failure);
  }

  /**
   * Translates a failure while opening INBOX right after the login, which is where a refused XOAUTH2
   * token shows with Angus Mail: {@code connect()} returns normally and the server's refusal comes
   * back as the answer to STAT.
   *
   * @param mailbox the mailbox description
   * @param user the login name
   * @param secret the password or token, to scrub from server text
   * @param oauth2 whether the login used XOAUTH2
   * @param failure what Jakarta Mail threw
   * @return the exception to throw
   */
  static RouterException open(String mailbox, String user, String secret, boolean oauth2, Exception failure) {
    String text = scrub(chainText(failure), secret);
    int stat = text.indexOf("STAT command failed");
    if (stat >= 0) {
      String serverText = text.substring(stat + "STAT command failed".length()).replaceFirst("^[:\\s]+", "");
      if (oauth2 || hasCode(serverText, "AUTH") || isTemporary(serverText)) {
        return refusedLogin(mailbox, user, serverText, failure);
      }
    }
    return connection(mailbox, "opening INBOX", secret, failure);
  }

  /**
   * Translates a failure during a session (UIDL, TOP, LIST, RETR, QUIT).
   *
   * @param mailbox the mailbox description
   * @param action what the session was doing, e.g. "listing UIDLs"
   * @param failure what was thrown
   * @return the exception to throw
   */
  static RouterException session(String mailbox, String action, Exception failure) {
    return connection(mailbox, action, null, failure);
  }

  private static RouterException refusedLogin(String mailbox, String user, String serverText, Exception failure) {
    String said = serverText.isBlank() ? "" : " (server said: " + serverText.trim() + ")";
    if (isTemporary(serverText)) {
      return new TransientRouterException(mailbox + ": the server refused the login of user " + user
          + " for now" + said + "; the mailbox may be open in another session, retrying later", failure);
    }
    return new PermanentRouterException(mailbox + ": the server refused the login of user " + user + said
        + "; check the credentials (password or OAuth2 token) for this mailbox", failure);
  }

  private static RouterException connection(String mailbox, String action, String secret, Exception failure) {
    Throwable tls = find(failure, SSLException.class, GeneralSecurityException.class);
    if (tls != null || chainText(failure).contains("verify identity")) {
      String detail = scrub(tls != null ? String.valueOf(tls.getMessage()) : chainText(failure), secret);
      return new PermanentRouterException(mailbox + ": the TLS handshake failed while " + action + " (" + detail
          + "); if the server uses a self-signed certificate or a private CA, configure trustedCertificates(...) "
          + "or trustStore(...) with it, and connect by a host name the certificate names", failure);
    }
    return new TransientRouterException(mailbox + ": failed while " + action + ": "
        + scrub(chainText(failure), secret) + "; retrying later", failure);
  }

  /**
   * Angus turns every EOFException while greeting, CAPA, STLS or the login into an
   * AuthenticationFailedException carrying only the I/O message (a read timeout becomes
   * "Read timed out", a closed connection "EOF on socket"), so the text is all there is to tell
   * a dropped connection from a refusal.
   */
  static boolean isIoFailure(String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    return text.isBlank() || lower.contains("eof on socket") || lower.contains("timed out")
        || lower.contains("connection reset") || lower.contains("broken pipe") || lower.contains("socket closed")
        || lower.contains("connection closed") || lower.equals("authenticationfailedexception");
  }

  /** RFC 2449 / RFC 3206 response codes that say "try again later". */
  static boolean isTemporary(String serverText) {
    return hasCode(serverText, "IN-USE") || hasCode(serverText, "SYS/TEMP") || hasCode(serverText, "LOGIN-DELAY");
  }

  private static boolean hasCode(String serverText, String code) {
    return serverText.toUpperCase(Locale.ROOT).contains("[" + code + "]");
  }

  /** The messages of a failure and its causes, on one line, without repeats. */
  static String chainText(Throwable failure) {
    StringBuilder text = new StringBuilder();
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    for (Throwable t = failure; t != null && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
      String message = ownMessage(t);
      if (message.isEmpty() || text.indexOf(message) >= 0) {
        continue;
      }
      if (text.length() > 0) {
        text.append(": ");
      }
      text.append(message);
    }
    return text.length() == 0 ? failure.getClass().getSimpleName() : text.toString();
  }

  /** A throwable's own message; MessagingException appends its nested exception, which the chain shows anyway. */
  private static String ownMessage(Throwable t) {
    String message = t.getMessage();
    if (message == null) {
      return t.getCause() == null ? t.getClass().getSimpleName() : "";
    }
    if (t instanceof MessagingException) {
      int nested = message.indexOf(";\n  nested exception is");
      if (nested >= 0) {
        message = message.substring(0, nested);
      }
    }
    return message.replaceAll("\\s+", " ").trim();
  }

  @SafeVarargs
  private static Throwable find(Throwable failure, Class<? extends Throwable>... types) {
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    for (Throwable t = failure; t != null && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
      for (Class<? extends Throwable> type : types) {
        if (type.isInstance(t)) {
          return t;
        }
      }
    }
    return null;
  }

  /** Servers don't echo secrets, but a message that did must not carry one further. */
  static String scrub(String text, String secret) {
    if (text == null) {
      return "";
    }
    return secret == null || secret.isEmpty() ? text : text.replace(secret, "***");
  }
}
