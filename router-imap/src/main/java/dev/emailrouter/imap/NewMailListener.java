package dev.emailrouter.imap;

/**
 * Told by an {@link ImapIdleWatcher} that a watched mailbox may have new mail, so the host's
 * scheduler can run a tick at once instead of at the next poll.
 *
 * <p>Called on the watcher's own threads, one per watched mailbox, possibly several times for one
 * burst of mail and for several mailboxes at once: an implementation should only ask the host's
 * scheduler for a tick (coalescing requests while one is pending) and return, never run the tick
 * itself on the calling thread, which holds the mailbox's IDLE connection meanwhile. A signal may
 * also come when nothing is new (after a reconnect, so mail that arrived while the connection was
 * down is read at once); the tick then finds nothing, which costs little.
 */
@FunctionalInterface
public interface NewMailListener {

  /**
   * The mailbox may have new mail.
   *
   * @param mailboxName the name the host gave {@link ImapIdleWatcher#watch(String, ImapMailboxReader)}
   */
  void newMail(String mailboxName);
}
