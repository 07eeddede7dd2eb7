package dev.emailrouter.benchmarks;

import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import jakarta.mail.FetchProfile;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Store;
import java.util.Arrays;
import org.eclipse.angus.mail.imap.IMAPFolder;

/**
 * Bar 3: incoming, everything tracked. N × 20 KB messages, all tracked into the in-memory store in
 * one tick (headers, policy, bulk download, MIME parsing, creation), against plain Jakarta Mail
 * fetching the same messages whole ({@code FetchProfileItem.MESSAGE} in batches of 500, then each
 * text) and the per-message {@code getContent()} loop.
 */
final class TrackedBench {
  static final String USER = "tracked";
  private static final int BATCH = 500;
  private final Context ctx;
  private final int n;

  TrackedBench(Context ctx) {
    this.ctx = ctx;
    this.n = ctx.n(10_000, 1_000);
  }

  void load() throws Exception {
    ctx.lab().load(USER, n, i -> Messages.incoming(USER, i, Lab.address(USER), 20 * 1024));
  }

  void run() throws Exception {
    int port = ctx.lab().imapPort();
    System.out.printf("%n== Incoming tracked: %,d × 20 KB%n", n);
    Rounds rounds = new Rounds("tracked", "msg/s").recordingTo(ctx.report())
        .add("ours", this::ours)
        .add("bulk", () -> bulk(port))
        .add("getContent", () -> perMessage(port))
        .run(ctx.warmups(), ctx.runs());
    String scenario = "Incoming tracked, N=" + String.format("%,d", n) + " × 20 KB into the in-memory store";
    String ours = rounds.describe("ours", "msg/s", "msg");
    Samples bulk = rounds.ratio("ours", "bulk");
    ctx.report().add(new Report.Row(scenario, ours, "Jakarta Mail FetchProfileItem.MESSAGE, batches of 500",
        rounds.describe("bulk", "msg/s", "msg"), bulk.describe("", Samples::ratio), "≥ 0.8×",
        bulk.median() >= 0.8 ? Report.Verdict.PASS : Report.Verdict.MISS));
    Samples loop = rounds.ratio("ours", "getContent");
    ctx.report().add(new Report.Row(scenario, ours, "Jakarta Mail getContent() per message",
        rounds.describe("getContent", "msg/s", "msg"), loop.describe("", Samples::ratio), "≥ 2×",
        loop.median() >= 2 ? Report.Verdict.PASS : Report.Verdict.MISS));
  }

  private Stopwatch.Figure ours() {
    InMemoryActivityStore store = new InMemoryActivityStore();
    try (RouterEngine engine = Incoming.engine(store, Incoming.imap(ctx.lab().imapPort(), USER),
        TrackingPolicy.allEmail(), n)) {
      Stopwatch watch = Stopwatch.start();
      TickReport report = engine.tick();
      Stopwatch.Figure rate = watch.rate(n);
      if (report.tracked().size() != n || store.received().size() != n) {
        throw new IllegalStateException("expected " + n + " tracked, got " + report + " " + report.problems());
      }
      return rate;
    }
  }

  private Stopwatch.Figure bulk(int port) throws Exception {
    Stopwatch watch = Stopwatch.start();
    long chars = 0;
    int read = 0;
    Store store = Incoming.jakartaStore("imap", port, USER);
    try {
      Folder inbox = Incoming.inbox(store);
      Message[] all = inbox.getMessages();
      FetchProfile profile = new FetchProfile();
      profile.add(IMAPFolder.FetchProfileItem.MESSAGE);
      for (int from = 0; from < all.length; from += BATCH) {
        Message[] batch = Arrays.copyOfRange(all, from, Math.min(all.length, from + BATCH));
        inbox.fetch(batch, profile);
        for (Message m : batch) {
          chars += ((String) m.getContent()).length();
          read++;
        }
      }
      inbox.close(false);
    } finally {
      store.close();
    }
    return check(watch, read, chars);
  }

  private Stopwatch.Figure perMessage(int port) throws Exception {
    Stopwatch watch = Stopwatch.start();
    long chars = 0;
    int read = 0;
    Store store = Incoming.jakartaStore("imap", port, USER);
    try {
      Folder inbox = Incoming.inbox(store);
      for (Message m : inbox.getMessages()) {
        chars += ((String) m.getContent()).length();
        read++;
      }
      inbox.close(false);
    } finally {
      store.close();
    }
    return check(watch, read, chars);
  }

  private Stopwatch.Figure check(Stopwatch watch, int read, long chars) {
    Stopwatch.Figure rate = watch.rate(n);
    if (read != n || chars < (long) n * 19_000) {
      throw new IllegalStateException("read " + read + " of " + n + " messages, " + chars + " characters");
    }
    return rate;
  }
}
