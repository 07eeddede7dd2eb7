package dev.emailrouter.support.internal;

import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.AccessStep.Check;
import dev.emailrouter.api.Security;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Unsupported. The first steps of Test Access that all three protocols share, on a connection of
 * its own: the host resolves, a TCP connection opens, TLS (implicit, or after STARTTLS/STLS) is
 * trusted and names the host, and the server greets as the protocol the adapter speaks rather than
 * another service that happens to listen on that port. It sends no credential and nothing that
 * changes a mailbox; it ends with QUIT or LOGOUT. Login and what follows it are the adapter's,
 * through its own connection code, so Test Access logs in exactly as a tick would.
 */
public final class AccessProbe {

  /** The protocol the adapter speaks, which decides the greeting and the TLS upgrade command. */
  public enum Protocol {
    /** IMAP: greets {@code * OK}, upgrades with {@code STARTTLS}. */
    IMAP,
    /** POP3: greets {@code +OK}, upgrades with {@code STLS}. */
    POP3,
    /** SMTP: greets {@code 220}, upgrades with {@code STARTTLS} after {@code EHLO}. */
    SMTP
  }

  /**
   * What the probe found.
   *
   * @param steps the steps taken, in order
   * @param reachable whether every step passed, so the adapter may go on to log in
   * @param capabilities what the server listed after TLS (IMAP CAPABILITY atoms, POP3 CAPA lines,
   *     SMTP EHLO keywords with their parameters), upper-cased; empty when it listed none
   */
  public record Result(List<AccessStep> steps, boolean reachable, List<String> capabilities) {
    /**
     * Copies the lists.
     *
     * @param steps the steps taken, in order
     * @param reachable whether every step passed, so the adapter may go on to log in
     * @param capabilities what the server listed after TLS (IMAP CAPABILITY atoms, POP3 CAPA lines, SMTP EHLO
     *     keywords with their parameters), upper-cased; empty when it listed none
     */
    public Result {
      steps = List.copyOf(steps);
      capabilities = List.copyOf(capabilities);
    }

    /**
     * Whether the server listed a capability (case-insensitive; an SMTP keyword matches with or
     * without its parameters).
     *
     * @param name the capability
     * @return whether it was listed
     */
    public boolean offers(String name) {
      String wanted = name.toUpperCase(Locale.ROOT);
      return capabilities.stream().anyMatch(c -> c.equals(wanted) || c.startsWith(wanted + " ")
          || c.startsWith(wanted + "="));
    }

    /**
     * The parameters of an SMTP keyword or POP3 capability ({@code AUTH PLAIN LOGIN} gives {@code
     * "PLAIN LOGIN"}), or {@code null} when it was not listed.
     *
     * @param name the keyword
     * @return its parameters, possibly empty, or {@code null}
     */
    public String parameters(String name) {
      String wanted = name.toUpperCase(Locale.ROOT);
      for (String c : capabilities) {
        if (c.equals(wanted)) {
          return "";
        }
        if (c.startsWith(wanted + " ") || c.startsWith(wanted + "=")) {
          return c.substring(wanted.length() + 1).trim();
        }
      }
      return null;
    }
  }

  private static final int MAX_LINE = 2048;
  private static final int MAX_LINES = 200;

  private AccessProbe() {}

