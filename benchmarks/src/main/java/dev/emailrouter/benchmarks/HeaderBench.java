package dev.emailrouter.benchmarks;

import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.api.MessageHeaders;
import jakarta.mail.Address;
import jakarta.mail.FetchProfile;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import jakarta.mail.search.FlagTerm;
import java.util.List;
import java.util.Locale;

/**
 * Bar 2: the incoming header stage. N new messages in a Dovecot INBOX and a policy that decides
 * from headers alone (nothing is downloaded): one engine tick, against what a competent Jakarta Mail
 * user writes (one bulk {@code folder.fetch(messages, profile)} with ENVELOPE, UID, SIZE and the
 * header fields the policies read beyond the envelope), a raw socket client fetching the very items
 * the router fetches, and, for reference, the per-message loop many peers use (search UNSEEN, then
 * each message's envelope).
 */
final class HeaderBench {
  static final String USER = "headers";
  /** What the router's header stage fetches: the same items for the raw client. */
  static final String RAW_ITEMS = "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS ("
      + String.join(" ", MessageHeaders.WANTED).toUpperCase(Locale.ROOT) + ")])";
  /** The header fields the policies read that ENVELOPE does not carry. */
  private static final List<String> BEYOND_ENVELOPE = MessageHeaders.WANTED.stream()
      .filter(h -> !List.of("message-id", "from", "sender", "reply-to", "to", "cc", "subject", "date", "in-reply-to")
          .contains(h))
      .toList();
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
    Rounds rounds = new Rounds("header stage", "msg/s").recordingTo(ctx.report())
        .add("ours", this::ours)
        .add("jakarta-bulk", () -> bulkProfile(port))
        .add("raw-same-items", () -> rawSameItems(port))
        .add("per-message", () -> perMessage(port))
        .run(ctx.warmups(), ctx.runs());
    ctx.report().note("Incoming (header stage, tracked, POP3): ours = one RouterEngine.tick() with "
        + "maxMessagesPerMailbox = N, a fresh in-memory store and checkpoint each run, post-action LEAVE; every "
        + "contender's time includes connect, login and logout. Header stage policy: decides on the Subject, asks "
        + "the store nothing, rejects all (so nothing is downloaded).");
    String scenario = "Incoming header stage, N=" + String.format("%,d", n) + " × 2 KB, policy on headers";
    String ours = rounds.describe("ours", "msg/s", "msg");
    Samples bulk = rounds.ratio("ours", "jakarta-bulk");
    ctx.report().add(new Report.Row(scenario, ours, "Jakarta Mail folder.fetch(all, ENVELOPE + UID + SIZE + "
        + BEYOND_ENVELOPE.size() + " header fields), then read", rounds.describe("jakarta-bulk", "msg/s", "msg"),
        bulk.describe("", Samples::ratio), "≥ 1.0×", bulk.median() >= 1.0 ? Report.Verdict.PASS : Report.Verdict.MISS));
    Samples raw = rounds.ratio("ours", "raw-same-items");
    ctx.report().add(new Report.Row(scenario, ours, "raw socket UID FETCH 1:* of the router's items, unparsed "
        + "(protocol limit)", rounds.describe("raw-same-items", "msg/s", "msg"), raw.describe("", Samples::ratio),
        "≥ 0.6×", raw.median() >= 0.6 ? Report.Verdict.PASS : Report.Verdict.MISS));
    ctx.report().add(new Report.Row(scenario, ours, "Jakarta Mail search UNSEEN + envelope per message",
        rounds.describe("per-message", "msg/s", "msg"),
        rounds.ratio("ours", "per-message").describe("", Samples::ratio), "report", Report.Verdict.REPORT));
  }

  /** A competent Jakarta Mail user: one bulk fetch of what the policy needs, then the decision per message. */
  private Stopwatch.Figure bulkProfile(int port) throws Exception {
    Stopwatch watch = Stopwatch.start();
    int decided = 0;
    Store store = Incoming.jakartaStore("imap", port, USER);
    try {
      Folder inbox = Incoming.inbox(store);
      Message[] all = inbox.getMessages();
      FetchProfile profile = new FetchProfile();
      profile.add(FetchProfile.Item.ENVELOPE);
      profile.add(FetchProfile.Item.SIZE);
      profile.add(UIDFolder.FetchProfileItem.UID);
      BEYOND_ENVELOPE.forEach(profile::add);
      inbox.fetch(all, profile);
      for (Message m : all) {
        String subject = m.getSubject();
        Address[] from = m.getFrom();
        String[] references = m.getHeader("References");
        String[] autoSubmitted = m.getHeader("Auto-Submitted");
        if (subject != null && from != null && !subject.startsWith("URGENT")
            && (references == null || autoSubmitted == null)) {
          decided++;
        }
      }
      inbox.close(false);
    } finally {
      store.close();
    }
    Stopwatch.Figure rate = watch.rate(n);
    if (decided != n) {
      throw new IllegalStateException("bulk fetch decided " + decided + " of " + n);
    }
    return rate;
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

  private Stopwatch.Figure rawSameItems(int port) throws Exception {
    Stopwatch watch = Stopwatch.start();
    int fetched;
    try (RawImap imap = new RawImap(port)) {
      imap.command("LOGIN \"" + Lab.address(USER) + "\" \"" + Lab.PASSWORD + "\"");
      imap.command("EXAMINE INBOX");
      fetched = imap.command("UID FETCH 1:* " + RAW_ITEMS);
      imap.command("LOGOUT");
    }
    Stopwatch.Figure rate = watch.rate(n);
    if (fetched != n) {
      throw new IllegalStateException("raw client fetched " + fetched + " of " + n);
    }
    return rate;
  }
}
