/**
 * The Email Router's service-provider interfaces and the immutable values that cross them.
 *
 * <p>A host implements {@link dev.emailrouter.api.ActivityStore} for its CRM; the router ships
 * implementations of {@link dev.emailrouter.api.MailTransport} (SMTP), {@link
 * dev.emailrouter.api.MailboxReader} (IMAP, POP3) and {@link dev.emailrouter.api.TrackingPolicy}
 * that a host may replace. This package depends on the JDK alone.
 *
 * <p>Every value type here is an immutable record, validated when it is built: a bad value fails
 * with an {@link java.lang.IllegalArgumentException} or {@link java.lang.NullPointerException}
 * naming the component. Collections are copied to unmodifiable ones.
 */
package dev.emailrouter.api;
