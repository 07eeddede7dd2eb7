package dev.emailrouter.api;

import java.io.IOException;
import java.io.InputStream;

/**
 * Opens the bytes of a body, an attachment or a whole message as a stream, so large content never
 * has to sit in memory whole.
 *
 * <p>Each call returns a new stream from the start; the caller closes it. Implementations may be
 * called more than once (a retried send opens an attachment again) and should be safe to call from
 * any thread.
 */
@FunctionalInterface
public interface ContentSource {

  /**
   * Opens a new stream over the content, from its first byte.
   *
   * @return a stream the caller must close
   * @throws IOException if the content can't be read
   */
  InputStream open() throws IOException;

  /**
   * Returns a source over an in-memory array (the array is not copied; don't change it afterwards).
   *
   * @param bytes the content
   * @return a source that opens a stream over {@code bytes}
   */
  static ContentSource ofBytes(byte[] bytes) {
    java.util.Objects.requireNonNull(bytes, "bytes");
    return () -> new java.io.ByteArrayInputStream(bytes);
  }
}
