package dev.emailrouter.jdbc;

import dev.emailrouter.api.TransientRouterException;
import java.sql.SQLException;

/** A unique key was violated: for {@code createReceived} the sign that the activity exists already. */
final class DuplicateKeyException extends TransientRouterException {
  private static final long serialVersionUID = 1L;

  DuplicateKeyException(SQLException cause) {
    super("router-jdbc database: a row with the same key exists already: " + cause.getMessage(), cause);
  }
}
