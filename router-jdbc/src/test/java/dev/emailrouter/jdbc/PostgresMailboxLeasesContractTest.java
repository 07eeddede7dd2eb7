package dev.emailrouter.jdbc;

/** {@link MailboxLeasesContract} on Postgres. */
final class PostgresMailboxLeasesContractTest extends MailboxLeasesContract {
  @Override
  Fixture newFixture() {
    return LeaseFixtures.jdbc(TestDatabases.postgres());
  }
}
