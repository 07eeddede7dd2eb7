/**
 * The router's SMTP transport: {@link dev.emailrouter.smtp.SmtpTransport}, a {@link
 * dev.emailrouter.api.MailTransport} on Jakarta Mail (Angus).
 *
 * <p>{@code SmtpTransport} and its builder are the only public types; everything else in this
 * package is an implementation detail and may change.
 */
package dev.emailrouter.smtp;
