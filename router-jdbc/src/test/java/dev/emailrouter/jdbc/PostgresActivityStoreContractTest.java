package dev.emailrouter.jdbc;

import dev.emailrouter.testkit.ActivityStoreContract;

/** The testkit's store contract against JdbcActivityStore on a real PostgreSQL (embedded). */
final class PostgresActivityStoreContractTest extends ActivityStoreContract {

  @Override
  protected Fixture newFixture() {
    return new StoreFixture(TestDatabases.postgres());
  }
}
