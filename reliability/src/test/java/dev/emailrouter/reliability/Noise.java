package dev.emailrouter.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/** A stream of {@code size} seeded pseudo-random bytes, made as it is read: large content that is never in memory. */
final class Noise extends InputStream {
  private final Random random;
  private final byte[] block = new byte[64 * 1024];
  private long left;
  private int pos = block.length;

  Noise(long seed, long size) {
    this.random = new Random(seed);
    this.left = size;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) {
    if (left == 0) {
      return -1;
    }
    if (pos == block.length) {
      random.nextBytes(block);
      pos = 0;
    }
    int n = (int) Math.min(Math.min(len, block.length - pos), left);
    System.arraycopy(block, pos, b, off, n);
    pos += n;
    left -= n;
    return n;
  }

  /** The SHA-256 of the bytes a Noise with this seed and size gives, in hex. */
  static String sha256(long seed, long size) {
    try (Noise in = new Noise(seed, size)) {
      return sha256(in);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String sha256(InputStream in) throws IOException {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[64 * 1024];
      int n;
      while ((n = in.read(buffer)) > 0) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
