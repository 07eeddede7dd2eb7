package dev.emailrouter.pop3;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Properties;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * Learns the socket Angus's POP3 store ends up talking over, so {@link Pop3Pipeline} can write
 * several commands at once on it (Angus's protocol class is package-private and lock-step).
 *
 * <p>It wraps the socket factories {@code MailConnections} put in the session properties and keeps
 * the last socket they made: Angus makes the TCP socket first and, with STARTTLS, lays the TLS
 * socket over it afterwards, so the last one is the one carrying the commands. Angus may wrap that
 * socket again for its write timeout; that wrapper only times writes, so writing past it is sound
 * for the few hundred bytes of a window of commands, which the socket's send buffer always takes.
 *
 * <p>One instance per connection attempt; the factories are called from the thread that connects.
 */
final class SocketRecorder {

  private volatile Socket last;

  /**
   * Replaces the POP3 socket factories in {@code properties} by recording ones.
   *
   * @param properties Angus session properties made by {@code MailConnections}
   * @return {@code properties}, changed
   */
  Properties install(Properties properties) {
    if (properties.get("mail.pop3.socketFactory") instanceof SocketFactory plain) {
      properties.put("mail.pop3.socketFactory", new Plain(plain));
    }
    if (properties.get("mail.pop3.ssl.socketFactory") instanceof SSLSocketFactory tls) {
      properties.put("mail.pop3.ssl.socketFactory", new Tls(tls));
    }
    return properties;
  }

  /**
   * The last socket made, or {@code null} if none was.
   *
   * @return the socket the connection runs over
   */
  Socket socket() {
    return last;
  }

  private Socket keep(Socket socket) {
    last = socket;
    return socket;
  }

  private final class Plain extends SocketFactory {
    private final SocketFactory delegate;

    Plain(SocketFactory delegate) {
      this.delegate = delegate;
    }

    @Override
    public Socket createSocket() throws IOException {
      return keep(delegate.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return keep(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return keep(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return keep(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
        throws IOException {
      return keep(delegate.createSocket(address, port, localAddress, localPort));
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
      return keep(delegate.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket() throws IOException {
      return keep(delegate.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return keep(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return keep(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return keep(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
        throws IOException {
      return keep(delegate.createSocket(address, port, localAddress, localPort));
    }
  }
}
