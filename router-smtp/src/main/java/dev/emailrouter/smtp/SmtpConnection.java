package dev.emailrouter.smtp;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.SocketFactory;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SMTP client connection: the socket, our own buffered reader and writer on it, and the
 * commands and replies of RFC 5321 as values ({@link SmtpReply}). It knows the protocol's framing
 * (reply lines, command lines, the data's dot-stuffing and end), TLS (implicit or after STARTTLS),
 * the three timeouts, and the protocol trace; what a reply means for an email is the caller's.
 *
 * <p>Commands are buffered until {@link #flush()} (or a command that waits for its reply), so a
 * pipelined group (RFC 2920) goes out in one write. Replies are read with the read timeout, the
 * reply to the end of data with the data-end timeout (RFC 5321 4.5.3.2.6). Every socket write is
 * guarded by the transport's {@link WriteWatchdog}: a write that blocks longer than the write
 * timeout closes the TCP socket, and the write fails with {@link WriteTimeoutException}.
 *
 * <p>The trace: every command and reply at TRACE on this class's logger, except what carries a
 * secret: an AUTH exchange is traced as the mechanism and the reply codes only.
 *
 * <p>For one thread at a time; {@link #close()} may be called from any thread.
 */
final class SmtpConnection implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(SmtpConnection.class);
  /** RFC 5321 4.5.3.1.5: a reply line is at most 512 octets; room for lax servers, the rest dropped. */
  private static final int MAX_REPLY_LINE = 4096;
  /** More lines than any EHLO reply has; a server that never ends its reply is not waited on for ever. */
  private static final int MAX_REPLY_LINES = 1000;
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] END_OF_DATA = {'.', '\r', '\n'};
  private static final int OUT_BUFFER = 64 * 1024;
  /** Byte arrays read as longs, in the machine's byte order (any order serves a search for a byte). */
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
  private static final long DOTS = 0x2e2e2e2e2e2e2e2eL;
  private static final long LOWS = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  private final Socket raw;
  private final String description;
  private final int readTimeoutMillis;
  private final int dataEndTimeoutMillis;
  private final long writeTimeoutNanos;
  private final WriteWatchdog watchdog;
  private final boolean trace = log.isTraceEnabled();
  private final byte[] line = new byte[MAX_REPLY_LINE];
  private final byte[] inBuffer = new byte[8192];
  private byte[] commandBytes = new byte[512];
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private int inPos;
  private int inLen;
  private volatile boolean writeTimedOut;
  private SmtpCapabilities capabilities = SmtpCapabilities.NONE;
  private boolean tls;

  private SmtpConnection(Socket raw, Socket socket, String description, int readTimeoutMillis,
      int dataEndTimeoutMillis, long writeTimeoutNanos, WriteWatchdog watchdog, boolean tls) throws IOException {
    this.raw = raw;
    this.description = description;
    this.readTimeoutMillis = readTimeoutMillis;
    this.dataEndTimeoutMillis = dataEndTimeoutMillis;
    this.writeTimeoutNanos = writeTimeoutNanos;
    this.watchdog = watchdog;
    this.tls = tls;
    use(socket);
  }

  /**
   * The settings every connection of one transport shares.
   *
   * @param tls the TLS socket factory, or {@code null} for a transport that never uses TLS
   */
  record Settings(String host, int port, String description, SocketFactory plain, SSLSocketFactory tls,
      int connectTimeoutMillis, int readTimeoutMillis, int dataEndTimeoutMillis, long writeTimeoutNanos,
      WriteWatchdog watchdog) {
    Settings {
      java.util.Objects.requireNonNull(host, "host");
      java.util.Objects.requireNonNull(description, "description");
      java.util.Objects.requireNonNull(plain, "plain");
      java.util.Objects.requireNonNull(watchdog, "watchdog");
      if (connectTimeoutMillis < 1 || readTimeoutMillis < 1 || dataEndTimeoutMillis < 1 || writeTimeoutNanos < 1) {
        throw new IllegalArgumentException("timeouts must be positive, were connect " + connectTimeoutMillis
            + " ms, read " + readTimeoutMillis + " ms, data end " + dataEndTimeoutMillis + " ms, write "
            + writeTimeoutNanos + " ns");
      }
    }
  }

  /**
   * Connects (TCP, then TLS when {@code implicitTls}); the greeting is not read yet.
   *
   * @throws IOException if the connection or the TLS handshake fails or times out
   */
  static SmtpConnection open(Settings s, boolean implicitTls) throws IOException {
    Socket raw = s.plain().createSocket();
    try {
      raw.connect(new InetSocketAddress(s.host(), s.port()), s.connectTimeoutMillis());
      raw.setSoTimeout(s.readTimeoutMillis());
      Socket socket = implicitTls ? handshake(s.tls(), raw, s.host(), s.port()) : raw;
      return new SmtpConnection(raw, socket, s.description(), s.readTimeoutMillis(), s.dataEndTimeoutMillis(),
          s.writeTimeoutNanos(), s.watchdog(), implicitTls);
    } catch (IOException | RuntimeException e) {
      closeQuietly(raw);
      throw e;
    }
  }

  /**
   * TLS over the connected socket, the server's certificate checked against the trust store and its
   * name against the host (endpoint identification, as HTTPS does it: subject alternative names,
   * wildcards in the left-most label, an IP address against the IP names).
   */
  private static SSLSocket handshake(SSLSocketFactory factory, Socket raw, String host, int port) throws IOException {
    SSLSocket ssl = (SSLSocket) factory.createSocket(raw, host, port, true);
    SSLParameters parameters = ssl.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    ssl.setSSLParameters(parameters);
    ssl.startHandshake();
    return ssl;
  }

  private void use(Socket s) throws IOException {
    socket = s;
    in = s.getInputStream();
    // Room for a typical email whole: its content and the end of data leave in one write (one TCP
    // segment on loopback, one wake-up of the server) instead of the content written past a
    // smaller buffer and then the end of data alone.
    out = new BufferedOutputStream(new Guarded(s.getOutputStream()), OUT_BUFFER);
    inPos = 0;
    inLen = 0;
  }

  /** Whether the connection runs over TLS (implicit, or after STARTTLS). */
  boolean tls() {
    return tls;
  }

  /** What the server offered in its last reply to EHLO; {@link SmtpCapabilities#NONE} after HELO. */
  SmtpCapabilities capabilities() {
    return capabilities;
  }

  /** Reads the greeting (or any reply not answering a command of ours). */
  SmtpReply greeting() throws IOException {
    return readReply();
  }

  /** EHLO; a positive reply's extensions become {@link #capabilities()}. */
  SmtpReply ehlo(String name) throws IOException {
    SmtpReply reply = execute("EHLO " + name);
    capabilities = reply.positive() ? SmtpCapabilities.parse(reply) : SmtpCapabilities.NONE;
    return reply;
  }

  /** HELO, for a server that does not know EHLO; it offers no extension then. */
  SmtpReply helo(String name) throws IOException {
    capabilities = SmtpCapabilities.NONE;
    return execute("HELO " + name);
  }

  /**
   * STARTTLS and, on 220, the TLS handshake; the capabilities are forgotten (RFC 3207 4.2: the
   * client must say EHLO again).
   *
   * @return the server's reply to STARTTLS; the connection is secured only if it was 220
   * @throws IOException if the handshake fails, or the server sent more than its reply (bytes
   *     that would otherwise be taken as sent over TLS)
   */
  SmtpReply startTls(SSLSocketFactory factory, String host, int port) throws IOException {
    SmtpReply reply = execute("STARTTLS");
    if (reply.code() != 220) {
      return reply;
    }
    if (inPos < inLen) {
      throw new IOException("the server sent data after its reply to STARTTLS, before TLS started");
    }
    use(handshake(factory, raw, host, port));
    tls = true;
    capabilities = SmtpCapabilities.NONE;
    return reply;
  }

  /** Writes one command and its line end into the buffer; nothing is sent before {@link #flush()}. */
  void command(String command) throws IOException {
    requireNoControlCharacter(command);
    if (trace) {
      log.trace("{} C: {}", description, command);
    }
    writeLine(command);
  }

  /**
   * Writes several commands into the buffer, all or none: each is checked before the first is
   * written, so a refused one never leaves the others half a group on the wire.
   *
   * @throws IllegalArgumentException if one holds a control character; nothing was written then
   */
  void commands(String... commands) throws IOException {
    for (String command : commands) {
      requireNoControlCharacter(command);
    }
    for (String command : commands) {
      if (trace) {
        log.trace("{} C: {}", description, command);
      }
      writeLine(command);
    }
  }

  /**
   * Writes a line of an AUTH exchange, which carries a secret: traced as {@code traced} instead.
   */
  void secretCommand(String command, String traced) throws IOException {
    requireNoControlCharacter(command);
    if (trace) {
      log.trace("{} C: {}", description, traced);
    }
    writeLine(command);
  }

  /** A line break would end the command early and inject another: never on the wire. */
  private static void requireNoControlCharacter(String command) {
    for (int i = 0; i < command.length(); i++) {
      char c = command.charAt(i);
      if (c < ' ' || c == 0x7f) {
        throw new IllegalArgumentException("an SMTP command can't hold control character " + (int) c);
      }
    }
  }

  /** Writes a command checked by {@link #requireNoControlCharacter}. */
  private void writeLine(String command) throws IOException {
    int n = command.length();
    boolean ascii = true;
    for (int i = 0; i < n; i++) {
      ascii &= command.charAt(i) < 0x7f;
    }
    if (ascii) {
      // Into one array kept for the connection: a command of every email costs no allocation.
      if (commandBytes.length < n + 2) {
        commandBytes = new byte[Math.max(n + 2, 2 * commandBytes.length)];
      }
      byte[] bytes = commandBytes;
      for (int i = 0; i < n; i++) {
        bytes[i] = (byte) command.charAt(i);
      }
      bytes[n] = '\r';
      bytes[n + 1] = '\n';
      out.write(bytes, 0, n + 2);
    } else {
      // Only with SMTPUTF8 (RFC 6531), which the caller asked for on MAIL FROM.
      out.write(command.getBytes(StandardCharsets.UTF_8));
      out.write(CRLF);
    }
  }

  /** Sends what the buffer holds. */
  void flush() throws IOException {
    out.flush();
  }

  /** One command, lock-step: written, sent, and its reply read. */
  SmtpReply execute(String command) throws IOException {
    command(command);
    out.flush();
    return readReply();
  }

  /** A line of an AUTH exchange, lock-step; the reply is traced by its code alone. */
  SmtpReply executeSecret(String command, String traced) throws IOException {
    secretCommand(command, traced);
    out.flush();
    return readReply(false);
  }

  /**
   * Writes the message's bytes (CRLF line ends, not yet dot-stuffed) as the data, doubling each
   * dot that starts a line (RFC 5321 4.5.2), then the end of data, and sends it all.
   */
  void data(byte[] content) throws IOException {
    writeData(content, true);
    out.flush();
  }

  /**
   * As {@link #data(byte[])}, but nothing is sent before {@link #flush()}, so the next email's
   * commands can follow the end of data in the same write; with {@code leadingDot} false the caller
   * knows no line starts with a dot, and the bytes are written as they are, not searched for dots (a
   * pass over a large body).
   */
  void writeData(byte[] content, boolean leadingDot) throws IOException {
    if (trace) {
      log.trace("{} C: ({} octets of data)", description, content.length);
    }
    if (leadingDot) {
      writeDotStuffed(out, content);
    } else {
      out.write(content);
      if (content.length > 0 && content[content.length - 1] != '\n') {
        out.write(CRLF);
      }
    }
    out.write(END_OF_DATA);
  }

  /**
   * Opens the data for a message that writes itself: line ends made CRLF, dots doubled; {@link
   * DataStream#end()} ends the data and sends it, {@link DataStream#endUnsent()} ends it without
   * sending.
   */
  DataStream dataStream() {
    if (trace) {
      log.trace("{} C: (data)", description);
    }
    return new DataStream(out);
  }

  /** A data stream over any output, for tests. */
  static DataStream dataStreamOver(OutputStream target) {
    return new DataStream(target);
  }

  /**
   * The bytes a data stream sends, before dot-stuffing: line ends made CRLF as on the wire, no dot
   * doubled; {@link DataStream#endLine()} closes an open last line. The copy kept in the Sent folder
   * is written through it so it equals what the server received.
   */
  static DataStream canonicalOver(OutputStream target) {
    return new DataStream(target, false);
  }

  /** The reply to the end of data, awaited for the data-end timeout rather than the read timeout. */
  SmtpReply readDataEndReply() throws IOException {
    socket.setSoTimeout(dataEndTimeoutMillis);
    try {
      return readReply();
    } finally {
      if (!socket.isClosed()) {
        socket.setSoTimeout(readTimeoutMillis);
      }
    }
  }

  /**
   * Reads one reply, all its lines.
   *
   * @throws EOFException if the server closed the connection
   * @throws MalformedReplyException if a line is not an SMTP reply line
   * @throws SocketTimeoutException if the read timeout passed
   */
  SmtpReply readReply() throws IOException {
    return readReply(true);
  }

  private SmtpReply readReply(boolean traceText) throws IOException {
    // Most replies are one line: no list to grow and copy for them (four replies an email).
    List<String> lines = null;
    while (true) {
      String text = readLine();
      if (text == null) {
        throw new EOFException(lines == null ? "the server closed the connection"
            : "the server closed the connection within a reply");
      }
      int code = code(text);
      if (code < 0) {
        throw new MalformedReplyException(text);
      }
      boolean more = text.length() > 3 && text.charAt(3) == '-';
      if (lines == null && !more) {
        lines = List.of(text);
      } else {
        if (lines == null) {
          lines = new ArrayList<>(8);
        }
        lines.add(text);
      }
      if (!more) {
        SmtpReply reply = SmtpReply.of(code, lines);
        if (trace) {
          log.trace("{} S: {}", description, traceText ? reply.text() : code + " (text not traced during AUTH)");
        }
        return reply;
      }
      if (lines.size() >= MAX_REPLY_LINES) {
        throw new MalformedReplyException("a reply of more than " + MAX_REPLY_LINES + " lines");
      }
    }
  }

  /** The reply code of a line, or -1 if it is not a reply line ("250", "250 text", "250-text"). */
  private static int code(String text) {
    if (text.length() < 3) {
      return -1;
    }
    char a = text.charAt(0);
    char b = text.charAt(1);
    char c = text.charAt(2);
    if (a < '2' || a > '5' || b < '0' || b > '9' || c < '0' || c > '9') {
      return -1;
    }
    if (text.length() > 3 && text.charAt(3) != ' ' && text.charAt(3) != '-') {
      return -1;
    }
    return (a - '0') * 100 + (b - '0') * 10 + (c - '0');
  }

  /** A line without its line end (LF or CRLF), as UTF-8, or {@code null} at the end of the stream. */
  private String readLine() throws IOException {
    int length = 0;
    while (true) {
      if (inPos == inLen) {
        int n = in.read(inBuffer);
        if (n < 0) {
          return length == 0 ? null : new String(line, 0, length, StandardCharsets.UTF_8);
        }
        inPos = 0;
        inLen = n;
      }
      byte b = inBuffer[inPos++];
      if (b == '\n') {
        if (length > 0 && line[length - 1] == '\r') {
          length--;
        }
        return new String(line, 0, length, StandardCharsets.UTF_8);
      }
      if (length < line.length) {
        line[length++] = b;
      }
    }
  }

  /**
   * Sends QUIT without waiting for the reply, then closes the connection; never throws. The 221
   * changes nothing for a client that is leaving.
   */
  void quit() {
    try {
      command("QUIT");
      out.flush();
    } catch (IOException | RuntimeException e) {
      log.debug("QUIT to {} failed, closing anyway: {}", description, e.toString());
    }
    close();
  }

  /** Closes the socket at once; never throws. */
  @Override
  public void close() {
    closeQuietly(socket);
    closeQuietly(raw);
  }

  private static void closeQuietly(Socket s) {
    if (s == null) {
      return;
    }
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /**
   * Writes content whose lines all end with CRLF in as few writes as it has lines starting with a
   * dot (RFC 5321 4.5.2 doubles that dot), ending it with CRLF if it lacks one.
   */
  static void writeDotStuffed(OutputStream out, byte[] content) throws IOException {
    int n = content.length;
    int start = 0;
    int i = 0;
    // Eight bytes at a time: a word without a dot (most of them) is passed over whole, so a large
    // body costs a fraction of a byte-by-byte pass.
    for (; i + Long.BYTES <= n; i += Long.BYTES) {
      if (hasDot((long) LONGS.get(content, i))) {
        for (int j = i; j < i + Long.BYTES; j++) {
          start = stuffAt(out, content, j, start);
        }
      }
    }
    for (; i < n; i++) {
      start = stuffAt(out, content, i, start);
    }
    out.write(content, start, n - start);
    if (n > 0 && content[n - 1] != '\n') {
      out.write(CRLF);
    }
  }

  /** Whether a byte of the word is '.' (the zero-byte test of the word XOR dots: exact, no branch per byte). */
  private static boolean hasDot(long word) {
    long x = word ^ DOTS;
    return ((x - LOWS) & ~x & HIGHS) != 0;
  }

  /** Doubles the dot at {@code i} if it starts a line: writes the run before it and a dot; the new run start. */
  private static int stuffAt(OutputStream out, byte[] content, int i, int start) throws IOException {
    if (content[i] == '.' && (i == 0 || content[i - 1] == '\n')) {
      out.write(content, start, i - start);
      out.write('.');
      return i;
    }
    return start;
  }

  /** Whether any byte of the content has its high bit set (8-bit data), eight bytes at a time. */
  static boolean hasEightBit(byte[] content) {
    int n = content.length;
    int i = 0;
    long any = 0;
    for (; i + Long.BYTES <= n; i += Long.BYTES) {
      any |= (long) LONGS.get(content, i);
    }
    if ((any & HIGHS) != 0) {
      return true;
    }
    for (; i < n; i++) {
      if (content[i] < 0) {
        return true;
      }
    }
    return false;
  }

  /** A line that is not an SMTP reply line: another protocol's greeting, or a broken server. */
  static final class MalformedReplyException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String text;

    MalformedReplyException(String text) {
      super("not an SMTP reply: " + (text.length() > 200 ? text.substring(0, 200) + "..." : text));
      this.text = text;
    }

    /** The line as the server sent it. */
    String text() {
      return text;
    }
  }

  /** A write blocked longer than the write timeout; the connection was closed to end it. */
  static final class WriteTimeoutException extends SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    WriteTimeoutException(String message) {
      super(message);
    }
  }

  /**
   * The socket's output with every write guarded: the watchdog closes the TCP socket (under any TLS
   * layer, which can't be closed while a write holds it) once the write timeout has passed.
   */
  private final class Guarded extends OutputStream {
    private final OutputStream target;
    private final Callable<Void> abort = () -> {
      writeTimedOut = true;
      closeQuietly(raw);
      return null;
    };

    Guarded(OutputStream target) {
      this.target = target;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      ScheduledFuture<Void> task = watchdog.schedule(abort, writeTimeoutNanos, TimeUnit.NANOSECONDS);
      try {
        target.write(b, off, len);
      } catch (SocketException e) {
        if (writeTimedOut) {
          throw new WriteTimeoutException("the server took nothing for "
              + TimeUnit.NANOSECONDS.toMillis(writeTimeoutNanos) + " ms (the write timeout)");
        }
        throw e;
      } finally {
        task.cancel(false);
      }
    }

    @Override
    public void flush() throws IOException {
      target.flush();
    }
  }

  /**
   * The data of a message that writes itself: CR, LF and CRLF all become CRLF, a dot that starts a
   * line is doubled, and {@link #end()} adds a last line end where needed and the end of data.
   * Runs of ordinary bytes are written in one piece.
   */
  static final class DataStream extends OutputStream {
    private static final int MIDDLE = 0;
    private static final int LINE_START = 1;
    private static final int AFTER_CR = 2;
    private final OutputStream target;
    private final boolean dotStuff;
    private int state = LINE_START;

    private DataStream(OutputStream target) {
      this(target, true);
    }

    private DataStream(OutputStream target, boolean dotStuff) {
      this.target = target;
      this.dotStuff = dotStuff;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      int run = off;
      int end = off + len;
      for (int i = off; i < end; i++) {
        byte c = b[i];
        if (c == '\r') {
          target.write(b, run, i - run);
          target.write(CRLF);
          state = AFTER_CR;
          run = i + 1;
        } else if (c == '\n') {
          target.write(b, run, i - run);
          if (state != AFTER_CR) {
            target.write(CRLF);
          }
          state = LINE_START;
          run = i + 1;
        } else {
          if (c == '.' && state != MIDDLE && dotStuff) {
            target.write(b, run, i - run);
            target.write('.');
            run = i;
          }
          state = MIDDLE;
        }
      }
      target.write(b, run, end - run);
    }

    /** Ends the last line if it is open, without the end of data. */
    void endLine() throws IOException {
      if (state == MIDDLE) {
        target.write(CRLF);
        state = LINE_START;
      }
    }

    /** Ends the last line if it is open, writes the end of data and sends it all. */
    void end() throws IOException {
      endUnsent();
      target.flush();
    }

    /** As {@link #end()}, but nothing is sent before the connection's {@link SmtpConnection#flush()}. */
    void endUnsent() throws IOException {
      if (state == MIDDLE) {
        target.write(CRLF);
      }
      target.write(END_OF_DATA);
    }
  }
}
