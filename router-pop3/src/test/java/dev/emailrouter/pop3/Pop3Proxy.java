package dev.emailrouter.pop3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of a test server that records the commands the client sends and counts the
 * bytes the server sends back, so tests can assert on what crossed the wire. It can also cut every
 * connection, as a network failure would.
 */
final class Pop3Proxy implements AutoCloseable {

  private final ServerSocket listener;
  private final int targetPort;
  private final List<String> commands = new CopyOnWriteArrayList<>();
  private final AtomicLong serverBytes = new AtomicLong();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  Pop3Proxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "pop3-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Every command line the client sent so far, in order (e.g. {@code TOP 1 0}). */
  List<String> commands() {
    return List.copyOf(commands);
  }

  /** Commands whose verb is {@code verb}, e.g. all RETRs. */
  List<String> commands(String verb) {
    return commands.stream().filter(c -> c.equals(verb) || c.startsWith(verb + " ")).toList();
  }

  long serverBytes() {
    return serverBytes.get();
  }

  void reset() {
    commands.clear();
    serverBytes.set(0);
  }

  /** Cuts every open connection, both sides. */
  void cutConnections() {
    for (Socket socket : sockets) {
      try {
        socket.close();
      } catch (IOException e) {
        // already gone
      }
    }
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        sockets.add(client);
        sockets.add(server);
        pump(client.getInputStream(), server.getOutputStream(), true, client, server);
        pump(server.getInputStream(), client.getOutputStream(), false, client, server);
      } catch (IOException e) {
        return;
      }
    }
  }

  private void pump(InputStream in, OutputStream out, boolean fromClient, Socket a, Socket b) {
    Thread thread = new Thread(() -> {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      byte[] buffer = new byte[16 * 1024];
      try {
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          if (fromClient) {
            // record before forwarding, so a command is recorded before the server can answer it
            for (int i = 0; i < n; i++) {
              if (buffer[i] == '\n') {
                commands.add(line.toString(StandardCharsets.ISO_8859_1).trim());
                line.reset();
              } else {
                line.write(buffer[i]);
              }
            }
          } else {
            serverBytes.addAndGet(n);
          }
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // connection closed
      } finally {
        closeQuietly(a);
        closeQuietly(b);
      }
    }, "pop3-proxy-pump");
    thread.setDaemon(true);
    thread.start();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // ignore
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    cutConnections();
  }
}