  /**
   * Probes a server.
   *
   * @param protocol the protocol the adapter speaks
   * @param host the host as configured
   * @param port the port as configured
   * @param security the security as configured
   * @param trust the trust store as configured, or {@code null} for the JVM's default
   * @param connectTimeout the connect timeout
   * @param readTimeout how long to wait for each answer
   * @return the steps; never throws for what the server or network does
   */
  public static Result probe(Protocol protocol, String host, int port, Security security, KeyStore trust,
      Duration connectTimeout, Duration readTimeout) {
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(security, "security");
    List<AccessStep> steps = new ArrayList<>();
    List<String> capabilities = new ArrayList<>();
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(host);
      steps.add(AccessStep.passed(Check.RESOLVE, host + " is " + addresses[0].getHostAddress()));
    } catch (UnknownHostException e) {
      steps.add(AccessStep.failed(Check.RESOLVE, "the host name " + host + " does not resolve", "host"));
      return new Result(steps, false, capabilities);
    }
    Socket socket = null;
    try {
      socket = connect(addresses, port, connectTimeout, steps);
      if (socket == null) {
        return new Result(steps, false, capabilities);
      }
      socket.setSoTimeout(Math.toIntExact(Math.max(1, readTimeout.toMillis())));
      if (security == Security.IMPLICIT_TLS) {
        socket = tls(socket, host, port, trust, steps, protocol, true);
        if (socket == null) {
          return new Result(steps, false, capabilities);
        }
      }
      Conversation c = new Conversation(socket);
      if (!greeting(protocol, c, host, port, security, steps)) {
        return new Result(steps, false, capabilities);
      }
      List<String> listed = capabilities(protocol, c);
      if (security == Security.STARTTLS) {
        if (!startTls(protocol, c, listed, steps)) {
          return new Result(steps, false, capabilities);
        }
        socket = tls(socket, host, port, trust, steps, protocol, false);
        if (socket == null) {
          return new Result(steps, false, capabilities);
        }
        c = new Conversation(socket);
        listed = capabilities(protocol, c);
      } else if (security == Security.PLAIN_TEXT_INSECURE) {
        steps.add(AccessStep.skipped(Check.TLS, "security is PLAIN_TEXT_INSECURE: credentials and mail cross the "
            + "network unencrypted"));
      }
      capabilities.addAll(listed);
      c.quit(protocol);
      return new Result(steps, true, capabilities);
    } catch (IOException e) {
      steps.add(AccessStep.failed(lastCheck(steps), "the connection failed: " + describe(e), null));
      return new Result(steps, false, capabilities);
    } finally {
      closeQuietly(socket);
    }
  }

  private static Check lastCheck(List<AccessStep> steps) {
    return steps.isEmpty() ? Check.CONNECT : nextOf(steps.get(steps.size() - 1).check());
  }

  private static Check nextOf(Check done) {
    return switch (done) {
      case RESOLVE -> Check.CONNECT;
      case CONNECT, TLS -> Check.GREETING;
      default -> done;
    };
  }

  private static Socket connect(InetAddress[] addresses, int port, Duration timeout, List<AccessStep> steps) {
    IOException last = null;
    InetAddress tried = addresses[0];
    for (InetAddress address : addresses) {
      tried = address;
      Socket socket = new Socket();
      try {
        long start = System.nanoTime();
        socket.connect(new InetSocketAddress(address, port), Math.toIntExact(Math.max(1, timeout.toMillis())));
        socket.setTcpNoDelay(true);
        steps.add(AccessStep.passed(Check.CONNECT, "connected to " + address.getHostAddress() + ":" + port + " in "
            + Duration.ofNanos(System.nanoTime() - start).toMillis() + " ms"));
        return socket;
      } catch (IOException e) {
        closeQuietly(socket);
        last = e;
      }
    }
    String where = tried.getHostAddress() + ":" + port;
    if (last instanceof ConnectException) {
      steps.add(AccessStep.failed(Check.CONNECT, "connection refused: nothing listens on " + where
          + " (wrong port, or the server is down)", "port"));
    } else if (last instanceof SocketTimeoutException) {
      steps.add(AccessStep.failed(Check.CONNECT, "no answer from " + where + " within " + timeout.toMillis()
          + " ms (a firewall drops the connection, or the host is wrong)", "host"));
    } else if (last instanceof NoRouteToHostException) {
      steps.add(AccessStep.failed(Check.CONNECT, "no route to " + where, "host"));
    } else {
      steps.add(AccessStep.failed(Check.CONNECT, "could not connect to " + where + ": " + describe(last),
          "host"));
    }
    return null;
  }

  private static Socket tls(Socket plain, String host, int port, KeyStore trust, List<AccessStep> steps,
      Protocol protocol, boolean implicit) {
    SSLSocket socket = null;
    try {
      socket = (SSLSocket) MailConnections.sslContext(trust).getSocketFactory()
          .createSocket(plain, host, port, true);
      SSLParameters parameters = socket.getSSLParameters();
      // RFC 6125 host name checks, the same rules Jakarta Mail's checkserveridentity applies.
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      Certificate[] chain = socket.getSession().getPeerCertificates();
      String subject = chain.length > 0 && chain[0] instanceof X509Certificate x
          ? x.getSubjectX500Principal().getName() : "unknown";
      steps.add(AccessStep.passed(Check.TLS, socket.getSession().getProtocol() + ", "
          + socket.getSession().getCipherSuite() + ", certificate " + subject + " trusted for " + host));
      return socket;
    } catch (SSLHandshakeException e) {
      closeQuietly(socket);
      steps.add(tlsFailure(e, host, protocol, implicit));
      return null;
    } catch (SSLException e) {
      closeQuietly(socket);
      String text = describe(e);
      if (implicit && (text.contains("plaintext") || text.contains("Unsupported or unrecognized SSL message"))) {
        steps.add(AccessStep.failed(Check.TLS, "the server answered in plain text, not TLS: this port does not use "
            + "implicit TLS (use STARTTLS, or the protocol's TLS port)", "security"));
      } else {
        steps.add(AccessStep.failed(Check.TLS, "TLS failed: " + text, "security"));
      }
      return null;
    } catch (IOException e) {
      closeQuietly(socket);
      steps.add(AccessStep.failed(Check.TLS, "TLS failed: " + describe(e), implicit ? "security" : null));
      return null;
    }
  }

  private static AccessStep tlsFailure(SSLHandshakeException e, String host, Protocol protocol, boolean implicit) {
    String text = describe(e);
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException) {
        return AccessStep.failed(Check.TLS, "the server's certificate is outside its validity period: " + text,
            "trustedCertificates");
      }
    }
    if (text.contains("PKIX") || text.contains("unable to find valid certification path")) {
      return AccessStep.failed(Check.TLS, "the server's certificate is not trusted (self-signed, or signed by a "
          + "private CA): give its certificate or CA with trustedCertificates", "trustedCertificates");
    }
    if (text.contains("No subject alternative") || text.contains("No name matching")
        || text.contains("doesn't match")) {
      return AccessStep.failed(Check.TLS, "the server's certificate does not name " + host
          + ": connect with a host name the certificate names", "host");
    }
    if (text.contains("protocol_version") || text.contains("No appropriate protocol")) {
      return AccessStep.failed(Check.TLS, "no TLS protocol version in common with the server: " + text, null);
    }
    if (implicit && (text.contains("Remote host terminated") || text.contains("Unsupported or unrecognized"))) {
      return AccessStep.failed(Check.TLS, "the TLS handshake failed (" + text + "): is this a " + protocol
          + " port with implicit TLS?", "security");
    }
    return AccessStep.failed(Check.TLS, "the TLS handshake failed: " + text, implicit ? "security" : null);
  }

  private static boolean greeting(Protocol protocol, Conversation c, String host, int port, Security security,
      List<AccessStep> steps) throws IOException {
    String line;
    try {
      line = protocol == Protocol.SMTP ? c.smtpReply().get(0) : c.line();
    } catch (SocketTimeoutException e) {
      String hint = security == Security.IMPLICIT_TLS ? ""
          : " (a server that expects TLS at once stays silent too: try security IMPLICIT_TLS)";
      steps.add(AccessStep.failed(Check.GREETING, "no greeting from " + host + ":" + port + " within the read "
          + "timeout: not a " + protocol + " server" + hint, "port"));
      return false;
    }
    if (line == null) {
      steps.add(AccessStep.failed(Check.GREETING, "the server closed the connection without a greeting", "port"));
      return false;
    }
    String shown = shown(line);
    boolean ok = switch (protocol) {
      case IMAP -> line.startsWith("* OK") || line.startsWith("* PREAUTH");
      case POP3 -> line.startsWith("+OK");
      case SMTP -> line.startsWith("220");
    };
    if (ok) {
      steps.add(AccessStep.passed(Check.GREETING, protocol + " server: " + shown));
      return true;
    }
    String other = line.startsWith("* OK") || line.startsWith("* PREAUTH") ? "an IMAP server"
        : line.startsWith("+OK") ? "a POP3 server"
        : line.startsWith("220") ? "an SMTP server"
        : line.startsWith("SSH-") ? "an SSH server"
        : line.startsWith("HTTP/") ? "a web server"
        : protocol == Protocol.SMTP && line.matches("^[45]\\d\\d.*") ? null
        : "not a " + protocol + " server";
    if (other == null) {
      steps.add(AccessStep.failed(Check.GREETING, "the SMTP server refuses connections: " + shown, null));
    } else {
      steps.add(AccessStep.failed(Check.GREETING, host + ":" + port + " is " + other + ", not " + protocol
          + " (it said: " + shown + ")", "port"));
    }
    return false;
  }

  private static List<String> capabilities(Protocol protocol, Conversation c) throws IOException {
    List<String> listed = new ArrayList<>();
    switch (protocol) {
      case IMAP -> {
        c.send("p1 CAPABILITY");
        for (String line = c.line(); line != null; line = c.line()) {
          if (line.toUpperCase(Locale.ROOT).startsWith("* CAPABILITY ")) {
            for (String atom : line.substring("* CAPABILITY ".length()).trim().split(" +")) {
              listed.add(atom.toUpperCase(Locale.ROOT));
            }
          } else if (line.startsWith("p1 ")) {
            break;
          }
        }
      }
      case POP3 -> {
        c.send("CAPA");
        String first = c.line();
        if (first != null && first.startsWith("+OK")) {
          for (String line = c.line(); line != null && !line.equals("."); line = c.line()) {
            listed.add(line.toUpperCase(Locale.ROOT));
          }
        }
      }
      case SMTP -> {
        c.send("EHLO " + c.addressLiteral());
        List<String> reply = c.smtpReply();
        if (reply.get(0).startsWith("250")) {
          for (int i = 1; i < reply.size(); i++) {
            listed.add(reply.get(i).substring(4).trim().toUpperCase(Locale.ROOT));
          }
        }
      }
      default -> throw new IllegalArgumentException("unknown protocol " + protocol);
    }
    return listed;
  }

  private static boolean startTls(Protocol protocol, Conversation c, List<String> listed, List<AccessStep> steps)
      throws IOException {
    String offered = protocol == Protocol.POP3 ? "STLS" : "STARTTLS";
    if (!listed.contains(offered) && !listed.isEmpty()) {
      steps.add(AccessStep.failed(Check.TLS, "the server does not offer " + offered + ", and security STARTTLS "
          + "requires it (use IMPLICIT_TLS on the TLS port, or, on a trusted network only, PLAIN_TEXT_INSECURE)",
          "security"));
      return false;
    }
    String answer;
    switch (protocol) {
      case IMAP -> {
        c.send("p2 STARTTLS");
        answer = null;
        for (String line = c.line(); line != null; line = c.line()) {
          if (line.startsWith("p2 ")) {
            answer = line;
            break;
          }
        }
        if (answer != null && answer.startsWith("p2 OK")) {
          return true;
        }
      }
      case POP3 -> {
        c.send("STLS");
        answer = c.line();
        if (answer != null && answer.startsWith("+OK")) {
          return true;
        }
      }
      case SMTP -> {
        c.send("STARTTLS");
        answer = c.smtpReply().get(0);
        if (answer.startsWith("220")) {
          return true;
        }
      }
      default -> throw new IllegalArgumentException("unknown protocol " + protocol);
    }
    steps.add(AccessStep.failed(Check.TLS, "the server refused " + offered + ": " + shown(String.valueOf(answer)),
        "security"));
    return false;
  }

  /** A server's line as shown in a report: printable ASCII, at most 200 characters. */
  private static String shown(String line) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < line.length() && out.length() < 200; i++) {
      char ch = line.charAt(i);
      out.append(ch >= 0x20 && ch < 0x7f ? ch : '?');
    }
    return "\"" + out + "\"";
  }

  /** An exception's own words; the probe sends no credential, so there is none to hide. */
  private static String describe(Throwable e) {
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }

  private static void closeQuietly(Socket socket) {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // nothing to report: the probe is over
      }
    }
  }

  /** Lines over one socket, bounded, so a hostile server can't make the probe hold much. */
  private static final class Conversation {
    private final InetAddress local;
    private final InputStream in;
    private final OutputStream out;

    Conversation(Socket socket) throws IOException {
      local = socket.getLocalAddress();
      in = socket.getInputStream();
      out = socket.getOutputStream();
    }

    /**
     * The EHLO argument: this end's address as an address literal (RFC 5321 4.1.3), which needs no
     * name lookup (a reverse lookup on a host without DNS would stall Test Access).
     */
    String addressLiteral() {
      String address = local.getHostAddress();
      int scope = address.indexOf('%'); // an IPv6 scope id is no part of an address literal
      return local instanceof java.net.Inet6Address
          ? "[IPv6:" + (scope < 0 ? address : address.substring(0, scope)) + "]" : "[" + address + "]";
    }

    void send(String command) throws IOException {
      out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }

    String line() throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      while (true) {
        int b = in.read();
        if (b < 0) {
          return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
        }
        if (b == '\n') {
          String s = line.toString(StandardCharsets.ISO_8859_1);
          return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }
        if (line.size() < MAX_LINE) {
          line.write(b);
        }
      }
    }

    /** The lines of one SMTP reply, up to the line whose code is not followed by {@code -}. */
    List<String> smtpReply() throws IOException {
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < MAX_LINES; i++) {
        String line = line();
        if (line == null) {
          if (lines.isEmpty()) {
            throw new IOException("the server closed the connection");
          }
          break;
        }
        lines.add(line);
        if (line.length() < 4 || line.charAt(3) != '-') {
          break;
        }
      }
      return lines;
    }

    void quit(Protocol protocol) {
      try {
        send(protocol == Protocol.IMAP ? "p9 LOGOUT" : "QUIT");
        line();
      } catch (IOException e) {
        // the probe is over either way
      }
    }
  }
}
