package dev.emailrouter.reliability;

import static dev.emailrouter.reliability.FaultProxy.Direction.DOWN;
import static dev.emailrouter.reliability.FaultProxy.Direction.UP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.reliability.Crash.Point;
import dev.emailrouter.reliability.FaultProxy.Fault;
import dev.emailrouter.testfixtures.StoreOutage;
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
 * One seeded run of random steps against one {@link World}: new outgoing emails (to one to three
 * people), new incoming mail over IMAP and POP3 (replies to sent emails, hostile messages, messages
 * without any header, a Message-ID seen again with another body among them), ticks, ticks with a
 * network fault, crashes at a random {@link Point} followed by a fresh engine on the same durable
 * state, clock jumps, SMTP refusals, per-recipient 450 (greylisting) and 452 (too many recipients),
 * a reply to the final "." slower than the read timeout, the CRM down for several ticks, and a
 * second IMAP client expunging, moving and flagging in the middle of a FETCH. The invariants are
 * checked after every step; a quiet phase at the end must bring every email to Sent or Failed,
 * every recipient of a Sent email its copy, and every incoming message to an outcome, with no two
 * different messages merged into one activity. The
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
  private static final List<String> PEOPLE = List.of("contact@example.test", "c2@example.test", "c3@example.test",
      "c4@example.test");
  /** Kinds of incoming message that are all different from each other: none may share an activity. */
  private static final Set<String> DISTINCT = Set.of("plain", "reply", "headerless");

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
  /** Recipients greylisted: RCPTs each still gets a 450 for. */
  private final Map<String, java.util.concurrent.atomic.AtomicInteger> greylist =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicInteger rcptLimit =
      new java.util.concurrent.atomic.AtomicInteger(Integer.MAX_VALUE);
  private final java.util.concurrent.atomic.AtomicLong slowNext = new java.util.concurrent.atomic.AtomicLong();
  /** Every node's store outage switch, for the repeats a failed markSent allows. */
  private final List<StoreOutage> outages = new ArrayList<>();
  /** Incoming messages (mailbox and ref) a second IMAP client expunged or moved away. */
  private final Set<String> gone = new java.util.HashSet<>();
  private StoreOutage outage;
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
      if (reply != null) {
        return reply;
      }
      java.util.concurrent.atomic.AtomicInteger left = greylist.get(to.toLowerCase(java.util.Locale.ROOT));
      return left != null && left.getAndDecrement() > 0 ? "450 4.2.0 <" + to + ">: greylisted, try again later"
          : "250 2.1.5 Ok";
    }).maxRecipientsPerTransaction(rcptLimit::get).endOfDataDelay(() -> slowNext.getAndSet(0))
        .pipelining() // as Postfix offers: the next email goes behind each end of data
        .start())
        .withGreenMail();
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
    int refusals = counts.getOrDefault("refusal", 0) + counts.getOrDefault("recipients", 0)
        + counts.getOrDefault("slow", 0);
    int others = counts.getOrDefault("outage", 0) + counts.getOrDefault("second", 0);
    String note = String.format("%d crashes, %d network faults fired, %d SMTP refusals, %d CRM outages and second"
            + " IMAP clients; %d emails (%d accepted copies, %d documented repeats), %d incoming (%d hostile, %d"
            + " replies, %d without headers, %d with a Message-ID seen before), %d activities",
        deaths, faults, refusals, others, emails.size(), accepted, repeated, incoming.size(), count("hostile"),
        count("reply"), count("headerless"), count("dupid"), tracked);
    System.out.println(test.getSimpleName() + ", seed " + seed + ": " + note + "; steps " + counts);
    Figures.record(test, "seed " + seed + ", " + steps + " random steps + quiet phase",
        deaths + faults + refusals + others, emails.size() + incoming.size(), 0, 0, repeated, merged().size(),
        world.undeliveredRecipients().size(), note);
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
    if (roll < 12) {
      what = newOutgoing();
    } else if (roll < 22) {
      what = newIncoming(true);
    } else if (roll < 30) {
      what = newIncoming(false);
    } else if (roll < 34) {
      what = newHostile();
    } else if (roll < 37) {
      what = newHeaderless();
    } else if (roll < 39) {
      what = newDuplicateId();
    } else if (roll < 55) {
      what = "tick" + tick();
    } else if (roll < 65) {
      what = faultTick();
    } else if (roll < 72) {
      what = crash();
    } else if (roll < 82) {
      Duration d = Duration.ofSeconds(30 + random.nextInt(15 * 60));
      world.clock.advance(d);
      what = "clock +" + d;
    } else if (roll < 87) {
      what = refusalTick();
    } else if (roll < 91) {
      what = recipientsTick();
    } else if (roll < 93) {
      what = slowTick();
    } else if (roll < 96) {
      what = outageTicks();
    } else {
      what = secondClientTick();
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
    return world.node("node-" + nodes, new World.Options().imap().pop3().timeouts(TIMEOUT)
        .dataEndTimeout(TIMEOUT.multipliedBy(3)).crash(crash)
        .secondImapClient().store(s -> {
          StoreOutage o = new StoreOutage(s);
          outages.add(o);
          outage = o;
          return o;
        })
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
    // The emails the server accepted and the CRM had not recorded when the node died are sent again
    // (same Message-ID): the documented repeats. Sent is recorded in groups while the session sends
    // on, and the session never leaves more than sentBatchSize unrecorded (the email it is sending
    // included): the group being recorded at ACCEPTED_BEFORE_MARK_SENT and the next one filling, or
    // what is collected so far at any other point of a send session.
    assertThat(node.crash.unrecordedAtDeath()).as("accepted emails not recorded when the node died (%s): at most"
        + " sentBatchSize (16) in its one send session", died).hasSizeLessThanOrEqualTo(16);
    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    for (String id : node.crash.unrecordedAtDeath()) {
      repeats.merge(rows.get(id).messageId(), 1, Integer::sum);
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
      List<String> to = new ArrayList<>(PEOPLE);
      java.util.Collections.shuffle(to, random);
      world.crm.add(Mail.outgoingTo(id, SENDER, to.subList(0, 1 + random.nextInt(3)).toArray(String[]::new)));
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

  /** A message without any header block, different from every other. */
  private String newHeaderless() {
    boolean imap = random.nextBoolean();
    String mailbox = imap ? World.IMAP_MAILBOX : World.POP3_MAILBOX;
    String key = "s" + seed + "-" + (incoming.size() + 1);
    String raw = random.nextBoolean() ? "\r\nA body after a blank line, message " + key + ".\r\n"
        : "Just a body, no headers, message " + key + ".\r\nSecond line.\r\n";
    byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
    long uid;
    try {
      uid = imap ? world.deliverImap(bytes) : world.deliverPop3(bytes);
    } catch (RuntimeException e) {
      return "headerless refused by GreenMail";
    }
    incoming.put(mailbox + " " + uid, new Incoming(mailbox, Long.toString(uid), null, "headerless", null));
    return "headerless -> " + mailbox;
  }

  /** A message with the Message-ID of an earlier one and another subject and body. */
  private String newDuplicateId() {
    List<Incoming> earlier = incoming.values().stream().filter(i -> i.kind().equals("plain")).toList();
    if (earlier.isEmpty()) {
      return "dupid skipped (no earlier message)";
    }
    Incoming first = earlier.get(random.nextInt(earlier.size()));
    boolean imap = random.nextBoolean();
    String mailbox = imap ? World.IMAP_MAILBOX : World.POP3_MAILBOX;
    String raw = "Message-ID: " + first.messageId() + "\r\n"
        + "From: Someone Else <else@example.test>\r\n"
        + "To: sales@crm.example.test\r\n"
        + "Subject: Another message under a used Message-ID " + incoming.size() + "\r\n"
        + "Date: Sat, 2 Mar 2024 10:00:00 +0000\r\n"
        + "\r\n"
        + "A different body " + incoming.size() + ".\r\n";
    long uid = imap ? world.deliverImap(raw.getBytes(StandardCharsets.UTF_8))
        : world.deliverPop3(raw.getBytes(StandardCharsets.UTF_8));
    incoming.put(mailbox + " " + uid, new Incoming(mailbox, Long.toString(uid), first.messageId(), "dupid", null));
    return "dupid -> " + mailbox + " (" + first.messageId() + ")";
  }

  /** A tick where the server greylists some recipients (450 for their next RCPTs) or takes one or two per transaction (452). */
  private String recipientsTick() {
    if (random.nextBoolean()) {
      List<String> who = new ArrayList<>(PEOPLE);
      java.util.Collections.shuffle(who, random);
      int n = 1 + random.nextInt(2);
      int times = 1 + random.nextInt(2);
      for (String p : who.subList(0, n)) {
        greylist.put(p, new java.util.concurrent.atomic.AtomicInteger(times));
      }
      return "recipients 450 greylisting " + who.subList(0, n) + " x" + times + ", tick" + tick();
    }
    int k = 1 + random.nextInt(2);
    rcptLimit.set(k);
    String died = tick();
    rcptLimit.set(Integer.MAX_VALUE);
    return "recipients 452 beyond " + k + " per transaction, tick" + died;
  }

  /** A tick where the reply to the first final "." comes after the read timeout (well within 10 minutes). */
  private String slowTick() {
    slowNext.set(TIMEOUT.toMillis() * 8 / 5);
    String died = tick();
    boolean used = slowNext.getAndSet(0) == 0;
    return "slow data-end reply (" + (used ? "used" : "no email sent") + "), tick" + died;
  }

  /** The CRM down for more ticks than a message's attempts, then back. */
  private String outageTicks() {
    StoreOutage.Mode mode = StoreOutage.Mode.values()[random.nextInt(StoreOutage.Mode.values().length)];
    int k = 4 + random.nextInt(3);
    StoreOutage down = outage;
    down.start(mode);
    StringBuilder died = new StringBuilder();
    try {
      for (int i = 0; i < k; i++) {
        died.append(tick());
        world.clock.advance(Duration.ofMinutes(2));
      }
    } finally {
      down.stop();
    }
    return "outage " + mode + " for " + k + " ticks" + died;
  }

  /** A tick while a second IMAP client expunges, moves and flags in the middle of one or two FETCH answers. */
  private String secondClientTick() {
    SecondImapClient other = node.secondImapClient;
    int answers = 1 + random.nextInt(2);
    other.arm(answers);
    String died;
    try {
      died = tick();
    } finally {
      other.disarm();
    }
    for (long uid : other.gone()) {
      gone.add(World.IMAP_MAILBOX + " " + uid);
    }
    return "second IMAP client over " + answers + " answers (" + other.done() + ")" + died;
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
        && incoming.values().stream().allMatch(this::hasOutcome)
        && world.undeliveredRecipients().isEmpty(); // Sent may come before every recipient has it
  }

  private void checkInvariants() {
    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    Map<String, Integer> copies = world.sink.counts();
    Map<String, Map<String, Integer>> deliveries = world.sink.deliveries();
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
      int allowed = 1 + repeats.getOrDefault(row.messageId(), 0) + unrecordedSends(id);
      // Per recipient: an email partly sent (a 450 or 452 for some) reaches the server in several
      // transactions under one Message-ID, but each person must get it once (plus documented repeats).
      Map<String, Integer> perRecipient = deliveries.getOrDefault(row.messageId(), Map.of());
      perRecipient.forEach((recipient, got) -> assertThat(got)
          .as("copies of %s (%s) %s got; documented repeats %d (%d transactions in all)", id, row.messageId(),
              recipient, allowed - 1, n)
          .isLessThanOrEqualTo(allowed));
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
    for (RouterEvent.MessageGone g : world.events(RouterEvent.MessageGone.class)) {
      assertThat(gone).as("a message reported gone (%s %s) was taken away by another client", g.mailbox(), g.ref())
          .contains(g.mailbox() + " " + g.ref());
    }
    for (RouterEvent.MessageFailed f : world.events(RouterEvent.MessageFailed.class)) {
      Incoming in = incoming.get(f.mailbox() + " " + f.ref());
      if (f.quarantined() && in != null && !in.kind().equals("hostile")) {
        throw new AssertionError("an ordinary message was quarantined (" + in.kind() + " " + f.mailbox() + " "
            + f.ref() + "): " + f.reason());
      }
    }
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
    assertThat(world.undeliveredRecipients()).as("recipients of Sent emails never delivered").isEmpty();
    Map<String, Map<String, Integer>> deliveries = world.sink.deliveries();
    for (String id : emails) {
      Crm.Outgoing row = rows.get(id);
      if (row.messageId() != null) {
        int allowed = 1 + repeats.getOrDefault(row.messageId(), 0) + unrecordedSends(id);
        assertThat(deliveries.getOrDefault(row.messageId(), Map.of())).as("copies per recipient of %s (%s)", id,
            row.messageId()).allSatisfy((to, n) -> assertThat(n).as(to).isLessThanOrEqualTo(allowed));
      }
    }
    Map<String, List<String>> merged = merged();
    world.merged(merged.size());
    assertThat(merged).as("activities that different messages were merged into").isEmpty();
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

  /** Sends the server accepted that the CRM could not record (a failed markSent): documented repeats. */
  private int unrecordedSends(String activityId) {
    int n = 0;
    for (StoreOutage o : outages) {
      n += o.markSentFailed().getOrDefault(activityId, 0);
    }
    return n;
  }

  /** Activities that two or more different incoming messages were tracked as, with those messages. */
  private Map<String, List<String>> merged() {
    Map<String, java.util.Set<String>> byActivity = new LinkedHashMap<>();
    for (RouterEvent.MessageTracked t : world.events(RouterEvent.MessageTracked.class)) {
      String key = t.mailbox() + " " + t.ref();
      Incoming in = incoming.get(key);
      if (in != null && DISTINCT.contains(in.kind())) {
        byActivity.computeIfAbsent(t.activityId(), k -> new java.util.TreeSet<>()).add(key + " (" + in.kind() + ")");
      }
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    byActivity.forEach((activity, keys) -> {
      if (keys.size() > 1) {
        out.put(activity, List.copyOf(keys));
      }
    });
    return out;
  }

  private boolean tracked(Incoming in) {
    return world.events.stream().map(World.Tagged::event).anyMatch(e -> e instanceof RouterEvent.MessageTracked t
        && t.mailbox().equals(in.mailbox()) && t.ref().equals(in.ref()));
  }

  private boolean hasOutcome(Incoming in) {
    if (gone.contains(in.mailbox() + " " + in.ref())) {
      return true; // another client took it away: tracked before that, or reported gone, or never seen
    }
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
