package dev.emailrouter.pop3;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.support.internal.OAuth2Sasl;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import javax.net.SocketFactory;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * An OAuth2 login (OAUTHBEARER where the server offers it, else XOAUTH2) on the connection Angus
 * Mail's POP3 store then uses.
 *
 * <p>Angus's POP3 support can't be extended (its protocol and authenticators are package-private,
 * it has no SASL hook), knows no OAUTHBEARER, and takes the error challenge of a refused XOAUTH2
 * token for success, so the refusal only shows at the next command. So for a token login Angus is
 * given, through {@code mail.pop3.socketFactory}, a socket of ours: it makes the TCP connection,
 * does TLS (implicit, or STLS on the plain connection, replaying the greeting to Angus), and lets
 * every command through, except Angus's own login. Angus is told to log in with USER and PASS
 * and a placeholder password; the socket answers {@code USER} itself, and in place of {@code PASS}
 * runs CAPA and the SASL exchange with the server, answers a refused token's error challenge as
 * the mechanism requires, and hands Angus the server's final reply. Angus then sees the login
 * succeed or fail right at {@code connect()}, and never holds the token.
 *
 * <p>One instance per login attempt; its socket is used by one thread.
 */
final class Pop3TokenLogin {
  /** What Angus sends as the password; never reaches the server. */
  static final String PLACEHOLDER = "oauth2-login-done-by-the-socket";
  /** RFC 2449: a POP3 command line is at most 255 octets, CRLF included. */
  private static final int MAX_COMMAND = 255;

  private final Credentials login;
  private final Security security;
  private final SocketFactory plain;
  private final SSLSocketFactory tls;

  /** The mechanism chosen, or {@code null} before CAPA or when the server offers neither. */
  volatile OAuth2Sasl.Mechanism mechanism;
  /** The SASL mechanisms the server listed when it offered neither of ours. */
  volatile String offeredInstead;
  /** The {@code status} of the error challenge, if the server sent one. */
  volatile String challengeStatus;
  /** The server's final reply to AUTH, e.g. {@code -ERR [AUTH] Authentication failed.} */
  volatile String reply;
  /** Set when the server refused STLS although security STARTTLS requires it. */
  volatile String stlsRefused;

  /**
   * @param login the OAuth2 credentials
   * @param security how the connection is protected
   * @param connection the properties {@code MailConnections} made for this server, whose socket
   *     factories (TCP_NODELAY, the trust store) are used underneath
   */
  Pop3TokenLogin(Credentials login, Security security, Properties connection) {
    this.login = login;
    this.security = security;
    Object p = connection.get("mail.pop3.socketFactory");
    Object s = connection.get("mail.pop3.ssl.socketFactory");
    this.plain = p instanceof SocketFactory f ? f : SocketFactory.getDefault();
    this.tls = s instanceof SSLSocketFactory f ? f : null;
  }

  /**
   * Turns the connection properties into Angus session properties for this login: Angus connects
   * in plain text through our socket (which does TLS itself) and logs in with USER/PASS.
   */
  Properties angusProperties(Properties connection) {
    Properties p = new Properties();
    p.putAll(connection);
    p.put("mail.pop3.ssl.enable", "false");
    p.put("mail.pop3.starttls.enable", "false");
    p.put("mail.pop3.starttls.required", "false");
    p.remove("mail.pop3.ssl.socketFactory");
    p.put("mail.pop3.socketFactory", new Factory());
    p.put("mail.pop3.auth.mechanisms", "LOGIN");
    p.put("mail.pop3.apop.enable", "false");
    return p;
  }

  /** Whether the server refused the token itself (as opposed to not offering OAuth2, or failing for now). */
  boolean tokenRefused() {
    return mechanism != null && reply != null && reply.startsWith("-ERR") && !Pop3Errors.isTemporary(reply);
  }

  private final class Factory extends SocketFactory {
    @Override
    public Socket createSocket() {
      return new TokenSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      Socket s = createSocket();
      s.connect(new InetSocketAddress(host, port));
      return s;
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return createSocket(host, port);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      Socket s = createSocket();
      s.connect(new InetSocketAddress(host, port));
      return s;
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
        throws IOException {
      return createSocket(address, port);
    }
  }

  /** Thrown from connect when STLS is refused; Angus wraps it, the reader finds it. */
  static final class StlsRefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    StlsRefusedException(String message) {
      super(message);
    }
  }

