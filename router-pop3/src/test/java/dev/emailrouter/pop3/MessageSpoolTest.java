package dev.emailrouter.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ContentSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class MessageSpoolTest {

  private final List<Path> files = new ArrayList<>();

  @AfterEach
  void deleteFiles() throws IOException {
    for (Path file : files) {
      Files.deleteIfExists(file);
    }
  }

  private static byte[] random(int length) {
    byte[] bytes = new byte[length];
    new Random(length).nextBytes(bytes);
    return bytes;
  }

  private static byte[] read(ContentSource source) throws IOException {
    try (InputStream in = source.open()) {
      return in.readAllBytes();
    }
  }

  @Test
  void finish_belowThreshold_keepsTheBytesInMemory() throws IOException {
    byte[] bytes = random(5_000);
    MessageSpool spool = new MessageSpool(10_000, -1, files::add);
    for (byte b : bytes) {
      spool.write(b);
    }

    ContentSource source = spool.finish();

    assertThat(spool.spilled()).isFalse();
    assertThat(files).isEmpty();
    assertThat(spool.size()).isEqualTo(5_000);
    assertThat(read(source)).isEqualTo(bytes);
  }

  @Test
  void finish_aboveThreshold_movesTheBytesToATempFile() throws IOException {
    byte[] bytes = random(25_000);
    MessageSpool spool = new MessageSpool(10_000, 100, files::add);
    spool.write(bytes, 0, 3);
    for (int i = 3; i < 12_000; i++) {
      spool.write(bytes[i]);
    }
    spool.write(bytes, 12_000, bytes.length - 12_000);

    ContentSource source = spool.finish();

    assertThat(spool.spilled()).isTrue();
    assertThat(files).singleElement().satisfies(file -> assertThat(Files.size(file)).isEqualTo(25_000));
    assertThat(spool.size()).isEqualTo(25_000);
    assertThat(read(source)).isEqualTo(bytes);
    assertThat(read(source)).isEqualTo(bytes);
  }

  @Test
  void constructor_withAnnouncedSizeAboveThreshold_writesToAFileFromTheStart() throws IOException {
    MessageSpool spool = new MessageSpool(10_000, 50_000, files::add);

    assertThat(spool.spilled()).isTrue();
    spool.write(random(10), 0, 10);
    assertThat(read(spool.finish())).isEqualTo(random(10));
  }
}
