package dev.emailrouter.reliability;

import static dev.emailrouter.reliability.FaultProxy.Direction.DOWN;
import static dev.emailrouter.reliability.FaultProxy.Direction.UP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.reliability.Crash.Point;
import dev.emailrouter.reliability.FaultProxy.Fault;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One seeded run of random steps against one {@link World}: new outgoing emails, new incoming mail
 * over IMAP and POP3 (replies to sent emails and hostile messages among them), ticks, ticks with a
 * network fault, crashes at a random {@link Point} followed by a fresh engine on the same durable
 * state, clock jumps, and SMTP refusals. The invariants are checked after every step; a quiet phase
 * at the end must bring every email to Sent or Failed and every incoming message to an outcome. The
 * same seed gives the same steps (the timing of the sockets aside); a failure names the seed, the
 * step and the command that runs it again. For one thread.
 */
final class RandomRun {
  static final long DEFAULT_SEED = 20240301L;
  static final String SENDER = "seller@crm.example.test";
  private static final Duration TIMEOUT = Duration.ofSeconds(1);
  private static final Set<EmailStatus> LIVE = EnumSet.of(EmailStatus.PENDING_SEND, EmailStatus.SENDING,
      EmailStatus.SENT, EmailStatus.FAILED);
  private static final Set<Point> POINTS = EnumSet.allOf(Point.class);
  private static final String BODY_LITERAL = "FETCH \\(.*BODY\\[\\] \\{\\d+\\}";
  private static final int QUIET_TICKS = 15;

  /** A message put into a mailbox, keyed by mailbox and reference. */
  private record Incoming(String mailbox, String ref, String messageId, String kind, String repliesTo) {}

  private final long seed;
  private final int steps;
  private final Class<?> test;
  private final Random random;
  private final World world;
  private final AtomicReference<String> refusal = new AtomicReference<>();
  private final List<HostileCorpus.Sample> hostile;
  private final List<String> emails = new ArrayList<>();
  private final Map<String, Incoming> incoming = new LinkedHashMap<>();
  /** Copies the documented at-least-once repeat allows beyond the first, by Message-ID. */
  private final Map<String, Integer> repeats = new HashMap<>();
  private final Deque<String> log = new ArrayDeque<>();
  private final Map<String, Integer> counts = new LinkedHashMap<>();
  private World.Node node;
  private int nodes;
  private int step;
  private int deaths;

  private RandomRun(Path dir, long seed, int steps, Class<?> test) {
    this.seed = seed;
    this.steps = steps;
    this.test = test;
    this.random = new Random(seed);
    this.hostile = HostileCorpus.generate(seed, 2);
    this.world = new World(dir).withSink(SmtpSink.builder().rcpt(to -> {
      String reply = refusal.getAndSet(null);
      return reply != null ? reply : "250 2.1.5 Ok";
    }).start()).withGreenMail();
  }

  /** Runs {@code steps} random steps and the quiet phase; records the figures; throws on a broken invariant. */
  static void execute(Path dir, long seed, int steps, Class<?> test) {
    RandomRun run = new RandomRun(dir, seed, steps, test);
    World world = run.world;
    try (world) {
      run.run();
    }
  }

  private void run() {
    node = freshNode(Crash.never());
    for (step = 1; step <= steps; step++) {
      String what = guarded(this::randomStep);
      guarded(() -> {
        checkInvariants();
        return what;
      });
    }
    quietPhase();
    int accepted = world.sink.acceptedCount();
    int repeated = repeats.values().stream().mapToInt(Integer::intValue).sum();
    long tracked = world.crm.receivedCount();
    int faults = counts.getOrDefault("faults fired", 0);
    int refusals = counts.getOrDefault("refusal", 0);
    String note = String.format("%d crashes, %d network faults fired, %d SMTP refusals; %d emails (%d accepted"
            + " copies, %d documented repeats), %d incoming (%d hostile, %d replies), %d activities",
        deaths, faults, refusals, emails.size(), accepted, repeated, incoming.size(), count("hostile"),
        count("reply"), tracked);
    System.out.println(test.getSimpleName() + ", seed " + seed + ": " + note + "; steps " + counts);
    Figures.record(test, "seed " + seed + ", " + steps + " random steps + quiet phase", deaths + faults + refusals,
        emails.size() + incoming.size(), 0, 0, repeated, note);
  }

