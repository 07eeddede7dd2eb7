package dev.emailrouter.benchmarks;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The protocol-limit baselines for outgoing mail: a bare SMTP client over a socket that pipelines
 * as RFC 2920 allows and does no MIME work at all. Every message's bytes (headers, body, dot-stuffed,
 * with the final ".") are prepared before the clock starts. Per email, each message costs two round
 * trips — {@code MAIL FROM}, {@code RCPT TO} and {@code DATA} in one write, then the content and
 * "." — and nothing else: no claim, no store, no composing. Across emails, the next message's
 * {@code MAIL FROM}, {@code RCPT TO} and {@code DATA} also go out behind the content and "." in the
 * same write (RFC 2920 3.1), as the router does within a batch: one round trip a message. It sends
 * what the router sends to smtp-sink, byte for byte in length: the DSN
 * parameters (smtp-sink offers DSN, the router asks for it by default), the same header fields in
 * the same order, a Message-ID of the same shape. For one thread per session.
 */
final class RawSmtp {
  private RawSmtp() {}

  /**
   * Prepares {@code count} messages of about {@code bodyBytes} each, then sends them with {@code
   * sessions} parallel connections (each kept for its share), timed from the first connect to the
   * last reply.
   *
   * @param acrossEmails whether the next message's commands go behind each message's "."
   * @return messages per second, with this JVM's CPU per message
   */
  static Stopwatch.Figure send(int port, int sessions, int bodyBytes, int count, String from, String to,
      boolean acrossEmails) throws Exception {
    List<byte[]> envelopes = new ArrayList<>(count);
    List<byte[]> contents = new ArrayList<>(count);
    String body = Messages.text(bodyBytes);
    String date = java.time.format.DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", java.util.Locale.US)
        .format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
    String millis = Long.toString(System.currentTimeMillis(), 36);
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < count; i++) {
      // The same commands the router sends to smtp-sink, which offers DSN: RET and ENVID on MAIL,
      // NOTIFY and ORCPT on RCPT (the router asks for DSN by default); a Message-ID of the router's
      // shape and length; so both sides put the same number of bytes on the wire.
      String id = millis + "." + Long.toUnsignedString(random.nextLong() | Long.MIN_VALUE, 36) + "."
          + Long.toUnsignedString(random.nextLong() | Long.MIN_VALUE, 36) + ".er@crm.test";
      envelopes.add(("MAIL FROM:<" + from + "> RET=HDRS ENVID=" + id + "\r\nRCPT TO:<" + to
          + "> NOTIFY=FAILURE,DELAY ORCPT=rfc822;" + to + "\r\nDATA\r\n").getBytes(StandardCharsets.US_ASCII));
      contents.add(content(from, to, date, "<" + id + ">", "Your order " + i + " CRM:" + String.format("%07d", i + 1),
          body));
    }
    ExecutorService pool = Executors.newFixedThreadPool(sessions);
    try {
      Stopwatch watch = Stopwatch.start();
      List<Future<Integer>> futures = new ArrayList<>();
      for (int t = 0; t < sessions; t++) {
        int first = count * t / sessions;
        int last = count * (t + 1) / sessions;
        futures.add(pool.submit(() -> session(port, envelopes.subList(first, last), contents.subList(first, last),
            acrossEmails)));
      }
      int sent = 0;
      for (Future<Integer> f : futures) {
        sent += f.get();
      }
      Stopwatch.Figure figure = watch.rate(count);
      if (sent != count) {
        throw new IllegalStateException("raw SMTP client sent " + sent + " of " + count);
      }
      return figure;
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The message as it goes after DATA: the router's headers in the router's order (its tracking
   * token in the subject), CRLF lines, dot-stuffed, ending with ".".
   */
  private static byte[] content(String from, String to, String date, String messageId, String subject, String body) {
    StringBuilder m = new StringBuilder(body.length() + 400);
    m.append("Date: ").append(date).append("\r\n")
        .append("From: ").append(from).append("\r\n")
        .append("To: ").append(to).append("\r\n")
        .append("Message-ID: ").append(messageId).append("\r\n")
        .append("Subject: ").append(subject).append("\r\n")
        .append("MIME-Version: 1.0\r\n")
        .append("Content-Type: text/plain; charset=UTF-8\r\n")
        .append("Content-Transfer-Encoding: 7bit\r\n\r\n");
    String text = body.endsWith("\n") ? body.substring(0, body.length() - 1) : body;
    for (String line : text.split("\r?\n", -1)) {
      if (line.startsWith(".")) {
        m.append('.');
      }
      m.append(line).append("\r\n");
    }
    m.append(".\r\n");
    return m.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static int session(int port, List<byte[]> envelopes, List<byte[]> contents, boolean acrossEmails)
      throws IOException {
    try (Socket socket = new Socket()) {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
      socket.setSoTimeout(60_000);
      InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 14);
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
      Replies replies = new Replies(in);
      replies.expect('2'); // greeting
      out.write("EHLO crm.test\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      if (!replies.expect('2').contains("PIPELINING")) {
        throw new IOException("the server does not offer PIPELINING");
      }
      for (int i = 0; i < envelopes.size(); i++) {
        if (i == 0 || !acrossEmails) {
          out.write(envelopes.get(i));
          out.flush();
        }
        replies.expect('2'); // MAIL
        replies.expect('2'); // RCPT
        replies.expect('3'); // DATA: 354
        out.write(contents.get(i));
        if (acrossEmails && i + 1 < envelopes.size()) {
          out.write(envelopes.get(i + 1));
        }
        out.flush();
        replies.expect('2'); // end of data
      }
      out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      replies.expect('2');
      return envelopes.size();
    }
  }

  /** Reads SMTP replies (multi-line ones whole) and checks their first digit. */
  private static final class Replies {
    private final InputStream in;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(128);

    Replies(InputStream in) {
      this.in = in;
    }

    /** Reads one reply; returns its text, all lines. */
    String expect(char firstDigit) throws IOException {
      StringBuilder all = new StringBuilder();
      while (true) {
        String l = readLine();
        all.append(l).append('\n');
        if (l.length() < 4 || l.charAt(3) != '-') {
          if (l.isEmpty() || l.charAt(0) != firstDigit) {
            throw new IOException("unexpected SMTP reply: " + all.toString().strip());
          }
          return all.toString();
        }
      }
    }

    private String readLine() throws IOException {
      line.reset();
      while (true) {
        int b = in.read();
        if (b < 0) {
          throw new EOFException("connection closed by the server");
        }
        if (b == '\n') {
          byte[] bytes = line.toByteArray();
          int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
          return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
        }
        line.write(b);
      }
    }
  }
}
