package dev.emailrouter.benchmarks;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.pop3.Pop3MailboxReader;
import jakarta.mail.FetchProfile;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.eclipse.angus.mail.pop3.POP3Folder;

/**
 * Bar 5: POP3. N messages tracked through the engine (UIDL, LIST, RETR pipelined where Dovecot
 * offers PIPELINING, parsing, creation) against plain Jakarta Mail POP3 doing UIDL and RETR of each
 * message, lock-step (Angus has no POP3 pipelining); for reference also a raw socket doing UIDL and
 * pipelined RETR with the router's window, reading the bytes without parsing them.
 */
final class Pop3Bench {
  static final String USER = "pop3";
  /** The router's pipelining window (Pop3Pipeline.WINDOW), for the raw baseline. */
  private static final int POP3_WINDOW = 32;
  private final Context ctx;
  private final int n;

  Pop3Bench(Context ctx) {
    this.ctx = ctx;
    this.n = ctx.n(10_000, 1_000);
  }

  void load() throws Exception {
    ctx.lab().load(USER, n, i -> Messages.incoming(USER, i, Lab.address(USER), 2048));
  }

  void run() throws Exception {
    int port = ctx.lab().pop3Port();
    System.out.printf("%n== POP3: %,d × 2 KB%n", n);
    Rounds rounds = new Rounds("pop3", "msg/s").recordingTo(ctx.report())
        .add("ours", () -> ours(port))
        .add("jakarta", () -> jakarta(port))
        .add("raw-pipelined", () -> rawPipelined(port))
        .run(ctx.warmups(), ctx.runs());
    Samples ratio = rounds.ratio("ours", "jakarta");
    ctx.report().add(new Report.Row("POP3, N=" + String.format("%,d", n) + " × 2 KB, all tracked",
        rounds.describe("ours", "msg/s", "msg"), "Jakarta Mail POP3: UIDL + RETR each",
        rounds.describe("jakarta", "msg/s", "msg"), ratio.describe("", Samples::ratio), "≥ 1.0×",
        ratio.median() >= 1.0 ? Report.Verdict.PASS : Report.Verdict.MISS));
    ctx.report().add(new Report.Row("POP3, N=" + String.format("%,d", n) + " × 2 KB, all tracked",
        rounds.describe("ours", "msg/s", "msg"), "raw socket UIDL + RETR pipelined " + POP3_WINDOW
            + " at a time, unparsed (protocol limit)", rounds.describe("raw-pipelined", "msg/s", "msg"),
        rounds.ratio("ours", "raw-pipelined").describe("", Samples::ratio), "report", Report.Verdict.REPORT));
  }

  private Stopwatch.Figure ours(int port) {
    InMemoryActivityStore store = new InMemoryActivityStore();
    Pop3MailboxReader reader = Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password(Lab.address(USER), Lab.PASSWORD))
        .build();
    try (RouterEngine engine = Incoming.engine(store, reader, TrackingPolicy.allEmail(), n)) {
      Stopwatch watch = Stopwatch.start();
      TickReport report = engine.tick();
      Stopwatch.Figure rate = watch.rate(n);
      if (report.tracked().size() != n) {
        throw new IllegalStateException("expected " + n + " tracked, got " + report + " " + report.problems());
      }
      return rate;
    }
  }

  /**
   * UIDL, then RETR of every message with at most {@link #POP3_WINDOW} unanswered, counting the
   * bytes of each reply up to its terminating dot line; nothing is parsed or kept.
   */
  private Stopwatch.Figure rawPipelined(int port) throws Exception {
    Stopwatch watch = Stopwatch.start();
    long bytes = 0;
    int read = 0;
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(60_000);
      BufferedInputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
      OutputStream out = socket.getOutputStream();
      expectOk(line(in));
      out.write(("USER " + Lab.address(USER) + "\r\nPASS " + Lab.PASSWORD + "\r\nUIDL\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      expectOk(line(in));
      expectOk(line(in));
      expectOk(line(in));
      int count = 0;
      for (String l = line(in); !l.equals("."); l = line(in)) {
        count++;
      }
      int sent = 0;
      for (int answered = 0; answered < count; answered++) {
        if (sent < count && sent - answered <= POP3_WINDOW / 2) {
          StringBuilder commands = new StringBuilder();
          for (int to = Math.min(count, answered + POP3_WINDOW); sent < to; sent++) {
            commands.append("RETR ").append(sent + 1).append("\r\n");
          }
          out.write(commands.toString().getBytes(StandardCharsets.US_ASCII));
          out.flush();
        }
        expectOk(line(in));
        long size = 0;
        for (String l = line(in); !l.equals("."); l = line(in)) {
          size += l.length() + 2;
        }
        bytes += size;
        read++;
      }
      out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      line(in);
    }
    Stopwatch.Figure rate = watch.rate(n);
    if (read != n || bytes < (long) n * 2000) {
      throw new IllegalStateException("read " + read + " of " + n + " messages, " + bytes + " bytes");
    }
    return rate;
  }

  private static void expectOk(String line) {
    if (!line.startsWith("+OK")) {
      throw new IllegalStateException("the POP3 server answered: " + line);
    }
  }

  /** One line without its CRLF, as ISO-8859-1. */
  private static String line(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder(128);
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("the POP3 server closed the connection");
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }

  private Stopwatch.Figure jakarta(int port) throws Exception {
    Stopwatch watch = Stopwatch.start();
    long bytes = 0;
    int read = 0;
    Store store = Incoming.jakartaStore("pop3", port, USER);
    try {
      Folder inbox = Incoming.inbox(store);
      Message[] all = inbox.getMessages();
      FetchProfile profile = new FetchProfile();
      profile.add(UIDFolder.FetchProfileItem.UID);
      inbox.fetch(all, profile); // one UIDL
      for (Message m : all) {
        String uidl = ((POP3Folder) inbox).getUID(m);
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        m.writeTo(out); // RETR
        if (uidl != null) {
          bytes += out.size();
          read++;
        }
      }
      inbox.close(false);
    } finally {
      store.close();
    }
    Stopwatch.Figure rate = watch.rate(n);
    if (read != n || bytes < (long) n * 2000) {
      throw new IllegalStateException("read " + read + " of " + n + " messages, " + bytes + " bytes");
    }
    return rate;
  }
}
