package dev.emailrouter.pop3;

import dev.emailrouter.api.ContentSource;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Receives one message as it streams off the connection: in memory while it is small, in a temp
 * file once it passes the threshold, so a large message is never held whole in memory (and never
 * twice).
 *
 * <p>Angus writes one byte at a time while it undoes the POP3 dot-stuffing, so the in-memory
 * buffer here is a plain array rather than a synchronized {@code ByteArrayOutputStream}.
 *
 * <p>For one thread; the {@link ContentSource} it returns may be opened from any thread.
 */
final class MessageSpool extends OutputStream {

  private final int threshold;
  private final Consumer<Path> tempFiles;
  private byte[] buffer;
  private int count;
  private Path file;
  private OutputStream fileOut;
  private long size;
  private boolean finished;

  /**
   * Creates a spool.
   *
   * @param threshold messages larger than this many bytes go to a temp file
   * @param expectedSize the size the server announced, or -1 when unknown; a message announced
   *     above the threshold goes to a file from its first byte
   * @param tempFiles told about every temp file created, so the session can delete it at close
   * @throws IOException if the temp file can't be created
   */
  MessageSpool(int threshold, long expectedSize, Consumer<Path> tempFiles) throws IOException {
    this.threshold = threshold;
    this.tempFiles = tempFiles;
    if (expectedSize > threshold) {
      spill();
    } else {
      buffer = new byte[(int) Math.max(1024, expectedSize < 0 ? 8192 : expectedSize + 256)];
    }
  }

  @Override
  public void write(int b) throws IOException {
    if (fileOut == null) {
      if (count == buffer.length) {
        makeRoom(1);
      }
      if (fileOut == null) {
        buffer[count++] = (byte) b;
        size++;
        return;
      }
    }
    fileOut.write(b);
    size++;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    if (fileOut == null && count + len > buffer.length) {
      makeRoom(len);
    }
    if (fileOut == null) {
      System.arraycopy(b, off, buffer, count, len);
      count += len;
    } else {
      fileOut.write(b, off, len);
    }
    size += len;
  }

  private void makeRoom(int more) throws IOException {
    long needed = (long) count + more;
    if (needed > threshold) {
      spill();
    } else {
      buffer = Arrays.copyOf(buffer, (int) Math.min(threshold, Math.max(needed, 2L * buffer.length)));
    }
  }

  private void spill() throws IOException {
    file = Files.createTempFile("emailrouter-pop3-", ".eml"); // owner-only permissions on POSIX
    tempFiles.accept(file);
    fileOut = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
    if (buffer != null) {
      fileOut.write(buffer, 0, count);
      buffer = null;
      count = 0;
    }
  }

  /**
   * Ends the message.
   *
   * @return a source over its bytes (the temp file, or the array), valid until the temp file is
   *     deleted
   * @throws IOException if the temp file can't be written
   */
  ContentSource finish() throws IOException {
    finished = true;
    if (fileOut != null) {
      fileOut.close();
      Path path = file;
      return () -> new BufferedInputStream(Files.newInputStream(path), 64 * 1024);
    }
    byte[] bytes = buffer;
    int length = count;
    return () -> new ByteArrayInputStream(bytes, 0, length);
  }

  /**
   * The number of bytes written.
   *
   * @return the size
   */
  long size() {
    return size;
  }

  /**
   * Whether the message went to a temp file.
   *
   * @return {@code true} once it passed the threshold
   */
  boolean spilled() {
    return file != null;
  }

  /** Releases the file handle of an unfinished spool (after a failed download). */
  @Override
  public void close() {
    if (!finished && fileOut != null) {
      try {
        fileOut.close();
      } catch (IOException e) {
        // the file is deleted with the session's other temp files
      }
    }
  }
}
