package dev.emailrouter.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;

/** The databases router-jdbc speaks, told apart by the connection's metadata. */
enum Dialect {
  /** PostgreSQL 12 or later: set-based claims with {@code FOR UPDATE SKIP LOCKED}. */
  POSTGRESQL("postgresql", "SELECT nextval('email_tracking_number_seq')",
      "SELECT nextval('email_tracking_number_seq') FROM generate_series(1, ?)"),
  /** H2 2.x, for embedded use: claims serialised by a row lock. */
  H2("h2", "VALUES NEXT VALUE FOR email_tracking_number_seq",
      "SELECT NEXT VALUE FOR email_tracking_number_seq FROM SYSTEM_RANGE(1, ?)");

  private final String folder;
  private final String nextTrackingNumber;
  private final String nextTrackingNumbers;

  Dialect(String folder, String nextTrackingNumber, String nextTrackingNumbers) {
    this.folder = folder;
    this.nextTrackingNumber = nextTrackingNumber;
    this.nextTrackingNumbers = nextTrackingNumbers;
  }

  /** The resource path of one of this dialect's scripts, e.g. {@code dev/emailrouter/jdbc/h2/V2__email.sql}. */
  String script(String component, int version) {
    return "dev/emailrouter/jdbc/" + folder + "/V" + version + "__" + component + ".sql";
  }

  String nextTrackingNumberSql() {
    return nextTrackingNumber;
  }

  /** One query, one parameter (the count): a row with a new sequence value for each. */
  String nextTrackingNumbersSql() {
    return nextTrackingNumbers;
  }

  /**
   * The dialect of the database a connection leads to.
   *
   * @throws IllegalArgumentException for a database router-jdbc does not support
   */
  static Dialect of(Connection connection) throws SQLException {
    String product = connection.getMetaData().getDatabaseProductName();
    String name = product == null ? "" : product.toLowerCase(Locale.ROOT);
    if (name.contains("postgresql")) {
      return POSTGRESQL;
    }
    if (name.equals("h2")) {
      return H2;
    }
    throw new IllegalArgumentException("router-jdbc supports PostgreSQL and H2; the DataSource leads to " + product
        + ". Implement ActivityStore over your own tables instead (see the README).");
  }
}
