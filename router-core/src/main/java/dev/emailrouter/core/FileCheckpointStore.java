package dev.emailrouter.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.emailrouter.api.TransientRouterException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One JSON file per mailbox, named by a digest of the mailbox name (names hold characters no file
 * name may). Written to a temporary file, forced, moved over the old one atomically, and the
 * directory forced, so a crash leaves the old or the new checkpoint. Thread-safe: saves of one
 * mailbox are serialised by the engine, and different mailboxes use different files.
 */
final class FileCheckpointStore implements CheckpointStore {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path directory;

  FileCheckpointStore(Path directory) {
    this.directory = Objects.requireNonNull(directory, "directory");
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new IllegalArgumentException("checkpoint directory " + directory + " can't be created: " + e, e);
    }
    if (!Files.isWritable(directory)) {
      throw new IllegalArgumentException("checkpoint directory " + directory + " is not writable");
    }
  }

  @Override
  public Optional<MailboxCheckpoint> load(String mailbox) {
    Path file = fileOf(mailbox);
    try {
      JsonNode node = JSON.readTree(Files.readAllBytes(file));
      Map<String, Integer> failures = new LinkedHashMap<>();
      node.path("failures").properties().forEach(e -> failures.put(e.getKey(), e.getValue().asInt()));
      return Optional.of(new MailboxCheckpoint(node.path("cursor").asText(""), failures));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new TransientRouterException("checkpoint of mailbox " + mailbox + " in " + file + " can't be read: " + e, e);
    }
  }

  @Override
  public void save(String mailbox, MailboxCheckpoint checkpoint) {
    ObjectNode node = JSON.createObjectNode();
    node.put("mailbox", mailbox);
    node.put("cursor", checkpoint.cursor());
    ObjectNode failures = node.putObject("failures");
    checkpoint.failures().forEach(failures::put);
    Path file = fileOf(mailbox);
    Path temp = directory.resolve(file.getFileName() + ".tmp");
    try {
      byte[] bytes = JSON.writeValueAsString(node).getBytes(StandardCharsets.UTF_8);
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      forceDirectory();
    } catch (IOException e) {
      throw new TransientRouterException("checkpoint of mailbox " + mailbox + " can't be written to " + file + ": " + e,
          e);
    }
  }

  private void forceDirectory() {
    // Makes the rename itself durable; not every platform lets a directory be opened, hence best effort.
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    } catch (IOException ignored) {
      // Windows: directories can't be opened; the rename is still atomic.
    }
  }

  private Path fileOf(String mailbox) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(mailbox.getBytes(StandardCharsets.UTF_8));
      return directory.resolve("mailbox-" + HexFormat.of().formatHex(digest, 0, 16) + ".json");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
