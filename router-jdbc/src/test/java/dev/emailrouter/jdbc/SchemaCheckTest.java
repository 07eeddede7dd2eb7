package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Building a store against missing or old tables fails at once, naming the table and the script to run. */
final class SchemaCheckTest {

  private static TestPool database(String kind) {
    return kind.equals("postgresql") ? TestDatabases.postgres() : TestDatabases.h2();
  }

  private static void execute(TestPool pool, String sql) throws SQLException {
    try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void activityStore_onAnEmptyDatabase_failsNamingTheVersionTableAndTheScript(String kind) throws SQLException {
    try (TestPool pool = database(kind)) {
      assertThatThrownBy(() -> new JdbcActivityStore(pool)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("router_schema_version")
          .hasMessageContaining("dev/emailrouter/jdbc/" + kind + "/V2__email.sql")
          .hasMessageContaining("JdbcActivityStore.createSchema(dataSource)");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void activityStore_whenATableIsMissing_failsNamingThatTable(String kind) throws SQLException {
    try (TestPool pool = database(kind)) {
      JdbcActivityStore.createSchema(pool);
      execute(pool, "DROP TABLE email_attachment");

      assertThatThrownBy(() -> new JdbcActivityStore(pool)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("table email_attachment is missing")
          .hasMessageContaining("V2__email.sql");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void activityStore_onTablesOfAnOlderVersion_failsNamingTheVersionsAndTheScript(String kind) throws SQLException {
    try (TestPool pool = database(kind)) {
      JdbcActivityStore.createSchema(pool);
      execute(pool, "UPDATE router_schema_version SET version = 0 WHERE component = 'email'");

      assertThatThrownBy(() -> new JdbcActivityStore(pool)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("at version 0").hasMessageContaining("needs version 2")
          .hasMessageContaining("V2__email.sql");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void checkpointStore_withoutItsTable_failsNamingTheTableAndTheScript(String kind) throws SQLException {
    try (TestPool pool = database(kind)) {
      JdbcActivityStore.createSchema(pool); // the email tables alone: the checkpoint component is separate
      Supplier<JdbcCheckpointStore> build = () -> new JdbcCheckpointStore(pool);
      assertThatThrownBy(build::get).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("component 'checkpoint'")
          .hasMessageContaining("dev/emailrouter/jdbc/" + kind + "/V1__checkpoint.sql");

      JdbcCheckpointStore.createSchema(pool);
      execute(pool, "DROP TABLE router_mailbox_checkpoint");
      assertThatThrownBy(build::get).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("table router_mailbox_checkpoint is missing");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void createSchema_twice_changesNothingAndTheStoreBuilds(String kind) throws SQLException {
    try (TestPool pool = database(kind)) {
      JdbcActivityStore.createSchema(pool);
      JdbcActivityStore.createSchema(pool);
      JdbcCheckpointStore.createSchema(pool);
      JdbcCheckpointStore.createSchema(pool);

      new JdbcActivityStore(pool);
      new JdbcCheckpointStore(pool);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void mailboxLeases_withoutTheirTables_orAtAnOlderVersion_failNamingTheTableAndTheScript(String kind)
      throws SQLException {
    try (TestPool pool = database(kind)) {
      JdbcCheckpointStore.createSchema(pool); // the checkpoint tables alone: the lease component is separate
      Supplier<JdbcMailboxLeases> build = () -> new JdbcMailboxLeases(pool);
      assertThatThrownBy(build::get).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("component 'lease'")
          .hasMessageContaining("dev/emailrouter/jdbc/" + kind + "/V1__lease.sql")
          .hasMessageContaining("JdbcMailboxLeases.createSchema(dataSource)");

      JdbcMailboxLeases.createSchema(pool);
      JdbcMailboxLeases.createSchema(pool); // idempotent
      build.get();
      execute(pool, "DROP TABLE router_lease_owner");
      assertThatThrownBy(build::get).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("table router_lease_owner is missing").hasMessageContaining("V1__lease.sql");

      JdbcMailboxLeases.createSchema(pool);
      execute(pool, "UPDATE router_schema_version SET version = 0 WHERE component = 'lease'");
      assertThatThrownBy(build::get).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("lease tables are at version 0").hasMessageContaining("needs version 1")
          .hasMessageContaining("V1__lease.sql");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void checkpointStore_atAnOlderVersion_failsNamingTheScript(String kind) throws SQLException {
    try (TestPool pool = database(kind)) {
      JdbcCheckpointStore.createSchema(pool);
      execute(pool, "UPDATE router_schema_version SET version = 0 WHERE component = 'checkpoint'");

      assertThatThrownBy(() -> new JdbcCheckpointStore(pool)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("checkpoint tables are at version 0").hasMessageContaining("V1__checkpoint.sql");
    }
  }
}
