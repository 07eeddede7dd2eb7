package dev.emailrouter.api;

import java.util.List;
import java.util.OptionalInt;

/**
 * Sends emails to an outgoing mail server.
 *
 * <p>The engine opens a {@link Session} for a batch, sends every email of the batch on it, and
 * closes it, so one connection serves many emails. It may hold up to its configured number of
 * sessions at once, each used by one thread at a time; {@link #openSession()} must therefore be
 * safe to call concurrently. The router's implementation is {@code SmtpTransport} (module
 * router-smtp).
 */
public interface MailTransport {

  /**
   * Opens a session on which emails are sent one after another. An implementation may connect
   * lazily, on the first {@link Session#send}.
   *
   * @return a session the caller must close
   * @throws TransientRouterException if the server can't be reached now
   * @throws PermanentRouterException if the configuration is refused (bad credentials, say)
   */
  Session openSession();

  /**
   * A description of the server for reports and logs, e.g. {@code smtp://mail.example.com:587};
   * never a credential.
   *
   * @return the description
   */
  String describe();

  /**
   * How many sessions this transport lets be open at once, where it has such a bound. The engine
   * checks its {@code sendSessions} against it when it is built: an engine that opens more
   * sessions than the transport allows would wait out a timeout on each extra one.
   *
   * <p><b>The default implementation</b> returns empty: no bound.
   *
   * @return the bound, or empty when there is none
   */
  default OptionalInt maxSessions() {
    return OptionalInt.empty();
  }

  /**
   * Test Access: checks this transport's settings against the server without sending anything,
   * step by step (reach, greeting, TLS, AUTH, login, the sender accepted), each failure naming the
   * setting to change. It does not throw for a failing server: the failure is in the report.
   *
   * <p><b>The default implementation</b>, for transports written before this method existed, opens
   * a session and closes it again, and reports that as one {@link AccessStep.Check#LOGIN} step.
   *
   * @return the report; never {@code null}
   */
  default AccessReport testAccess() {
    try {
      openSession().close();
      return new AccessReport(describe(), List.of(
          AccessStep.passed(AccessStep.Check.LOGIN, "opened a session and closed it again")));
    } catch (RuntimeException e) {
      return new AccessReport(describe(), List.of(
          AccessStep.failed(AccessStep.Check.LOGIN, String.valueOf(e.getMessage()), null)));
    }
  }

  /** A series of sends over one connection; for one thread at a time. */
  interface Session extends AutoCloseable {

    /**
     * Sends one email and says what the server answered. A failure of this email alone (a refused
     * recipient, a 4xx or 5xx reply, a header value with CR/LF) is returned, not thrown; the
     * session reconnects by itself after a dropped connection.
     *
     * @param email the email, with its Message-ID recorded
     * @return the server's answer
     * @throws TransientRouterException if the server can't be reached at all, so the rest of the
     *     batch should wait
     * @throws PermanentRouterException if the server refused the session itself (bad credentials)
     */
    SendResult send(OutgoingEmail email);

    /**
     * Sends one email as {@link #send(OutgoingEmail)} does, told which email the caller sends next
     * on this session, so the session may begin that one early: the SMTP transport writes the next
     * email's MAIL FROM, RCPT TO and DATA behind this email's end of data where the server offers
     * PIPELINING (RFC 2920), one round trip an email instead of two.
     *
     * <p>The caller should call {@code send(next, ...)} next. If it does not (it sends another
     * email, or closes the session after a failure), the session must drop what it began without
     * the server delivering {@code next}: the SMTP transport closes the connection, before any of
     * that email's content was sent.
     *
     * <p><b>The default implementation</b> ignores {@code next} and calls {@link
     * #send(OutgoingEmail)}.
     *
     * @param email the email, with its Message-ID recorded
     * @param next the email the caller will send next on this session; {@code null} when none is
     * @return the server's answer for {@code email}
     * @throws TransientRouterException as for {@link #send(OutgoingEmail)}
     * @throws PermanentRouterException as for {@link #send(OutgoingEmail)}
     */
    default SendResult send(OutgoingEmail email, OutgoingEmail next) {
      return send(email);
    }

    /** Closes the connection (QUIT where possible); never throws. */
    @Override
    void close();
  }
}
