package dev.emailrouter.jdbc;

import dev.emailrouter.testkit.ActivityStoreContract;

/** The testkit's store contract against JdbcActivityStore on H2 in memory. */
final class H2ActivityStoreContractTest extends ActivityStoreContract {

  @Override
  protected Fixture newFixture() {
    return new StoreFixture(TestDatabases.h2());
  }
}
