package dev.emailrouter.pop3;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailServerBuilder;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.ServerSettings;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.support.internal.AccessProbe;
import dev.emailrouter.support.internal.LoginCredentials;
import dev.emailrouter.support.internal.MailConnections;
import dev.emailrouter.support.internal.Secrets;
import dev.emailrouter.support.internal.SocketCapture;
import dev.emailrouter.support.internal.Uris;
import jakarta.mail.Folder;
import jakarta.mail.MessagingException;
import jakarta.mail.Store;
import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.angus.mail.pop3.POP3Folder;
import org.eclipse.angus.mail.pop3.POP3Store;

/**
 * Reads a POP3 mailbox (its INBOX, the only folder POP3 has) incrementally by UIDL, headers first,
 * on Jakarta Mail (Angus).
 *
 * <pre>{@code
 * MailboxReader inbox = Pop3MailboxReader.builder()
 *     .host("pop.example.com")                      // STARTTLS on port 110 unless told otherwise
 *     .credentials(Credentials.password("sales@example.com", password))
 *     .deleteAfterProcessing(true)                  // tracked messages leave the server
 *     .build();
 * }</pre>
 *
 * <p><b>Promises.</b> Only headers cross the wire until the engine asks for a message ({@code TOP n
 * 0}, or the whole message once where it is small); a tick with nothing new costs the login, STAT,
 * UIDL, RSET and QUIT. No message is skipped: a refused download is an exception for that message, never
 * a silent omission, and a UIDL the server gives to several messages hides none of them. Messages
 * are deleted only as {@link Builder#deleteAfterProcessing(boolean)} says and only with a confirmed
 * QUIT; a connection lost before it deletes nothing, and the next session deletes them. A refused
 * login, an untrusted certificate, a missing STLS and another protocol's server on the port are
 * {@link PermanentRouterException}s naming the setting to change; an unreachable server, a
 * timeout, a locked maildrop ({@code [IN-USE]}) and {@code [SYS/TEMP]} are {@link
 * TransientRouterException}s. Secrets never appear in messages or logs.
 *
 * <p>How it talks to the server (pipelining, the cursor's format, shared UIDLs, deletion, each
 * error) is described in {@code docs/pop3.md} of the repository.
 *
 * <p>Immutable configuration; thread-safe. Sessions are independent, but POP3 servers lock the
 * maildrop, so a second session on the same mailbox while one is open fails (transiently). The
 * only state shared by sessions is the in-memory set of deletions waiting for a confirmed QUIT.
 */
public final class Pop3MailboxReader implements MailboxReader {

  private final ServerSettings server;
  private final int port;
  private final boolean deleteAfterProcessing;
  private final boolean deleteRejected;
  private final long wholeMessageUpTo;
  private final String description;
  /** The supplier, and the one login-and-retry-a-refused-token loop every adapter shares. */
  private final LoginCredentials credentials;
  /** The session settings, TLS context included: built once, as an SSLContext costs milliseconds. */
  private final Properties baseProperties;
  /** Messages marked deleted whose QUIT may not have gone through; retried by the next session. */
  private final Set<String> pendingDeletes = ConcurrentHashMap.newKeySet();

  private Pop3MailboxReader(Builder b, ServerSettings server) {
    this.server = server;
    this.port = server.port().orElse(server.security() == Security.IMPLICIT_TLS ? 995 : 110);
    this.deleteAfterProcessing = b.deleteAfterProcessing;
    this.deleteRejected = b.deleteRejected;
    this.wholeMessageUpTo = b.wholeMessageUpTo;
    this.description = "pop3://" + Uris.userPart(server.username().orElseThrow()) + Uris.hostPart(server.host())
        + ":" + port;
    // No check of each login's user against the user name: a supplier may log in under another name
    // that opens this maildrop, such as Dovecot's master-user form "user*admin".
    this.credentials = new LoginCredentials(server.credentials().orElseThrow(), description, null);
    this.baseProperties = MailConnections.properties("pop3", server.host(), port, server.security(),
        server.trustStore().orElse(null), server.connectTimeout(), server.readTimeout(), server.writeTimeout());
    // Some servers mark messages deleted by themselves after RETR; RSET before the DELEs and QUIT
    // undoes that, so only the messages dispose() chose are deleted.
    baseProperties.setProperty("mail.pop3.rsetbeforequit", "true");
  }

