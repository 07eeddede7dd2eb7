package dev.emailrouter.testfixtures;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The server side of one SMTP connection at the line level, shared by the tests' scripted SMTP servers:
 * reads command lines, writes single and multiline replies (optionally holding some back to send with
 * the next one, as a pipelining server does), reads message data up to the lone dot with dot-unstuffing
 * (RFC 5321 section 4.5.2), and upgrades the socket for STARTTLS. What to answer is the server's script;
 * this class knows nothing of it.
 *
 * <p>Lines are ISO-8859-1, so every byte maps to one char and back. Every reply is flushed at once.
 *
 * <p>Not thread-safe: one connection's handler thread owns it.
 */
public final class SmtpWire {

  /** Header text kept per message at most; the rest is counted, not kept. */
  private static final int MAX_HEADER_CHARS = 256 * 1024;

  private final InputStream in;
  private final OutputStream out;
  private final StringBuilder held = new StringBuilder();
  private byte[] line = new byte[1024];

  /**
   * Wraps a connected socket's streams.
   *
   * @param socket the accepted (or TLS-upgraded) socket, not null; the caller closes it
   * @throws IOException if the socket's streams can't be had
   */
  public SmtpWire(Socket socket) throws IOException {
    this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
    this.out = new BufferedOutputStream(socket.getOutputStream());
  }

  /**
   * The message data read after a 354: its header block, its size, and the whole content when asked for.
   *
   * @param headers the header lines up to the blank line, CRLF-terminated, dot-unstuffed, at most 256 K chars
   * @param size the bytes of unstuffed content including each line's CRLF
   * @param content the unstuffed content, lines ending in CRLF, or null when not kept
   */
  public record Data(String headers, long size, byte[] content) {}

  /**
   * Sends the held replies, then this one, in one write.
   *
   * @param text the reply without its CRLF, not null
   * @throws IOException if the client went away
   */
  public void reply(String text) throws IOException {
    held.append(text).append("\r\n");
    out.write(held.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    held.setLength(0);
  }

  /**
   * Keeps a reply back until the next {@link #reply} or {@link #multiline}, for a server that answers a
   * pipelined group of commands at once.
   *
   * @param text the reply without its CRLF, not null
   */
  public void hold(String text) {
    held.append(text).append("\r\n");
  }

  /**
   * Sends the held replies, then a multiline reply, {@code code-} on every line but the last.
   *
   * @param code the three-digit code, e.g. {@code "250"}, not null
   * @param lines the reply texts, at least one, not null
   * @throws IOException if the client went away
   */
  public void multiline(String code, List<String> lines) throws IOException {
    for (int i = 0; i < lines.size(); i++) {
      held.append(code).append(i == lines.size() - 1 ? ' ' : '-').append(lines.get(i)).append("\r\n");
    }
    out.write(held.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    held.setLength(0);
  }

  /**
   * Whether more input has already arrived, i.e. the client sent the next command without waiting for
   * the reply to this one.
   *
   * @return true if bytes are waiting to be read
   * @throws IOException if the socket is broken
   */
  public boolean hasMore() throws IOException {
    return in.available() > 0;
  }

  /**
   * Reads one line.
   *
   * @return the line without its CRLF (a bare LF ends a line too), or null at the end of the stream,
   *     also when the stream ends in the middle of a line
   * @throws IOException if the socket is broken
   */
  public String readLine() throws IOException {
    int n = read();
    return n < 0 ? null : new String(line, 0, n, StandardCharsets.ISO_8859_1);
  }

  /**
   * Reads message data up to the line holding only a dot, removing the leading dot of stuffed lines.
   *
   * @param keepContent whether to keep the whole content, not only the headers
   * @return the data read
   * @throws IOException if the socket is broken
   * @throws SocketException if the stream ends before the lone dot
   */
  public Data readData(boolean keepContent) throws IOException {
    StringBuilder headers = new StringBuilder();
    boolean inHeaders = true;
    long size = 0;
    ByteArrayOutputStream content = keepContent ? new ByteArrayOutputStream() : null;
    int n;
    while ((n = read()) >= 0) {
      if (n == 1 && line[0] == '.') {
        return new Data(headers.toString(), size, content == null ? null : content.toByteArray());
      }
      int off = n > 0 && line[0] == '.' ? 1 : 0;
      size += n - off + 2;
      if (content != null) {
        content.write(line, off, n - off);
        content.write('\r');
        content.write('\n');
      }
      if (inHeaders) {
        if (n - off == 0) {
          inHeaders = false;
        } else if (headers.length() < MAX_HEADER_CHARS) {
          headers.append(new String(line, off, n - off, StandardCharsets.ISO_8859_1)).append("\r\n");
        }
      }
    }
    throw new SocketException("connection closed in the middle of DATA");
  }

  /**
   * Turns a plain connection into TLS after the server's 220 to STARTTLS, as the server end.
   *
   * @param plain the connected plain socket, not null; closing the result closes it
   * @param context the server's TLS context, not null
   * @return the TLS socket, handshake done; read and write it through a new {@code SmtpWire}
   * @throws IOException if the handshake fails
   */
  public static SSLSocket startTls(Socket plain, SSLContext context) throws IOException {
    SSLSocket secured = (SSLSocket) context.getSocketFactory()
        .createSocket(plain, plain.getInetAddress().getHostAddress(), plain.getPort(), true);
    secured.setUseClientMode(false);
    secured.startHandshake();
    return secured;
  }

  /**
   * The address between angle brackets in a MAIL FROM or RCPT TO line.
   *
   * @param line the command line, not null
   * @return the address, empty for {@code <>} or when there are no brackets
   */
  public static String address(String line) {
    int open = line.indexOf('<');
    int close = line.indexOf('>', open + 1);
    return open >= 0 && close > open ? line.substring(open + 1, close) : "";
  }

  /** Reads one line into {@link #line}; returns its length without CRLF, or -1 at the end of the stream. */
  private int read() throws IOException {
    int n = 0;
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        return n > 0 && line[n - 1] == '\r' ? n - 1 : n;
      }
      if (n == line.length) {
        line = Arrays.copyOf(line, n * 2);
      }
      line[n++] = (byte) b;
    }
    return -1;
  }
}
