package dev.emailrouter.support.internal;

import dev.emailrouter.api.Security;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Properties;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * Unsupported. Jakarta Mail session properties the three adapters share: security, timeouts, and
 * socket factories that set TCP_NODELAY (Angus has no property for it, and with Nagle's algorithm a
 * 50 KB message waits on a delayed ACK: about 21 msg/s instead of 470).
 */
public final class MailConnections {

  private MailConnections() {}

  /**
   * Session properties for one protocol.
   *
   * @param protocol {@code smtp}, {@code imap} or {@code pop3} (the implicit-TLS variants are chosen
   *     by {@code security})
   * @param host the server host
   * @param port the server port
   * @param security how the connection is protected
   * @param trust the trust store for the server certificate, or {@code null} for the JVM's default
   * @param connectTimeout connect timeout
   * @param readTimeout read timeout
   * @param writeTimeout write timeout
   * @return the properties, with socket factories set
   */
  public static Properties properties(String protocol, String host, int port, Security security, KeyStore trust,
      Duration connectTimeout, Duration readTimeout, Duration writeTimeout) {
    Properties p = new Properties();
    String prefix = "mail." + protocol + ".";
    p.put(prefix + "host", host);
    p.put(prefix + "port", Integer.toString(port));
    p.put(prefix + "connectiontimeout", Long.toString(connectTimeout.toMillis()));
    p.put(prefix + "timeout", Long.toString(readTimeout.toMillis()));
    p.put(prefix + "writetimeout", Long.toString(writeTimeout.toMillis()));
    // Without this Angus retries a failed connect with its default factory: a second wait for the same
    // refusal, no TCP_NODELAY, and for TLS the JVM's default trust store instead of ours. (One property
    // covers the plain and the TLS socket factory.)
    p.put(prefix + "socketFactory.fallback", "false");
    switch (security) {
      case IMPLICIT_TLS -> {
        SSLSocketFactory tls = sslSocketFactory(trust);
        p.put(prefix + "ssl.enable", "true");
        p.put(prefix + "ssl.socketFactory", tls);
        p.put(prefix + "ssl.checkserveridentity", "true");
      }
      case STARTTLS -> {
        p.put(prefix + "starttls.enable", "true");
        p.put(prefix + "starttls.required", "true");
        p.put(prefix + "socketFactory", new NoDelaySocketFactory());
        p.put(prefix + "ssl.socketFactory", sslSocketFactory(trust));
        p.put(prefix + "ssl.checkserveridentity", "true");
      }
      case PLAIN_TEXT_INSECURE -> {
        p.put(prefix + "starttls.enable", "false");
        p.put(prefix + "socketFactory", new NoDelaySocketFactory());
      }
      default -> throw new IllegalArgumentException("unknown security " + security);
    }
    return p;
  }

  /**
   * The plain socket factory the session properties carry: TCP_NODELAY on every socket, each
   * reported to a running {@link SocketCapture}; for an adapter that opens its sockets itself.
   *
   * @return a new factory; thread-safe
   */
  public static SocketFactory socketFactory() {
    return new NoDelaySocketFactory();
  }

  /**
   * The TLS socket factory the session properties carry (TCP_NODELAY, the given trust), for an
   * adapter that opens its sockets itself. It does not check the server's name: the caller turns
   * on endpoint identification on each socket.
   *
   * @param trust the trust store for the server certificate, or {@code null} for the JVM's default
   * @return a new factory; thread-safe
   * @throws IllegalStateException if the JVM has no TLS
   */
  public static SSLSocketFactory sslSocketFactory(KeyStore trust) {
    return new NoDelaySslSocketFactory(sslContext(trust).getSocketFactory());
  }

  /**
   * A TLS context that trusts the given store, or the JVM's default trust store.
   *
   * @param trust the trusted certificates, or {@code null} for the JVM's default
   * @return the context
   */
  public static SSLContext sslContext(KeyStore trust) {
    if (trust != null) {
      return newSslContext(trust);
    }
    // One per JVM, as the JDK keeps its own default context: reading the JVM's trust store takes
    // milliseconds, paid otherwise by every adapter built (a thousand mailboxes: seconds).
    SSLContext shared = defaultTrust;
    if (shared == null) {
      shared = newSslContext(null); // two threads racing here both make one; either is kept
      defaultTrust = shared;
    }
    return shared;
  }

  /** The context that trusts the JVM's default trust store, made at its first use. */
  private static volatile SSLContext defaultTrust;

  private static SSLContext newSslContext(KeyStore trust) {
    try {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust); // null: the JVM's default trust store
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("TLS is not available in this JVM: " + e.getMessage(), e);
    }
  }

  private static final class NoDelaySocketFactory extends SocketFactory {
    private final SocketFactory delegate = SocketFactory.getDefault();

    @Override
    public Socket createSocket() throws IOException {
      return noDelay(delegate.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return noDelay(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return noDelay(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return noDelay(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
      return noDelay(delegate.createSocket(address, port, localAddress, localPort));
    }
  }

  private static final class NoDelaySslSocketFactory extends SSLSocketFactory {
    private final SSLSocketFactory delegate;

    NoDelaySslSocketFactory(SSLSocketFactory delegate) {
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
      noDelay(s);
      return noDelay(delegate.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket() throws IOException {
      return noDelay(delegate.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return noDelay(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return noDelay(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return noDelay(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
      return noDelay(delegate.createSocket(address, port, localAddress, localPort));
    }
  }

  /** TCP_NODELAY on, and the socket reported to a {@link SocketCapture} running on this thread. */
  private static Socket noDelay(Socket socket) throws IOException {
    socket.setTcpNoDelay(true);
    return SocketCapture.seen(socket);
  }
}