  private long count(String kind) {
    return incoming.values().stream().filter(i -> i.kind().equals(kind)).count();
  }

  private interface Step {
    String run();
  }

  /** Runs a step; a failure (an invariant, or a tick that threw) names the seed, the step and how to rerun. */
  private String guarded(Step s) {
    try {
      return s.run();
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("Randomised run failed at seed " + seed + ", step " + step + " of " + steps
          + ": " + e.getMessage() + "\nLast steps:\n  " + String.join("\n  ", log)
          + "\nRerun: mvn -B -o -pl reliability -am verify -Dtest=RandomisedTest -Dsurefire.failIfNoSpecifiedTests=false"
          + " -Drandomised.seed=" + seed + " -Drandomised.steps=" + steps, e);
    }
  }

  private String randomStep() {
    int roll = random.nextInt(100);
    String what;
    if (roll < 14) {
      what = newOutgoing();
    } else if (roll < 26) {
      what = newIncoming(true);
    } else if (roll < 36) {
      what = newIncoming(false);
    } else if (roll < 41) {
      what = newHostile();
    } else if (roll < 61) {
      what = "tick" + tick();
    } else if (roll < 73) {
      what = faultTick();
    } else if (roll < 81) {
      what = crash();
    } else if (roll < 93) {
      Duration d = Duration.ofSeconds(30 + random.nextInt(15 * 60));
      world.clock.advance(d);
      what = "clock +" + d;
    } else {
      what = refusalTick();
    }
    counts.merge(what.split(" ")[0], 1, Integer::sum);
    log.addLast(step + ": " + what);
    if (log.size() > 25) {
      log.removeFirst();
    }
    return what;
  }

  private World.Node freshNode(Crash crash) {
    nodes++;
    return world.node("node-" + nodes, new World.Options().imap().pop3().timeouts(TIMEOUT).crash(crash)
        .seed(random.nextLong())
        .engine(b -> b.mailboxFailuresBeforeDisable(10_000).maxMessageSize(64L * 1024 * 1024)));
  }

  /** A tick; if the node died in it (a crash point came due), a fresh node on the same durable state. */
  private String tick() {
    if (node.tick() != null) {
      return "";
    }
    String died = node.crash.diedAt();
    deaths++;
    if (died.startsWith(Point.ACCEPTED_BEFORE_MARK_SENT.name())) {
      // The server accepted the last email it received, and Sent was not recorded: the one
      // documented repeat.
      List<SmtpSink.Received> received = world.sink.received();
      repeats.merge(received.get(received.size() - 1).messageId(), 1, Integer::sum);
    }
    node.close();
    world.crm.restart();
    node = freshNode(Crash.never());
    return " (died at " + died + "; restarted as " + node.name + ")";
  }

  private String newOutgoing() {
    int n = 1 + random.nextInt(3);
    for (int i = 0; i < n; i++) {
      String id = "r-" + (emails.size() + 1);
      emails.add(id);
      world.crm.add(Mail.outgoing(id, SENDER));
    }
    return "outgoing +" + n;
  }

  private String newIncoming(boolean imap) {
    String mailbox = imap ? World.IMAP_MAILBOX : World.POP3_MAILBOX;
    String key = "s" + seed + "-" + (incoming.size() + 1);
    String repliesTo = null;
    List<String> sent = world.crm.outgoing().values().stream().filter(r -> r.status() == EmailStatus.SENT)
        .map(Crm.Outgoing::messageId).toList();
    if (!sent.isEmpty() && random.nextBoolean()) {
      repliesTo = sent.get(random.nextInt(sent.size()));
    }
    String raw = "Message-ID: " + Mail.incomingId(key) + "\r\n"
        + "From: Ann Contact <ann@example.test>\r\n"
        + "To: sales@crm.example.test\r\n"
        + "Subject: " + (repliesTo != null ? "Re: Proposal" : "Question " + key) + "\r\n"
        + (repliesTo != null ? "In-Reply-To: " + repliesTo + "\r\nReferences: " + repliesTo + "\r\n" : "")
        + "Date: Fri, 1 Mar 2024 09:00:00 +0000\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=UTF-8\r\n"
        + "\r\n"
        + "Body of message " + key + ".\r\n";
    byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
    long uid = imap ? world.deliverImap(bytes) : world.deliverPop3(bytes);
    String kind = repliesTo != null ? "reply" : "plain";
    incoming.put(mailbox + " " + uid, new Incoming(mailbox, Long.toString(uid), Mail.incomingId(key), kind, repliesTo));
    return "incoming " + kind + " -> " + mailbox;
  }

