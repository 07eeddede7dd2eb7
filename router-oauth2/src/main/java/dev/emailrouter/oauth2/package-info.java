/**
 * OAuth2 logins for the SMTP, IMAP and POP3 adapters: {@link
 * dev.emailrouter.oauth2.OAuth2TokenProvider} fetches, caches and refreshes access tokens
 * (client-credentials and refresh-token flows, with Microsoft 365 and Google presets) and hands
 * them to an adapter where a password would go.
 */
package dev.emailrouter.oauth2;
