package dev.emailrouter.smtp;

import dev.emailrouter.testfixtures.LoopbackListener;
import dev.emailrouter.testfixtures.SmtpWire;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A tiny SMTP server on 127.0.0.1 that answers each command with a canned reply, for the refusals
 * GreenMail can't produce: 450/550 per recipient, 4xx/5xx at MAIL FROM, DATA or the end of data,
 * 421 at the greeting, no STARTTLS, STARTTLS or implicit TLS with a given certificate.
 *
 * <p>Deterministic: every reply is sent as soon as its command has been read, and everything is
 * recorded before the reply goes out, so a test that got the reply can assert on the record
 * without waiting. A reply starting with 421 closes the connection after it, as servers do.
 * Thread-safe; close it after the test.
 */
final class ScriptedSmtpServer implements AutoCloseable {

  /** A message the server accepted (250 to the end of data). */
  record Received(String from, List<String> recipients, String data) {}

  private final Builder script;
  private final LoopbackListener listener;
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger early = new AtomicInteger();
  private final AtomicInteger behindEndOfData = new AtomicInteger();
  private int ended; // guarded by commandSeen
  private final AtomicBoolean firstMailAnswered = new AtomicBoolean();
  private final AtomicBoolean firstEndOfDataAnswered = new AtomicBoolean();
  private final List<String> commands = new CopyOnWriteArrayList<>();
  private final List<Received> messages = new CopyOnWriteArrayList<>();
  private final Object commandSeen = new Object();

  private ScriptedSmtpServer(Builder script) throws IOException {
    this.script = script;
    this.listener = LoopbackListener.start("scripted-smtp", 50, script.implicitTls, this::serve);
  }

  static Builder builder() {
    return new Builder();
  }

  String host() {
    return "127.0.0.1";
  }

  int port() {
    return listener.port();
  }

  /** How many TCP connections were accepted so far. */
  int connections() {
    return listener.connections();
  }

  /** Every command line received, in order (message content excluded). */
  List<String> commands() {
    return List.copyOf(commands);
  }

  /**
   * How many commands had the next command already waiting behind them when they were read, i.e.
   * were sent without waiting for their reply. Zero for a lock-step client.
   */
  int commandsSentWithoutWaiting() {
    return early.get();
  }

  /**
   * How many ends of data had the next command already waiting behind them when they were read,
   * i.e. how many emails had the next email's commands sent behind their end of data.
   */
  int endsOfDataWithCommandsBehind() {
    return behindEndOfData.get();
  }

  /** Every message accepted, in order. */
  List<Received> messages() {
    return List.copyOf(messages);
  }

  /** Changes the reply to RCPT TO for this address from now on, for a server whose mind changes. */
  void replyToRcpt(String address, String reply) {
    script.replyToRcpt(address, reply);
  }