  private String newHostile() {
    HostileCorpus.Sample s = hostile.get(random.nextInt(hostile.size()));
    boolean imap = random.nextBoolean();
    String mailbox = imap ? World.IMAP_MAILBOX : World.POP3_MAILBOX;
    long uid;
    try {
      uid = imap ? world.deliverImap(s.raw()) : world.deliverPop3(s.raw());
    } catch (RuntimeException e) {
      return "hostile refused by GreenMail (" + s.category() + ")";
    }
    incoming.put(mailbox + " " + uid, new Incoming(mailbox, Long.toString(uid), null, "hostile", null));
    return "hostile -> " + mailbox + " (" + s.category() + ")";
  }

  private String faultTick() {
    int which = random.nextInt(3);
    FaultProxy proxy = which == 0 ? node.smtpProxy : which == 1 ? node.imapProxy : node.pop3Proxy;
    int times = 1 + random.nextInt(2);
    Fault fault = switch (which * 10 + random.nextInt(4)) {
      case 0 -> Fault.when("SMTP cut mid-DATA", UP, "^DATA").cut(UP, 100);
      case 1 -> Fault.when("SMTP stall mid-DATA past the read timeout", UP, "^DATA").stall(UP, 50);
      case 2 -> Fault.onConnect("SMTP greeting never comes").stall(DOWN, 0);
      case 3 -> Fault.when("SMTP cut after RCPT", UP, "^RCPT").cut(DOWN, 0);
      case 10 -> Fault.when("IMAP cut mid-FETCH BODY[]", DOWN, BODY_LITERAL).cut(DOWN, 40);
      case 11 -> Fault.when("IMAP cut mid-FETCH headers", DOWN, "BODY\\[HEADER\\.FIELDS").cut(DOWN, 30);
      case 12 -> Fault.when("IMAP stall mid-FETCH past the read timeout", DOWN, BODY_LITERAL).stall(DOWN, 20);
      case 13 -> Fault.when("IMAP answer to UID MOVE lost", UP, "UID MOVE").cut(DOWN, 0);
      case 20 -> Fault.when("POP3 cut mid-RETR", UP, "^RETR ").cut(DOWN, 40);
      case 21 -> Fault.when("POP3 stall mid-RETR past the read timeout", UP, "^RETR ").stall(DOWN, 40);
      case 22 -> Fault.onConnect("POP3 greeting never comes").stall(DOWN, 0);
      default -> Fault.when("POP3 cut before QUIT", UP, "^QUIT").cut(UP, 0);
    };
    proxy.arm(fault.times(times));
    String died = tick();
    int fired = fault.fired();
    proxy.heal();
    counts.merge("faults fired", fired, Integer::sum);
    return "fault " + fault.name + " x" + times + " (fired " + fired + ")" + died;
  }

  private String crash() {
    List<Point> points = new ArrayList<>(POINTS);
    Point point = points.get(random.nextInt(points.size()));
    node.close();
    node = freshNode(new Crash(point, 1 + random.nextInt(2)));
    String first = tick();
    return "crash armed at " + point + ", then tick" + (first.isEmpty() ? " (not reached yet)" : first);
  }

  private String refusalTick() {
    boolean permanent = random.nextInt(3) == 0;
    refusal.set(permanent ? "550 5.1.1 <contact@example.test>: no such user" : "450 4.2.1 mailbox busy, try later");
    String died = tick();
    refusal.set(null);
    return "refusal " + (permanent ? "550" : "450") + ", tick" + died;
  }

  /** No more faults, refusals or crashes; the clock past every backoff and lease; ticks until all is settled. */
  private void quietPhase() {
    step = steps + 1;
    guarded(() -> {
      node.close(); // it may still have a crash armed
      node = freshNode(Crash.never());
      for (int i = 0; i < QUIET_TICKS && !settled(); i++) {
        world.clock.advance(Duration.ofMinutes(61));
        tick();
        checkInvariants();
      }
      checkInvariants();
      checkSettled();
      return "quiet";
    });
  }

  private boolean settled() {
    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    return rows.values().stream().allMatch(r -> r.status() == EmailStatus.SENT || r.status() == EmailStatus.FAILED)
        && incoming.values().stream().allMatch(this::hasOutcome);
  }

