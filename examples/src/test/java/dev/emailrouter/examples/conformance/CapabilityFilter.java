package dev.emailrouter.examples.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A plain-text TCP proxy on 127.0.0.1 in front of a real server that hides OAUTHBEARER from what
 * the server advertises (so a client must fall back to XOAUTH2), and records the client's command
 * lines. For plain-text connections only.
 */
final class CapabilityFilter implements AutoCloseable {
  private final ServerSocket listener;
  private final int target;
  private final List<String> commands = new CopyOnWriteArrayList<>();

  CapabilityFilter(int target) throws IOException {
    this.target = target;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::accept, "capability-filter");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  List<String> commands() {
    return List.copyOf(commands);
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
        pump(server.getInputStream(), client.getOutputStream(), true, client, server);
        pump(client.getInputStream(), server.getOutputStream(), false, client, server);
      } catch (IOException e) {
        // closed
      }
    }
  }

  private void pump(InputStream in, OutputStream out, boolean fromServer, Socket a, Socket b) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[16384];
      StringBuilder line = new StringBuilder();
      try {
        for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
          String text = new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
          if (fromServer) {
            text = text.replace("OAUTHBEARER", "NOTOFFERED");
          } else {
            for (char c : text.toCharArray()) {
              if (c == '\n') {
                commands.add(line.toString().strip());
                line.setLength(0);
              } else {
                line.append(c);
              }
            }
          }
          out.write(text.getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        }
      } catch (IOException e) {
        // one side closed
      } finally {
        try {
          a.close();
          b.close();
        } catch (IOException e) {
          // closing
        }
      }
    }, "capability-filter-pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