  /** The socket Angus gets; everything it does goes to {@link #real}. */
  private final class TokenSocket extends Socket {
    private Socket real;
    private String host;
    private int port;
    private int soTimeout;
    private InputStream serverIn;
    private OutputStream serverOut;
    private Splice toAngus;
    private Intercept fromAngus;
    private boolean closed;

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
      connect(endpoint, 0);
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
      InetSocketAddress address = (InetSocketAddress) endpoint;
      host = address.getHostString();
      port = address.getPort();
      Socket s = security == Security.IMPLICIT_TLS ? tls.createSocket() : plain.createSocket();
      try {
        s.setSoTimeout(soTimeout);
        s.connect(address, timeout);
        byte[] greeting = null;
        if (security == Security.IMPLICIT_TLS) {
          handshake((SSLSocket) s, host);
        } else if (security == Security.STARTTLS) {
          InputStream in = s.getInputStream();
          greeting = readLine(in);
          s.getOutputStream().write("STLS\r\n".getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          String answer = new String(readLine(in), StandardCharsets.ISO_8859_1).strip();
          if (!answer.startsWith("+OK")) {
            stlsRefused = answer;
            throw new StlsRefusedException("the server does not offer STLS, which security STARTTLS requires ("
                + answer + ")");
          }
          SSLSocket secured = (SSLSocket) tls.createSocket(s, host, address.getPort(), true);
          handshake(secured, host);
          s = secured;
        }
        real = s;
        serverIn = s.getInputStream();
        serverOut = s.getOutputStream();
        toAngus = new Splice(serverIn);
        if (greeting != null) {
          toAngus.inject(greeting);
        }
        fromAngus = new Intercept();
      } catch (IOException | RuntimeException e) {
        try {
          s.close();
        } catch (IOException ignored) {
          // the original failure matters
        }
        throw e;
      }
    }

    private void handshake(SSLSocket s, String name) throws IOException {
      SSLParameters parameters = s.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
      s.setSSLParameters(parameters);
      s.startHandshake();
    }

    @Override
    public InputStream getInputStream() throws IOException {
      checkConnected();
      return toAngus;
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
      checkConnected();
      return fromAngus;
    }

    private void checkConnected() throws IOException {
      if (real == null) {
        throw new IOException("not connected");
      }
    }

    @Override
    public synchronized void setSoTimeout(int timeout) throws java.net.SocketException {
      soTimeout = timeout;
      if (real != null) {
        real.setSoTimeout(timeout);
      }
    }

    @Override
    public synchronized int getSoTimeout() {
      return soTimeout;
    }

    @Override
    public void setTcpNoDelay(boolean on) throws java.net.SocketException {
      if (real != null) {
        real.setTcpNoDelay(on);
      }
    }

    @Override
    public boolean isConnected() {
      return real != null && real.isConnected();
    }

    @Override
    public boolean isClosed() {
      return closed || (real != null && real.isClosed());
    }

    @Override
    public InetAddress getInetAddress() {
      return real == null ? null : real.getInetAddress();
    }

    @Override
    public int getPort() {
      return real == null ? 0 : real.getPort();
    }

    @Override
    public InetAddress getLocalAddress() {
      return real == null ? InetAddress.getLoopbackAddress() : real.getLocalAddress();
    }

    @Override
    public int getLocalPort() {
      return real == null ? -1 : real.getLocalPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
      return real == null ? null : real.getRemoteSocketAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
      return real == null ? null : real.getLocalSocketAddress();
    }

    @Override
    public void shutdownInput() throws IOException {
      checkConnected();
      real.shutdownInput();
    }

    @Override
    public void shutdownOutput() throws IOException {
      checkConnected();
      real.shutdownOutput();
    }

    @Override
    public synchronized void close() throws IOException {
      closed = true;
      if (real != null) {
        real.close();
      }
    }

    @Override
    public String toString() {
      return "Pop3TokenLogin.Socket[" + real + "]";
    }

    /** Angus's reads: replies the socket made up come first, then the server's bytes. */
    private final class Splice extends InputStream {
      private final InputStream server;
      private byte[] pending = new byte[0];
      private int at;

      Splice(InputStream server) {
        this.server = server;
      }

      void inject(byte[] bytes) {
        byte[] joined = Arrays.copyOf(Arrays.copyOfRange(pending, at, pending.length),
            pending.length - at + bytes.length);
        System.arraycopy(bytes, 0, joined, pending.length - at, bytes.length);
        pending = joined;
        at = 0;
      }

