package dev.emailrouter.jdbc;

/** {@link MailboxLeasesContract} on InMemory. */
final class InMemoryMailboxLeasesContractTest extends MailboxLeasesContract {
  @Override
  Fixture newFixture() {
    return LeaseFixtures.inMemory();
  }
}