  /**
   * Starts a builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Describes the mailbox as {@code pop3://user@host:port}, the user percent-encoded as in a URI
   * ({@code @}, {@code %}, {@code :} and {@code /}, as {@code ImapMailboxReader} does:
   * {@code pop3://sales%40example.com@pop.example.com:110}); never a credential. It is also the
   * engine's default checkpoint key. Earlier builds wrote the user unencoded, so a mailbox whose
   * login holds one of those characters gets a new default key, and is read once more from the
   * start after the upgrade unless the host keeps the old key with {@code Mailbox.withName}.
   *
   * @return the description
   */
  @Override
  public String describe() {
    return description;
  }


  /**
   * Connects, logs in (asking the credentials supplier now) and opens INBOX.
   *
   * @return an open session; the caller must close it, which commits deletions with QUIT
   * @throws TransientRouterException if the server can't be reached, times out, drops the
   *     connection, or refuses the login only for now (mailbox in use)
   * @throws PermanentRouterException if the server refuses the login or its certificate, lacks
   *     STLS while STARTTLS is required, or greets as another protocol (IMAP, SMTP) would
   */
  @Override
  public Session open() {
    LoggedIn in = credentials.logIn(this::logIn);
    Credentials login = in.login();
    Store store = in.store();
    if (login.authorizationId() != null && !offersSaslPlain(store)) {
      closeQuietly(store);
      throw new PermanentRouterException(description + ": logging in as " + login.username() + " on behalf of "
          + login.authorizationId() + " needs SASL PLAIN, which the server does not offer (CAPA lists no SASL "
          + "PLAIN)");
    }
    try {
      POP3Folder inbox = (POP3Folder) store.getFolder("INBOX");
      inbox.open(deleteAfterProcessing ? Folder.READ_WRITE : Folder.READ_ONLY);
      return new Pop3Session(description, store, inbox, deleteAfterProcessing, deleteRejected, pendingDeletes,
          Pop3Session.SPOOL_THRESHOLD, wholeMessageUpTo, pipeline(store, in.socket()));
    } catch (MessagingException | IOException | RuntimeException e) {
      closeQuietly(store);
      throw Secrets.withoutSecretInCause(Pop3Errors.open(description, login.username(), login.secret(),
          login.kind() == Credentials.Kind.OAUTH2_TOKEN, e), login.secret());
    }
  }

  /**
   * A logged-in store, the credentials it logged in with, and the socket of a password login (for
   * pipelining), or {@code null}.
   */
  private record LoggedIn(Store store, Credentials login, Socket socket) {}

