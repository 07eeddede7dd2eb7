/**
 * router-jdbc: a ready {@link dev.emailrouter.jdbc.JdbcActivityStore}, a {@link
 * dev.emailrouter.jdbc.JdbcCheckpointStore} and {@link dev.emailrouter.jdbc.JdbcMailboxLeases} (for
 * engines on several nodes sharing one database) on plain JDBC, PostgreSQL first, H2 for embedded
 * use; the schema scripts are in this jar under {@code dev/emailrouter/jdbc/postgresql/} and {@code
 * dev/emailrouter/jdbc/h2/}.
 */
package dev.emailrouter.jdbc;
