package dev.emailrouter.smtp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * The socket under one Angus SMTP connection, so a command that carries a secret (an OAuth2 AUTH)
 * can be written and its reply read past Angus's protocol trace. Angus traces every command of
 * {@code simpleCommand} to its protocol logger (a host that turns on the finest level for {@code
 * dev.emailrouter} would log the token) and suspends the trace only inside its own authenticators,
 * by private methods.
 *
 * <p>It wraps the connection's socket factories and keeps the last socket they made: the TCP
 * socket, then the TLS one after STARTTLS. Between commands Angus holds nothing in its buffers
 * (each command is flushed, each reply read whole), so bytes written to and read from that socket
 * directly stay in step with Angus's own. For one connection, on the thread that opens it.
 */
final class UntracedSockets {
  /** RFC 5321 4.5.3.1.5: a reply line is at most 512 octets; a little room for lax servers. */
  private static final int MAX_REPLY_LINE = 2048;

  private volatile Socket current;

  /**
   * The connection properties with socket factories that record their sockets.
   *
   * @param connection the properties {@code MailConnections} made, with their socket factories
   * @return a copy to open one connection with
   */
  Properties wrap(Properties connection) {
    Properties p = new Properties();
    p.putAll(connection);
    if (connection.get("mail.smtp.socketFactory") instanceof SocketFactory plain) {
      p.put("mail.smtp.socketFactory", new Plain(plain));
    }
    if (connection.get("mail.smtp.ssl.socketFactory") instanceof SSLSocketFactory tls) {
      p.put("mail.smtp.ssl.socketFactory", new Tls(tls));
    }
    return p;
  }

  /** A reply: its code (-1 at the end of the stream) and its lines, CRLF-joined. */
  record Reply(int code, String text) {}

  /**
   * Writes one command and reads its reply, neither through Angus's trace.
   *
   * @throws IOException if the connection fails, or no socket was recorded
   */
  Reply command(String command) throws IOException {
    Socket socket = current;
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

  private Socket record(Socket socket) {
    current = socket;
    return socket;
  }

  private final class Plain extends SocketFactory {
    private final SocketFactory delegate;

    Plain(SocketFactory delegate) {
      this.delegate = delegate;
    }

    @Override
    public Socket createSocket() throws IOException {
      return record(delegate.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return record(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return record(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return record(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
        throws IOException {
      return record(delegate.createSocket(address, port, localAddress, localPort));
    }
  }

  private final class Tls extends SSLSocketFactory {
    private final SSLSocketFactory delegate;

    Tls(SSLSocketFactory delegate) {
      this.delegate = delegate;
    }

    @Override
    public String[] getDefaultCipherSuites() {
      return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return delegate.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
      return record(delegate.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket() throws IOException {
      return record(delegate.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return record(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return record(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return record(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
        throws IOException {
      return record(delegate.createSocket(address, port, localAddress, localPort));
    }
  }
}
