package dev.emailrouter.support.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Properties;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * Lets a connection learn the socket Angus opened for it, which Angus keeps private: SMTP gives the
 * wait for the reply to the end of data its own read timeout (RFC 5321 4.5.3.2.6) and writes the
 * OAuth2 AUTH past Angus's protocol trace on it; POP3 pipelines commands on it (RFC 2449). The
 * transport's socket factories are wrapped once; while a thread connects between {@link #start()}
 * and {@link #stop()}, the last socket they create on that thread is kept (after STARTTLS, the TLS
 * socket layered on the plain one). Thread-safe: the capture is per thread, so one set of
 * properties serves many connections at once. Internal: unsupported, may change without notice.
 */
public final class SocketCapture {
  private static final ThreadLocal<Socket[]> CAPTURING = new ThreadLocal<>();

  private SocketCapture() {}

  /**
   * Wraps the socket factories in these Angus properties so they report the sockets they create.
   *
   * @param properties Angus session properties with the factories {@code MailConnections} set
   * @param prefix the protocol's property prefix, e.g. {@code mail.smtp.}
   */
  public static void wrapFactories(Properties properties, String prefix) {
    Object plain = properties.get(prefix + "socketFactory");
    if (plain instanceof SocketFactory factory && !(plain instanceof SSLSocketFactory)) {
      properties.put(prefix + "socketFactory", new Plain(factory));
    }
    Object tls = properties.get(prefix + "ssl.socketFactory");
    if (tls instanceof SSLSocketFactory factory) {
      properties.put(prefix + "ssl.socketFactory", new Tls(factory));
    }
  }

  /** Starts keeping the sockets created on this thread (call {@link #stop()} in a finally block). */
  public static void start() {
    CAPTURING.set(new Socket[1]);
  }

  /**
   * Stops keeping sockets on this thread.
   *
   * @return the last socket created on this thread since {@link #start()}, or {@code null}
   */
  public static Socket stop() {
    Socket[] holder = CAPTURING.get();
    CAPTURING.remove();
    return holder == null ? null : holder[0];
  }

  private static Socket seen(Socket socket) {
    Socket[] holder = CAPTURING.get();
    if (holder != null) {
      holder[0] = socket;
    }
    return socket;
  }

  private static final class Plain extends SocketFactory {
    private final SocketFactory delegate;

    Plain(SocketFactory delegate) {
      this.delegate = delegate;
    }

    @Override
    public Socket createSocket() throws IOException {
      return seen(delegate.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return seen(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return seen(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return seen(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
      return seen(delegate.createSocket(address, port, localAddress, localPort));
    }
  }

  private static final class Tls extends SSLSocketFactory {
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
      return seen(delegate.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket() throws IOException {
      return seen(delegate.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return seen(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return seen(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return seen(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
      return seen(delegate.createSocket(address, port, localAddress, localPort));
    }
  }
}