  /** One login; a refused OAuth2 token is {@link LoginCredentials.TokenRefused}, which the caller retries once. */
  private LoggedIn logIn(Credentials login, boolean retry) throws LoginCredentials.TokenRefused {
    Properties properties = new Properties();
    properties.putAll(baseProperties);
    boolean oauth2 = login.kind() == Credentials.Kind.OAUTH2_TOKEN;
    Pop3TokenLogin tokenLogin = oauth2 ? new Pop3TokenLogin(login, server.security(), properties) : null;
    if (oauth2) {
      properties = tokenLogin.angusProperties(properties);
    } else if (login.authorizationId() != null) {
      // Only SASL PLAIN carries an authorization identity; USER/PASS would open the
      // administrator's own maildrop, so it must not be a fallback.
      properties.setProperty("mail.pop3.auth.mechanisms", "PLAIN");
      properties.setProperty("mail.pop3.sasl.authorizationid", login.authorizationId());
    }
    // The socket of a password login, for pipelining; a token login's socket is our own
    // Pop3TokenLogin socket, which reads Angus's commands one at a time, so that stays lock-step.
    Store store = null;
    Socket captured;
    SocketCapture.start();
    try {
      store = jakarta.mail.Session.getInstance(properties).getStore("pop3");
      store.connect(server.host(), port, login.username(), oauth2 ? Pop3TokenLogin.PLACEHOLDER : login.secret());
    } catch (MessagingException | RuntimeException e) {
      closeQuietly(store);
      if (login.authorizationId() != null && String.valueOf(e.getMessage()).contains("No authentication mechanisms")) {
        throw new PermanentRouterException(description + ": logging in as " + login.username() + " on behalf of "
            + login.authorizationId() + " needs SASL PLAIN, which the server does not offer (CAPA lists no SASL "
            + "PLAIN)", e);
      }
      if (!oauth2) {
        throw Secrets.withoutSecretInCause(Pop3Errors.login(description, login.username(), login.secret(), e),
            login.secret());
      }
      RouterException failure = Secrets.withoutSecretInCause(
          Pop3Errors.tokenLogin(description, login.username(), login.secret(), tokenLogin, retry, e), login.secret());
      if (tokenLogin.tokenRefused()) {
        throw new LoginCredentials.TokenRefused(failure);
      }
      throw failure;
    } finally {
      captured = SocketCapture.stop();
    }
    return new LoggedIn(store, login, oauth2 ? null : captured);
  }

  /**
   * Test Access: resolves the host, connects, checks TLS and that a POP3 server greets, then logs
   * in exactly as a tick would (asking the credentials supplier now) and logs out again. Nothing is
   * read and nothing deleted; a login holds the maildrop lock for a moment, as any POP3 client does.
   *
   * @return the report, with the setting to change on a failed step
   */
  @Override
  public AccessReport testAccess() {
    AccessProbe.Result probe = AccessProbe.probe(AccessProbe.Protocol.POP3, server.host(), port, server.security(),
        server.trustStore().orElse(null), server.connectTimeout(), server.readTimeout());
    List<AccessStep> steps = new ArrayList<>(probe.steps());
    if (!probe.reachable()) {
      steps.add(AccessStep.skipped(AccessStep.Check.LOGIN, "the server was not reached"));
      return new AccessReport(description, steps);
    }
    try {
      Credentials login = credentials.get();
      String mechanism = login.kind() == Credentials.Kind.OAUTH2_TOKEN ? "a SASL token mechanism"
          : login.authorizationId() != null ? "SASL PLAIN on behalf of " + login.authorizationId() : "USER/PASS";
      open().close();
      steps.add(AccessStep.passed(AccessStep.Check.LOGIN, "logged in as " + login.username() + " with " + mechanism
          + ", and out again"));
    } catch (PermanentRouterException e) {
      steps.add(AccessStep.failed(AccessStep.Check.LOGIN, e.getMessage(),
          e.getMessage().contains("refused the login") ? "credentials" : null));
    } catch (RuntimeException e) {
      steps.add(AccessStep.failed(AccessStep.Check.LOGIN, String.valueOf(e.getMessage()), null));
    }
    return new AccessReport(description, steps);
  }

  /**
   * A pipeline on the session's connection where the server lists PIPELINING in CAPA (RFC 2449),
   * else {@code null}: commands then go one at a time through Angus.
   */
  private static Pop3Pipeline pipeline(Store store, Socket socket) throws MessagingException, IOException {
    if (socket == null || !(store instanceof POP3Store pop3)) {
      return null;
    }
    Map<String, String> capabilities = pop3.capabilities();
    if (capabilities == null || !capabilities.containsKey("PIPELINING")) {
      return null;
    }
    return new Pop3Pipeline(socket);
  }

