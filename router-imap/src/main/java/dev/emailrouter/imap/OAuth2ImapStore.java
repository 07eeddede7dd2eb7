package dev.emailrouter.imap;

import dev.emailrouter.support.internal.OAuth2Sasl;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.eclipse.angus.mail.iap.Argument;
import org.eclipse.angus.mail.iap.CommandFailedException;
import org.eclipse.angus.mail.iap.ProtocolException;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.eclipse.angus.mail.imap.protocol.IMAPProtocol;
import org.eclipse.angus.mail.util.MailLogger;

/**
 * An {@link IMAPStore} whose connections log in with an OAuth2 access token (the "password"),
 * by OAUTHBEARER where the server offers it and XOAUTH2 otherwise, answering a refused token's
 * error challenge as the mechanisms require. Angus has no OAUTHBEARER, and its XOAUTH2 answers the
 * error challenge with the token again; its SASL hook would need a JCA provider registered for the
 * whole JVM. This store instead hands Angus a protocol whose {@code sasllogin} (called because
 * {@code mail.imap.sasl.enable} is set) runs the exchange on that one connection. What happened is
 * kept in an {@link Outcome} so the caller can tell a refused token from a server that could not
 * check it.
 *
 * <p>For one thread at a time, like the session that owns it.
 */
final class OAuth2ImapStore extends IMAPStore {
  private final Outcome outcome;

  OAuth2ImapStore(Session session, Outcome outcome) {
    super(session, new URLName("imap", outcome.host, outcome.port, null, null, null));
    this.outcome = outcome;
  }

  @Override
  protected IMAPProtocol newIMAPProtocol(String host, int port) throws IOException, ProtocolException {
    return new TokenProtocol(host, port, session.getProperties(), isSSL, logger, outcome);
  }

  /** What the last login of a store said: the mechanism, the error challenge's status, the final reply. */
  static final class Outcome {
    final String host;
    final int port;
    OAuth2Sasl.Mechanism mechanism;
    /** The mechanisms the server offered, when it offered neither of ours. */
    String offeredInstead;
    String challengeStatus;
    /** The tagged reply's text, e.g. {@code [AUTHENTICATIONFAILED] Authentication failed.} */
    String reply;

    Outcome(String host, int port) {
      this.host = host;
      this.port = port;
    }

    /** The RFC 5530 response code of the final reply, upper case, or {@code null}. */
    String responseCode() {
      if (reply == null || !reply.startsWith("[")) {
        return null;
      }
      int end = reply.indexOf(']');
      int space = reply.indexOf(' ');
      int stop = space > 0 && space < end ? space : end;
      return stop > 1 ? reply.substring(1, stop).toUpperCase(Locale.ROOT) : null;
    }
  }

  private static final class TokenProtocol extends AuthenticatingProtocol {
    private final Outcome outcome;

    TokenProtocol(String host, int port, Properties props, boolean ssl, MailLogger logger, Outcome outcome)
        throws IOException, ProtocolException {
      super(host, port, props, ssl, logger);
      this.outcome = outcome;
    }

    @Override
    public synchronized void sasllogin(String[] allowed, String realm, String authzid, String user, String token)
        throws ProtocolException {
      List<String> offered = new ArrayList<>();
      for (String capability : getCapabilities().keySet()) {
        if (capability.startsWith("AUTH=")) {
          offered.add(capability.substring(5));
        }
      }
      OAuth2Sasl.Mechanism mechanism = OAuth2Sasl.choose(offered);
      outcome.mechanism = mechanism;
      if (mechanism == null) {
        outcome.offeredInstead = offered.isEmpty() ? "no AUTH= capability" : "AUTH=" + String.join(" AUTH=", offered);
        throw new CommandFailedException("the server offers neither OAUTHBEARER nor XOAUTH2");
      }
      String initial = mechanism.initialResponse(user, token, outcome.host, outcome.port);
      boolean[] initialSent = {hasCapability("SASL-IR")};
      Argument args = new Argument().writeAtom(mechanism.name());
      if (initialSent[0]) {
        args.writeAtom(initial);
      }
      authenticate(args, continuation -> {
        if (!initialSent[0]) {
          initialSent[0] = true;
          return initial;
        }
        // The token was refused; the server sends its NO once this is answered.
        outcome.challengeStatus = OAuth2Sasl.challengeStatus(continuation.getRest());
        return mechanism.errorChallengeAnswer();
      }, done -> outcome.reply = done.getRest());
    }
  }
}
