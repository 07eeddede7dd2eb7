package dev.emailrouter.imap;

import static java.util.Objects.requireNonNull;

import jakarta.mail.MessagingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.LongStream;
import org.eclipse.angus.mail.iap.Argument;
import org.eclipse.angus.mail.iap.Response;
import org.eclipse.angus.mail.iap.ResponseHandler;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.eclipse.angus.mail.imap.protocol.BASE64MailboxEncoder;
import org.eclipse.angus.mail.imap.protocol.FetchResponse;
import org.eclipse.angus.mail.imap.protocol.IMAPProtocol;
import org.eclipse.angus.mail.imap.protocol.IMAPResponse;
import org.eclipse.angus.mail.imap.protocol.ListInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logged-in connection with the folder selected, as {@link ImapLogin} opens it: the raw UID
 * commands the reader's jobs send go through {@link #command}, on the folder's own connection.
 *
 * <p>For one thread at a time; a connection kept between sessions is handed from one to the next
 * under the reader's lock.
 */
final class ImapConnection {

  private static final Logger log = LoggerFactory.getLogger(ImapConnection.class);

  private final IMAPStore store;
  private final IMAPFolder folder;
  private final String secret;
  private final Watch watch;
  private final String mailbox;

  /**
   * @param store the logged-in store
   * @param folder its folder, selected
   * @param secret the secret it logged in with, kept out of every message; may be {@code null}
   * @param watch the handler watching the connection's untagged responses
   * @param mailbox the mailbox's description, for log messages
   */
  ImapConnection(IMAPStore store, IMAPFolder folder, String secret, Watch watch, String mailbox) {
    this.store = requireNonNull(store, "store");
    this.folder = requireNonNull(folder, "folder");
    this.secret = secret;
    this.watch = requireNonNull(watch, "watch");
    this.mailbox = requireNonNull(mailbox, "mailbox");
  }

  IMAPFolder folder() {
    return folder;
  }

  String secret() {
    return secret;
  }

  Watch watch() {
    return watch;
  }

  /** Whether the folder is still selected on a live connection, as far as Angus knows. */
  boolean isOpen() {
    return folder.isOpen();
  }

  /**
   * Sends one command on the folder's connection and checks its result; untagged responses other than
   * FETCH go to the folder's own handlers, as Angus does for its commands.
   */
  Response[] command(String command, Argument args) throws MessagingException {
    return (Response[]) folder.doCommand(p -> {
      Response[] responses = p.command(command, args);
      List<Response> others = new ArrayList<>();
      for (Response r : responses) {
        if (!(r instanceof FetchResponse)) {
          others.add(r);
        }
      }
      p.notifyResponseHandlers(others.toArray(new Response[0]));
      p.handleResult(responses[responses.length - 1]);
      return responses;
    });
  }

  /**
   * Sends one {@code UID FETCH} on the folder's connection, hands each FETCH response's items to
   * {@code each} as it is read ({@link AuthenticatingProtocol#fetch}), and checks the result as {@link
   * #command} does: the other untagged responses go to the folder's handlers (an EXPUNGE amid the
   * answer updates Angus's message numbers), a NO or BAD becomes a {@link
   * org.eclipse.angus.mail.iap.CommandFailedException} or {@link
   * org.eclipse.angus.mail.iap.BadCommandException}, a BYE or a broken connection closes the folder.
   *
   * @param each takes each FETCH response's items, {@code null} for one that does not parse; must not throw
   */
  void fetch(String command, Consumer<FetchItems> each) throws MessagingException {
    raw(ours -> ours.fetch(command, each));
  }

  /**
   * The UIDs of the {@code SEARCH} responses to one {@code UID SEARCH} command, all of them, in
   * ascending order without repeats; the other responses are handled as {@link #fetch} handles them.
   */
  long[] searchUids(String command) throws MessagingException {
    LongStream.Builder found = LongStream.builder();
    raw(ours -> ours.search(command, found));
    long[] uids = found.build().toArray();
    boolean ascending = true;
    for (int i = 1; i < uids.length && ascending; i++) {
      ascending = uids[i] > uids[i - 1];
    }
    // Servers answer in ascending order in practice; RFC 3501 does not promise it
    return ascending ? uids : Arrays.stream(uids).sorted().distinct().toArray();
  }

  /**
   * Runs one of {@link AuthenticatingProtocol}'s raw exchanges on the folder's connection, then
   * hands the responses it did not take to the folder's handlers and checks the result.
   */
  private void raw(Function<AuthenticatingProtocol, Response[]> exchange) throws MessagingException {
    folder.doCommand(p -> {
      if (!(p instanceof AuthenticatingProtocol ours)) {
        throw new IllegalStateException("the folder's connection is not one of this reader's: " + p.getClass());
      }
      Response[] responses = exchange.apply(ours);
      p.notifyResponseHandlers(responses);
      p.handleResult(responses[responses.length - 1]);
      return null;
    });
  }

