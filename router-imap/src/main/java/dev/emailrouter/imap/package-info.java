/**
 * Reads mailboxes over IMAP: {@link dev.emailrouter.imap.ImapMailboxReader}, the router's {@link
 * dev.emailrouter.api.MailboxReader} on Jakarta Mail (Angus).
 *
 * <p>It is incremental by UIDVALIDITY and UID (a tick with nothing new costs a constant number of
 * round trips whatever the mailbox size), fetches headers first and whole messages only for those
 * the engine tracks, in bulk, and never sets {@code \Seen} while reading. Everything in this
 * package except {@code ImapMailboxReader} and its nested types is internal.
 */
package dev.emailrouter.imap;
