package dev.emailrouter.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** {@link MailboxLeases#inMemory(Clock)}: one map, guarded by this; thread-safe. */
final class InMemoryMailboxLeases implements MailboxLeases {
  private final Clock clock;
  /** Mailbox name → its current (or last) lease; the token stays when it is released or expires. */
  private final Map<String, Lease> leases = new HashMap<>();
  private final Map<String, Instant> owners = new HashMap<>();

  InMemoryMailboxLeases(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public synchronized int liveOwners(String owner, Duration ttl) {
    Instant now = clock.instant();
    owners.put(Objects.requireNonNull(owner, "owner"), now.plus(ttl));
    owners.values().removeIf(until -> !until.isAfter(now));
    return Math.max(1, owners.size());
  }

  @Override
  public synchronized Optional<Lease> acquire(String mailbox, String owner, Duration duration) {
    Objects.requireNonNull(mailbox, "mailbox");
    Objects.requireNonNull(owner, "owner");
    Instant now = clock.instant();
    Lease current = leases.get(mailbox);
    if (current != null && current.expiresAt().isAfter(now) && !current.owner().equals(owner)) {
      return Optional.empty();
    }
    Lease lease = new Lease(mailbox, owner, current == null ? 1 : current.fencingToken() + 1, now.plus(duration));
    leases.put(mailbox, lease);
    return Optional.of(lease);
  }

  @Override
  public synchronized Optional<Lease> renew(Lease lease, Duration duration) {
    Lease current = leases.get(lease.mailbox());
    if (current == null || current.fencingToken() != lease.fencingToken() || !current.owner().equals(lease.owner())) {
      return Optional.empty();
    }
    Lease renewed = new Lease(lease.mailbox(), lease.owner(), lease.fencingToken(), clock.instant().plus(duration));
    leases.put(lease.mailbox(), renewed);
    return Optional.of(renewed);
  }

  @Override
  public synchronized void release(Lease lease) {
    Lease current = leases.get(lease.mailbox());
    if (current != null && current.fencingToken() == lease.fencingToken() && current.owner().equals(lease.owner())) {
      leases.put(lease.mailbox(), new Lease(lease.mailbox(), lease.owner(), lease.fencingToken(), clock.instant()));
    }
  }
}
