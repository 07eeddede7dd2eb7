package dev.emailrouter.core;

import dev.emailrouter.api.RawMessage;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The SHA-256 digest of a whole message, every byte of its headers and body, as {@code sha256:}
 * and 64 hex digits. Taken while the parser reads the message, so a large message is read once,
 * not twice. The idempotency key of a message without a Message-ID, and the fingerprint that tells
 * a different message reusing a Message-ID from a copy of the same one. For one thread.
 */
final class ContentDigest {
  static final String PREFIX = "sha256:";

  private final MessageDigest digest = sha256();
  private boolean complete;

  /**
   * The message with a source that digests its bytes as they are read; {@link #finish} gives the
   * digest once they were.
   */
  RawMessage watching(RawMessage raw) {
    return new RawMessage(raw.ref(), raw.size(), () -> {
      digest.reset();
      complete = false;
      return new Digesting(raw.content().open());
    });
  }

  /**
   * The digest of the whole message; reads it again only if the parser stopped before its end.
   *
   * @throws IOException if the message can't be read again
   */
  String finish(RawMessage raw) throws IOException {
    if (!complete) {
      digest.reset();
      try (InputStream in = raw.content().open()) {
        in.transferTo(new DigestOutputStream(OutputStream.nullOutputStream(), digest));
      }
    }
    return PREFIX + HexFormat.of().formatHex(digest.digest());
  }

  /**
   * The digest of a message inside another one (a forwarded original), as its bytes are written
   * out: streamed, not copied. When they can't be written (the parser was lenient with what the
   * writer refuses), the digest of the outer message and the original's place in it instead: the
   * same forward still gives the same key.
   *
   * @param outerDigest the outer message's digest
   * @param index the original's place among the outer message's forwarded originals
   */
  static String of(MimeMessage message, String outerDigest, int index) {
    MessageDigest d = sha256();
    try {
      message.writeTo(new DigestOutputStream(OutputStream.nullOutputStream(), d));
    } catch (IOException | MessagingException | RuntimeException e) {
      d.reset();
      d.update((outerDigest + "#" + index).getBytes(StandardCharsets.US_ASCII));
    }
    return PREFIX + HexFormat.of().formatHex(d.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Digests what passes through; skipping reads too, so no byte escapes the digest. */
  private final class Digesting extends FilterInputStream {
    Digesting(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b < 0) {
        complete = true;
      } else {
        digest.update((byte) b);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n < 0) {
        complete = true;
      } else {
        digest.update(b, off, n);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] buffer = new byte[(int) Math.min(8192, Math.max(n, 0))];
      long skipped = 0;
      while (skipped < n) {
        int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
        if (r < 0) {
          break;
        }
        skipped += r;
      }
      return skipped;
    }

    @Override
    public boolean markSupported() {
      return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
      // Not supported: a reset would digest bytes twice.
    }

    @Override
    public synchronized void reset() throws IOException {
      throw new IOException("mark/reset not supported");
    }
  }
}
