/**
 * The router's POP3 mailbox reader: {@link dev.emailrouter.pop3.Pop3MailboxReader}, the only
 * public type of this module, reads a mailbox incrementally by UIDL on Jakarta Mail (Angus).
 * Everything else here is package-private.
 */
package dev.emailrouter.pop3;
