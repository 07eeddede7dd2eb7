package dev.emailrouter.imap;

import jakarta.mail.Session;
import jakarta.mail.URLName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Properties;
import org.eclipse.angus.mail.iap.Argument;
import org.eclipse.angus.mail.iap.ProtocolException;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.eclipse.angus.mail.imap.protocol.IMAPProtocol;
import org.eclipse.angus.mail.util.MailLogger;

/**
 * An {@link IMAPStore} whose password logins by {@code AUTHENTICATE PLAIN} send the credentials with
 * the command (RFC 4959 SASL-IR) when the server advertises it: one round trip instead of Angus's
 * two (command, then continuation). Without SASL-IR it logs in exactly as Angus does.
 *
 * <p>For one thread at a time, like the session that owns it.
 */
final class PasswordImapStore extends IMAPStore {

  PasswordImapStore(Session session, String host, int port) {
    super(session, new URLName("imap", host, port, null, null, null));
  }

  @Override
  protected IMAPProtocol newIMAPProtocol(String host, int port) throws IOException, ProtocolException {
    return new SaslIrProtocol(host, port, session.getProperties(), isSSL, logger);
  }

  private static final class SaslIrProtocol extends AuthenticatingProtocol {
    /** The user an administrator logs in on behalf of, or {@code null}. */
    private final String authorizationId;

    SaslIrProtocol(String host, int port, Properties props, boolean ssl, MailLogger logger)
        throws IOException, ProtocolException {
      super(host, port, props, ssl, logger);
      authorizationId = props.getProperty("mail.imap.sasl.authorizationid");
    }

    /**
     * Angus falls back to LOGIN when no configured mechanism is offered; LOGIN carries no
     * authorization identity, so on behalf of a user it would open the administrator's own
     * mailbox. Refused instead.
     */
    @Override
    public synchronized void login(String user, String password) throws ProtocolException {
      if (authorizationId != null) {
        throw new NoAuthorizationIdentityException("logging in as " + user + " on behalf of " + authorizationId
            + " needs AUTHENTICATE PLAIN, which the server does not offer (no AUTH=PLAIN in its capabilities)");
      }
      super.login(user, password);
    }

    @Override
    public synchronized void authplain(String authzid, String user, String password) throws ProtocolException {
      if (!hasCapability("SASL-IR")) {
        super.authplain(authzid, user, password);
        return;
      }
      String plain = (authzid == null ? "" : authzid) + "\0" + user + "\0" + password;
      Argument args = new Argument().writeAtom("PLAIN")
          .writeAtom(Base64.getEncoder().encodeToString(plain.getBytes(StandardCharsets.UTF_8)));
      // Nothing more to say after the initial response: a continuation is cancelled, answered BAD.
      authenticate(args, continuation -> "*", done -> { });
    }
  }
}
