package dev.emailrouter.imap;

import dev.emailrouter.api.MessageHeaders;
import java.util.function.Consumer;
import static java.util.Objects.requireNonNull;

import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.support.internal.Secrets;
import jakarta.mail.MessagingException;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One open IMAP folder for the length of an engine tick: owns the connection, reconnects once when
 * it is lost, and hands each operation to its job ({@link HeaderFetcher}, {@link ContentDownloader},
 * {@link PostActions}). Its connection is its own, logged in by {@link ImapLogin}, or the one its
 * reader kept from the previous session ({@code keepConnection}), which it hands back on
 * {@link #close()} unless something failed.
 *
 * <p>Jakarta Mail logs in, upgrades to TLS and selects the folder (which yields UIDVALIDITY and
 * UIDNEXT); the reading itself goes through {@link ImapConnection#command} as raw UID commands, so
 * that every step is one bulk command over UIDs, bodies are fetched with {@code BODY.PEEK} (never
 * setting {@code \Seen}), header values are exactly what the server sent, and nothing read is cached
 * in Jakarta Mail's message objects for the rest of the session. Untagged responses other than FETCH
 * are passed on to the folder so its view of the mailbox (EXPUNGE, EXISTS) stays right. Every answer
 * is attributed by UID ({@link FetchResponses}).
 *
 * <p>For one thread at a time.
 */
final class ImapSession implements MailboxReader.Session {

  private static final Logger log = LoggerFactory.getLogger(ImapSession.class);

  private final ImapLogin login;
  private final ImapFailures failures;
  private final Keeper keeper;
  private final String mailbox;
  private final HeaderFetcher headers;
  private final ContentDownloader downloads;
  private final PostActions postActions;
  /** The open connection, or {@code null} before connecting and after a disconnect. */
  private ImapConnection connection;
  /** The secret of the last login, kept out of failure messages. */
  private String secret;
  private boolean closed;
  /** Set when an operation failed: the connection is then not kept for the next session. */
  private boolean failed;

  /**
   * @param keeper takes the connection for the next session when this one closes, or declines
   */
  ImapSession(ImapSettings settings, ImapLogin login, ImapFailures failures, Keeper keeper) {
    this.login = login;
    this.failures = failures;
    this.keeper = keeper;
    this.mailbox = settings.describe();
    // RFC822.SIZE of messages whose headers this session fetched, so a download need not ask again
    Map<Long, Long> sizes = new HashMap<>();
    this.headers = new HeaderFetcher(settings, sizes);
    this.downloads = new ContentDownloader(settings, sizes);
    this.postActions = new PostActions(settings);
  }

  /**
   * Takes over a connection a previous session left to its reader, and asks the server with one
   * {@code NOOP} what changed since (new messages come back as {@code EXISTS}). Gives the connection
   * up, without a command, when the server closed it meanwhile, the NOOP fails, or the folder's
   * UIDVALIDITY changed under it; then the caller connects afresh.
   *
   * @return whether the session is open on the kept connection
   */
  boolean resume(Kept kept) {
    connection = kept.connection();
    secret = connection.secret();
    ImapConnection.Watch watch = connection.watch();
    String problem;
    try {
      if (connection.isOpen()) {
        connection.command("NOOP", null);
      }
      problem = !connection.isOpen() ? "closed by the server"
          : watch.validityChanged ? "on a folder whose UIDVALIDITY changed to " + watch.newValidity : null;
    } catch (MessagingException | RuntimeException e) {
      problem = "failing its NOOP: " + ImapFailures.detail(e, secret);
    }
    if (problem == null) {
      return true;
    }
    log.debug("{}: the kept connection is {}; connecting again", mailbox, problem);
    disconnect();
    return false;
  }

  /** Logs in and selects the folder (see {@link ImapLogin#connect()}); on failure nothing stays open. */
  void connect() {
    connection = login.connect();
    secret = connection.secret();
  }

  @Override
  public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
    return fetchNew(cursor, retry, max, h -> { });
  }

  /** Hands each message's headers to {@code arriving} as its FETCH response is read. */
  @Override
  public NewMessages fetchNew(String cursor, Set<String> retry, int max, Consumer<MessageHeaders> arriving) {
    requireNonNull(cursor, "cursor");
    requireNonNull(retry, "retry");
    requireNonNull(arriving, "arriving");
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, was " + max);
    }
    return run("fetching new messages", c -> headers.fetchNew(c, cursor, retry, max, arriving));
  }

  @Override
  public List<RawMessage> fetchMessages(List<String> refs) {
    requireNonNull(refs, "refs");
    LinkedHashSet<Long> asked = new LinkedHashSet<>();
    for (String ref : refs) {
      long uid = UidSets.parseRef(ref, mailbox);
      if (uid > 0) {
        asked.add(uid);
      }
    }
    if (asked.isEmpty()) {
      return List.of();
    }
    return run("downloading messages", c -> downloads.download(c, asked));
  }

  @Override
  public void dispose(Map<String, Disposition> dispositions) {
    requireNonNull(dispositions, "dispositions");
    PostActions.Plan plan = postActions.plan(dispositions);
    if (plan.isEmpty()) {
      return;
    }
    run("applying post-actions", c -> {
      postActions.apply(c, plan);
      return null;
    });
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    ImapConnection open = connection;
    if (!failed && open != null && open.isOpen() && !open.watch().validityChanged
        && keeper.keep(lastUsed -> new Kept(open, lastUsed))) {
      connection = null;
    } else {
      disconnect();
    }
    downloads.deleteTemporaryFiles();
  }

  /** Logs out of the connection, if any; never throws. */
  private void disconnect() {
    if (connection != null) {
      connection.logout();
      connection = null;
    }
  }

  /**
   * Runs an operation, reconnecting once if the connection was lost, and translates its failures.
   * An {@link IOException} here comes from a local temporary file, never from the server (Angus
   * reports those as {@link MessagingException}s).
   */
  private <T> T run(String what, Operation<T> operation) {
    if (closed) {
      throw new IllegalStateException("the IMAP session of " + mailbox + " is closed");
    }
    for (int attempt = 1; ; attempt++) {
      try {
        if (connection == null || !connection.isOpen()) {
          reconnect(what);
        }
        return operation.run(connection);
      } catch (IOException e) {
        failed = true;
        throw new TransientRouterException("a temporary file for " + mailbox + " could not be written "
            + "while " + what + ": " + e, e);
      } catch (RuntimeException e) {
        failed = true;
        throw e;
      } catch (MessagingException e) {
        if (attempt > 1 || !ImapFailures.connectionLost(e)) {
          failed = true;
          throw Secrets.withoutSecretInCause(failures.during(what, e, secret), secret);
        }
        log.debug("{}: connection lost while {}, reconnecting: {}", mailbox, what, ImapFailures.detail(e, secret));
        disconnect();
      }
    }
  }

  private void reconnect(String what) throws MessagingException {
    disconnect();
    connect();
    long validity = connection.folder().getUIDValidity();
    long known = headers.uidValidity();
    if (known >= 0 && validity != known) {
      throw new TransientRouterException("UIDVALIDITY of " + mailbox + " changed from " + known
          + " to " + validity + " while " + what + "; the next tick starts over");
    }
  }

  /** Takes a closing session's connection for the next session; see {@link ImapMailboxReader}. */
  @FunctionalInterface
  interface Keeper {
    /**
     * @param connection the connection as of an instant, the keeper's clock's now
     * @return whether the keeper took the connection; if not, the session logs out
     */
    boolean keep(Function<Instant, Kept> connection);
  }

  /**
   * A logged-in connection with the folder selected, as a reader keeps it between sessions.
   *
   * @param connection the connection
   * @param lastUsed when the session that used it last closed, by the reader's clock
   */
  record Kept(ImapConnection connection, Instant lastUsed) {
    Kept {
      requireNonNull(connection, "connection");
      requireNonNull(lastUsed, "lastUsed");
    }
  }

  @FunctionalInterface
  private interface Operation<T> {
    T run(ImapConnection connection) throws MessagingException, IOException;
  }
}
