package dev.emailrouter.benchmarks;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A bare LMTP client (RFC 2033) for Dovecot's LMTP listener: one connection, one message, one
 * recipient. Dovecot answers the end of the data only once the message is stored in the recipient's
 * mailbox, so the moment that answer is read is "delivery accepted" as a mail server would see it
 * (Postfix's LMTP client waits for the same reply). For one thread.
 */
final class RawLmtp {

  private RawLmtp() {}

  /**
   * Delivers {@code message} (LF or CRLF line ends) to {@code recipient} and returns {@link
   * System#nanoTime()} at the moment the server's 250 for the data was read.
   *
   * @throws IOException if the server refuses any step
   */
  static long deliver(int port, String sender, String recipient, byte[] message) throws IOException {
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
      socket.setSoTimeout(60_000);
      InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 12);
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
      expect(in, "220", "greeting");
      send(out, "LHLO bench.test");
      expect(in, "250", "LHLO");
      send(out, "MAIL FROM:<" + sender + ">");
      expect(in, "250", "MAIL FROM");
      send(out, "RCPT TO:<" + recipient + ">");
      expect(in, "250", "RCPT TO");
      send(out, "DATA");
      expect(in, "354", "DATA");
      out.write(dotStuffedCrlf(message));
      out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // LMTP answers once per accepted recipient; with one recipient, one reply.
      expect(in, "250", "end of data");
      long accepted = System.nanoTime();
      send(out, "QUIT");
      return accepted;
    }
  }

  private static byte[] dotStuffedCrlf(byte[] message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + message.length / 40 + 4);
    boolean lineStart = true;
    for (int i = 0; i < message.length; i++) {
      byte b = message[i];
      if (lineStart && b == '.') {
        out.write('.');
      }
      if (b == '\n' && (i == 0 || message[i - 1] != '\r')) {
        out.write('\r');
      }
      out.write(b);
      lineStart = b == '\n';
    }
    if (!lineStart) {
      out.write('\r');
      out.write('\n');
    }
    return out.toByteArray();
  }

  private static void send(OutputStream out, String line) throws IOException {
    out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** Reads one reply (all its lines) and checks its code. */
  private static void expect(InputStream in, String code, String step) throws IOException {
    while (true) {
      String line = readLine(in);
      if (line.length() < 4 || line.charAt(3) != '-') {
        if (!line.startsWith(code)) {
          throw new IOException("LMTP " + step + " refused: " + line);
        }
        return;
      }
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new EOFException("LMTP server closed the connection");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.US_ASCII);
  }
}
