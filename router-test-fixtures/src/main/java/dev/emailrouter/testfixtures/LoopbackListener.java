package dev.emailrouter.testfixtures;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A listening socket on 127.0.0.1, free port, that hands each accepted connection to its own daemon
 * thread: the accept loop of the tests' scripted servers. Closing it closes the listener and every
 * connection still open, so a handler blocked in a read ends with an {@link IOException}.
 *
 * <p>Thread-safe: the accept thread, the handler threads and the test thread may call it at once.
 */
public final class LoopbackListener implements AutoCloseable {

  /** What a server does with one accepted connection. */
  @FunctionalInterface
  public interface Handler {
    /**
     * Serves one connection until it ends; the listener closes the socket afterwards.
     *
     * @param socket the accepted socket, TCP_NODELAY set, not null
     * @param connection the number of this connection, from 1, in order of acceptance
     * @throws IOException if the connection breaks; ignored, as a client going away is normal here
     */
    void serve(Socket socket, int connection) throws IOException;
  }

  private final ServerSocket listener;
  private final Handler handler;
  private final String name;
  private final Thread acceptor;
  private final AtomicInteger connections = new AtomicInteger();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  private LoopbackListener(ServerSocket listener, String name, Handler handler) {
    this.listener = listener;
    this.name = name;
    this.handler = handler;
    this.acceptor = new Thread(this::acceptLoop, name + "-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * Starts listening and accepting.
   *
   * @param name the prefix of the threads' names, not null
   * @param backlog the listen backlog
   * @param implicitTls a server TLS context to speak TLS from the first byte, or null for plain TCP
   * @param handler serves each connection, on its own thread, not null
   * @return the running listener; close it after the test
   * @throws IOException if 127.0.0.1 can't be bound
   */
  public static LoopbackListener start(String name, int backlog, SSLContext implicitTls, Handler handler)
      throws IOException {
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    ServerSocket socket = implicitTls != null
        ? implicitTls.getServerSocketFactory().createServerSocket(0, backlog, loopback)
        : new ServerSocket(0, backlog, loopback);
    return new LoopbackListener(socket, name, handler);
  }

  /**
   * The port the system chose.
   *
   * @return the local port
   */
  public int port() {
    return listener.getLocalPort();
  }

  /**
   * How many connections were accepted so far.
   *
   * @return the count, from 0
   */
  public int connections() {
    return connections.get();
  }

  /**
   * Adds a socket layered over an accepted one (e.g. after STARTTLS) to those {@link #close} closes.
   *
   * @param socket the socket, not null; the handler closes it when its connection ends, and {@link #close}
   *     closes it again (a no-op) or, if the handler is still reading, ends that read
   */
  public void track(Socket socket) {
    open.add(socket);
  }

  /** Stops accepting, closes every open connection, and waits up to 5 s for the accept thread to end. */
  @Override
  public void close() {
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    for (Socket s : open) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      Socket socket;
      try {
        socket = listener.accept();
        socket.setTcpNoDelay(true);
      } catch (IOException e) {
        return; // closed
      }
      int n = connections.incrementAndGet();
      open.add(socket);
      Thread t = new Thread(() -> serve(socket, n), name + "-" + n);
      t.setDaemon(true);
      t.start();
    }
  }

  private void serve(Socket socket, int connection) {
    try {
      handler.serve(socket, connection);
    } catch (IOException e) {
      // the client went away, a proxy cut the line, or the test closed the server
    } finally {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      open.remove(socket);
    }
  }
}
