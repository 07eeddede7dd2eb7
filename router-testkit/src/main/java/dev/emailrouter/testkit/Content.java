package dev.emailrouter.testkit;

import dev.emailrouter.api.ContentSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicBoolean;

/** Generated content for the contracts: large streams that never sit in memory whole, and digests. */
final class Content {

  private Content() {}

  /** A digest of a content, with its length, for comparing large content in a readable message. */
  record Fingerprint(long length, String sha256) {
    @Override
    public String toString() {
      return length + " bytes, SHA-256 " + sha256;
    }
  }

  /**
   * A source of {@code length} pseudo-random bytes from {@code seed}, generated as they are read, so
   * the store under test has to stream them.
   */
  static ContentSource generated(long seed, long length) {
    return () -> new GeneratedStream(seed, length);
  }

  /**
   * A source that works only until {@code valid} is cleared, like the attachment streams the engine
   * hands to {@code createReceived}; a stream opened before and read after fails too.
   */
  static ContentSource validWhile(AtomicBoolean valid, ContentSource source) {
    return () -> {
      if (!valid.get()) {
        throw new IOException(
            "this attachment stream was valid only during createReceived and was opened after it returned");
      }
      InputStream in = source.open();
      return new InputStream() {
        @Override
        public int read() throws IOException {
          check();
          return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          check();
          return in.read(b, off, len);
        }

        @Override
        public void close() throws IOException {
          in.close();
        }

        private void check() throws IOException {
          if (!valid.get()) {
            throw new IOException(
                "this attachment stream was valid only during createReceived and was read after it returned");
          }
        }
      };
    };
  }

  static Fingerprint fingerprint(ContentSource source) throws IOException {
    try (InputStream in = source.open()) {
      MessageDigest digest = sha256();
      byte[] buffer = new byte[64 * 1024];
      long length = 0;
      for (int n; (n = in.read(buffer)) >= 0; ) {
        digest.update(buffer, 0, n);
        length += n;
      }
      return new Fingerprint(length, HexFormat.of().formatHex(digest.digest()));
    }
  }

  static Fingerprint fingerprint(byte[] bytes) {
    try {
      return fingerprint(ContentSource.ofBytes(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] bytes(ContentSource source) throws IOException {
    try (InputStream in = source.open()) {
      return in.readAllBytes();
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** xorshift64 bytes: cheap, deterministic, incompressible enough to catch truncation and mix-ups. */
  private static final class GeneratedStream extends InputStream {
    private final long length;
    private long position;
    private long state;

    GeneratedStream(long seed, long length) {
      this.length = length;
      this.state = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    /** The byte at the current position: eight bytes per xorshift step. */
    private byte next() {
      int shift = (int) (position & 7);
      if (shift == 0) {
        state ^= state << 13;
        state ^= state >>> 7;
        state ^= state << 17;
      }
      position++;
      return (byte) (state >>> (shift * 8));
    }

    @Override
    public int read() {
      return position >= length ? -1 : next() & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      if (position >= length) {
        return -1;
      }
      int n = (int) Math.min(len, length - position);
      for (int i = 0; i < n; i++) {
        b[off + i] = next();
      }
      return n;
    }
  }
}
