package dev.emailrouter.benchmarks;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy between an IMAP client and Dovecot that counts what crosses it: the client's tagged
 * commands (their verbs only, never arguments such as a password), connections, and the most
 * connections open at once. Literals the client sends are skipped, so a command continued after a
 * literal counts once. Thread-safe.
 */
final class CountingProxy implements AutoCloseable {
  private final int target;
  private final ServerSocket server;
  private final Thread acceptor;
  private final List<String> commands = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();
  private final AtomicInteger open = new AtomicInteger();
  private int maxOpen;
  private int connections;
  private int continuations;
  private volatile boolean closed;

  CountingProxy(int target) throws IOException {
    this.target = target;
    server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    acceptor = new Thread(this::accept, "counting-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  synchronized void reset() {
    commands.clear();
    connections = 0;
    continuations = 0;
    maxOpen = open.get();
  }

  synchronized List<String> commands() {
    return List.copyOf(commands);
  }

  /** Continuation requests ({@code + }) the server sent: each one more round trip inside a command. */
  synchronized int continuations() {
    return continuations;
  }

  synchronized int connections() {
    return connections;
  }

  synchronized int maxOpen() {
    return maxOpen;
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket();
        upstream.setTcpNoDelay(true);
        client.setTcpNoDelay(true);
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 10_000);
        synchronized (this) {
          connections++;
          maxOpen = Math.max(maxOpen, open.incrementAndGet());
          sockets.add(client);
          sockets.add(upstream);
        }
        AtomicInteger ends = new AtomicInteger();
        Runnable done = () -> {
          if (ends.incrementAndGet() == 1) {
            open.decrementAndGet(); // the first side to end (normally the client hanging up) closes it
          }
          closeQuietly(client);
          closeQuietly(upstream);
        };
        start(() -> pump(client.getInputStream(), upstream.getOutputStream(), true), done);
        start(() -> pump(upstream.getInputStream(), client.getOutputStream(), false), done);
      } catch (IOException e) {
        if (!closed) {
          System.err.println("counting proxy: " + e);
        }
      }
    }
  }

  private static void start(IoTask task, Runnable done) {
    Thread t = new Thread(() -> {
      try {
        task.run();
      } catch (IOException e) {
        // the connection ended
      } finally {
        done.run();
      }
    }, "counting-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private void pump(InputStream from, OutputStream to, boolean clientSide) throws IOException {
    byte[] buf = new byte[1 << 16];
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    long literal = 0;
    boolean continuation = false;
    boolean lineStart = true;
    for (int n = from.read(buf); n > 0; n = from.read(buf)) {
      if (!clientSide) {
        // Counts "+ " at the start of a server line (a continuation request); literals inside
        // server responses may contain such bytes too, but not in the small exchanges counted here.
        for (int i = 0; i < n; i++) {
          if (lineStart && buf[i] == '+' && i + 1 < n && buf[i + 1] == ' ') {
            synchronized (this) {
              continuations++;
            }
          }
          lineStart = buf[i] == '\n';
        }
      }
      if (clientSide) {
        for (int i = 0; i < n; i++) {
          if (literal > 0) {
            literal--;
            continue;
          }
          byte b = buf[i];
          if (b != '\n') {
            line.write(b);
            continue;
          }
          String l = line.toString(StandardCharsets.ISO_8859_1).stripTrailing();
          line.reset();
          if (!continuation) {
            record(l);
          }
          int open = l.lastIndexOf('{');
          if (l.endsWith("}") && open >= 0) {
            literal = Long.parseLong(l.substring(open + 1, l.length() - 1).replace("+", ""));
            continuation = true;
          } else {
            continuation = false;
          }
        }
      }
      to.write(buf, 0, n);
      to.flush();
    }
  }

  private void record(String line) {
    String[] words = line.split(" ", 4);
    if (words.length < 2 || !words[1].matches("[A-Za-z]+")) {
      return; // a continuation (an AUTHENTICATE response, say), not a command
    }
    String verb = words[1].toUpperCase(Locale.ROOT);
    if (verb.equals("UID") && words.length > 2) {
      verb += " " + words[2].toUpperCase(Locale.ROOT);
    }
    synchronized (this) {
      commands.add(verb);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    synchronized (this) {
      sockets.forEach(CountingProxy::closeQuietly);
    }
    try {
      acceptor.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @FunctionalInterface
  private interface IoTask {
    void run() throws IOException;
  }
}
