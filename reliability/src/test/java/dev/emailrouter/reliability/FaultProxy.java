package dev.emailrouter.reliability;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * A TCP proxy on 127.0.0.1 between an adapter and a test server that injects network faults: it
 * cuts a connection after some bytes, stalls it (stops forwarding, as a hung server or a black-holed
 * link: what arrives is read and dropped, so a close by either side still ends the connection), trickles bytes slowly, or rewrites a protocol line — each when a line matching a pattern
 * crosses it in a given direction, or when a connection opens.
 *
 * <p>Lines are matched on ISO-8859-1 text; TLS traffic passes untouched (only connection-open
 * faults and byte counts make sense there). A fault fires a given number of times (once by
 * default), counted across connections. Thread-safe: each connection has a pump thread per
 * direction.
 */
final class FaultProxy implements AutoCloseable {

  /** Which way bytes go. */
  enum Direction {
    /** From the adapter (client) to the server. */
    UP,
    /** From the server to the adapter. */
    DOWN
  }

  private enum Kind { CUT, STALL, TRICKLE, REWRITE }

  /** One fault to inject; configure it, then {@link FaultProxy#arm(Fault)} it. */
  static final class Fault {
    final String name;
    private Direction triggerDirection;
    private Pattern trigger;
    private boolean onConnect;
    private Kind kind;
    private Direction actionDirection;
    private long afterBytes;
    private int chunk = 1;
    private long delayMillis;
    private UnaryOperator<String> rewrite;
    private final AtomicInteger shotsLeft = new AtomicInteger(1);
    private final AtomicInteger fired = new AtomicInteger();
    private final List<String> triggerLines = new CopyOnWriteArrayList<>();

    private Fault(String name) {
      this.name = name;
    }

    /** A fault that fires when a line matching {@code regex} crosses in {@code direction}. */
    static Fault when(String name, Direction direction, String regex) {
      Fault f = new Fault(name);
      f.triggerDirection = direction;
      f.trigger = Pattern.compile(regex);
      return f;
    }

    /** A fault that fires when a connection opens. */
    static Fault onConnect(String name) {
      Fault f = new Fault(name);
      f.onConnect = true;
      return f;
    }

    /** A fault that rewrites lines crossing in {@code direction}; {@code fn} returns null to leave a line alone. */
    static Fault rewrite(String name, Direction direction, UnaryOperator<String> fn) {
      Fault f = new Fault(name);
      f.kind = Kind.REWRITE;
      f.triggerDirection = direction;
      f.actionDirection = direction;
      f.rewrite = fn;
      return f;
    }

    /** Cuts the connection (both sides) after {@code bytes} more bytes went in {@code direction}. */
    Fault cut(Direction direction, long bytes) {
      kind = Kind.CUT;
      actionDirection = direction;
      afterBytes = bytes;
      return this;
    }

    /** Stops forwarding in {@code direction} after {@code bytes} more bytes, until the connection closes. */
    Fault stall(Direction direction, long bytes) {
      kind = Kind.STALL;
      actionDirection = direction;
      afterBytes = bytes;
      return this;
    }

    /** From now on forwards {@code direction} in pieces of {@code bytes}, one every {@code delay}. */
    Fault trickle(Direction direction, int bytes, Duration delay) {
      kind = Kind.TRICKLE;
      actionDirection = direction;
      chunk = bytes;
      delayMillis = delay.toMillis();
      return this;
    }

    /** How many times it fires (default once). */
    Fault times(int n) {
      shotsLeft.set(n);
      return this;
    }

    /** Fires every time. */
    Fault always() {
      return times(Integer.MAX_VALUE);
    }

    /** How many times it fired so far. */
    int fired() {
      return fired.get();
    }

    /** The lines that made it fire, in order. */
    List<String> triggerLines() {
      return List.copyOf(triggerLines);
    }

    /** Stops it from firing again. */
    void disarm() {
      shotsLeft.set(0);
    }

    private boolean take() {
      return shotsLeft.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
    }

    @Override
    public String toString() {
      return name + " (fired " + fired.get() + ")";
    }
  }

  private static final int MAX_LINE = 64 * 1024;

  private final String targetHost;
  private final int targetPort;
  private final ServerSocket listener;
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final List<Fault> faults = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicLong upBytes = new AtomicLong();
  private final AtomicLong downBytes = new AtomicLong();
  private volatile boolean refusing;
  private final AtomicInteger injected = new AtomicInteger();
  private volatile ByteArrayOutputStream upCapture;

