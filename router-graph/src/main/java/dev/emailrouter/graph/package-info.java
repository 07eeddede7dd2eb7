/**
 * Exchange Online through Microsoft Graph: {@link dev.emailrouter.graph.GraphMailboxReader} reads a
 * mail folder incrementally by delta query, {@link dev.emailrouter.graph.GraphTransport} sends the
 * router's MIME with {@code sendMail}. Both take app-only OAuth2 tokens (router-oauth2's client
 * credentials grant, scope {@code https://graph.microsoft.com/.default}).
 */
package dev.emailrouter.graph;
