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
 * A bare IMAP client over a socket, the protocol-limit baseline for header reads: it sends a
 * command and reads the responses to the tagged answer, counting untagged FETCH responses and
 * skipping literals unparsed. For one thread.
 */
final class RawImap implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
  private int tag;

  RawImap(int port) throws IOException {
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
    socket.setSoTimeout(120_000);
    in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
    out = new BufferedOutputStream(socket.getOutputStream(), 1 << 12);
    readLine(); // greeting
  }

  /**
   * Sends one command and reads to its tagged answer.
   *
   * @return the number of untagged FETCH responses
   * @throws IOException if the answer is not OK
   */
  int command(String command) throws IOException {
    String t = "r" + (++tag);
    out.write((t + " " + command + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    int fetches = 0;
    while (true) {
      String l = readResponse();
      if (l.startsWith(t + " ")) {
        if (!l.startsWith(t + " OK")) {
          throw new IOException("IMAP command failed: " + l);
        }
        return fetches;
      }
      if (l.startsWith("* ") && l.indexOf(" FETCH ", 2) > 0 && l.indexOf(" FETCH ", 2) < 16) {
        fetches++;
      }
    }
  }

  /** One logical response line; literals inside it are skipped and their place marked with {}. */
  private String readResponse() throws IOException {
    StringBuilder logical = new StringBuilder();
    while (true) {
      String physical = readLine();
      logical.append(physical);
      int open = physical.lastIndexOf('{');
      if (physical.endsWith("}") && open >= 0) {
        long n = Long.parseLong(physical.substring(open + 1, physical.length() - 1).replace("+", ""));
        skip(n);
        continue;
      }
      return logical.toString();
    }
  }

  private String readLine() throws IOException {
    line.reset();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("connection closed by the server");
      }
      if (b == '\n') {
        int len = line.size();
        byte[] bytes = line.toByteArray();
        return new String(bytes, 0, len > 0 && bytes[len - 1] == '\r' ? len - 1 : len, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
    }
  }

  private void skip(long n) throws IOException {
    long left = n;
    while (left > 0) {
      long s = in.skip(left);
      if (s <= 0) {
        if (in.read() < 0) {
          throw new EOFException("connection closed inside a literal");
        }
        s = 1;
      }
      left -= s;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
