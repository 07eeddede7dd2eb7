/**
 * Internal and unsupported: the one MIME composer of the outgoing transports ({@code router-smtp},
 * {@code router-graph}). {@link dev.emailrouter.support.internal.mime.MimeComposer} turns an
 * {@link dev.emailrouter.api.OutgoingEmail} into RFC 5322 / MIME bytes (encoded words, folding, the
 * recorded Message-ID, multipart, streamed attachments, 7bit / quoted-printable / base64 chosen by
 * Jakarta Mail's rule, Bcc never in the message, CR/LF in header values refused) and its envelope;
 * each transport keeps only what its protocol adds. Jakarta Mail's MIME classes need a provider at
 * run time (Angus Mail), which each adapter brings. May change or vanish in any release.
 */
package dev.emailrouter.support.internal.mime;
