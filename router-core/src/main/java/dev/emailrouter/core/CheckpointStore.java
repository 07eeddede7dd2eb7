package dev.emailrouter.core;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Keeps each mailbox's {@link MailboxCheckpoint}, so a restarted engine continues where it stopped.
 *
 * <p>The engine saves a checkpoint only after every message before it was tracked, rejected or
 * recorded for a retry, so a crash makes it see some messages again, never skip one. Two ready-made
 * stores: {@link #inMemory()} (the default; a restart reads every mailbox from the start, and the
 * store's idempotent creation absorbs the repeats) and {@link #directory(Path)} (durable JSON
 * files). Implementations must be thread-safe; the engine may save different mailboxes at once.
 */
public interface CheckpointStore {

  /**
   * Loads a mailbox's checkpoint.
   *
   * @param mailbox the mailbox name
   * @return the checkpoint, or empty for a mailbox never read
   */
  Optional<MailboxCheckpoint> load(String mailbox);

  /**
   * Saves a mailbox's checkpoint durably before returning.
   *
   * @param mailbox the mailbox name
   * @param checkpoint the checkpoint
   */
  void save(String mailbox, MailboxCheckpoint checkpoint);

  /**
   * A store in memory, lost when the process ends.
   *
   * @return a new, empty store
   */
  static CheckpointStore inMemory() {
    return new InMemoryCheckpointStore();
  }

  /**
   * A durable store: one JSON file per mailbox in {@code directory} (created if missing), replaced
   * atomically and forced to disk on every save, so a crash leaves either the old or the new
   * checkpoint, never a torn one.
   *
   * @param directory the directory
   * @return the store
   * @throws IllegalArgumentException if the directory can't be created or isn't writable
   */
  static CheckpointStore directory(Path directory) {
    return new FileCheckpointStore(directory);
  }
}