  private static boolean offersSaslPlain(Store store) {
    if (!(store instanceof POP3Store pop3)) {
      return false;
    }
    try {
      Map<String, String> capabilities = pop3.capabilities();
      String sasl = capabilities == null ? null : capabilities.get("SASL");
      return sasl != null && Arrays.asList(sasl.toUpperCase(Locale.ROOT).split("\\s+")).contains("PLAIN");
    } catch (MessagingException e) {
      return false;
    }
  }

  /** The shared settings the reader was built with; for tests of the defaults. */
  ServerSettings server() {
    return server;
  }

  private static void closeQuietly(Store store) {
    if (store != null) {
      try {
        store.close();
      } catch (MessagingException | RuntimeException e) {
        // already failing; the original failure is what the caller needs
      }
    }
  }

  /**
   * The same as {@link #describe()}.
   *
   * @return the description
   */
  @Override
  public String toString() {
    return description;
  }

  /**
   * Configures a {@link Pop3MailboxReader}. Every setter checks its value at once and fails with a
   * message naming the setting and the value; {@link #build()} checks that the required settings
   * are there. The server's settings (host, port 110 or 995 by default, security, trust,
   * credentials, user name, timeouts) are the ones every mail-server adapter shares, see {@link
   * MailServerBuilder} and {@link ServerSettings}. Not thread-safe; a builder may build several readers.
   */
  public static final class Builder extends MailServerBuilder<Builder> {

    private boolean deleteAfterProcessing;
    private boolean deleteRejected;
    private long wholeMessageUpTo = Pop3Session.WHOLE_MESSAGE_BYTES;

    private Builder() {}

    /**
     * Whether TRACKED messages are deleted from the server once handled; {@code false} by
     * default (messages stay, and the cursor keeps them from being read twice).
     *
     * @param delete {@code true} to delete
     * @return this builder
     */
    public Builder deleteAfterProcessing(boolean delete) {
      this.deleteAfterProcessing = delete;
      return this;
    }

    /**
     * Whether REJECTED messages are deleted too; {@code false} by default. Needs {@link
     * #deleteAfterProcessing(boolean)}. QUARANTINED messages are never deleted.
     *
     * @param delete {@code true} to delete rejected messages
     * @return this builder
     */
    public Builder deleteRejected(boolean delete) {
      this.deleteRejected = delete;
      return this;
    }

    /**
     * Messages whose LIST size is at most this many bytes are downloaded once, with RETR, and
     * decided on from that copy: one command per message instead of TOP for the headers and then
     * RETR for a tracked one. Bigger messages get TOP first and are downloaded only when tracked.
     * Default 256 KiB; 0 uses TOP for every message, which saves bandwidth where most mail is
     * rejected. At most 32 MiB of such copies are held per session; beyond that TOP is used.
     *
     * @param bytes 0 to 16 MiB
     * @return this builder
     */
    public Builder wholeMessageUpTo(long bytes) {
      if (bytes < 0 || bytes > 16L * 1024 * 1024) {
        throw new IllegalArgumentException("wholeMessageUpTo must be between 0 and 16777216 bytes, was " + bytes);
      }
      this.wholeMessageUpTo = bytes;
      return this;
    }

    /**
     * Builds the reader; connects to nothing.
     *
     * @return the reader
     * @throws IllegalStateException if host or credentials are missing, a credentials supplier
     *     comes without a username, or deleteRejected is set without deleteAfterProcessing
     * @throws IllegalArgumentException if the user name disagrees with the credentials' user
     */
    public Pop3MailboxReader build() {
      ServerSettings server = mailboxSettings();
      if (deleteRejected && !deleteAfterProcessing) {
        throw new IllegalStateException("deleteRejected(true) needs deleteAfterProcessing(true), which was false");
      }
      return new Pop3MailboxReader(this, server);
    }

  }
}