  /**
   * Waits until a command starting with {@code prefix} (case-insensitive) has arrived, for what the
   * client sends without waiting for the reply (QUIT).
   */
  boolean awaitCommand(String prefix, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (commandSeen) {
      while (commands.stream().noneMatch(c -> c.toUpperCase(Locale.ROOT).startsWith(prefix.toUpperCase(Locale.ROOT)))) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        commandSeen.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  /** Waits until this many connections have ended (the client closed, or the server did), for what a close leaves. */
  boolean awaitConnectionsEnded(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (commandSeen) {
      while (ended < count) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        commandSeen.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }

  private void serve(Socket socket, int connection) throws IOException {
    Socket current = socket;
    try {
      SmtpWire c = new SmtpWire(current);
      c.reply(script.greeting);
      if (!script.greeting.startsWith("220")) {
        return;
      }
      boolean tls = script.implicitTls != null;
      String from = null;
      List<String> recipients = new ArrayList<>();
      String line;
      while ((line = c.readLine()) != null) {
        if (c.hasMore()) {
          early.incrementAndGet();
        }
        record(line);
        String upper = line.toUpperCase(Locale.ROOT);
        String reply;
        if (upper.startsWith("EHLO") && script.refuseEhlo) {
          reply = "502 5.5.2 Error: command not recognized";
        } else if (upper.startsWith("EHLO")) {
          List<String> lines = new ArrayList<>();
          lines.add("scripted.test greets you");
          lines.addAll(script.extensions);
          if (script.startTls != null && !tls) {
            lines.add("STARTTLS");
          }
          c.multiline("250", lines);
          continue;
        } else if (upper.startsWith("HELO")) {
          reply = "250 scripted.test";
        } else if (upper.startsWith("STARTTLS") && script.startTls != null && !tls) {
          c.reply("220 2.0.0 Ready to start TLS");
          SSLSocket secured = SmtpWire.startTls(current, script.startTls);
          listener.track(secured);
          current = secured;
          c = new SmtpWire(secured);
          tls = true;
          from = null;
          recipients.clear();
          continue;
        } else if (upper.startsWith("MAIL")) {
          String first = script.firstMailReply;
          reply = first != null && firstMailAnswered.compareAndSet(false, true) ? first : script.mailReply;
          recipients.clear();
          from = reply.startsWith("2") ? SmtpWire.address(line) : null;
        } else if (upper.startsWith("RCPT")) {
          String address = SmtpWire.address(line);
          reply = script.rcptReplies.getOrDefault(address.toLowerCase(Locale.ROOT), "250 2.1.5 Ok");
          if (reply.startsWith("2") && recipients.size() >= script.maxRecipients) {
            reply = "452 4.5.3 Error: too many recipients";
          }
          if (reply.startsWith("2")) {
            recipients.add(address);
          }
        } else if (upper.equals("DATA")) {
          if (from == null || recipients.isEmpty()) {
            reply = "503 5.5.1 Error: need MAIL and RCPT first";
          } else if (!script.dataReply.startsWith("354")) {
            reply = script.dataReply;
          } else {
            c.reply(script.dataReply);
            String data = new String(c.readData(true).content(), StandardCharsets.ISO_8859_1);
            if (c.hasMore()) {
              behindEndOfData.incrementAndGet();
            }
            if (!script.endOfDataDelay.isZero()) {
              // A server scanning the content before it answers; the delay is what the test is about.
              try {
                Thread.sleep(script.endOfDataDelay.toMillis());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
              }
            }
            if (script.endOfDataReply == null) {
              continue; // silent: the client times out
            }
            String first = script.firstEndOfDataReply;
            reply = (first != null && firstEndOfDataAnswered.compareAndSet(false, true) ? first : script.endOfDataReply)
                .replace("%d", Integer.toString(queued.incrementAndGet()));
            if (reply.startsWith("2")) {
              messages.add(new Received(from, List.copyOf(recipients), data));
            }
            from = null;
            recipients.clear();
          }
        } else if (upper.startsWith("AUTH ") && script.authReply != null) {
          reply = script.authReply;
        } else if (upper.equals("RSET")) {
          from = null;
          recipients.clear();
          reply = "250 2.0.0 Ok";
        } else if (upper.equals("NOOP")) {
          reply = "250 2.0.0 Ok";
        } else if (upper.equals("QUIT")) {
          c.reply("221 2.0.0 Bye");
          return;
        } else {
          reply = "502 5.5.2 Error: command not recognized";
        }
        boolean envelope = upper.startsWith("MAIL") || upper.startsWith("RCPT");
        if (script.holdEnvelopeReplies && envelope && !reply.startsWith("421")) {
          c.hold(reply);
        } else {
          c.reply(reply);
        }
        if (reply.startsWith("421")) {
          return;
        }
      }
    } finally {
      current.close(); // the TLS layer after STARTTLS; the listener closes the socket under it
      synchronized (commandSeen) {
        ended++;
        commandSeen.notifyAll();
      }
    }
  }

  private void record(String line) {
    commands.add(line);
    synchronized (commandSeen) {
      commandSeen.notifyAll();
    }
  }

  /** The script: canned replies, all defaulting to success. */
  static final class Builder {
    private String greeting = "220 scripted.test ESMTP";
    private final List<String> extensions = new ArrayList<>(List.of("8BITMIME", "ENHANCEDSTATUSCODES"));
    private String mailReply = "250 2.1.0 Ok";
    private String firstMailReply;
    private final Map<String, String> rcptReplies = new ConcurrentHashMap<>();
    private int maxRecipients = Integer.MAX_VALUE;
    private Duration endOfDataDelay = Duration.ZERO;
    private String dataReply = "354 End data with <CR><LF>.<CR><LF>";
    private String endOfDataReply = "250 2.0.0 Ok: queued as Q%d";
    private String firstEndOfDataReply;
    private SSLContext startTls;
    private SSLContext implicitTls;
    private boolean holdEnvelopeReplies;
    private boolean refuseEhlo;
    private String authReply;

    /** The first line; anything but 220 is sent and the connection closed. */
    Builder greeting(String reply) {
      greeting = reply;
      return this;
    }

    /** Offers AUTH PLAIN and answers every AUTH command with this reply. */
    Builder replyToAuth(String reply) {
      if (!extensions.contains("AUTH PLAIN")) {
        extensions.add("AUTH PLAIN");
      }
      authReply = reply;
      return this;
    }

    /** Answers EHLO with 502, as a server from before ESMTP does; HELO works. */
    Builder refuseEhlo() {
      refuseEhlo = true;
      return this;
    }

    /** EHLO extension lines (replacing the defaults), e.g. {@code "AUTH PLAIN LOGIN"}. */
    Builder extensions(String... lines) {
      extensions.clear();
      extensions.addAll(List.of(lines));
      return this;
    }

    Builder replyToMail(String reply) {
      mailReply = reply;
      return this;
    }

    /**
     * The reply to the first MAIL FROM this server sees, on any connection; later ones get the
     * usual reply. E.g. {@code "421 4.4.2 timeout exceeded"} for a server that dropped an idle
     * connection.
     */
    Builder replyToFirstMail(String reply) {
      firstMailReply = reply;
      return this;
    }

    /** The reply to RCPT TO for this address (250 for the others). */
    Builder replyToRcpt(String address, String reply) {
      rcptReplies.put(address.toLowerCase(Locale.ROOT), reply);
      return this;
    }

    /**
     * Accepts at most this many recipients per transaction and answers the next ones {@code 452
     * 4.5.3 Error: too many recipients}, as Postfix does past {@code smtpd_recipient_limit}.
     */
    Builder maxRecipientsPerTransaction(int limit) {
      maxRecipients = limit;
      return this;
    }

    /** Waits this long after the data before it answers the end of data, as a server scanning it does. */
    Builder delayEndOfDataReply(Duration delay) {
      endOfDataDelay = delay;
      return this;
    }

    /** The reply to the DATA command; anything but 354 refuses the data. */
    Builder replyToData(String reply) {
      dataReply = reply;
      return this;
    }

    /** The reply to the end of data; {@code %d} becomes a queue number. */
    Builder replyToEndOfData(String reply) {
      endOfDataReply = reply;
      return this;
    }

    /** The reply to the first end of data this server sees, on any connection; later ones get the usual reply. */
    Builder replyToFirstEndOfData(String reply) {
      firstEndOfDataReply = reply;
      return this;
    }

    /** Reads the data, then never answers, as a hung server would. */
    Builder silentAtEndOfData() {
      endOfDataReply = null;
      return this;
    }

    /** Offers STARTTLS and upgrades with this server context. */
    Builder startTls(SSLContext context) {
      startTls = context;
      return this;
    }

    /** Speaks TLS from the first byte with this server context. */
    Builder implicitTls(SSLContext context) {
      implicitTls = context;
      return this;
    }

    /**
     * Offers PIPELINING (RFC 2920) and answers MAIL FROM and RCPT TO only once a later command
     * (DATA) has arrived, as a server may: a client that waits for each reply before the next
     * command then hangs until its read timeout, so a send that works proves the envelope was
     * pipelined.
     */
    Builder pipelining() {
      if (!extensions.contains("PIPELINING")) {
        extensions.add("PIPELINING");
      }
      holdEnvelopeReplies = true;
      return this;
    }

    ScriptedSmtpServer start() throws IOException {
      return new ScriptedSmtpServer(this);
    }
  }
}
