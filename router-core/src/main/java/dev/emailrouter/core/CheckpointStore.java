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
   * Saves a checkpoint under a mailbox lease, durably before returning, unless a newer lease fences
   * the write off: the engine calls this instead of {@link #save(String, MailboxCheckpoint)} when
   * it reads under {@link MailboxLeases} other than {@link MailboxLeases#singleNode()}. A store
   * shared by several engines must refuse a write whose {@code fencingToken} is lower than the
   * token of a write it already took for the mailbox (and may refuse it when its lease store knows
   * a newer token was issued), so an engine whose lease was taken over never moves the checkpoint
   * back. {@link #inMemory()} does; {@link #directory(java.nio.file.Path)} and this default, which
   * saves without a check, do not, and serve one engine only.
   *
   * @param mailbox the mailbox name
   * @param checkpoint the checkpoint
   * @param fencingToken the token of the lease the engine holds ({@link MailboxLeases.Lease#fencingToken()})
   * @return {@code true} when saved; {@code false} when refused because a newer lease wrote or holds
   *     the mailbox (the engine then stops reading it, as if its lease were lost)
   */
  default boolean save(String mailbox, MailboxCheckpoint checkpoint, long fencingToken) {
    save(mailbox, checkpoint);
    return true;
  }

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
