package dev.emailrouter.imap;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A TCP proxy between the reader and GreenMail that records every command line the client sends
 * (without its tag) and can hide capabilities from the server's CAPABILITY answers, to exercise the
 * fallbacks for servers without MOVE or UIDPLUS. Literals pass through untouched in both directions.
 */
final class WireProxy implements AutoCloseable {

  private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)\\+?}\\r?\\n$");

  private final ServerSocket listener;
  private final int targetPort;
  private final Set<String> hidden;
  private final List<String> commands = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final List<String> droppedServerLines = new CopyOnWriteArrayList<>();
  private volatile String announced = "";
  private volatile boolean refusing;
  private final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();

  WireProxy(int targetPort, String... hiddenCapabilities) throws IOException {
    this.targetPort = targetPort;
    this.hidden = Set.of(hiddenCapabilities);
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "wire-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** How many connections the proxy accepted and passed on so far. */
  int connections() {
    return connections.get();
  }

  /** The command lines sent so far, tags removed, e.g. {@code UID FETCH 1:* (UID)}. */
  List<String> commands() {
    return new ArrayList<>(commands);
  }

  /** The commands sent so far whose text starts with {@code prefix}. */
  List<String> commandsStartingWith(String prefix) {
    return commands.stream().filter(c -> c.startsWith(prefix)).collect(Collectors.toList());
  }

  /** Drops server lines containing {@code text} from now on, e.g. {@code [UIDNEXT} for a server that omits it. */
  void dropServerLinesContaining(String text) {
    droppedServerLines.add(text);
  }

  /** Adds a capability to the server's CAPABILITY answers, as if the server offered it. */
  WireProxy announce(String capability) {
    announced = announced + " " + capability;
    return this;
  }

  /**
   * New connections are closed as soon as they are accepted; open ones go on. The port stays
   * bound, so no other test's listener can take it over and answer in the proxy's place.
   */
  void refuseNew() {
    refusing = true;
  }

  /** New connections are passed on again, after {@link #refuseNew()}. */
  void acceptNew() {
    refusing = false;
  }

  void clear() {
    commands.clear();
  }

  /** Cuts every open connection, as a server restart or a network failure would. */
  void dropConnections() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    sockets.clear();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    dropConnections();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        if (refusing) {
          client.close();
          continue;
        }
        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        connections.incrementAndGet();
        sockets.add(client);
        sockets.add(server);
        start(() -> pump(client, server, true));
        start(() -> pump(server, client, false));
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void start(Runnable r) {
    Thread t = new Thread(r, "wire-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private void pump(Socket from, Socket to, boolean clientToServer) {
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      byte[] line;
      while ((line = readLine(in)) != null) {
        String text = new String(line, StandardCharsets.ISO_8859_1);
        if (clientToServer) {
          String withoutTag = text.strip();
          int space = withoutTag.indexOf(' ');
          commands.add(space > 0 ? withoutTag.substring(space + 1) : withoutTag);
        } else if (droppedServerLines.stream().anyMatch(text::contains)) {
          continue;
        } else if (!hidden.isEmpty() && (text.startsWith("* CAPABILITY") || text.contains("[CAPABILITY "))) {
          line = hideCapabilities(text).getBytes(StandardCharsets.ISO_8859_1);
        } else if (!announced.isEmpty() && text.startsWith("* CAPABILITY")) {
          line = (text.stripTrailing() + announced + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        }
        out.write(line);
        Matcher literal = LITERAL.matcher(text);
        if (literal.find()) {
          long remaining = Long.parseLong(literal.group(1));
          byte[] buffer = new byte[8192];
          while (remaining > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
            if (n < 0) {
              return;
            }
            out.write(buffer, 0, n);
            remaining -= n;
          }
        }
        out.flush();
      }
    } catch (IOException e) {
      // connection closed
    } finally {
      try {
        from.close();
        to.close();
      } catch (IOException e) {
        // ignore
      }
    }
  }

  private String hideCapabilities(String line) {
    String body = line.strip();
    List<String> kept = new ArrayList<>();
    for (String token : body.split(" ")) {
      boolean closes = token.endsWith("]");
      if (hidden.contains(closes ? token.substring(0, token.length() - 1) : token)) {
        if (closes && !kept.isEmpty()) {
          kept.set(kept.size() - 1, kept.get(kept.size() - 1) + "]");
        }
      } else {
        kept.add(token);
      }
    }
    return String.join(" ", kept) + "\r\n";
  }

  private static byte[] readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      line.write(b);
      if (b == '\n') {
        return line.toByteArray();
      }
    }
    return line.size() == 0 ? null : line.toByteArray();
  }
}
