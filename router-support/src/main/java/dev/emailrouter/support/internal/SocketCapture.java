package dev.emailrouter.support.internal;

import java.net.Socket;

/**
 * Lets a connection learn the socket Angus opened for it, which Angus keeps private: POP3 pipelines
 * commands on it (RFC 2449). (SMTP opens its sockets itself since it has its own protocol layer.) The
 * socket factories {@link MailConnections} puts in the session properties report every socket they
 * make; while a thread connects between {@link #start()} and {@link #stop()}, the last socket made on
 * that thread is kept (after STARTTLS, the TLS socket layered on the plain one). Thread-safe: the
 * capture is per thread, so one set of properties serves many connections at once. Internal:
 * unsupported, may change without notice.
 */
public final class SocketCapture {
  private static final ThreadLocal<Socket[]> CAPTURING = new ThreadLocal<>();

  private SocketCapture() {}

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

  /** Reports a socket just made by {@link MailConnections}' factories; kept if this thread is capturing. */
  static Socket seen(Socket socket) {
    Socket[] holder = CAPTURING.get();
    if (holder != null) {
      holder[0] = socket;
    }
    return socket;
  }
}