  private void checkInvariants() {
    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    Map<String, Integer> copies = world.sink.counts();
    Map<String, String> idOf = new HashMap<>();
    for (String id : emails) {
      Crm.Outgoing row = rows.get(id);
      assertThat(row).as("outgoing email %s (lost)", id).isNotNull();
      assertThat(row.status()).as("status of %s", id).isIn(LIVE);
      if (row.messageId() == null) {
        assertThat(row.status()).as("%s has no Message-ID yet", id).isNotEqualTo(EmailStatus.SENT);
        continue;
      }
      idOf.put(row.messageId(), id);
      int n = copies.getOrDefault(row.messageId(), 0);
      int allowed = 1 + repeats.getOrDefault(row.messageId(), 0);
      assertThat(n).as("copies of %s (%s) the server accepted; documented repeats %d", id, row.messageId(),
          allowed - 1).isLessThanOrEqualTo(allowed);
      if (row.status() == EmailStatus.SENT) {
        assertThat(n).as("%s is Sent, so the server has it", id).isGreaterThanOrEqualTo(1);
      }
    }
    assertThat(world.sink.received()).as("every accepted message has a Message-ID")
        .allSatisfy(r -> assertThat(r.messageId()).isNotNull());
    assertThat(copies.keySet()).as("every accepted message is a known email under its recorded Message-ID")
        .allSatisfy(mid -> assertThat(idOf).containsKey(mid));
    assertThat(world.crm.receivedByKey()).as("activities per dedup key").allSatisfy((k, n) -> assertThat(n)
        .isEqualTo(1));
    Map<String, Integer> byMessageId = world.crm.receivedByMessageId();
    for (Incoming in : incoming.values()) {
      if (in.messageId() != null) {
        assertThat(byMessageId.getOrDefault(in.messageId(), 0)).as("activities for %s", in.messageId())
            .isLessThanOrEqualTo(1);
      }
    }
  }

  private void checkSettled() {
    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    for (String id : emails) {
      Crm.Outgoing row = rows.get(id);
      assertThat(row.status()).as("after the quiet phase, %s", id).isIn(EmailStatus.SENT, EmailStatus.FAILED);
      if (row.status() == EmailStatus.FAILED) {
        assertThat(row.lastReason()).as("why %s failed", id).isNotBlank();
      }
    }
    List<String> without = incoming.entrySet().stream().filter(e -> !hasOutcome(e.getValue()))
        .map(e -> e.getKey() + " (" + e.getValue().kind() + ")").toList();
    assertThat(without).as("incoming messages without an outcome after the quiet phase").isEmpty();
    Map<String, Integer> byMessageId = world.crm.receivedByMessageId();
    for (Incoming in : incoming.values()) {
      if (in.messageId() != null && tracked(in)) {
        assertThat(byMessageId.getOrDefault(in.messageId(), 0)).as("activities for tracked %s", in.messageId())
            .isEqualTo(1);
      }
    }
    for (RouterEvent.MessageTracked t : world.events(RouterEvent.MessageTracked.class)) {
      Incoming in = incoming.get(t.mailbox() + " " + t.ref());
      if (in != null && in.repliesTo() != null) {
        assertThat(t.correlation()).as("correlation of the reply %s to %s", in.messageId(), in.repliesTo())
            .isNotNull();
      }
    }
  }

  private boolean tracked(Incoming in) {
    return world.events.stream().map(World.Tagged::event).anyMatch(e -> e instanceof RouterEvent.MessageTracked t
        && t.mailbox().equals(in.mailbox()) && t.ref().equals(in.ref()));
  }

  private boolean hasOutcome(Incoming in) {
    for (World.Tagged t : world.events) {
      RouterEvent e = t.event();
      boolean outcome = e instanceof RouterEvent.MessageTracked m && m.mailbox().equals(in.mailbox())
          && m.ref().equals(in.ref())
          || e instanceof RouterEvent.MessageRejected r && r.mailbox().equals(in.mailbox()) && r.ref().equals(in.ref())
          || e instanceof RouterEvent.MessageFailed f && f.quarantined() && f.mailbox().equals(in.mailbox())
              && f.ref().equals(in.ref());
      if (outcome) {
        return true;
      }
    }
    return false;
  }
}
