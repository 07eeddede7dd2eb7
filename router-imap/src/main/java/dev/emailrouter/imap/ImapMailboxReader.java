package dev.emailrouter.imap;

import static java.util.Objects.requireNonNull;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.MailServerBuilder;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.ServerSettings;
import dev.emailrouter.api.TransientRouterException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's {@link MailboxReader} for IMAP: reads one folder incrementally by UIDVALIDITY and UID,
 * headers first, and applies a post-action to each handled message.
 *
 * <pre>{@code
 * MailboxReader sales = ImapMailboxReader.builder()
 *     .host("imap.example.com")
 *     .credentials(Credentials.password("sales@example.com", secret))
 *     .afterTracked(ImapMailboxReader.PostAction.moveTo("Tracked"))
 *     .build();
 * }</pre>
 *
 * <p>What it promises the engine:
 * <ul>
 *   <li>A tick with nothing new costs a constant number of round trips whatever the mailbox size:
 *       the login, SELECT (whose UIDNEXT says whether anything arrived) and LOGOUT; no FETCH, no
 *       search and no scan of the mailbox. Three round trips on a server that announces its
 *       capabilities in its greeting and login answer and offers SASL-IR (Dovecot does): the password
 *       goes with {@code AUTHENTICATE PLAIN}, no CAPABILITY, and on a server offering UNSELECT no
 *       UNSELECT or CLOSE before LOGOUT (which never expunges). One connection per session. With
 *       {@link Builder#keepConnection(Duration)} the reader keeps the connection between sessions and
 *       a tick with nothing new costs one round trip, a {@code NOOP}; a {@code UID SEARCH} follows
 *       only when the server reported new messages ({@code EXISTS}).
 *   <li>Headers come from one bulk {@code UID FETCH} of the names in
 *       {@link dev.emailrouter.api.MessageHeaders#WANTED} with RFC822.SIZE and INTERNALDATE; whole
 *       messages from bulk {@code UID FETCH BODY.PEEK[]}, large ones (over 1 MiB) streamed in pieces
 *       into a temporary file that is deleted when the session closes. Reading never sets
 *       {@code \Seen}.
 *   <li>The cursor ({@code v1:<uidvalidity>:<last uid>}) is opaque; when the folder's UIDVALIDITY
 *       changes the reader starts over and says so with {@code reset}.
 *   <li>Post-actions are applied in bulk per action: one {@code UID STORE}, {@code UID MOVE} (or
 *       {@code UID COPY} + {@code \Deleted} + expunge where the server lacks MOVE) per set of messages.
 *       Where the server lacks UIDPLUS, deleting ends with a plain {@code EXPUNGE}, which also removes
 *       messages another client flagged {@code \Deleted} in that folder.
 * </ul>
 *
 * <p>Failures are {@link TransientRouterException} (server unreachable, timeout, connection lost)
 * or {@link PermanentRouterException} (login refused, folder missing, certificate not trusted,
 * STARTTLS not offered); messages never contain the secret.
 *
 * <p>Thread-safe: {@link #open()} may be called from several threads, each session it returns is for
 * one thread at a time. Its settings never change; the one connection it may keep (see
 * {@link Builder#keepConnection(Duration)}) is handed to one session at a time, and {@link #close()}
 * logs out of it.
 */
public final class ImapMailboxReader implements MailboxReader, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ImapMailboxReader.class);

  private final ImapSettings settings;
  private final String description;
  private final ImapFailures failures;
  private final ImapLogin login;
  private final Object keptLock = new Object();
  /** The connection kept for the next session, or {@code null}; guarded by {@link #keptLock}. */
  private ImapSession.Kept kept;
  /** Set by {@link #close()}: from then on no connection is kept; guarded by {@link #keptLock}. */
  private boolean closed;

  private ImapMailboxReader(ImapSettings settings) {
    this.settings = settings;
    this.description = settings.describe();
    this.failures = new ImapFailures(settings);
    this.login = new ImapLogin(settings, failures);
  }

  /**
   * Starts a builder; {@link Builder#host(String)} and credentials are required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Describes the mailbox as {@code imap://user@host:port/folder}, never with the secret; also the
   * engine's default checkpoint key.
   *
   * @return the description
   */
  @Override
  public String describe() {
    return description;
  }

  /**
   * Logs in (asking the credentials supplier), and selects the folder; or, with
   * {@link Builder#keepConnection(Duration)}, takes the kept connection and sends it a {@code NOOP}
   * (logging in afresh when there is none, it stayed unused longer than the idle timeout, the server
   * closed it, or the folder's UIDVALIDITY changed).
   *
   * @return an open session, for one thread at a time; the caller closes it
   * @throws TransientRouterException if the server can't be reached or the connection fails
   * @throws PermanentRouterException if the login is refused, the folder does not exist, the
   *     server's certificate is not trusted or STARTTLS is not offered
   */
  /**
   * Test Access: resolves the host, connects, checks TLS and that an IMAP server greets, logs in
   * and selects the folder exactly as a tick does, and says whether the folders {@code
   * afterTracked}, {@code afterRejected} and {@code quarantineFolder} move messages to exist (a
   * missing one is created on first use). It reads no message, sets no flag and creates no folder.
   *
   * @return the report, with the setting to change on a failed step
   */
  @Override
  public AccessReport testAccess() {
    return new ImapAccessTest(settings, login).run();
  }

  @Override
  public Session open() {
    ImapSession session = new ImapSession(settings, login, failures, this::keep);
    ImapSession.Kept k = null;
    Duration keepIdle = settings.keepIdle();
    if (keepIdle != null) {
      synchronized (keptLock) {
        k = kept;
        kept = null;
      }
    }
    if (k != null) {
      if (settings.clock().instant().isAfter(k.lastUsed().plus(keepIdle))) {
        log.debug("{}: the kept connection was unused since {}, longer than {}; logging out", description,
            k.lastUsed(), keepIdle);
        k.connection().logout();
      } else if (session.resume(k)) {
        return session;
      }
    }
    session.connect();
    return session;
  }

  /**
   * Logs out of the connection kept for the next session, if any; from then on sessions close their
   * connections as without {@link Builder#keepConnection(Duration)}. Sessions still open go on. Never
   * throws; closing twice does nothing more. {@code RouterEngine.close()} calls it for every reader
   * the engine was given; a host that uses the reader on its own closes it when it stops polling.
   */
  @Override
  public void close() {
    ImapSession.Kept k;
    synchronized (keptLock) {
      closed = true;
      k = kept;
      kept = null;
    }
    if (k != null) {
      k.connection().logout();
    }
  }

  @Override
  public String toString() {
    return "ImapMailboxReader[" + description + ", security=" + settings.security() + "]";
  }

  /**
   * Keeps a closing session's connection for the next one, when the reader keeps connections, is
   * not closed and keeps none yet (two sessions may be open at once).
   *
   * @param connection the connection as of an instant, the reader's clock's now
   * @return whether the reader took the connection; if not, the session logs out
   */
  private boolean keep(Function<Instant, ImapSession.Kept> connection) {
    if (settings.keepIdle() == null) {
      return false;
    }
    synchronized (keptLock) {
      if (closed || kept != null) {
        return false;
      }
      kept = connection.apply(settings.clock().instant());
      return true;
    }
  }

  /** The settings the reader was built with, e.g. for an IDLE connection to the same folder. */
  ImapSettings settings() {
    return settings;
  }

  /** How the reader logs in; for tests of the session properties. */
  ImapLogin login() {
    return login;
  }

  /**
   * What the reader does with a message once the engine has handled it: leave it, mark it seen,
   * delete it, or move it to a folder.
   *
   * <p>Immutable and thread-safe.
   */
  public static final class PostAction {

    /** Leaves the message as it is (still unseen if it was). */
    public static final PostAction LEAVE = new PostAction(Kind.LEAVE, null);

    /** Sets {@code \Seen}, as a mail client does when a message is read. */
    public static final PostAction MARK_SEEN = new PostAction(Kind.MARK_SEEN, null);

    /** Flags the message {@code \Deleted} and expunges it (just those messages where the server has UIDPLUS). */
    public static final PostAction DELETE = new PostAction(Kind.DELETE, null);

    enum Kind { LEAVE, MARK_SEEN, DELETE, MOVE }

    final Kind kind;
    final String folder;

    private PostAction(Kind kind, String folder) {
      this.kind = kind;
      this.folder = folder;
    }

    /**
     * Moves the message to a folder, which is created when it does not exist yet; with
     * {@code UID MOVE} where the server offers MOVE, otherwise copy, flag {@code \Deleted} and expunge.
     *
     * @param folder the destination's full name, e.g. {@code Archive} or {@code INBOX/Tracked}
     * @return the action
     * @throws IllegalArgumentException if {@code folder} is blank
     */
    public static PostAction moveTo(String folder) {
      requireNonNull(folder, "folder");
      if (folder.isBlank()) {
        throw new IllegalArgumentException("moveTo folder must not be blank, was '" + folder + "'");
      }
      return new PostAction(Kind.MOVE, folder);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof PostAction other && kind == other.kind && Objects.equals(folder, other.folder);
    }

    @Override
    public int hashCode() {
      return Objects.hash(kind, folder);
    }

    /**
     * Names the action: {@code LEAVE}, {@code MARK_SEEN}, {@code DELETE} or {@code MOVE_TO(folder)}.
     *
     * @return the name
     */
    @Override
    public String toString() {
      return kind == Kind.MOVE ? "MOVE_TO(" + folder + ")" : kind.name();
    }
  }

  /**
   * Configures an {@link ImapMailboxReader}. Each setter checks its argument at once; {@link #build()}
   * checks the combination. Every error names the setting and the value. The server's settings
   * (host, port 143 or 993 by default, security, trust, credentials, user name, timeouts) are the
   * ones every mail-server adapter shares, see {@link MailServerBuilder} and {@link ServerSettings}.
   *
   * <p>Not thread-safe; a builder may be reused to build several readers.
   */
  public static final class Builder extends MailServerBuilder<Builder> {
    private String folder = "INBOX";
    private PostAction afterTracked = PostAction.LEAVE;
    private PostAction afterRejected = PostAction.LEAVE;
    private String quarantineFolder = "Quarantine";
    private Instant processReceivedAfter;
    private Duration keepIdle;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /**
     * Sets the folder to read; default {@code INBOX}.
     *
     * @param folder the folder's full name
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder folder(String folder) {
      this.folder = folderName("folder", folder);
      return this;
    }

    /**
     * Sets what happens to a message once its activity exists; default {@link PostAction#LEAVE}.
     *
     * @param action the post-action
     * @return this builder
     */
    public Builder afterTracked(PostAction action) {
      this.afterTracked = requireNonNull(action, "afterTracked");
      return this;
    }

    /**
     * Sets what happens to a message the tracking policy rejected; default {@link PostAction#LEAVE}.
     *
     * @param action the post-action
     * @return this builder
     */
    public Builder afterRejected(PostAction action) {
      this.afterRejected = requireNonNull(action, "afterRejected");
      return this;
    }

    /**
     * Sets the folder quarantined messages (those that failed too often) are moved to; default
     * {@code Quarantine}, created when first needed. Quarantined messages are never deleted.
     *
     * @param folder the folder's full name
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder quarantineFolder(String folder) {
      this.quarantineFolder = folderName("quarantineFolder", folder);
      return this;
    }

    /**
     * On the first sync only (an empty cursor), skips messages the server received (INTERNALDATE)
     * before this instant, so connecting an old mailbox does not import years of mail. Later syncs,
     * and a restart after a UIDVALIDITY change, take every message. Default: take everything.
     *
     * @param instant the oldest receive time to process
     * @return this builder
     */
    public Builder processReceivedAfter(Instant instant) {
      this.processReceivedAfter = requireNonNull(instant, "processReceivedAfter");
      return this;
    }

    /**
     * Keeps the connection, logged in with the folder selected, from one session to the next, so that
     * a tick with nothing new costs one round trip (a {@code NOOP}, whose answer reports new messages)
     * instead of a login, SELECT and LOGOUT. Default: off, every session logs in and out.
     *
     * <p>A kept connection is a resource on the server: one per reader, so a host polling 1,000
     * mailboxes holds 1,000 connections between ticks (and servers limit them, Dovecot to 10 per user
     * and address by default), and in the host's JVM each kept connection keeps the thread Angus Mail
     * times its writes with. Turn it on where a few mailboxes are polled often. The connection is
     * logged out when the next session finds it unused for longer than {@code idleTimeout}, by
     * {@link ImapMailboxReader#close()}, and after any failure in a session; the next session then
     * logs in afresh (asking the credentials supplier again, so an OAuth2 token that expired while
     * the connection was open is replaced then). When the server closed the connection meanwhile, or
     * the folder's UIDVALIDITY changed, the next session notices on its NOOP and logs in afresh.
     *
     * @param idleTimeout the longest a kept connection may stay unused, between 1 second and 29
     *     minutes (RFC 3501 lets a server log out an idle client after 30 minutes)
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder keepConnection(Duration idleTimeout) {
      requireNonNull(idleTimeout, "keepConnection");
      if (idleTimeout.compareTo(Duration.ofSeconds(1)) < 0 || idleTimeout.compareTo(Duration.ofMinutes(29)) > 0) {
        throw new IllegalArgumentException("keepConnection idle timeout must be between 1 second and 29 minutes, was "
            + idleTimeout);
      }
      this.keepIdle = idleTimeout;
      return this;
    }

    /** The clock that times a kept connection's idle timeout; for tests. */
    Builder clock(Clock clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the reader; connects nothing yet.
     *
     * @return the reader
     * @throws IllegalStateException if a required setting is missing or settings contradict each other
     * @throws IllegalArgumentException if the user name disagrees with the credentials' user
     */
    public ImapMailboxReader build() {
      ServerSettings server = mailboxSettings();
      if (sameFolder(quarantineFolder, folder)) {
        throw new IllegalStateException("quarantineFolder must differ from folder, both were '" + folder + "'");
      }
      checkNotIntoOwnFolder("afterTracked", afterTracked);
      checkNotIntoOwnFolder("afterRejected", afterRejected);
      return new ImapMailboxReader(new ImapSettings(server, ImapSettings.port(server), folder, afterTracked,
          afterRejected, quarantineFolder, processReceivedAfter, keepIdle, clock));
    }

    private void checkNotIntoOwnFolder(String setting, PostAction action) {
      if (action.kind == PostAction.Kind.MOVE && sameFolder(action.folder, folder)) {
        throw new IllegalStateException(setting + " must not move messages into the folder being read ('" + folder
            + "'): they would come back as new messages, was " + action);
      }
    }

    private static boolean sameFolder(String a, String b) {
      return a.equals(b) || (a.equalsIgnoreCase("INBOX") && b.equalsIgnoreCase("INBOX"));
    }

    private static String folderName(String setting, String folder) {
      requireNonNull(folder, setting);
      if (folder.isBlank()) {
        throw new IllegalArgumentException(setting + " must not be blank, was '" + folder + "'");
      }
      return folder;
    }

  }
}
