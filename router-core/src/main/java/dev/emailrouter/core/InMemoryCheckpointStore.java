package dev.emailrouter.core;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** Checkpoints in a map, each with the fencing token it was last written under; thread-safe. */
final class InMemoryCheckpointStore implements CheckpointStore {
  private record Entry(MailboxCheckpoint checkpoint, long fencingToken) {}

  private final ConcurrentMap<String, Entry> checkpoints = new ConcurrentHashMap<>();

  @Override
  public Optional<MailboxCheckpoint> load(String mailbox) {
    return Optional.ofNullable(checkpoints.get(mailbox)).map(Entry::checkpoint);
  }

  @Override
  public void save(String mailbox, MailboxCheckpoint checkpoint) {
    Objects.requireNonNull(mailbox, "mailbox");
    Objects.requireNonNull(checkpoint, "checkpoint");
    // An unfenced write keeps the token a fenced one left: a newer lease still wins over a stale one.
    checkpoints.compute(mailbox, (k, old) -> new Entry(checkpoint, old == null ? 0 : old.fencingToken()));
  }

  @Override
  public boolean save(String mailbox, MailboxCheckpoint checkpoint, long fencingToken) {
    Objects.requireNonNull(mailbox, "mailbox");
    Objects.requireNonNull(checkpoint, "checkpoint");
    boolean[] saved = new boolean[1];
    checkpoints.compute(mailbox, (k, old) -> {
      if (old != null && old.fencingToken() > fencingToken) {
        return old;
      }
      saved[0] = true;
      return new Entry(checkpoint, fencingToken);
    });
    return saved[0];
  }
}
