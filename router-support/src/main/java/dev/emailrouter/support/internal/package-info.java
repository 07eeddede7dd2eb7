/**
 * Internal and unsupported: the helpers the protocol adapters ({@code router-smtp}, {@code
 * router-imap}, {@code router-pop3}) share, and the one the engine shares with them ({@link
 * dev.emailrouter.support.internal.Idna}): setting checks, connection properties and TLS trust,
 * the OAuth2 SASL exchange, secrets kept out of exceptions, header-block parsing; the MIME composer
 * of the outgoing transports is in {@code support.internal.mime}. Every type here
 * may change or vanish without notice in any release; hosts must not use it, and get it only as a
 * dependency of the modules that do.
 */
package dev.emailrouter.support.internal;
