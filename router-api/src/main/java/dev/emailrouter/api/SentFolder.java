package dev.emailrouter.api;

/**
 * Keeps a copy of each sent email in its sender's Sent folder: what Server-Side Synchronization
 * calls "copy to Sent Items". The engine calls it after the outgoing server accepted an email
 * (wholly or for some recipients), with the exact bytes the server received.
 *
 * <p>A copy is idempotent: when a message with the email's Message-ID is already in the folder,
 * nothing is added. So a resend (an at-least-once repeat after a lost claim, a crash between the
 * copy and {@code markSent}, a later attempt for recipients that were refused for now) never leaves
 * two copies.
 *
 * <p>Implementations must be thread-safe: the engine may call {@link #keepCopy} from several send
 * sessions at once (for different emails). A failed copy never changes the email's state; the
 * engine reports it and tries again on a later tick.
 */
public interface SentFolder {

  /**
   * Appends the message to the sender's ({@link OutgoingEmail#from()}) Sent folder, unless a message
   * with the email's Message-ID ({@link OutgoingEmail#messageId()}) is already there.
   *
   * @param email the email that was sent, with its recorded Message-ID; never {@code null}
   * @param message the exact bytes the server received (CRLF line ends, not dot-stuffed); may be
   *     opened more than once, each time from the first byte
   * @throws TransientRouterException if the copy could not be made now (server unreachable, timeout,
   *     connection lost): the engine tries again later
   * @throws PermanentRouterException if it can never be made as configured (login refused, no Sent
   *     folder): the engine reports it and gives the copy up
   */
  void keepCopy(OutgoingEmail email, ContentSource message);

  /**
   * Describes where copies go, e.g. {@code imap://imap.example.com:143}, never with a secret.
   *
   * @return the description
   */
  default String describe() {
    return getClass().getSimpleName();
  }
}
