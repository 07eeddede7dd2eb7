package dev.emailrouter.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Applies router-jdbc's schema scripts and checks, when a store is built, that the tables it needs
 * are there in the version it speaks.
 */
final class Schema {
  /** The version of each component's tables this code reads and writes, unless {@link #version} says otherwise. */
  static final int VERSION = 1;
  /** The email tables' version: 2 added email_delivery_report (V2__email.sql also upgrades a version 1 database). */
  static final int EMAIL_VERSION = 2;
  static final String VERSION_TABLE = "router_schema_version";

  private Schema() {}

  /** The version of a component's tables this code reads and writes. */
  static int version(String component) {
    return component.equals("email") ? EMAIL_VERSION : VERSION;
  }

  /** Runs a component's script (idempotent: every statement is CREATE ... IF NOT EXISTS or an upsert). */
  static void apply(DataSource dataSource, String component) {
    try (Connection c = dataSource.getConnection()) {
      String script = Dialect.of(c).script(component, version(component));
      String sql = read(script);
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        for (String statement : statements(sql)) {
          st.execute(statement);
        }
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw new IllegalStateException("running " + script + " failed: " + e.getMessage(), e);
      } finally {
        c.setAutoCommit(autoCommit);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("the database for router-jdbc's " + component + " tables can't be reached: "
          + e.getMessage(), e);
    }
  }

  /**
   * Fails unless the version table says the component is at {@link #version} and every table can
   * be read, naming what is missing and the script that creates it.
   *
   * @return the database's dialect
   */
  static Dialect check(DataSource dataSource, String component, List<String> tables, String createHint) {
    try (Connection c = dataSource.getConnection()) {
      Dialect dialect = Dialect.of(c);
      int expected = version(component);
      String script = dialect.script(component, expected);
      String remedy = " Run " + script + " (in router-jdbc's jar) against the database, or call " + createHint + ".";
      Integer version;
      try (PreparedStatement ps = c.prepareStatement("SELECT version FROM " + VERSION_TABLE + " WHERE component = ?")) {
        ps.setString(1, component);
        try (ResultSet rs = ps.executeQuery()) {
          version = rs.next() ? Integer.valueOf(rs.getInt(1)) : null;
        }
      } catch (SQLException e) {
        rollbackQuietly(c);
        throw new IllegalStateException("table " + VERSION_TABLE + " is missing or unreadable (" + e.getMessage()
            + ")." + remedy, e);
      }
      if (version == null) {
        throw new IllegalStateException("table " + VERSION_TABLE + " has no row for component '" + component
            + "': router-jdbc's " + component + " tables were never created." + remedy);
      }
      if (version < expected) {
        throw new IllegalStateException("router-jdbc's " + component + " tables are at version " + version
            + " (table " + VERSION_TABLE + "); this router-jdbc needs version " + expected + "." + remedy);
      }
      if (version > expected) {
        throw new IllegalStateException("router-jdbc's " + component + " tables are at version " + version
            + " (table " + VERSION_TABLE + "), newer than this router-jdbc understands (" + expected
            + "): upgrade router-jdbc.");
      }
      for (String table : tables) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM " + table + " WHERE 1 = 0")) {
          rs.next();
        } catch (SQLException e) {
          rollbackQuietly(c);
          throw new IllegalStateException("table " + table + " is missing or unreadable (" + e.getMessage() + ")."
              + remedy, e);
        }
      }
      return dialect;
    } catch (SQLException e) {
      throw new IllegalStateException("the database for router-jdbc's " + component + " tables can't be reached: "
          + e.getMessage(), e);
    }
  }

  /**
   * Whether a component's tables were created in this database (its row in the version table),
   * without failing when they weren't.
   */
  static boolean present(DataSource dataSource, String component) {
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement ps = c.prepareStatement("SELECT version FROM " + VERSION_TABLE + " WHERE component = ?")) {
        ps.setString(1, component);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next();
        }
      } catch (SQLException e) {
        rollbackQuietly(c);
        return false;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("the database for router-jdbc's tables can't be reached: " + e.getMessage(), e);
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      if (!c.getAutoCommit()) {
        c.rollback(); // PostgreSQL refuses every later statement of a transaction after an error
      }
    } catch (SQLException ignored) {
      // the connection goes back to the pool either way
    }
  }

  private static String read(String resource) {
    try (InputStream in = Schema.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from router-jdbc's jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(resource + " can't be read: " + e.getMessage(), e);
    }
  }

  /** The script's statements: comments dropped, split at semicolons that end a line. */
  static List<String> statements(String script) {
    StringBuilder current = new StringBuilder();
    List<String> out = new ArrayList<>();
    for (String line : script.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("--")) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        String statement = current.toString().strip();
        out.add(statement.substring(0, statement.length() - 1));
        current.setLength(0);
      }
    }
    if (!current.toString().isBlank()) {
      out.add(current.toString().strip());
    }
    return out;
  }
}