  private FaultProxy(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 100, InetAddress.getByName("127.0.0.1"));
    Thread acceptor = new Thread(this::acceptLoop, "fault-proxy-accept-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Starts a proxy to a server on 127.0.0.1. */
  static FaultProxy to(int targetPort) {
    try {
      return new FaultProxy("127.0.0.1", targetPort);
    } catch (IOException e) {
      throw new IllegalStateException("proxy can't listen: " + e, e);
    }
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Connections accepted so far. */
  /** Faults fired and connections refused over the proxy's life, for the figures. */
  int injected() {
    return injected.get();
  }

  int connections() {
    return connections.get();
  }

  long bytes(Direction direction) {
    return direction == Direction.UP ? upBytes.get() : downBytes.get();
  }

  /** Arms a fault; returns it for counting. */
  Fault arm(Fault fault) {
    faults.add(fault);
    return fault;
  }

  /** Disarms every fault. */
  void heal() {
    for (Fault f : faults) {
      f.disarm();
    }
    faults.clear();
    refusing = false;
  }

  /** While on, every new connection is closed at once, before a byte is exchanged (a server that went away). */
  void refuseConnections(boolean on) {
    refusing = on;
  }

  /** Closes every open connection on both sides. */
  void cutAll() {
    for (Link link : links) {
      link.cut();
    }
  }

  /** Records everything the client sends from now on (for asserting what crossed the wire). */
  void captureUpstream() {
    upCapture = new ByteArrayOutputStream();
  }

  /** What the client sent since {@link #captureUpstream()}, as ISO-8859-1 text. */
  String upstreamText() {
    ByteArrayOutputStream c = upCapture;
    if (c == null) {
      return "";
    }
    synchronized (c) {
      return c.toString(StandardCharsets.ISO_8859_1);
    }
  }

  @Override
  public void close() {
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    cutAll();
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return;
      }
      connections.incrementAndGet();
      if (refusing) {
        injected.incrementAndGet();
        closeQuietly(client);
        continue;
      }
      Socket server;
      try {
        server = new Socket(targetHost, targetPort);
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
      } catch (IOException e) {
        closeQuietly(client);
        continue;
      }
      Link link = new Link(client, server);
      links.add(link);
      link.start();
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  /** Thrown inside a pump when its connection is gone. */
  private static final class Closed extends IOException {
    private static final long serialVersionUID = 1L;
  }

  /** A countdown to a cut or a stall in one direction. */
  private static final class Pending {
    final Kind kind;
    long remaining;

    Pending(Kind kind, long remaining) {
      this.kind = kind;
      this.remaining = remaining;
    }
  }

  /** One client connection and its twin to the server. */
  private final class Link {
    private final Socket client;
    private final Socket server;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Pending[] pending = new Pending[2];
    private final long[] trickleDelay = new long[2];
    private final int[] trickleChunk = new int[2];

    Link(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void start() {
      for (Fault f : faults) {
        if (f.onConnect && f.take()) {
          fire(f, "(connection opened)");
        }
      }
      Thread up = new Thread(() -> pump(Direction.UP), "fault-proxy-up");
      Thread down = new Thread(() -> pump(Direction.DOWN), "fault-proxy-down");
      up.setDaemon(true);
      down.setDaemon(true);
      up.start();
      down.start();
    }

    void cut() {
      links.remove(this);
      closeQuietly(client);
      closeQuietly(server);
      closed.countDown();
    }

    private synchronized void fire(Fault f, String line) {
      f.fired.incrementAndGet();
      injected.incrementAndGet();
      f.triggerLines.add(line);
      int d = f.actionDirection.ordinal();
      switch (f.kind) {
        case CUT -> {
          if (f.afterBytes == 0) {
            cut();
          } else {
            pending[d] = new Pending(Kind.CUT, f.afterBytes);
          }
        }
        case STALL -> pending[d] = new Pending(Kind.STALL, f.afterBytes);
        case TRICKLE -> {
          trickleChunk[d] = Math.max(1, f.chunk);
          trickleDelay[d] = f.delayMillis;
        }
        default -> throw new IllegalStateException("not a triggered fault: " + f.kind);
      }
    }

    private void pump(Direction dir) {
      Socket from = dir == Direction.UP ? client : server;
      Socket to = dir == Direction.UP ? server : client;
      byte[] buf = new byte[64 * 1024];
      StringBuilder line = new StringBuilder();
      ByteArrayOutputStream held = new ByteArrayOutputStream();
      try {
        InputStream in = from.getInputStream();
        OutputStream out = new BufferedOutputStream(to.getOutputStream(), 64 * 1024);
        int n;
        while ((n = in.read(buf)) != -1) {
          count(dir, buf, 0, n);
          boolean rewriting = hasRewrite(dir);
          int segment = 0;
          for (int i = 0; i < n; i++) {
            if (line.length() < MAX_LINE) {
              line.append((char) (buf[i] & 0xff));
            }
            if (buf[i] != '\n') {
              continue;
            }
            String text = line.toString();
            line.setLength(0);
            byte[] bytes;
            if (held.size() > 0 || rewriting) {
              held.write(buf, segment, i + 1 - segment);
              bytes = held.toByteArray();
              held.reset();
              if (rewriting) {
                String replaced = rewrite(dir, text);
                if (replaced != null) {
                  text = replaced;
                  bytes = replaced.getBytes(StandardCharsets.ISO_8859_1);
                }
              }
            } else {
              bytes = null;
            }
            List<Fault> after = new java.util.ArrayList<>();
            for (Fault f : faults) {
              if (f.kind != Kind.REWRITE && !f.onConnect && f.triggerDirection == dir && f.trigger.matcher(text).find()
                  && f.take()) {
                if (f.actionDirection == dir) {
                  after.add(f);
                } else {
                  fire(f, text.strip());
                }
              }
            }
            if (bytes != null) {
              send(dir, out, bytes, 0, bytes.length);
            } else {
              send(dir, out, buf, segment, i + 1 - segment);
            }
            segment = i + 1;
            for (Fault f : after) {
              out.flush();
              fire(f, text.strip());
            }
          }
          if (segment < n) {
            if (rewriting && held.size() + n - segment < MAX_LINE) {
              held.write(buf, segment, n - segment);
            } else {
              if (held.size() > 0) {
                byte[] h = held.toByteArray();
                held.reset();
                send(dir, out, h, 0, h.length);
              }
              send(dir, out, buf, segment, n - segment);
            }
          }
          out.flush();
        }
      } catch (IOException e) {
        // one side closed, or a cut
      } finally {
        cut();
      }
    }

    private void count(Direction dir, byte[] buf, int off, int len) {
      (dir == Direction.UP ? upBytes : downBytes).addAndGet(len);
      ByteArrayOutputStream c = upCapture;
      if (dir == Direction.UP && c != null) {
        synchronized (c) {
          if (c.size() < 8 * 1024 * 1024) {
            c.write(buf, off, len);
          }
        }
      }
    }

    private boolean hasRewrite(Direction dir) {
      for (Fault f : faults) {
        if (f.kind == Kind.REWRITE && f.triggerDirection == dir && f.shotsLeft.get() > 0) {
          return true;
        }
      }
      return false;
    }

    private String rewrite(Direction dir, String text) {
      for (Fault f : faults) {
        if (f.kind == Kind.REWRITE && f.triggerDirection == dir && f.shotsLeft.get() > 0) {
          String replaced = f.rewrite.apply(text);
          if (replaced != null && f.take()) {
            f.fired.incrementAndGet();
      injected.incrementAndGet();
            f.triggerLines.add(text.strip());
            return replaced;
          }
        }
      }
      return null;
    }

    /** Forwards bytes, honouring a pending cut or stall and a trickle in this direction. */
    private void send(Direction dir, OutputStream out, byte[] b, int off, int len) throws IOException {
      int d = dir.ordinal();
      while (len > 0) {
        Pending p;
        synchronized (this) {
          p = pending[d];
        }
        if (p == null) {
          write(d, out, b, off, len);
          return;
        }
        if (p.remaining == 0) {
          out.flush();
          if (p.kind == Kind.CUT) {
            cut();
            throw new Closed();
          }
          // Stalled: keep reading (so a close by either side still ends the link) but forward nothing.
          return;
        }
        int k = (int) Math.min(len, p.remaining);
        write(d, out, b, off, k);
        p.remaining -= k;
        off += k;
        len -= k;
        if (p.remaining == 0 && p.kind == Kind.CUT) {
          out.flush();
          cut();
          throw new Closed();
        }
      }
    }

    private void write(int d, OutputStream out, byte[] b, int off, int len) throws IOException {
      long delay;
      int piece;
      synchronized (this) {
        delay = trickleDelay[d];
        piece = trickleChunk[d];
      }
      if (delay <= 0) {
        out.write(b, off, len);
        return;
      }
      for (int i = 0; i < len; i += piece) {
        out.write(b, off + i, Math.min(piece, len - i));
        out.flush();
        try {
          if (closed.await(delay, TimeUnit.MILLISECONDS)) {
            throw new Closed();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new Closed();
        }
      }
    }

  }
}
