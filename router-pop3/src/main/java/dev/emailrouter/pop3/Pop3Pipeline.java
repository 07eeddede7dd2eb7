package dev.emailrouter.pop3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * POP3 command pipelining (RFC 2449 PIPELINING) on the connection Angus logged in on: a window of
 * commands goes out in one write and the replies are read back in order, so a maildrop of small
 * messages costs a round trip per window instead of one per message.
 *
 * <p>At most {@link #WINDOW} commands are unanswered at any time; when half of them are answered
 * the next half goes out, so the server always has work queued. Memory stays bounded whatever the
 * message sizes: each reply's body is handed to the caller as a stream, read straight off the
 * socket (dot-stuffing undone on the way), and the caller decides whether it lands in memory or in
 * a temp file. A command line is at most a few dozen bytes, so a window never fills the socket's
 * send buffer and the write can't wait on the server reading.
 *
 * <p>Between runs the connection is exactly where Angus left it: every reply is read whole, so
 * Angus's lock-step commands (DELE, RSET, QUIT) continue on it. If anything fails mid-window (the
 * connection drops, a read times out, the server answers out of protocol, a temp file can't be
 * written) the socket is closed, since the replies still on their way would otherwise be taken by
 * Angus for answers to its own commands; the failure goes to the caller, and the session is over.
 *
 * <p>For the one thread using the session.
 */
final class Pop3Pipeline {

  /** The most commands sent and not yet answered. */
  static final int WINDOW = 32;
  /** RFC 2449: a response line is at most 512 octets; a little slack for servers that stretch it. */
  private static final int MAX_STATUS_LINE = 1024;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  /** The receive buffer, made at the first run: a session with nothing new never needs it. */
  private byte[] buffer;
  private int pos;
  private int limit;
  private boolean broken;
  /** The text of the last -ERR reply, for messages. */
  private String lastError = "";

