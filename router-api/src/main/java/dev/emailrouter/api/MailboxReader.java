package dev.emailrouter.api;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads one mailbox incrementally: what arrived since a cursor, headers first.
 *
 * <p>Per tick the engine opens a {@link Session}, fetches the new messages' headers, lets the
 * policy decide, downloads only the messages it will track, creates their activities, then calls
 * {@link Session#dispose} and only after that stores the returned cursor. A crash anywhere in
 * between makes the next tick see the same messages again; the store's idempotent creation keeps
 * that from duplicating activities.
 *
 * <p>The engine uses one session of a reader at a time, from one thread, but may use different
 * readers concurrently. The router's implementations are {@code ImapMailboxReader} (router-imap)
 * and {@code Pop3MailboxReader} (router-pop3).
 */
public interface MailboxReader {

  /**
   * A stable description of the mailbox, e.g. {@code imap://sales@mail.example.com:993/INBOX};
   * used in reports, logs and as the default checkpoint key; never a credential.
   *
   * @return the description
   */
  String describe();

  /**
   * Connects and opens the mailbox.
   *
   * @return a session the caller must close
   * @throws TransientRouterException if the server can't be reached now
   * @throws PermanentRouterException if it refused the login or the mailbox does not exist
   */
  Session open();

  /**
   * Test Access: checks this reader's settings against the server without reading or changing
   * anything, step by step (reach, greeting, TLS, login, folders), each failure naming the setting
   * to change. It does not throw for a failing server: the failure is in the report.
   *
   * <p><b>The default implementation</b>, for readers written before this method existed, opens a
   * session and closes it again, and reports that as one {@link AccessStep.Check#LOGIN} step. The
   * router's IMAP and POP3 readers check each step on its own.
   *
   * @return the report; never {@code null}
   */
  default AccessReport testAccess() {
    try {
      open().close();
      return new AccessReport(describe(), List.of(
          AccessStep.passed(AccessStep.Check.LOGIN, "opened a session and closed it again")));
    } catch (RuntimeException e) {
      return new AccessReport(describe(), List.of(
          AccessStep.failed(AccessStep.Check.LOGIN, String.valueOf(e.getMessage()), null)));
    }
  }

  /** An open mailbox; for one thread at a time. */
  interface Session extends AutoCloseable {

    /**
     * Fetches the headers of messages after {@code cursor}, at most {@code max} of them, plus the
     * messages named in {@code retry} (handled before but not finished) that still exist.
     *
     * @param cursor a cursor this reader returned before, or the empty string for the first sync
     * @param retry references of messages to return again even though the cursor is past them
     * @param max the most new messages to return (retries come on top)
     * @return the messages and the cursor after them
     */
    NewMessages fetchNew(String cursor, Set<String> retry, int max);

    /**
     * {@link #fetchNew(String, Set, int)}, handing each message's headers to {@code arriving} as
     * soon as they are read, before the answer is complete: the engine reads them (parses their
     * addresses, dates and references) while the rest of the answer is still on the wire, so a large
     * batch costs little more than its transfer. The returned {@link NewMessages} stays the answer:
     * a message handed early may be left out of it (a filter, a message asked again), and one in it
     * may never have been handed early.
     *
     * <p><b>The default implementation</b> calls {@link #fetchNew(String, Set, int)} and hands
     * nothing early. The router's IMAP reader hands each message as its FETCH response is read.
     *
     * @param cursor as for {@link #fetchNew(String, Set, int)}
     * @param retry as for {@link #fetchNew(String, Set, int)}
     * @param max as for {@link #fetchNew(String, Set, int)}
     * @param arriving called on the calling thread, before this method returns, at most once per
     *     headers object; it does not throw
     * @return the messages and the cursor after them, as {@link #fetchNew(String, Set, int)} returns them
     */
    default NewMessages fetchNew(String cursor, Set<String> retry, int max, Consumer<MessageHeaders> arriving) {
      return fetchNew(cursor, retry, max);
    }

    /**
     * Downloads whole messages, in bulk where the protocol allows.
     *
     * @param refs references from {@link #fetchNew}
     * @return the messages that still exist, in the order asked; one deleted meanwhile is absent
     */
    List<RawMessage> fetchMessages(List<String> refs);

    /**
     * Applies the configured post-actions (leave, mark seen, move, delete) to handled messages.
     *
     * @param dispositions what the engine concluded, by reference
     */
    void dispose(Map<String, Disposition> dispositions);

    /** Closes the mailbox and the connection; never throws. */
    @Override
    void close();
  }
}
