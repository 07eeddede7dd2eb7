package dev.emailrouter.smtp;

import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.TransientRouterException;
import jakarta.mail.MessagingException;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One batch of sends over one SMTP connection, opened on the first send and kept until {@link
 * #close()}; see {@link SmtpTransport} for what each outcome means. For one thread at a time.
 *
 * <p>There is no liveness probe before each send: Angus's {@code isConnected()} costs a NOOP
 * round trip per email, while a dead connection shows itself on the first command anyway (end of
 * stream, an I/O error, or 421), before the server has taken anything of the email, and the
 * session then reconnects and sends it once more.
 */
final class SmtpSession implements MailTransport.Session {
  private static final Logger log = LoggerFactory.getLogger(SmtpSession.class);

  private final SmtpConnector connector;
  private final MimeComposer composer;
  private final Runnable release;
  private PipeliningSmtpTransport transport;
  private boolean closed;

  SmtpSession(SmtpConnector connector, MimeComposer composer, Runnable release) {
    this.connector = connector;
    this.composer = composer;
    this.release = release;
  }

  @Override
  public SendResult send(OutgoingEmail email) {
    Objects.requireNonNull(email, "email");
    if (closed) {
      throw new IllegalStateException("this session to " + connector.describe() + " is closed; open a new one");
    }
    MimeComposer.Composed composed;
    try {
      composed = composer.compose(email);
    } catch (MimeComposer.InvalidEmailException e) {
      log.trace("activity {} refused before sending: {}", email.activityId(), e.getMessage());
      return SendResult.permanentFailure(e.getMessage());
    }
    String lostBefore = null;
    while (true) {
      boolean fresh = transport == null;
      if (fresh) {
        transport = reconnect(lostBefore);
      }
      try {
        if (transport.canPipeline()) {
          transport.sendPipelined(composed.message(), composed.content(), composed.envelope());
        } else {
          transport.sendMessage(composed.message(), composed.envelope());
        }
        // Not reached with mail.smtp.reportsuccess on; kept in case Angus returns normally.
        return done(email, composed.withUnaddressable(SendResult.accepted(
            SmtpReplies.clean(transport.getLastServerResponse()))));
      } catch (MessagingException e) {
        SmtpReplies.Verdict verdict = SmtpReplies.classify(e, composed);
        switch (verdict.next()) {
          case KEEP -> {
            return done(email, composed.withUnaddressable(verdict.result()));
          }
          case RESET -> {
            reset();
            return done(email, composed.withUnaddressable(verdict.result()));
          }
          case DISCARD -> {
            discard();
            return done(email, composed.withUnaddressable(verdict.result()));
          }
          case RECONNECT -> {
            discard();
            if (lostBefore != null) {
              return done(email, SendResult.transientFailure("sending failed before and after reconnecting to "
                  + connector.describe() + ": first " + lostBefore + ", then " + verdict.result().serverReply()));
            }
            lostBefore = verdict.result().serverReply();
            log.debug("connection to {} lost while sending activity {} ({}); reconnecting once", connector.describe(),
                email.activityId(), lostBefore);
          }
          case LOGIN_REQUIRED -> {
            discard();
            throw new PermanentRouterException("SMTP server " + connector.describe() + " requires a login before it"
                + " sends anything (" + verdict.result().serverReply() + "); " + connector.loginAdvice());
          }
          default -> throw new IllegalStateException("unknown verdict " + verdict);
        }
      } catch (IllegalStateException e) {
        // Angus closed the connection after an earlier failure ("Not connected"); nothing of this
        // email was sent, so a new connection is not a retry.
        discard();
        if (fresh) {
          throw e;
        }
      } catch (RuntimeException e) {
        discard();
        throw e;
      }
    }
  }

  private PipeliningSmtpTransport reconnect(String lostBefore) {
    if (lostBefore == null) {
      return connector.connect();
    }
    try {
      return connector.connect();
    } catch (TransientRouterException e) {
      throw new TransientRouterException("the connection to " + connector.describe() + " was lost while sending ("
          + lostBefore + ") and reconnecting failed: " + e.getMessage(), e);
    }
  }

  private SendResult done(OutgoingEmail email, SendResult result) {
    if (log.isTraceEnabled()) {
      log.trace("activity {} {} by {}: {} ({} refused recipients)", email.activityId(), result.outcome(),
          connector.describe(), result.serverReply(), result.refused().size());
    }
    return result;
  }

  /** Ends a half-open transaction so the next MAIL FROM is not refused as nested. */
  private void reset() {
    try {
      int code = transport.simpleCommand("RSET");
      if (code != 250) {
        discard();
      }
    } catch (MessagingException | RuntimeException e) {
      discard();
    }
  }

  private void discard() {
    if (transport != null) {
      SmtpConnector.closeQuietly(transport);
      transport = null;
    }
  }

  /** Sends QUIT (without waiting for the reply) and frees this session's place; never throws. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      discard();
      log.trace("session to {} closed", connector.describe());
    } finally {
      release.run();
    }
  }
}