  Pop3Pipeline(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  /** Called for each reply, in the order of the commands. */
  interface Replies {
    /**
     * One reply.
     *
     * @param index the command's position in the list given to {@link #run}
     * @param ok whether the server said {@code +OK}
     * @param body for {@code +OK} to a multi-line command, its data (read as much as wanted, the
     *     rest is skipped); otherwise {@code null}
     * @throws IOException if the body can't be read or stored
     */
    void reply(int index, boolean ok, InputStream body) throws IOException;
  }

  /**
   * Sends the commands (each {@code RETR n}, {@code TOP n k} or a single-line one) and hands each
   * reply to {@code replies}, in order.
   *
   * @param commands command lines without CRLF
   * @param multiLine whether {@code +OK} to each command is followed by data (RETR, TOP)
   * @param replies told of every reply
   * @throws IOException if the connection fails or the server's answer is out of protocol; the
   *     socket is closed then
   */
  void run(List<String> commands, boolean multiLine, Replies replies) throws IOException {
    if (broken) {
      throw new IOException("the connection was closed after an earlier failure");
    }
    if (buffer == null) {
      buffer = new byte[64 * 1024];
    }
    int n = commands.size();
    int sent = 0;
    try {
      for (int answered = 0; answered < n; answered++) {
        if (sent < n && sent - answered <= WINDOW / 2) {
          sent = send(commands, sent, Math.min(n, answered + WINDOW));
        }
        boolean ok = status();
        if (ok && multiLine) {
          Body body = new Body();
          replies.reply(answered, true, body);
          body.skipRest();
        } else {
          replies.reply(answered, ok, null);
        }
      }
    } catch (IOException | RuntimeException | Error e) {
      broken = true;
      try {
        socket.close();
      } catch (IOException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
  }

  /**
   * The last {@code -ERR} reply read, e.g. for an error message; empty before any.
   *
   * @return the reply line without CRLF
   */
  String lastError() {
    return lastError;
  }

  /**
   * Closes the connection, after a QUIT sent through the pipeline, so that nothing Angus sends
   * afterwards (its own QUIT at close) reaches the server.
   */
  void close() {
    broken = true;
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  private int send(List<String> commands, int from, int to) throws IOException {
    StringBuilder lines = new StringBuilder((to - from) * 16);
    for (int i = from; i < to; i++) {
      lines.append(commands.get(i)).append("\r\n");
    }
    out.write(lines.toString().getBytes(StandardCharsets.US_ASCII));
    out.flush();
    return to;
  }

  /** Reads a status line: {@code true} for +OK, {@code false} for -ERR. */
  private boolean status() throws IOException {
    if (pos == limit && !fill()) {
      throw new IOException("EOF on socket while waiting for a POP3 reply");
    }
    int begin = pos;
    int length = 0;
    int first = -1;
    int second = -1;
    while (true) {
      if (pos == limit && !fill()) {
        throw new IOException("EOF on socket while waiting for a POP3 reply");
      }
      byte b = buffer[pos++];
      if (b == '\n') {
        break;
      }
      if (length == 0) {
        first = b;
      } else if (length == 1) {
        second = b;
      }
      if (++length > MAX_STATUS_LINE) {
        throw new IOException("the server sent a reply line longer than " + MAX_STATUS_LINE + " bytes");
      }
    }
    if (first == '+' && second == 'O') {
      return true;
    }
    if (first == '-' && second == 'E') {
      // Only an -ERR is kept as text (rare); when the line straddled a refill its start is gone.
      int end = pos - 1;
      lastError = end >= begin && end - begin == length
          ? new String(buffer, begin, length, StandardCharsets.ISO_8859_1).strip()
          : "-ERR";
      return false;
    }
    throw new IOException("the server answered out of the POP3 protocol (a reply neither +OK nor -ERR)");
  }

  private boolean fill() throws IOException {
    if (pos == limit) {
      pos = 0;
      limit = 0;
    }
    int read = in.read(buffer, limit, buffer.length - limit);
    if (read < 0) {
      return false;
    }
    limit += read;
    return true;
  }

  /** Makes at least {@code n} bytes readable at {@code pos}, unless the connection ends first. */
  private boolean ensure(int n) throws IOException {
    if (limit - pos >= n) {
      return true;
    }
    if (pos > 0) {
      System.arraycopy(buffer, pos, buffer, 0, limit - pos);
      limit -= pos;
      pos = 0;
    }
    while (limit < n) {
      int read = in.read(buffer, limit, buffer.length - limit);
      if (read < 0) {
        return false;
      }
      limit += read;
    }
    return true;
  }

  /**
   * The data of one multi-line reply, up to the line holding only a dot, with the leading dot of
   * dot-stuffed lines removed; line ends stay as the server sent them.
   */
  private final class Body extends InputStream {
    private boolean lineStart = true;
    private boolean done;
    /** Where the run {@link #segment} made readable starts in the buffer. */
    private int start;

    @Override
    public int read() throws IOException {
      return segment(1) < 0 ? -1 : buffer[start] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return done ? -1 : 0;
      }
      int n = segment(len);
      if (n > 0) {
        System.arraycopy(buffer, start, b, off, n);
      }
      return n;
    }

    @Override
    public long transferTo(OutputStream target) throws IOException {
      long total = 0;
      // straight from the receive buffer: no copy in between
      for (int n = segment(buffer.length); n >= 0; n = segment(buffer.length)) {
        target.write(buffer, start, n);
        total += n;
      }
      return total;
    }

    /**
     * Makes the next run of data (at most {@code max} bytes, never past a line end) readable at
     * {@link #start} and consumes it; returns its length, or -1 at the end of the data.
     */
    private int segment(int max) throws IOException {
      if (done) {
        return -1;
      }
      if (lineStart) {
        if (!ensure(1)) {
          throw eof();
        }
        if (buffer[pos] == '.') {
          // ".CRLF" (or ".LF") ends the data; any other line starting with a dot was stuffed.
          if (!ensure(2)) {
            throw eof();
          }
          byte next = buffer[pos + 1];
          if (next == '\n') {
            pos += 2;
            done = true;
            return -1;
          }
          if (next == '\r') {
            if (!ensure(3)) {
              throw eof();
            }
            if (buffer[pos + 2] == '\n') {
              pos += 3;
              done = true;
              return -1;
            }
          }
          pos++;
        }
        lineStart = false;
      }
      if (pos == limit && !fill()) {
        throw eof();
      }
      int end = Math.min(limit, pos + max);
      int i = pos;
      while (i < end && buffer[i] != '\n') {
        i++;
      }
      if (i < end) {
        i++; // the LF belongs to this line
        lineStart = true;
      }
      start = pos;
      pos = i;
      return i - start;
    }

    void skipRest() throws IOException {
      while (segment(buffer.length) >= 0) {
        // dropped
      }
    }

    private IOException eof() {
      return new IOException("EOF on socket in the middle of a POP3 reply");
    }
  }
}
