package dev.emailrouter.jdbc;

/** {@link MailboxLeasesContract} on H2. */
final class H2MailboxLeasesContractTest extends MailboxLeasesContract {
  @Override
  Fixture newFixture() {
    return LeaseFixtures.jdbc(TestDatabases.h2());
  }
}
