/**
 * Runnable programs a newcomer starts first: {@link dev.emailrouter.examples.Quickstart} (embedded
 * mail server, in-memory CRM), {@link dev.emailrouter.examples.JdbcActivityStore} (the store a host
 * writes, over a small JDBC schema) and {@link dev.emailrouter.examples.ScheduledRouter} (a
 * scheduler driving {@code tick()} with a clean shutdown).
 */
package dev.emailrouter.examples;
