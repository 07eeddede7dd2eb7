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
import java.io.ByteArrayOutputStream;
import org.eclipse.angus.mail.pop3.POP3Folder;

/**
 * Bar 5: POP3. N messages tracked through the engine (UIDL, headers by TOP, RETR, parsing, creation)
 * against plain Jakarta Mail POP3 doing UIDL and RETR of each message.
 */
final class Pop3Bench {
  static final String USER = "pop3";
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
        .run(ctx.warmups(), ctx.runs());
    Samples ratio = rounds.ratio("ours", "jakarta");
    ctx.report().add(new Report.Row("POP3, N=" + String.format("%,d", n) + " × 2 KB, all tracked",
        rounds.describe("ours", "msg/s", "msg"), "Jakarta Mail POP3: UIDL + RETR each",
        rounds.describe("jakarta", "msg/s", "msg"), ratio.describe("", Samples::ratio), "≥ 0.8×",
        ratio.median() >= 0.8 ? Report.Verdict.PASS : Report.Verdict.MISS));
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
