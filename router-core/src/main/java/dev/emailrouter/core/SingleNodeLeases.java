package dev.emailrouter.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** {@link MailboxLeases#singleNode()}: every lease is granted, for ever; nothing is stored. */
final class SingleNodeLeases implements MailboxLeases {
  static final SingleNodeLeases INSTANCE = new SingleNodeLeases();

  private SingleNodeLeases() {}

  @Override
  public int liveOwners(String owner, Duration ttl) {
    return 1;
  }

  @Override
  public Optional<Lease> acquire(String mailbox, String owner, Duration duration) {
    return Optional.of(new Lease(mailbox, owner, 0, Instant.MAX));
  }

  @Override
  public Optional<Lease> renew(Lease lease, Duration duration) {
    return Optional.of(lease);
  }

  @Override
  public void release(Lease lease) {
    // nothing is held
  }
}
