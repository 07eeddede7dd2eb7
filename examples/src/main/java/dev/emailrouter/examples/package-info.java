/**
 * Runnable programs a newcomer starts first: {@link dev.emailrouter.examples.Quickstart} (embedded
 * mail server, in-memory CRM) and {@link dev.emailrouter.examples.ScheduledRouter} (a scheduler
 * driving {@code tick()} with a clean shutdown). A ready store over JDBC tables is router-jdbc's
 * {@code dev.emailrouter.jdbc.JdbcActivityStore}.
 */
package dev.emailrouter.examples;
