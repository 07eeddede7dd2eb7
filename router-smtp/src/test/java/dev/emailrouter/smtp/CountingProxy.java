package dev.emailrouter.smtp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TCP proxy on 127.0.0.1 in front of a test server: it counts the connections that crossed it
 * (what a client really opened, whatever the client thinks it did) and can cut them, at once or
 * when the client sends a given text, or refuse new ones.
 *
 * <p>Thread-safe; close it after the test.
 */
final class CountingProxy implements AutoCloseable {
  private final String targetHost;
  private final int targetPort;
  private final ServerSocket serverSocket;
  private final Thread acceptor;
  private final AtomicInteger connections = new AtomicInteger();
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final AtomicReference<String> cutMarker = new AtomicReference<>();
  private volatile boolean offerPipelining;
  private volatile boolean sawPipelinedGroup;

  private CountingProxy(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.serverSocket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    this.acceptor = new Thread(this::acceptLoop, "counting-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Starts a proxy to {@code host:port}. */
  static CountingProxy to(String host, int port) throws IOException {
    return new CountingProxy(host, port);
  }

  int port() {
    return serverSocket.getLocalPort();
  }

  /** Connections accepted so far. */
  int connections() {
    return connections.get();
  }

  /** Closes every open connection on both sides; the client sees its socket closed. */
  private volatile boolean refusing;

  void cutAll() {
    for (Link link : links) {
      link.cut();
    }
  }

  /**
   * Arms a one-shot cut: the next time a client sends {@code marker} (e.g. {@code "DATA\r\n"}),
   * its connection is closed on both sides instead of forwarding it.
   */
  void cutWhenClientSends(String marker) {
    cutMarker.set(marker);
  }

  /**
   * Adds PIPELINING to the server's EHLO reply (after its first line), for a server such as
   * GreenMail that reads commands one at a time and so copes with a pipelined group though it does
   * not offer it.
   */
  void offerPipelining() {
    offerPipelining = true;
  }

  /** Whether a client ever sent RCPT TO and DATA in one write (so it pipelined). */
  boolean sawPipelinedGroup() {
    return sawPipelinedGroup;
  }

  /**
   * New connections are closed as soon as they are accepted; open ones go on. The port stays
   * bound, so no other test's listener can take it over and answer in the proxy's place.
   */
  void refuseNew() {
    refusing = true;
  }

  @Override
  public void close() throws IOException {
    serverSocket.close();
    cutAll();
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!serverSocket.isClosed()) {
      Socket client;
      try {
        client = serverSocket.accept();
      } catch (IOException e) {
        return; // closed
      }
      connections.incrementAndGet();
      if (refusing) {
        try {
          client.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        continue;
      }
      try {
        Socket server = new Socket(targetHost, targetPort);
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        Link link = new Link(client, server);
        links.add(link);
        link.start();
      } catch (IOException e) {
        try {
          client.close();
        } catch (IOException ignored) {
          // nothing to do
        }
      }
    }
  }

  /** One client connection and its connection to the target. */
  private final class Link {
    private final Socket client;
    private final Socket server;

    Link(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void start() {
      Thread up = new Thread(() -> pump(client, server, true), "counting-proxy-up");
      Thread down = new Thread(() -> pump(server, client, false), "counting-proxy-down");
      up.setDaemon(true);
      down.setDaemon(true);
      up.start();
      down.start();
    }

    void cut() {
      links.remove(this);
      try {
        client.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      try {
        server.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }

    private void pump(Socket from, Socket to, boolean fromClient) {
      byte[] buffer = new byte[16 * 1024];
      String tail = "";
      boolean injected = false;
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) != -1) {
          if (fromClient) {
            String marker = cutMarker.get();
            if (marker != null) {
              String seen = tail + new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
              if (seen.contains(marker) && cutMarker.compareAndSet(marker, null)) {
                cut();
                return;
              }
              tail = seen.substring(Math.max(0, seen.length() - marker.length()));
            }
          }
          String chunk = new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
          if (fromClient && chunk.contains("RCPT TO:") && chunk.contains("DATA\r\n")) {
            sawPipelinedGroup = true;
          }
          int ehloLine = chunk.startsWith("250-") ? 0 : chunk.indexOf("\n250-");
          ehloLine = ehloLine > 0 ? ehloLine + 1 : ehloLine;
          if (!fromClient && offerPipelining && !injected && ehloLine >= 0 && chunk.indexOf('\n', ehloLine) > 0) {
            int end = chunk.indexOf('\n', ehloLine) + 1;
            chunk = chunk.substring(0, end) + "250-PIPELINING\r\n" + chunk.substring(end);
            injected = true;
            out.write(chunk.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            continue;
          }
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side closed
      } finally {
        cut();
      }
    }
  }
}
