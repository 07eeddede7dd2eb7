/**
 * The router's engine: {@link dev.emailrouter.core.RouterEngine} and what a host configures it
 * with ({@link dev.emailrouter.core.Mailbox}, {@link dev.emailrouter.core.CheckpointStore}, {@link
 * dev.emailrouter.core.RouterListener}), what it reports ({@link
 * dev.emailrouter.core.TickReport}, {@link dev.emailrouter.core.RouterEvent}), and {@link
 * dev.emailrouter.core.InMemoryActivityStore}, a reference store for tests and examples.
 *
 * <p>This package knows no mail protocol; the adapters (router-smtp, router-imap, router-pop3)
 * implement the SPIs of {@code dev.emailrouter.api}.
 */
package dev.emailrouter.core;
