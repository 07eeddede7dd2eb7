package dev.emailrouter.benchmarks;

import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import jakarta.mail.Address;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Store;
import jakarta.mail.search.FlagTerm;

/**
 * Bar 2: the incoming header stage. N new messages in a Dovecot INBOX and a policy that decides
 * from headers alone (nothing is downloaded): one engine tick, against the per-message loop peers
 * use (search UNSEEN, then each message's envelope) and a raw {@code UID FETCH 1:* (ENVELOPE)}.
 */
final class HeaderBench {
  static final String USER = "headers";
  private final Context ctx;
  private final int n;

  HeaderBench(Context ctx) {
    this.ctx = ctx;
    this.n = ctx.n(10_000, 1_000);
  }

  void load() throws Exception {
    ctx.lab().load(USER, n, i -> Messages.incoming(USER, i, Lab.address(USER), 2048));
  }

  void run() throws Exception {
    int port = ctx.lab().imapPort();
    System.out.printf("%n== Incoming header stage: %,d messages%n", n);
    Rounds rounds = new Rounds("header stage", "msg/s")
        .add("ours", this::ours)
        .add("per-message", () -> perMessage(port))
        .add("raw-envelope", () -> rawEnvelope(port))
        .run(ctx.warmups(), ctx.runs());
    ctx.report().note("Incoming (header stage, tracked, POP3): ours = one RouterEngine.tick() with "
        + "maxMessagesPerMailbox = N, a fresh in-memory store and checkpoint each run, post-action LEAVE; every "
        + "contender's time includes connect, login and logout. Header stage policy: decides on the Subject, asks "
        + "the store nothing, rejects all (so nothing is downloaded).");
    String scenario = "Incoming header stage, N=" + String.format("%,d", n) + " × 2 KB, policy on headers";
    String ours = rounds.describe("ours", "msg/s", "msg");
    Samples perMessage = rounds.ratio("ours", "per-message");
    ctx.report().add(new Report.Row(scenario, ours, "Jakarta Mail search UNSEEN + envelope per message",
        rounds.describe("per-message", "msg/s", "msg"), perMessage.describe("", Samples::ratio), "≥ 10×",
        perMessage.median() >= 10 ? Report.Verdict.PASS : Report.Verdict.MISS));
    ctx.report().add(new Report.Row(scenario, ours, "raw UID FETCH 1:* (ENVELOPE) over a socket",
        rounds.describe("raw-envelope", "msg/s", "msg"),
        rounds.ratio("ours", "raw-envelope").describe("", Samples::ratio), "report", Report.Verdict.REPORT));
  }

  private Stopwatch.Figure ours() {
    InMemoryActivityStore store = new InMemoryActivityStore();
    try (RouterEngine engine = Incoming.engine(store, Incoming.imap(ctx.lab().imapPort(), USER),
        Incoming.HEADERS_ONLY, n)) {
      Stopwatch watch = Stopwatch.start();
      TickReport report = engine.tick();
      Stopwatch.Figure rate = watch.rate(n);
      if (report.rejected().size() != n) {
        throw new IllegalStateException("expected " + n + " rejected, got " + report);
      }
      return rate;
    }
  }

  private Stopwatch.Figure perMessage(int port) throws Exception {
    Stopwatch watch = Stopwatch.start();
    int decided = 0;
    Store store = Incoming.jakartaStore("imap", port, USER);
    try {
      Folder inbox = Incoming.inbox(store);
      Message[] unseen = inbox.search(new FlagTerm(new Flags(Flags.Flag.SEEN), false));
      for (Message m : unseen) {
        String subject = m.getSubject(); // loads the envelope: one FETCH per message
        Address[] from = m.getFrom();
        if (subject != null && from != null && !subject.startsWith("URGENT")) {
          decided++;
        }
      }
      inbox.close(false);
    } finally {
      store.close();
    }
    Stopwatch.Figure rate = watch.rate(n);
    if (decided != n) {
      throw new IllegalStateException("per-message loop decided " + decided + " of " + n);
    }
    return rate;
  }

  private Stopwatch.Figure rawEnvelope(int port) throws Exception {
    Stopwatch watch = Stopwatch.start();
    int fetched;
    try (RawImap imap = new RawImap(port)) {
      imap.command("LOGIN \"" + Lab.address(USER) + "\" \"" + Lab.PASSWORD + "\"");
      imap.command("EXAMINE INBOX");
      fetched = imap.command("UID FETCH 1:* (ENVELOPE)");
      imap.command("LOGOUT");
    }
    Stopwatch.Figure rate = watch.rate(n);
    if (fetched != n) {
      throw new IllegalStateException("raw ENVELOPE fetched " + fetched + " of " + n);
    }
    return rate;
  }
}
