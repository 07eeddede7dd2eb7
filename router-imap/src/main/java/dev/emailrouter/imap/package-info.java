/**
 * Reads mailboxes over IMAP: {@link dev.emailrouter.imap.ImapMailboxReader}, the router's {@link
 * dev.emailrouter.api.MailboxReader} on Jakarta Mail (Angus).
 *
 * <p>It is incremental by UIDVALIDITY and UID (a tick with nothing new costs a constant number of
 * round trips whatever the mailbox size), fetches headers first and whole messages only for those
 * the engine tracks, in bulk, and never sets {@code \Seen} while reading. {@link
 * dev.emailrouter.imap.ImapIdleWatcher} (opt-in) tells the host by IMAP IDLE that a mailbox has new
 * mail, so its scheduler can run a tick at once. Everything in this package except {@code
 * ImapMailboxReader}, {@code ImapIdleWatcher}, {@code NewMailListener} and their nested types is
 * internal.
 */
package dev.emailrouter.imap;