  boolean hasCapability(String capability) throws MessagingException {
    return (Boolean) folder.doCommand(p -> p.hasCapability(capability));
  }

  /** A folder name as a command argument: UTF-8 where the server took it, else modified UTF-7. */
  Argument mailboxName(String name) throws MessagingException {
    boolean utf8 = (Boolean) folder.doCommand(IMAPProtocol::supportsUtf8);
    Argument args = new Argument();
    return utf8 ? args.writeString(name, StandardCharsets.UTF_8) : args.writeString(BASE64MailboxEncoder.encode(name));
  }

  boolean folderExists(String name) throws MessagingException {
    ListInfo[] found = (ListInfo[]) folder.doCommand(p -> p.list("", name));
    return found != null && found.length > 0;
  }

  void createFolder(String name) throws MessagingException {
    folder.doCommand(p -> {
      p.create(name);
      return null;
    });
  }

  /**
   * Ends the connection; never throws. A server that offers UNSELECT (RFC 3691; Dovecot, Exchange,
   * Gmail) gets a single LOGOUT, with no UNSELECT or CLOSE before it: LOGOUT never expunges (RFC 3501
   * 6.1.3) and ends the selected state with the connection, and the messages a post-action deleted
   * were expunged by then, so an idle tick costs three round trips (login, SELECT, LOGOUT). A server
   * without UNSELECT gets the folder closed first without expunging (Angus's EXAMINE and CLOSE), as
   * before: GreenMail, the in-JVM server hosts test with, offers no UNSELECT and keeps a logged-out
   * session attached to the folder it had selected, which later breaks deleting that folder.
   */
  void logout() {
    try {
      // Asked of the folder's own connection: the store's would open a second one.
      if (folder.isOpen() && !Boolean.TRUE.equals(folder.doCommand(p -> p.hasCapability("UNSELECT")))) {
        folder.close(false);
      }
    } catch (MessagingException | RuntimeException e) {
      log.debug("{}: closing the folder failed: {}", mailbox, ImapFailures.detail(e, secret));
    }
    try {
      if (folder.isOpen()) {
        folder.doCommand(p -> {
          p.logout(); // disconnects, whatever the answer
          return null;
        });
      }
    } catch (MessagingException | RuntimeException e) {
      log.debug("{}: logging out failed: {}", mailbox, ImapFailures.detail(e, secret));
    }
    try {
      if (folder.isOpen()) {
        folder.forceClose(); // the connection is gone: only Angus's bookkeeping is left, no command
      }
    } catch (MessagingException | RuntimeException e) {
      log.debug("{}: closing the folder failed: {}", mailbox, ImapFailures.detail(e, secret));
    }
    closeQuietly(store, mailbox, secret);
  }

  /** Closes a store, logging a failure at DEBUG without the secret. */
  static void closeQuietly(IMAPStore store, String mailbox, String secret) {
    try {
      store.close();
    } catch (MessagingException | RuntimeException e) {
      log.debug("{}: logging out failed: {}", mailbox, ImapFailures.detail(e, secret));
    }
  }

  @Override
  public String toString() {
    return "ImapConnection[" + mailbox + "]"; // never the secret
  }

  /**
   * Watches the untagged responses of one connection, Angus's and ours alike: an {@code EXISTS}
   * means new messages may have arrived since the last look, an {@code OK [UIDVALIDITY n]} with
   * another value means the UIDs no longer name the same messages. Used by one session at a time;
   * the reader's lock hands it from one to the next.
   */
  static final class Watch implements ResponseHandler {
    /** No message has a UID at or above this, unless {@link #changed}; -1 if unknown. */
    long noneFrom;
    boolean changed;
    final long validity;
    boolean validityChanged;
    long newValidity = -1;

    Watch(long uidNext, long validity) {
      this.noneFrom = uidNext;
      this.validity = validity;
    }

    /** Notes what an untagged response says about new messages or the UIDVALIDITY. */
    @Override
    public void handleResponse(Response r) {
      if (r instanceof IMAPResponse ir && ir.keyEquals("EXISTS")) {
        changed = true;
      } else if (r.isOK() || r.isNO() || r.isBAD()) {
        // toString() is the line as received, and leaves the response's read position to Angus
        String line = r.toString();
        int at = line.indexOf("[UIDVALIDITY ");
        if (at >= 0) {
          int start = at + "[UIDVALIDITY ".length();
          int end = start;
          while (end < line.length() && Character.isDigit(line.charAt(end))) {
            end++;
          }
          try {
            long value = Long.parseLong(line.substring(start, end));
            if (value != validity) {
              newValidity = value;
              validityChanged = true;
            }
          } catch (NumberFormatException e) {
            changed = true; // unreadable: look again rather than trust what we knew
          }
        }
      }
    }
  }
}
