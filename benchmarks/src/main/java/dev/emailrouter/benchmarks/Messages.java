package dev.emailrouter.benchmarks;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Random;

/** The test messages: incoming RFC 5322 text with LF line ends (as maildir stores it), and bodies. */
final class Messages {

  private static final String LINE =
      "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.";

  private Messages() {}

  /** ASCII text of exactly {@code size} bytes in lines of at most 76 characters, LF line ends. */
  static String text(int size) {
    StringBuilder out = new StringBuilder(size);
    int n = 0;
    while (out.length() < size) {
      String line = (n++ % 7) + " " + LINE.substring(0, 70) + "\n";
      out.append(line);
    }
    out.setLength(size);
    if (size > 0) {
      out.setCharAt(size - 1, '\n');
    }
    return out.toString();
  }

  /**
   * An incoming customer message of about {@code size} bytes (never less than its headers), from a
   * distinct sender to {@code to}, with a unique Message-ID.
   */
  static byte[] incoming(String mailbox, int i, String to, int size) {
    String headers = "Return-Path: <customer" + i + "@client.test>\n"
        + "Received: from client.test (client.test [192.0.2.1]) by mail.example.test with ESMTP;"
        + " Mon, 1 Jan 2024 10:00:00 +0000\n"
        + "Message-ID: <" + mailbox + "." + i + "@client.test>\n"
        + "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
        + "From: Customer " + i + " <customer" + i + "@client.test>\n"
        + "To: Sales <" + to + ">\n"
        + "Subject: Question " + i + " about an order\n"
        + "MIME-Version: 1.0\n"
        + "Content-Type: text/plain; charset=UTF-8\n"
        + "Content-Transfer-Encoding: 7bit\n"
        + "\n";
    int body = Math.max(64, size - headers.length());
    return (headers + text(body)).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Writes a multipart message with a short text part and one base64 attachment of {@code
   * attachmentBytes} pseudo-random bytes (incompressible, like a real file), LF line ends.
   *
   * @return the file's size
   */
  static long writeLarge(Path file, String to, long attachmentBytes) throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      String head = "Return-Path: <big@client.test>\n"
          + "Received: from client.test by mail.example.test with ESMTP; Mon, 1 Jan 2024 10:00:00 +0000\n"
          + "Message-ID: <large.1@client.test>\n"
          + "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
          + "From: Big Sender <big@client.test>\n"
          + "To: <" + to + ">\n"
          + "Subject: A large drawing\n"
          + "MIME-Version: 1.0\n"
          + "Content-Type: multipart/mixed; boundary=\"b0undary\"\n"
          + "\n"
          + "--b0undary\n"
          + "Content-Type: text/plain; charset=UTF-8\n"
          + "\n"
          + "The drawing is attached.\n"
          + "--b0undary\n"
          + "Content-Type: application/octet-stream; name=\"drawing.bin\"\n"
          + "Content-Disposition: attachment; filename=\"drawing.bin\"\n"
          + "Content-Transfer-Encoding: base64\n"
          + "\n";
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      Random random = new Random(42);
      Base64.Encoder mime = Base64.getMimeEncoder(76, new byte[] {'\n'});
      byte[] chunk = new byte[57 * 1000];
      long left = attachmentBytes;
      while (left > 0) {
        int n = (int) Math.min(chunk.length, left);
        random.nextBytes(chunk);
        byte[] piece = n == chunk.length ? chunk : java.util.Arrays.copyOf(chunk, n);
        out.write(mime.encode(piece));
        out.write('\n');
        left -= n;
      }
      out.write("--b0undary--\n".getBytes(StandardCharsets.US_ASCII));
    }
    return Files.size(file);
  }

  /** Writes {@code bytes} pseudo-random bytes to a file (an attachment to send). */
  static void writeRandom(Path file, long bytes) throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      Random random = new Random(7);
      byte[] chunk = new byte[1 << 16];
      long left = bytes;
      while (left > 0) {
        int n = (int) Math.min(chunk.length, left);
        random.nextBytes(chunk);
        out.write(chunk, 0, n);
        left -= n;
      }
    }
  }
}
