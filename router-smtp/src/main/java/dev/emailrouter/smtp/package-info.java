/**
 * The router's SMTP transport: {@link dev.emailrouter.smtp.SmtpTransport}, a {@link
 * dev.emailrouter.api.MailTransport} with its own SMTP client protocol layer (RFC 5321 and the
 * extensions it uses: PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN, STARTTLS, AUTH), on the JDK's
 * sockets and TLS; the message bytes come from the MIME composer in {@code router-support}, which
 * router-graph shares.
 *
 * <p>{@code SmtpTransport} and its builder are the only public types; everything else in this
 * package is an implementation detail and may change.
 */
package dev.emailrouter.smtp;
