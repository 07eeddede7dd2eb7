package dev.emailrouter.reliability;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A second IMAP client at work while the router reads, scripted on the wire: a proxy in front of
 * GreenMail that, in the middle of the answer to a {@code UID FETCH}, really expunges or moves a
 * message (through GreenMail's store, as another session would) and tells the router's session so
 * at once with {@code * n EXPUNGE}, as RFC 3501 section 7.4.1 allows during a UID command; and sends
 * unsolicited {@code * n FETCH (FLAGS (...))} responses without a UID, as a server does when another
 * client changes flags. The FETCH responses after an EXPUNGE carry the shifted sequence numbers.
 *
 * <p>GreenMail numbers its responses by the folder as it is at once, but tells a session of another
 * client's expunge only at the end of a later command; the proxy drops that late EXPUNGE, which the
 * router's session already had. One answer at a time per connection (no pipelining). Thread-safe.
 */
final class SecondImapClient implements AutoCloseable {

  /** What the other client does to a message. */
  enum Act {
    /** Deletes it and expunges the folder. */
    EXPUNGE,
    /** Moves it to another folder. */
    MOVE,
    /** Changes its flags. */
    FLAG
  }

  /** Performs an act on the real server's store, for the proxy. */
  interface Hands {
    void act(Act act, long uid);
  }

  /** An act done, on the message with this UID. */
  record Done(Act act, long uid) {}

  private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)\\+?}\\r\\n$");
  private static final Pattern UID_FETCH = Pattern.compile("^(\\S+) UID FETCH ", Pattern.CASE_INSENSITIVE);
  private static final Pattern NUMBERED = Pattern.compile("^\\* (\\d+) (FETCH|EXPUNGE)\\b",
      Pattern.CASE_INSENSITIVE);
  private static final Pattern UID_ITEM = Pattern.compile("[( ]UID (\\d+)", Pattern.CASE_INSENSITIVE);

  private final ServerSocket listener;
  private final int targetPort;
  private final Hands hands;
  private final AtomicInteger shots = new AtomicInteger();
  private final AtomicInteger turn = new AtomicInteger();
  private final List<Done> done = new CopyOnWriteArrayList<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  private SecondImapClient(int targetPort, Hands hands) throws IOException {
    this.targetPort = targetPort;
    this.hands = hands;
    this.listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread acceptor = new Thread(this::acceptLoop, "second-imap-client-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** A proxy to GreenMail's IMAP port; {@code hands} does the acts on GreenMail's store. */
  static SecondImapClient to(int targetPort, Hands hands) {
    try {
      return new SecondImapClient(targetPort, hands);
    } catch (IOException e) {
      throw new IllegalStateException("proxy can't listen: " + e, e);
    }
  }

  int port() {
    return listener.getLocalPort();
  }

  /**
   * Meddles with the next {@code answers} UID FETCH answers: in each with three or more messages,
   * after the second, the first one is expunged or moved (in turn) and the second's flags change;
   * in a smaller one, the first's flags change.
   */
  void arm(int answers) {
    shots.set(answers);
  }

  /** Meddles with every UID FETCH answer from now on. */
  void always() {
    shots.set(Integer.MAX_VALUE);
  }

  void disarm() {
    shots.set(0);
  }

  /** What was done so far, in order. */
  List<Done> done() {
    return List.copyOf(done);
  }

  /** UIDs expunged or moved so far. */
  Set<Long> gone() {
    Set<Long> out = new TreeSet<>();
    for (Done d : done) {
      if (d.act() != Act.FLAG) {
        out.add(d.uid());
      }
    }
    return out;
  }

  @Override
  public void close() {
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    for (Socket s : open) {
      closeQuietly(s);
    }
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket("127.0.0.1", targetPort);
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        open.add(client);
        open.add(server);
        new Link(client, server).start();
      } catch (IOException e) {
        if (listener.isClosed()) {
          return;
        }
      }
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  /** One response or command: its text parts and literals, as they came. */
  private static final class Unit {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    /** The text outside literals, for matching. */
    final StringBuilder text = new StringBuilder();

    String first() {
      int end = text.indexOf("\r\n");
      return end < 0 ? text.toString() : text.substring(0, end);
    }
  }

  /** Reads one line and its literals (a response or a command) from {@code in}; null at the end. */
  private static Unit read(InputStream in) throws IOException {
    Unit u = new Unit();
    while (true) {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) != -1) {
        line.write(b);
        if (b == '\n') {
          break;
        }
      }
      if (line.size() == 0) {
        return u.bytes.size() == 0 ? null : u;
      }
      byte[] l = line.toByteArray();
      u.bytes.write(l);
      String s = new String(l, StandardCharsets.ISO_8859_1);
      u.text.append(s);
      Matcher m = LITERAL.matcher(s);
      if (b == -1 || !m.find()) {
        return u;
      }
      int n = Integer.parseInt(m.group(1));
      byte[] literal = in.readNBytes(n);
      u.bytes.write(literal);
      if (literal.length < n) {
        return u;
      }
    }
  }

  /** One connection of the router's session. */
  private final class Link {
    private final Socket client;
    private final Socket server;
    /** The tag of the UID FETCH whose answer is being held, or null. */
    private volatile String fetchTag;
    /**
     * The sequence numbers GreenMail gave the messages the session was already told are expunged, in
     * order: GreenMail announces another session's expunge late, by these numbers, and its news is
     * dropped (the session knew).
     */
    private final java.util.ArrayDeque<Integer> hidden = new java.util.ArrayDeque<>();

    Link(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void start() {
      Thread up = new Thread(this::up, "second-imap-client-up");
      Thread down = new Thread(this::down, "second-imap-client-down");
      up.setDaemon(true);
      down.setDaemon(true);
      up.start();
      down.start();
    }

    private void cut() {
      closeQuietly(client);
      closeQuietly(server);
      open.remove(client);
      open.remove(server);
    }

    private void up() {
      try {
        InputStream in = new BufferedInputStream(client.getInputStream());
        OutputStream out = server.getOutputStream();
        Unit u;
        while ((u = read(in)) != null) {
          Matcher m = UID_FETCH.matcher(u.first());
          if (m.find()) {
            fetchTag = m.group(1); // before the server can answer
          }
          out.write(u.bytes.toByteArray());
          out.flush();
        }
      } catch (IOException e) {
        // either side closed
      } finally {
        cut();
      }
    }

    private void down() {
      try {
        InputStream in = new BufferedInputStream(server.getInputStream(), 64 * 1024);
        OutputStream out = new BufferedOutputStream(client.getOutputStream(), 64 * 1024);
        List<Unit> held = new ArrayList<>();
        Unit u;
        while ((u = read(in)) != null) {
          String tag = fetchTag;
          if (tag != null) {
            if (u.first().startsWith(tag + " ")) {
              fetchTag = null;
              answer(held, out);
              held.clear();
              out.write(u.bytes.toByteArray());
              out.flush();
            } else {
              held.add(u);
            }
            continue;
          }
          emit(u, out);
          if (in.available() == 0) {
            out.flush();
          }
        }
      } catch (IOException e) {
        // either side closed
      } finally {
        cut();
      }
    }

    /** Forwards a response; GreenMail's late news of an expunge the session was already told of is dropped. */
    private void emit(Unit u, OutputStream out) throws IOException {
      Matcher m = NUMBERED.matcher(u.first());
      if (m.find() && m.group(2).equalsIgnoreCase("EXPUNGE")) {
        synchronized (hidden) {
          Integer head = hidden.peekFirst();
          if (head != null && head == Integer.parseInt(m.group(1))) {
            hidden.pollFirst();
            return;
          }
        }
      }
      out.write(u.bytes.toByteArray());
    }

    /**
     * Forwards a response GreenMail made before the other client expunged message {@code gone}: a
     * FETCH of that message is dropped, the numbers above it shift down by one (GreenMail numbers
     * its later responses by the folder as it is, so only the held answer needs this).
     */
    private void emitAfterExpunge(Unit u, int gone, long goneUid, OutputStream out) throws IOException {
      Matcher m = NUMBERED.matcher(u.first());
      if (!m.find() || !m.group(2).equalsIgnoreCase("FETCH")) {
        emit(u, out);
        return;
      }
      int n = Integer.parseInt(m.group(1));
      if (n == gone || uid(u) == goneUid) {
        return;
      }
      if (n < gone) {
        out.write(u.bytes.toByteArray());
        return;
      }
      byte[] bytes = u.bytes.toByteArray();
      int skip = m.start(2) - 1; // "* <old>" up to the space before FETCH
      out.write(("* " + (n - 1)).getBytes(StandardCharsets.ISO_8859_1));
      out.write(bytes, skip, bytes.length - skip);
    }

    /** The held answer to a UID FETCH, with the other client's work in the middle when armed. */
    private void answer(List<Unit> held, OutputStream out) throws IOException {
      List<Integer> fetches = new ArrayList<>();
      for (int i = 0; i < held.size(); i++) {
        Matcher m = NUMBERED.matcher(held.get(i).first());
        if (m.find() && m.group(2).equalsIgnoreCase("FETCH") && uid(held.get(i)) > 0) {
          fetches.add(i);
        }
      }
      boolean meddle = !fetches.isEmpty() && shots.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
      if (!meddle) {
        for (Unit u : held) {
          emit(u, out);
        }
        return;
      }
      int after = fetches.size() >= 3 ? fetches.get(1) : fetches.get(0);
      for (int i = 0; i <= after; i++) {
        emit(held.get(i), out);
      }
      Unit flagged = held.get(after);
      int flaggedNumber = number(flagged);
      int gone = Integer.MAX_VALUE;
      long goneUid = -1;
      if (fetches.size() >= 3) {
        Unit first = held.get(fetches.get(0));
        Act act = turn.getAndIncrement() % 2 == 0 ? Act.EXPUNGE : Act.MOVE;
        goneUid = uid(first);
        gone = number(first);
        hands.act(act, goneUid);
        done.add(new Done(act, goneUid));
        synchronized (hidden) {
          hidden.addLast(gone);
        }
        write(out, "* " + gone + " EXPUNGE\r\n");
        if (flaggedNumber > gone) {
          flaggedNumber--;
        }
      }
      long flaggedUid = uid(flagged);
      hands.act(Act.FLAG, flaggedUid);
      done.add(new Done(Act.FLAG, flaggedUid));
      write(out, "* " + flaggedNumber + " FETCH (FLAGS (\\Flagged $Meddled))\r\n");
      for (int i = after + 1; i < held.size(); i++) {
        emitAfterExpunge(held.get(i), gone, goneUid, out);
      }
    }

    private static int number(Unit u) {
      Matcher m = NUMBERED.matcher(u.first());
      if (!m.find()) {
        throw new IllegalStateException("not a numbered response: " + u.first());
      }
      return Integer.parseInt(m.group(1));
    }

    private static long uid(Unit u) {
      Matcher m = UID_ITEM.matcher(u.text);
      return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static void write(OutputStream out, String line) throws IOException {
      out.write(line.getBytes(StandardCharsets.ISO_8859_1));
    }
  }

  @Override
  public String toString() {
    return "SecondImapClient" + done.stream().map(d -> d.act().name().toLowerCase(Locale.ROOT) + " " + d.uid())
        .toList();
  }
}