      @Override
      public int read() throws IOException {
        if (at < pending.length) {
          return pending[at++] & 0xff;
        }
        return server.read();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        if (at < pending.length) {
          int n = Math.min(len, pending.length - at);
          System.arraycopy(pending, at, b, off, n);
          at += n;
          return n;
        }
        return server.read(b, off, len);
      }

      @Override
      public int available() throws IOException {
        return at < pending.length ? pending.length - at : server.available();
      }

      @Override
      public void close() throws IOException {
        TokenSocket.this.close();
      }
    }

    /**
     * Angus's writes: passed through line by line until its PASS, which is replaced by the SASL
     * exchange; from then on passed through as they come.
     */
    private final class Intercept extends OutputStream {
      private final ByteArrayOutputStream line = new ByteArrayOutputStream();
      private boolean loggedIn;

      @Override
      public void write(int b) throws IOException {
        if (loggedIn) {
          serverOut.write(b);
          return;
        }
        line.write(b);
        if (b == '\n') {
          String command = line.toString(StandardCharsets.ISO_8859_1);
          line.reset();
          handle(command);
        }
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (loggedIn) {
          serverOut.write(b, off, len);
          return;
        }
        for (int i = 0; i < len; i++) {
          write(b[off + i]);
        }
      }

      @Override
      public void flush() throws IOException {
        serverOut.flush();
      }

      @Override
      public void close() throws IOException {
        TokenSocket.this.close();
      }

      private void handle(String command) throws IOException {
        String verb = command.strip().toUpperCase(Locale.ROOT);
        if (verb.startsWith("USER ")) {
          toAngus.inject("+OK\r\n".getBytes(StandardCharsets.US_ASCII));
        } else if (verb.startsWith("PASS ")) {
          loggedIn = true;
          String result = authenticate();
          toAngus.inject((result + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        } else {
          serverOut.write(command.getBytes(StandardCharsets.ISO_8859_1));
        }
      }
    }

    /** CAPA, then AUTH with the chosen mechanism; returns the server's final reply line for Angus. */
    private String authenticate() throws IOException {
      List<String> offered = new ArrayList<>();
      send("CAPA");
      if (readReply().startsWith("+OK")) {
        for (String l = readReply(); !l.equals("."); l = readReply()) {
          String[] words = l.strip().split("\\s+");
          if (words.length > 0 && words[0].equalsIgnoreCase("SASL")) {
            offered.addAll(Arrays.asList(words).subList(1, words.length));
          }
        }
      }
      OAuth2Sasl.Mechanism m = OAuth2Sasl.choose(offered);
      mechanism = m;
      if (m == null) {
        offeredInstead = offered.isEmpty() ? "no SASL capability" : "SASL " + String.join(" ", offered);
        return "-ERR the server offers neither OAUTHBEARER nor XOAUTH2";
      }
      String initial = m.initialResponse(login.username(), login.secret(), host, port);
      boolean initialSent = ("AUTH " + m + " " + initial).length() + 2 <= MAX_COMMAND;
      send(initialSent ? "AUTH " + m + " " + initial : "AUTH " + m);
      for (int round = 0; round < 3; round++) {
        String answer = readReply();
        if (!answer.startsWith("+ ") && !answer.equals("+")) {
          reply = answer;
          return answer;
        }
        if (!initialSent) {
          send(initial);
          initialSent = true;
        } else {
          // The token was refused; the server sends its -ERR once the challenge is answered.
          challengeStatus = OAuth2Sasl.challengeStatus(answer.substring(1));
          send(m.errorChallengeAnswer());
        }
      }
      send("*"); // RFC 5034: cancel an exchange that does not end
      reply = readReply();
      return reply;
    }

    private void send(String command) throws IOException {
      serverOut.write((command + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      serverOut.flush();
    }

    private String readReply() throws IOException {
      return new String(readLine(serverIn), StandardCharsets.ISO_8859_1).strip();
    }
  }

  /** One line, CRLF included, read byte by byte so nothing after it is consumed. */
  private static byte[] readLine(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    for (int b = in.read(); ; b = in.read()) {
      if (b < 0) {
        throw new java.io.EOFException("EOF on socket");
      }
      out.write(b);
      if (b == '\n' || out.size() > 64 * 1024) {
        return out.toByteArray();
      }
    }
  }
}
