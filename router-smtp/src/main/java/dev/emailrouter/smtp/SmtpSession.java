package dev.emailrouter.smtp;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.support.internal.mime.MimeComposer;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One batch of sends over one SMTP connection, opened on the first send and kept until {@link
 * #close()}; see {@link SmtpTransport} for what each outcome means. For one thread at a time.
 *
 * <p>There is no liveness probe before each send: a NOOP would cost a round trip per email, while a
 * dead connection shows itself on the first command anyway (end of stream, an I/O error, or 421),
 * before the server has taken anything of the email, and the session then reconnects and sends it
 * once more. A transaction that ended with the server's reply to the end of data needs no RSET
 * before the next MAIL FROM; one left half open (a refusal at MAIL FROM, RCPT TO or DATA) gets one.
 *
 * <p>Told the next email ({@link #send(OutgoingEmail, OutgoingEmail)}), the session writes that
 * email's MAIL FROM, RCPT TO and DATA behind this one's end of data where the server offers
 * PIPELINING, and reads their replies when that email is sent. If anything else comes first (another
 * email, a second transaction of this one, {@link #close()}), the connection is closed instead: the
 * begun email's content was never sent, so the server delivers nothing of it.
 */
final class SmtpSession implements MailTransport.Session {
  private static final Logger log = LoggerFactory.getLogger(SmtpSession.class);

  private final SmtpConnector connector;
  private final MimeComposer composer;
  private final Runnable release;
  private final SmtpTransport.SenderPolicy senders;
  private SmtpConnection connection;
  /** The next email's first transaction, written behind the last end of data; null when none is. */
  private Begun begun;
  private boolean closed;

  /** A transaction written behind an end of data on {@code on}, its replies unread. */
  private record Begun(OutgoingEmail email, SmtpConnection on, SmtpTransport.SenderMode mode,
      MimeComposer.Composed composed, Address[] envelope) {}

  SmtpSession(SmtpConnector connector, MimeComposer composer, SmtpTransport.SenderPolicy senders, Runnable release) {
    this.connector = connector;
    this.composer = composer;
    this.senders = senders;
    this.release = release;
  }

  @Override
  public SendResult send(OutgoingEmail email) {
    return send(email, null);
  }

  @Override
  public SendResult send(OutgoingEmail email, OutgoingEmail next) {
    Objects.requireNonNull(email, "email");
    if (closed) {
      throw new IllegalStateException("this session to " + connector.describe() + " is closed; open a new one");
    }
    EmailAddress account = senders.account();
    boolean forUser = forUser(email, account);
    SmtpTransport.SenderMode mode = forUser ? senders.mode() : SmtpTransport.SenderMode.SEND_AS;
    SendResult result = send(email, mode, account, next);
    if (forUser && mode != SmtpTransport.SenderMode.SEND_ON_BEHALF && sendAsRefused(result)) {
      if (senders.fallbackToOnBehalf()) {
        log.debug("activity {}: {} refused to send as {} ({}); sending on behalf of it instead", email.activityId(),
            connector.describe(), email.from().address(), result.serverReply());
        return send(email, SmtpTransport.SenderMode.SEND_ON_BEHALF, account, next);
      }
      return SendResult.permanentFailure(result.serverReply() + "; the server does not let the service account "
          + account.address() + " send as " + email.from().address() + ": grant it send-as for that address "
          + "(Exchange: the Send As permission; Postfix: smtpd_sender_login_maps), or set "
          + "fallbackToOnBehalf(true) or senderMode(SEND_ON_BEHALF)");
    }
    if (!forUser && connector.hasLogin() && sendAsRefused(result)) {
      return SendResult.permanentFailure(result.serverReply() + "; the server does not let this login send as "
          + email.from().address() + ": grant it send-as for that address (Exchange: the Send As permission; "
          + "Postfix: smtpd_sender_login_maps), or configure serviceAccount and senderMode(SEND_ON_BEHALF)");
    }
    return result;
  }

  /** Whether the email's sender is a user the service account sends for, not the account itself. */
  private static boolean forUser(OutgoingEmail email, EmailAddress account) {
    return account != null && !account.address().equalsIgnoreCase(email.from().address());
  }

  /**
   * Whether the server refused the sender rather than the recipients, by its words: Postfix's
   * "Sender address rejected: not owned by user" (at MAIL FROM, or at each RCPT with its default
   * delayed rejection), Exchange's 5.7.60 "does not have permissions to send as this sender",
   * Gmail's "not allowed to send from".
   */
  static boolean sendAsRefused(SendResult result) {
    if (result.outcome() != Outcome.PERMANENT) {
      return false;
    }
    if (refusesSender(result.serverReply())) {
      return true;
    }
    return !result.refused().isEmpty() && result.recipients().stream()
        .allMatch(r -> r.outcome() == Outcome.PERMANENT && refusesSender(r.serverReply()));
  }

  private static boolean refusesSender(String reply) {
    if (reply == null) {
      return false;
    }
    String text = reply.toLowerCase(java.util.Locale.ROOT);
    return text.contains("sender address rejected") || text.contains("not owned by user")
        || text.contains("5.7.60") || text.contains("send as this sender") || text.contains("sendasdenied")
        || text.contains("not allowed to send from");
  }

  private SendResult send(OutgoingEmail email, SmtpTransport.SenderMode mode, EmailAddress account,
      OutgoingEmail next) {
    MimeComposer.Composed composed;
    Address[] envelope;
    if (begun != null && begun.email() == email && begun.mode() == mode) {
      composed = begun.composed();
      envelope = begun.envelope();
    } else {
      try {
        composed = compose(email, mode, account);
      } catch (MimeComposer.InvalidEmailException e) {
        log.trace("activity {} refused before sending: {}", email.activityId(), e.getMessage());
        return SendResult.permanentFailure(e.getMessage());
      }
      envelope = pending(email, composed);
    }
    if (envelope.length == 0) {
      return done(email, composed.withUnaddressable(
          SendResult.accepted("nothing sent: every recipient accepted this email in an earlier attempt")));
    }
    SendResult merged = null;
    while (true) {
      SendResult result;
      if (merged == null) {
        result = transaction(email, composed, envelope, next);
      } else {
        try {
          result = transaction(email, composed, envelope, next);
        } catch (RouterException e) {
          // The email left for the recipients of the earlier transaction: report these as pending
          // rather than lose who got it. The next send on this session meets the failure again.
          result = SendResult.transientFailure(e.getMessage());
        }
      }
      merged = merged == null ? result : merge(merged, result, envelope, composed);
      Address[] tooMany = result.outcome() == Outcome.ACCEPTED ? tooManyRecipients(result, envelope, composed)
          : new Address[0];
      if (tooMany.length == 0) {
        // Recipients refused before sending (a non-ASCII local part without SMTPUTF8) are listed too.
        SendResult decided = composed.withUnaddressable(merged);
        return done(email, decided.outcome() == Outcome.ACCEPTED ? decided.withMessage(sentBytes(composed)) : decided);
      }
      // Each transaction accepted someone, so the next one is smaller: this ends.
      log.trace("activity {}: {} recipients answered 452, sending to them in another transaction",
          email.activityId(), tooMany.length);
      envelope = tooMany;
    }
  }

  private MimeComposer.Composed compose(OutgoingEmail email, SmtpTransport.SenderMode mode, EmailAddress account)
      throws MimeComposer.InvalidEmailException {
    return switch (mode) {
      case SEND_AS -> composer.compose(email);
      case SEND_AS_ACCOUNT_ENVELOPE -> composer.compose(email, null, account);
      case SEND_ON_BEHALF -> composer.compose(email, account, account);
    };
  }

  /**
   * Writes the first transaction of {@code next} behind an end of data on this connection, as its
   * {@code send} would begin it; writes nothing for an email that fails before the server (it fails
   * again, as its own failure, when it is sent) or that every recipient already accepted.
   */
  private void begin(SmtpConnection on, OutgoingEmail next) throws IOException {
    EmailAddress account = senders.account();
    SmtpTransport.SenderMode mode = forUser(next, account) ? senders.mode() : SmtpTransport.SenderMode.SEND_AS;
    MimeComposer.Composed composed;
    try {
      composed = compose(next, mode, account);
    } catch (MimeComposer.InvalidEmailException | RuntimeException e) {
      // Not this email's failure: the one whose end of data is being written must not pay for it.
      log.trace("activity {} not begun early: {}", next.activityId(), e.toString());
      return;
    }
    Address[] envelope = pending(next, composed);
    if (envelope.length == 0) {
      return;
    }
    try {
      SmtpMailTransaction.begin(on, composed, envelope, connector.deliveryStatusNotifications(), next.messageId());
    } catch (IllegalArgumentException e) {
      log.trace("activity {} not begun early: {}", next.activityId(), e.toString());
      return; // nothing written
    }
    begun = new Begun(next, on, mode, composed, envelope);
  }

  /** The envelope without the recipients that accepted the email in an earlier attempt. */
  private static Address[] pending(OutgoingEmail email, MimeComposer.Composed composed) {
    Address[] all = composed.envelope();
    if (email.acceptedRecipients().isEmpty()) {
      return all;
    }
    List<Address> left = new ArrayList<>(all.length);
    for (Address a : all) {
      EmailAddress recipient = composed.recipient(a);
      if (recipient == null || !email.isAccepted(recipient)) {
        left.add(a);
      }
    }
    return left.toArray(new Address[0]);
  }

  /** The envelope addresses the server refused with 452 (too many recipients) in this transaction. */
  private static Address[] tooManyRecipients(SendResult result, Address[] envelope, MimeComposer.Composed composed) {
    Set<String> again = new HashSet<>();
    for (RecipientResult r : result.recipients()) {
      if (r.outcome() == Outcome.TRANSIENT && r.serverReply().startsWith("452")) {
        again.add(r.recipient().normalized());
      }
    }
    List<Address> out = new ArrayList<>();
    for (Address a : envelope) {
      EmailAddress recipient = composed.recipient(a);
      if (recipient != null && again.contains(recipient.normalized())) {
        out.add(a);
      }
    }
    return out.toArray(new Address[0]);
  }

  /**
   * An earlier transaction's (accepted) result with a later one's: each recipient's latest reply; a
   * later transaction that failed as a whole (451 at DATA, say) gives its recipients its reply.
   */
  private static SendResult merge(SendResult earlier, SendResult later, Address[] laterEnvelope,
      MimeComposer.Composed composed) {
    Map<String, RecipientResult> byRecipient = new LinkedHashMap<>();
    for (RecipientResult r : earlier.recipients()) {
      byRecipient.put(r.recipient().normalized(), r);
    }
    Set<String> answered = new HashSet<>();
    for (RecipientResult r : later.recipients()) {
      byRecipient.put(r.recipient().normalized(), r);
      answered.add(r.recipient().normalized());
    }
    for (Address a : laterEnvelope) {
      EmailAddress recipient = composed.recipient(a);
      if (recipient != null && !answered.contains(recipient.normalized())) {
        byRecipient.put(recipient.normalized(), new RecipientResult(recipient, later.outcome(), later.serverReply()));
      }
    }
    String reply = later.outcome() == Outcome.ACCEPTED ? earlier.serverReply() + "; " + later.serverReply()
        : earlier.serverReply();
    return new SendResult(Outcome.ACCEPTED, reply, List.copyOf(byRecipient.values()));
  }

  /**
   * One SMTP transaction (MAIL FROM, RCPT TO, DATA) to these recipients, reconnecting once if the
   * connection drops; {@code next}'s first transaction may go out behind its end of data.
   */
  private SendResult transaction(OutgoingEmail email, MimeComposer.Composed composed, Address[] envelope,
      OutgoingEmail next) {
    String lostBefore = null;
    SmtpMailTransaction.Behind behind = next == null || next == email ? null : c -> begin(c, next);
    while (true) {
      boolean resumed = false;
      if (begun != null) {
        if (begun.on() == connection) {
          if (begun.composed() == composed && begun.envelope() == envelope) {
            resumed = true;
          } else {
            // Something else was begun here: its 354 must never be followed by content.
            log.debug("closing the connection to {}: activity {} was begun on it, activity {} is sent instead",
                connector.describe(), begun.email().activityId(), email.activityId());
            discard();
          }
        }
        begun = null;
      }
      if (connection == null) {
        connection = reconnect(lostBefore);
      }
      SmtpMailTransaction.Verdict verdict;
      try {
        verdict = SmtpMailTransaction.run(connection, composed, envelope, connector.deliveryStatusNotifications(),
            email.messageId(), resumed, behind);
      } catch (RuntimeException e) {
        discard();
        throw e;
      }
      switch (verdict.next()) {
        case KEEP -> {
          return verdict.result();
        }
        case RESET -> {
          reset();
          return verdict.result();
        }
        case DISCARD -> {
          discard();
          return verdict.result();
        }
        case RECONNECT -> {
          discard();
          if (lostBefore != null) {
            return SendResult.transientFailure("sending failed before and after reconnecting to "
                + connector.describe() + ": first " + lostBefore + ", then " + verdict.result().serverReply());
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
    }
  }

  private SmtpConnection reconnect(String lostBefore) {
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

  /**
   * The bytes the server received, for a copy in the Sent folder: the composed bytes as they are,
   * or, for a message that writes itself, a source that writes it (deterministic after its {@code
   * saveChanges}) only when someone opens it, so a send pays nothing for it when no one does.
   */
  private static ContentSource sentBytes(MimeComposer.Composed composed) {
    byte[] content = composed.content();
    if (content != null) {
      return ContentSource.ofBytes(content);
    }
    MimeMessage message = composed.message();
    return () -> {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      SmtpConnection.DataStream canonical = SmtpConnection.canonicalOver(bytes);
      try {
        message.writeTo(canonical, SmtpMailTransaction.NOT_WRITTEN);
      } catch (MessagingException e) {
        throw new IOException("the sent message could not be written again: " + e.getMessage(), e);
      }
      canonical.endLine();
      return new ByteArrayInputStream(bytes.toByteArray());
    };
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
      if (connection.execute("RSET").code() != 250) {
        discard();
      }
    } catch (IOException | RuntimeException e) {
      discard();
    }
  }

  /** Closes the connection without QUIT: its state is unknown. */
  private void discard() {
    if (connection != null) {
      connection.close();
      connection = null;
    }
  }

  /**
   * Sends QUIT (without waiting for the reply) and frees this session's place; never throws. A
   * connection with an email begun behind the last end of data is closed without QUIT: the server
   * may be waiting for that email's content, and takes the connection's end as its abort.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (begun != null && begun.on() == connection) {
        log.debug("closing the connection to {} without QUIT: activity {} was begun on it and not sent",
            connector.describe(), begun.email().activityId());
        discard();
      }
      begun = null;
      if (connection != null) {
        connection.quit();
        connection = null;
      }
      log.trace("session to {} closed", connector.describe());
    } finally {
      release.run();
    }
  }
}
