package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.TransientRouterException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class FileCheckpointStoreTest {
  private static final String MAILBOX = "imap://sales@mail.example.com:993/INBOX";

  @TempDir
  Path dir;

  private static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    }
  }

  @Test
  void load_ofAMailboxNeverSaved_isEmpty() {
    assertThat(CheckpointStore.directory(dir).load(MAILBOX)).isEmpty();
  }

  @Test
  void save_thenLoad_returnsTheSameCheckpoint() {
    CheckpointStore store = CheckpointStore.directory(dir);
    MailboxCheckpoint checkpoint = new MailboxCheckpoint("17:4242", Map.of("4100", 2, "4177", 1));

    store.save(MAILBOX, checkpoint);

    assertThat(store.load(MAILBOX)).hasValue(checkpoint);
  }

  @Test
  void save_replacesThePreviousCheckpoint() {
    CheckpointStore store = CheckpointStore.directory(dir);
    store.save(MAILBOX, new MailboxCheckpoint("1:1", Map.of("1", 1)));

    store.save(MAILBOX, new MailboxCheckpoint("1:2", Map.of()));

    assertThat(store.load(MAILBOX)).hasValue(new MailboxCheckpoint("1:2", Map.of()));
  }

  @Test
  void aNewInstanceOnTheSameDirectory_loadsWhatTheOldOneSaved() {
    CheckpointStore.directory(dir).save(MAILBOX, new MailboxCheckpoint("cursor with \"quotes\" and ü", Map.of()));

    assertThat(CheckpointStore.directory(dir).load(MAILBOX))
        .hasValue(new MailboxCheckpoint("cursor with \"quotes\" and ü", Map.of()));
  }

  @Test
  void mailboxes_areKeptApart() {
    CheckpointStore store = CheckpointStore.directory(dir);
    store.save("a", new MailboxCheckpoint("1", Map.of()));
    store.save("b", new MailboxCheckpoint("2", Map.of()));

    assertThat(store.load("a")).hasValue(new MailboxCheckpoint("1", Map.of()));
    assertThat(store.load("b")).hasValue(new MailboxCheckpoint("2", Map.of()));
  }

  @Test
  void save_leavesNoTemporaryFileBehind() throws IOException {
    CheckpointStore store = CheckpointStore.directory(dir);
    store.save(MAILBOX, new MailboxCheckpoint("1:1", Map.of()));
    store.save(MAILBOX, new MailboxCheckpoint("1:2", Map.of()));

    assertThat(files(dir)).singleElement().satisfies(p -> assertThat(p.getFileName().toString()).endsWith(".json"));
  }

  @Test
  void aTornTemporaryFileLeftByACrash_breaksNeitherLoadNorSave() throws IOException {
    CheckpointStore store = CheckpointStore.directory(dir);
    store.save(MAILBOX, new MailboxCheckpoint("1:1", Map.of()));
    Path file = files(dir).get(0);
    Files.writeString(dir.resolve(file.getFileName() + ".tmp"), "{\"cursor\":\"1:9", StandardCharsets.UTF_8);

    CheckpointStore restarted = CheckpointStore.directory(dir);
    assertThat(restarted.load(MAILBOX)).hasValue(new MailboxCheckpoint("1:1", Map.of()));

    restarted.save(MAILBOX, new MailboxCheckpoint("1:2", Map.of()));
    assertThat(restarted.load(MAILBOX)).hasValue(new MailboxCheckpoint("1:2", Map.of()));
    assertThat(files(dir)).hasSize(1);
  }

  @Test
  void aCorruptCheckpointFile_failsWithAMessageNamingTheMailboxAndFile() throws IOException {
    CheckpointStore store = CheckpointStore.directory(dir);
    store.save(MAILBOX, new MailboxCheckpoint("1:1", Map.of()));
    Path file = files(dir).get(0);
    Files.writeString(file, "{not json", StandardCharsets.UTF_8);

    assertThatThrownBy(() -> store.load(MAILBOX))
        .isInstanceOf(TransientRouterException.class)
        .hasMessageContaining(MAILBOX)
        .hasMessageContaining(file.toString());
  }

  @Test
  void aDirectoryThatCantBeCreated_failsClearly() throws IOException {
    Path aFile = Files.writeString(dir.resolve("not-a-directory"), "x");

    assertThatThrownBy(() -> CheckpointStore.directory(aFile.resolve("checkpoints")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("checkpoint directory")
        .hasMessageContaining(aFile.resolve("checkpoints").toString())
        .hasMessageContaining("can't be created");
  }

  @Test
  void aMissingDirectory_isCreated() {
    Path nested = dir.resolve("a/b/c");

    CheckpointStore.directory(nested).save(MAILBOX, MailboxCheckpoint.START);

    assertThat(Files.isDirectory(nested)).isTrue();
  }

  @Test
  void concurrentSavesOfDifferentMailboxes_allLand() throws Exception {
    CheckpointStore store = CheckpointStore.directory(dir);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<?>> futures = new java.util.ArrayList<>();
    for (int m = 0; m < 8; m++) {
      String name = "mailbox-" + m;
      futures.add(pool.submit(() -> {
        for (int i = 0; i <= 20; i++) {
          store.save(name, new MailboxCheckpoint(Integer.toString(i), Map.of()));
        }
        return null;
      }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    pool.shutdown();

    for (int m = 0; m < 8; m++) {
      assertThat(store.load("mailbox-" + m)).hasValue(new MailboxCheckpoint("20", Map.of()));
    }
  }
}
