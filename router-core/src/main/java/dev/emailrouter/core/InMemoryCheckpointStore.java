package dev.emailrouter.core;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** Checkpoints in a map; thread-safe. */
final class InMemoryCheckpointStore implements CheckpointStore {
  private final ConcurrentMap<String, MailboxCheckpoint> checkpoints = new ConcurrentHashMap<>();

  @Override
  public Optional<MailboxCheckpoint> load(String mailbox) {
    return Optional.ofNullable(checkpoints.get(mailbox));
  }

  @Override
  public void save(String mailbox, MailboxCheckpoint checkpoint) {
    checkpoints.put(Objects.requireNonNull(mailbox, "mailbox"), Objects.requireNonNull(checkpoint, "checkpoint"));
  }
}
