package dev.emailrouter.smtp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Commands that carry a secret (an OAuth2 AUTH), written to the socket under an Angus SMTP
 * connection and their replies read from it, past Angus's protocol trace. Angus traces every
 * command of {@code simpleCommand} to its protocol logger (a host that turns on the finest level for
 * {@code dev.emailrouter} would log the token) and suspends the trace only inside its own
 * authenticators, by private methods.
 *
 * <p>The socket is the one {@link PipeliningSmtpTransport} learnt while it connected ({@link
 * SocketCapture}: the TCP socket, or the TLS one after STARTTLS). Between commands Angus holds
 * nothing in its buffers (each command is flushed, each reply read whole), so bytes written to and
 * read from that socket directly stay in step with Angus's own. For the thread that uses the
 * connection.
 */
final class UntracedCommands {
  /** RFC 5321 4.5.3.1.5: a reply line is at most 512 octets; a little room for lax servers. */
  private static final int MAX_REPLY_LINE = 2048;

  private UntracedCommands() {}

  /** A reply: its code (-1 at the end of the stream) and its lines, CRLF-joined. */
  record Reply(int code, String text) {}

  /**
   * Writes one command and reads its reply, neither through Angus's trace.
   *
   * @param socket the connection's socket, or {@code null} when it is not known
   * @throws IOException if the connection fails, or the socket is not known
   */
  static Reply command(Socket socket, String command) throws IOException {
    if (socket == null) {
      throw new IOException("the connection's socket is not known");
    }
    OutputStream out = socket.getOutputStream();
    out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = socket.getInputStream();
    StringBuilder text = new StringBuilder();
    while (true) {
      String line = readLine(in);
      if (line == null) {
        return new Reply(-1, text.length() == 0 ? "[EOF]" : text.toString());
      }
      if (text.length() > 0) {
        text.append("\r\n");
      }
      text.append(line);
      if (line.length() < 4 || line.charAt(3) != '-') {
        int code;
        try {
          code = line.length() >= 3 ? Integer.parseInt(line.substring(0, 3)) : -1;
        } catch (NumberFormatException e) {
          code = -1;
        }
        return new Reply(code, text.toString());
      }
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
      }
      if (line.size() < MAX_REPLY_LINE) {
        line.write(b);
      }
    }
    return null;
  }
}
