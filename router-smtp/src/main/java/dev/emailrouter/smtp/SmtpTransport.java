package dev.emailrouter.smtp;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailServerBuilder;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.ServerSettings;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.support.internal.Checks;
import dev.emailrouter.support.internal.mime.MimeComposer;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Sends the router's outgoing email over SMTP, with the router's own SMTP client underneath (the
 * MIME is composed with Jakarta Mail; see docs/smtp.md for why the protocol is our own).
 *
 * <pre>{@code
 * MailTransport smtp = SmtpTransport.builder()
 *     .host("smtp.example.com")                       // STARTTLS on 587 by default
 *     .credentials(() -> Credentials.password("crm@example.com", vault.get("smtp")))
 *     .build();
 * try (MailTransport.Session session = smtp.openSession()) {
 *   SendResult result = session.send(email);
 * }
 * }</pre>
 *
 * <p><b>Sessions and connections.</b> {@link #openSession()} hands out a session that connects on
 * its first {@link MailTransport.Session#send send} and then keeps that one connection for every
 * email of the batch (no new connection per email). At most {@link Builder#maxSessions(int)}
 * sessions, and so connections, exist at once: {@code openSession()} waits up to the connect
 * timeout for a free one, then throws {@link TransientRouterException}. Closing a session sends
 * QUIT and frees its place. Sockets are opened with TCP_NODELAY and every connect, read and write
 * has a timeout. Where the server offers PIPELINING, MAIL FROM, every RCPT TO and DATA go out in
 * one write, and, told the next email ({@link MailTransport.Session#send(
 * dev.emailrouter.api.OutgoingEmail, dev.emailrouter.api.OutgoingEmail)}, as the engine does within
 * a batch), the next email's go out behind this one's end of data: one round trip an email. A
 * session closed with an email so begun closes the connection without QUIT, before that email's end
 * of data, so the server delivers nothing of it. Elsewhere each command waits for its reply.
 *
 * <p><b>Delivery status notifications.</b> Where the server offers DSN (RFC 3461), MAIL FROM asks
 * {@code RET=HDRS} with {@code ENVID=} the email's recorded Message-ID without its angle brackets
 * (as xtext; left out when longer than 100 characters), and each RCPT TO asks {@code
 * NOTIFY=FAILURE,DELAY} with its {@code ORCPT}: a bounce then names the email it is about. {@link
 * Builder#deliveryStatusNotifications(boolean)} turns this off.
 *
 * <p><b>What {@code send} answers.</b>
 * <ul>
 *   <li>The server took the message (250 after the data) → {@link SendResult.Outcome#ACCEPTED}
 *       with the server's reply, and every recipient's own reply in {@link SendResult#recipients()}.
 *       Some recipients refused and others accepted → still {@code ACCEPTED} (the message left), the
 *       refusals listed with their codes.
 *   <li>Recipients answered 452 (too many recipients in this transaction) while others were
 *       accepted → after the data went to those accepted, the session sends the email again in a
 *       new transaction on the same connection to the 452 ones (RFC 5321 4.5.3.1.10), as long as
 *       each transaction gets further; the result merges every recipient's final reply, and the
 *       server's replies to each end of data are joined with "; ".
 *   <li>Recipients in {@link dev.emailrouter.api.OutgoingEmail#acceptedRecipients()} accepted the
 *       email in an earlier attempt: they are left out of the envelope (the To and Cc headers still
 *       name them). When nobody is left, nothing is sent and the answer is {@code ACCEPTED}.
 *   <li>Every recipient refused → {@code TRANSIENT} if any refusal was 4xx, else {@code PERMANENT}.
 *   <li>4xx to MAIL FROM, DATA or the end of data → {@code TRANSIENT}; 5xx → {@code PERMANENT}.
 *   <li>A header value from the CRM with CR or LF, a malformed Message-ID, or no Message-ID at all →
 *       {@code PERMANENT} before anything reaches the wire.
 *   <li>The connection drops while sending (an I/O error, a timeout, 421 "closing", end of stream)
 *       → the session reconnects once and sends that email once more. If the reconnect itself
 *       fails, {@code send} <em>throws</em> {@link TransientRouterException}: the server can't be
 *       reached, so the rest of the batch should wait. If the reconnect works but the email drops
 *       the connection again, that email alone is answered {@code TRANSIENT}. A failed first connect
 *       of a session also throws {@code TransientRouterException}. (A connection lost after the
 *       data was sent but before the server's reply can't tell whether the server kept the message;
 *       like every SMTP client, the router then sends it again rather than risk losing it.)
 *   <li>The login is refused, TLS fails (an untrusted certificate, a certificate for another
 *       name), the server does not offer STARTTLS while it is required, credentials are configured
 *       but the server offers no AUTH, or the server wants a login (530) → {@code send} throws
 *       {@link PermanentRouterException} naming the server and what to do; the email is not at
 *       fault, the configuration is.
 *   <li>An attachment whose content can't be read → {@code TRANSIENT} for that email, naming the
 *       file; the server never gets a partial message.
 * </ul>
 *
 * <p>Immutable and thread-safe; {@link #openSession()} may be called from many threads. Each
 * session is for one thread at a time. Credentials are asked of the supplier at every login and
 * never logged, shown by {@link #toString()} or put in an exception message.
 */
public final class SmtpTransport implements MailTransport {

  /**
   * How an email from a CRM user goes out when the transport logs in as a service account (the
   * E-mail Router's one account that sends for every user). The From header is always the CRM
   * user; the modes differ in the envelope sender ({@code MAIL FROM}, where bounces go) and the
   * {@code Sender} header. An email whose From is the service account itself is sent plainly in
   * every mode.
   */
  public enum SenderMode {
    /**
     * Send as the user: From and the envelope sender are the user. The server must let the
     * service account send as every user (Exchange: the Send As permission; Postfix: {@code
     * smtpd_sender_login_maps}). The default.
     */
    SEND_AS,
    /**
     * Send as the user with the service account as envelope sender: From is the user, bounces go
     * to the service account. Servers that check the From header (Exchange) still need send-as.
     */
    SEND_AS_ACCOUNT_ENVELOPE,
    /**
     * Send on behalf of the user: From is the user, {@code Sender:} and the envelope sender are
     * the service account; mail clients show "account on behalf of user". Needs no send-as right
     * (Exchange: the Send on Behalf permission).
     */
    SEND_ON_BEHALF
  }

  /** The sender settings every session follows. */
  record SenderPolicy(SenderMode mode, EmailAddress account, boolean fallbackToOnBehalf) {}

  /** RFC 5321 4.5.3.2.6: the client waits at least 10 minutes for the reply to the end of data. */
  static final Duration DEFAULT_DATA_END_TIMEOUT = Duration.ofMinutes(10);

  private final ServerSettings server;
  private final SmtpConnector connector;
  private final MimeComposer composer;
  private final Semaphore permits;
  private final int maxSessions;
  private final Duration connectTimeout;
  private final SenderPolicy senderPolicy;

  private SmtpTransport(Builder b, ServerSettings server, int port) {
    this.server = server;
    this.connector = new SmtpConnector(server, port, b.dataEndTimeout, b.ehloName, b.deliveryStatusNotifications);
    this.composer = new MimeComposer(connector.mailSession(), b.clock);
    this.maxSessions = b.maxSessions;
    this.permits = new Semaphore(b.maxSessions, true);
    this.connectTimeout = server.connectTimeout();
    this.senderPolicy = new SenderPolicy(b.senderMode, b.serviceAccount, b.fallbackToOnBehalf);
  }

  /**
   * Starts a builder with the defaults: STARTTLS required, port 587, no login, timeouts of 10 s
   * (connect), 60 s (read, write) and 10 minutes (the reply to the end of data), at most 4
   * sessions, the system clock in UTC.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Opens a session; it connects on its first {@code send}, so this call touches no network.
   *
   * @return a session the caller must close, which frees its place for another session
   * @throws TransientRouterException if {@code maxSessions} sessions are open and none closed
   *     within the connect timeout, or the thread was interrupted while waiting
   */
  @Override
  public Session openSession() {
    boolean acquired;
    try {
      acquired = permits.tryAcquire(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransientRouterException("interrupted while waiting for a free session to " + describe(), e);
    }
    if (!acquired) {
      throw new TransientRouterException("all " + maxSessions + " sessions to " + describe()
          + " stayed in use for " + connectTimeout.toMillis() + " ms (the connect timeout); close sessions"
          + " after each batch or raise maxSessions");
    }
    return new SmtpSession(connector, composer, senderPolicy, permits::release);
  }

  /**
   * The bound set with {@link Builder#maxSessions(int)} (default 4), for the engine's check of its
   * {@code sendSessions}.
   *
   * @return the bound
   */
  @Override
  public OptionalInt maxSessions() {
    return OptionalInt.of(maxSessions);
  }

  /**
   * Test Access with the login's own address as the sender, where the login name is an address;
   * see {@link #testAccess(EmailAddress)}.
   *
   * @return the report
   */
  @Override
  public AccessReport testAccess() {
    return testAccess(loginAddress());
  }

  /**
   * Test Access: resolves the host, connects, checks TLS and that an SMTP server greets, that it
   * offers AUTH where credentials are set, reads its SIZE limit, logs in exactly as a send would,
   * and offers {@code MAIL FROM} with the sender, then {@code RSET}: nothing is ever sent. A
   * refused sender (Postfix's {@code reject_sender_login_mismatch} answers 553) names the
   * permission to grant. Takes no session from {@link Builder#maxSessions(int)}.
   *
   * @param sender the From address to check, or {@code null} to skip that step
   * @return the report, with the setting to change on a failed step
   */
  public AccessReport testAccess(EmailAddress sender) {
    return connector.testAccess(sender);
  }

  /** The shared settings the transport was built with; for tests of the defaults. */
  ServerSettings server() {
    return server;
  }

  private EmailAddress loginAddress() {
    try {
      return EmailAddress.of(connector.loginName());
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * Describes the server, e.g. {@code smtp://smtp.example.com:587 (STARTTLS)}; never a credential.
   *
   * @return the description
   */
  @Override
  public String describe() {
    return connector.describe();
  }

  /**
   * The same as {@link #describe()}, in brackets; never a credential.
   *
   * @return e.g. {@code SmtpTransport[smtp://smtp.example.com:587 (STARTTLS)]}
   */
  @Override
  public String toString() {
    return "SmtpTransport[" + describe() + "]";
  }

  /**
   * Builds an {@link SmtpTransport}. Every setter checks its value at once and names the setting
   * and the value when it refuses one. For one thread at a time. The server's settings (host, port
   * 587, 465 or 25 by default, security, trust, credentials, user name, timeouts) are the ones every
   * mail-server adapter shares, see {@link MailServerBuilder} and {@link ServerSettings}: without
   * credentials no AUTH is sent; a server that offers no AUTH while credentials are set is refused
   * rather than sent to without the login; a 4xx answer to AUTH is transient, a 5xx refusal
   * permanent. The connect timeout also bounds the wait for a free session in {@link
   * SmtpTransport#openSession()}. The user name is optional here: set, it is only checked against
   * the credentials.
   */
  public static final class Builder extends MailServerBuilder<Builder> {

    private Duration dataEndTimeout = DEFAULT_DATA_END_TIMEOUT;
    private String ehloName;
    private int maxSessions = 4;
    private boolean deliveryStatusNotifications = true;
    private SenderMode senderMode = SenderMode.SEND_AS;
    private EmailAddress serviceAccount;
    private boolean fallbackToOnBehalf;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * Sets how long to wait for the server's reply to the end of the data (the final "."), in place
     * of the read timeout for that one reply; 10 minutes by default, as RFC 5321 4.5.3.2.6 asks.
     * Servers scan the content before they answer, which can take more than the read timeout; a
     * client that gives up then sends the email once more although the server may keep the first
     * copy. When the wait runs out, the session reconnects and sends the email once more, as for
     * any connection lost before the server's answer, and a second silence answers {@code
     * TRANSIENT}.
     *
     * @param value at least 1 ms, at most 1 hour
     * @return this builder
     * @throws IllegalArgumentException if it is out of range
     */
    public Builder dataEndTimeout(Duration value) {
      dataEndTimeout = Checks.timeout("dataEndTimeout", value);
      return this;
    }

    /**
     * Sets the name sent with EHLO; by default the local host's canonical name, or its address
     * literal (e.g. {@code [192.0.2.1]}) when it has no name. Servers that check the EHLO name want
     * a fully qualified domain name.
     *
     * @param value a domain name such as {@code crm.example.com}, or an address literal such as
     *     {@code [192.0.2.1]} or {@code [IPv6:2001:db8::1]}
     * @return this builder
     * @throws IllegalArgumentException if it is neither
     */
    public Builder ehloName(String value) {
      Objects.requireNonNull(value, "ehloName");
      if (!SmtpConnector.isValidEhloName(value)) {
        throw new IllegalArgumentException("ehloName must be a domain name such as crm.example.com or an address literal"
            + " such as [192.0.2.1], was " + Checks.quote(value));
      }
      ehloName = value;
      return this;
    }

    /**
     * Sets how many sessions (each one connection) may be open at once; 4 by default.
     *
     * @param value between 1 and 1000
     * @return this builder
     * @throws IllegalArgumentException if it is out of range
     */
    public Builder maxSessions(int value) {
      if (value < 1 || value > 1000) {
        throw new IllegalArgumentException("maxSessions must be between 1 and 1000, was " + value);
      }
      maxSessions = value;
      return this;
    }

    /**
     * Sets whether to ask for delivery status notifications (RFC 3461) where the server offers DSN;
     * on by default. On: MAIL FROM carries {@code RET=HDRS} (a bounce returns the headers only) and
     * {@code ENVID=} the email's recorded Message-ID without angle brackets, xtext-encoded (left out
     * when that is longer than 100 characters), and each RCPT TO carries {@code
     * NOTIFY=FAILURE,DELAY} and {@code ORCPT=rfc822;}the address; so the report of a failed or
     * delayed delivery names the email it is about. A server that does not offer DSN gets none of
     * these either way. Off: no DSN parameter is sent, and the servers' own defaults apply.
     *
     * @param value {@code false} to send no DSN parameters
     * @return this builder
     */
    public Builder deliveryStatusNotifications(boolean value) {
      deliveryStatusNotifications = value;
      return this;
    }

    /**
     * Sets how emails from CRM users go out through the service account this transport logs in
     * as; {@link SenderMode#SEND_AS} by default. The other modes need {@link
     * #serviceAccount(EmailAddress)}.
     *
     * @param value the mode
     * @return this builder
     */
    public Builder senderMode(SenderMode value) {
      senderMode = Objects.requireNonNull(value, "senderMode");
      return this;
    }

    /**
     * Sets the service account's address: the envelope sender of {@link
     * SenderMode#SEND_AS_ACCOUNT_ENVELOPE}, and the {@code Sender} of {@link
     * SenderMode#SEND_ON_BEHALF}. Usually the address the transport logs in with.
     *
     * @param value the address
     * @return this builder
     */
    public Builder serviceAccount(EmailAddress value) {
      serviceAccount = Objects.requireNonNull(value, "serviceAccount");
      return this;
    }

    /**
     * Whether an email the server refuses to send as the user (Postfix's {@code
     * reject_sender_login_mismatch} answers 553 5.7.1; Exchange 550 5.7.60) is sent again at once
     * on behalf of the user ({@link SenderMode#SEND_ON_BEHALF}) instead of failing. Off by default:
     * the email then fails permanently with the server's words and the permission to grant. Needs
     * {@link #serviceAccount(EmailAddress)}.
     *
     * @param value {@code true} to fall back
     * @return this builder
     */
    public Builder fallbackToOnBehalf(boolean value) {
      fallbackToOnBehalf = value;
      return this;
    }

    /**
     * Sets the clock that dates messages (the Date header, in the clock's zone); the system clock
     * in UTC by default.
     *
     * @param value the clock
     * @return this builder
     */
    public Builder clock(Clock value) {
      clock = Objects.requireNonNull(value, "clock");
      return this;
    }

    /**
     * Builds the transport. Nothing is connected yet.
     *
     * @return the transport
     * @throws IllegalStateException if no host was set, or a sender mode lacks its service account
     * @throws IllegalArgumentException if the user name disagrees with the credentials' user
     */
    public SmtpTransport build() {
      ServerSettings server = serverSettings();
      if (serviceAccount == null && (senderMode != SenderMode.SEND_AS || fallbackToOnBehalf)) {
        throw new IllegalStateException("serviceAccount is required with senderMode " + senderMode
            + (fallbackToOnBehalf ? " and fallbackToOnBehalf(true)" : "") + ": it is the envelope sender"
            + (senderMode == SenderMode.SEND_AS_ACCOUNT_ENVELOPE ? "" : " and the Sender header")
            + "; call serviceAccount(EmailAddress.of(\"crm@example.com\"))");
      }
      int p = server.port().orElse(switch (server.security()) {
        case STARTTLS -> 587;
        case IMPLICIT_TLS -> 465;
        case PLAIN_TEXT_INSECURE -> 25;
      });
      return new SmtpTransport(this, server, p);
    }

  }

}
