package dev.emailrouter.reliability;

import com.icegreen.greenmail.imap.AuthorizationException;
import com.icegreen.greenmail.store.FolderException;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.CheckpointStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.pop3.Pop3MailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * Everything that outlives an engine: the clock, the CRM database, the checkpoint directory, the
 * mail servers (an {@link SmtpSink}, GreenMail IMAP and POP3), and the log of every event any
 * engine raised. {@link #node} starts an engine "process" on it, with its own sockets (fault
 * proxies) and, optionally, a {@link Crash} point.
 */
final class World implements AutoCloseable {
  static final String PASSWORD = "pw-K7#q-Wx2!m";
  static final String IMAP_LOGIN = "imap-sales";
  static final String POP3_LOGIN = "pop-sales";
  static final String IMAP_MAILBOX = "imap:sales";
  static final String POP3_MAILBOX = "pop3:sales";

  /** An event and the engine that raised it. */
  record Tagged(String node, RouterEvent event) {}

  final MutableClock clock = new MutableClock();
  final Path dir;
  final Crm crm;
  final Path checkpoints;
  final List<Tagged> events = new CopyOnWriteArrayList<>();
  SmtpSink sink;
  GreenMail greenMail;
  GreenMailUser imapUser;
  GreenMailUser pop3User;
  private final List<Node> nodes = new ArrayList<>();
  private long merged;

  World(Path dir) {
    this.dir = dir;
    this.crm = new Crm(dir);
    this.checkpoints = dir.resolve("checkpoints");
  }

  World withSink(SmtpSink value) {
    sink = value;
    return this;
  }

  World withSink() {
    return withSink(SmtpSink.start());
  }

  /** Starts GreenMail with IMAP and POP3 and one user for each. */
  World withGreenMail() {
    greenMail = new GreenMail(new ServerSetup[] {new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_IMAP),
        new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_POP3)});
    greenMail.start();
    imapUser = greenMail.setUser("sales@imap.example.test", IMAP_LOGIN, PASSWORD);
    pop3User = greenMail.setUser("sales@pop3.example.test", POP3_LOGIN, PASSWORD);
    return this;
  }

  MailFolder imapFolder(String name) {
    try {
      MailFolder folder = greenMail.getManagers().getImapHostManager().getFolder(imapUser, name);
      return folder != null ? folder : greenMail.getManagers().getImapHostManager().createMailbox(imapUser, name);
    } catch (FolderException | AuthorizationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The folder, or null when it does not exist. */
  MailFolder existingImapFolder(String name) {
    return greenMail.getManagers().getImapHostManager().getFolder(imapUser, name);
  }

  MailFolder pop3Inbox() {
    try {
      return greenMail.getManagers().getImapHostManager().getInbox(pop3User);
    } catch (FolderException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The POP3 INBOX's message count once it settles at {@code expected} (or after 5 s). GreenMail
   * answers RSET with two lines, so Angus takes a DELE's reply for QUIT's and closes before
   * GreenMail has applied the QUIT: the deletions land a moment after the session ended.
   */
  int pop3Count(int expected) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    int n = pop3Inbox().getMessageCount();
    while (n != expected && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
      n = pop3Inbox().getMessageCount();
    }
    return n;
  }

  /** Another client expunges a message from an IMAP folder. */
  void expungeImap(String folder, long uid) {
    MailFolder f = imapFolder(folder);
    try {
      f.setFlags(new jakarta.mail.Flags(jakarta.mail.Flags.Flag.DELETED), true, uid, null, false);
      f.expunge();
    } catch (FolderException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What the {@link SecondImapClient} does on GreenMail's INBOX (moves go to the folder "Elsewhere"). */
  void secondClient(SecondImapClient.Act act, long uid) {
    MailFolder inbox = imapFolder("INBOX");
    try {
      switch (act) {
        case EXPUNGE -> expungeImap("INBOX", uid);
        case MOVE -> inbox.moveMessage(uid, imapFolder("Elsewhere"));
        case FLAG -> inbox.setFlags(new jakarta.mail.Flags(jakarta.mail.Flags.Flag.FLAGGED), true, uid, null, false);
        default -> throw new IllegalArgumentException(act.toString());
      }
    } catch (FolderException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Another client deletes an IMAP folder with its messages. */
  void deleteImapFolder(String name) {
    try {
      greenMail.getManagers().getImapHostManager().deleteMailbox(imapUser, name);
    } catch (FolderException | AuthorizationException e) {
      throw new IllegalStateException(e);
    }
  }

  long deliverImap(byte[] raw) {
    return Mail.append(imapFolder("INBOX"), raw);
  }

  long deliverPop3(byte[] raw) {
    return Mail.append(pop3Inbox(), raw);
  }

  /** Events of one type, from every engine, in order. */
  <T extends RouterEvent> List<T> events(Class<T> type) {
    return events.stream().map(Tagged::event).filter(type::isInstance).map(type::cast).toList();
  }

  Node node(String name, Options options) {
    Node node = new Node(this, name, options);
    nodes.add(node);
    return node;
  }

  Node node(String name) {
    return node(name, new Options());
  }

  @Override
  public void close() {
    Figures.closed(snapshot());
    for (Node n : nodes) {
      n.close();
    }
    if (sink != null) {
      sink.close();
    }
    if (greenMail != null) {
      greenMail.stop();
    }
    crm.close();
  }

  /** What the figures need of this world, taken as it closes. */
  private Figures.Snapshot snapshot() {
    long faults = 0;
    for (Node n : nodes) {
      faults += n.crashed() ? 1 : 0;
      for (FaultProxy p : new FaultProxy[] {n.smtpProxy, n.imapProxy, n.pop3Proxy}) {
        faults += p == null ? 0 : p.injected();
      }
    }
    long messages;
    try {
      messages = crm.outgoing().size() + crm.receivedCount();
    } catch (RuntimeException e) {
      messages = 0; // the database is gone already
    }
    // Copies a person got beyond the first: an email partly sent (a 450 or 452 for some recipients)
    // reaches the server in several transactions under one Message-ID without repeating anything.
    long repeats = sink == null ? 0 : sink.deliveries().values().stream()
        .flatMap(perRecipient -> perRecipient.values().stream()).mapToLong(n -> Math.max(0, n - 1)).sum();
    long undelivered;
    try {
      undelivered = undeliveredRecipients().size();
    } catch (RuntimeException e) {
      undelivered = 0; // the database is gone already
    }
    return new Figures.Snapshot(faults, messages, repeats, merged, undelivered);
  }

  /** Different messages a test found merged into one activity, for the figures. */
  void merged(long n) {
    merged = n;
  }

  /**
   * The recipients of Sent or partly sent emails (not Failed) that the server never accepted the
   * email for (under the Message-ID the CRM recorded) and did not refuse for good (5xx), as
   * "activity: address"; empty without a sink. The CRM's international domain names are compared
   * in their A-label form (UTS #46, non-transitional).
   */
  List<String> undeliveredRecipients() {
    if (sink == null) {
      return List.of();
    }
    Map<String, Map<String, Integer>> got = sink.deliveries();
    Map<String, java.util.Set<String>> refusedForGoodWhenSent = new java.util.HashMap<>();
    for (RouterEvent.EmailSent sent : events(RouterEvent.EmailSent.class)) {
      for (dev.emailrouter.api.SendResult.RecipientResult r : sent.refusedRecipients()) {
        if (r.outcome() == dev.emailrouter.api.SendResult.Outcome.PERMANENT) {
          refusedForGoodWhenSent.computeIfAbsent(sent.activityId(), k -> new java.util.HashSet<>())
              .add(aLabel(r.recipient().address()));
        }
      }
    }
    Map<String, List<String>> recipients = crm.outgoingRecipients();
    List<String> out = new ArrayList<>();
    crm.outgoing().forEach((id, row) -> {
      boolean partlySent = row.messageId() != null && got.containsKey(row.messageId());
      if (row.status() == dev.emailrouter.api.EmailStatus.FAILED
          || row.status() != dev.emailrouter.api.EmailStatus.SENT && !partlySent) {
        return; // refused for good or out of attempts, or not sent to anyone yet
      }
      Map<String, Integer> delivered = row.messageId() == null ? Map.of() : got.getOrDefault(row.messageId(), Map.of());
      java.util.Set<String> refused = new java.util.HashSet<>(
          row.messageId() == null ? java.util.Set.of() : sink.refusedForGood(row.messageId()));
      // A 5xx to the one recipient still pending carries no message, so the sink can't tie it to a
      // Message-ID; the engine names it among the refused recipients when it records Sent.
      refused.addAll(refusedForGoodWhenSent.getOrDefault(id, java.util.Set.of()));
      for (String to : recipients.getOrDefault(id, List.of())) {
        if (!delivered.containsKey(aLabel(to)) && !refused.contains(aLabel(to))) {
          out.add(id + ": " + to);
        }
      }
    });
    return out;
  }

  /** The address with the international domain names the tests use in their A-label form. */
  static String aLabel(String address) {
    return address.toLowerCase(java.util.Locale.ROOT)
        .replace("stra\u00dfe.de", "xn--strae-oqa.de")
        .replace("b\u00fccher.example", "xn--bcher-kva.example");
  }

  /** How a node is built. */
  static final class Options {
    boolean smtp = true;
    boolean imap;
    boolean pop3;
    Crash crash = Crash.never();
    boolean secondImapClient;
    Duration connectTimeout = Duration.ofSeconds(5);
    Duration readTimeout = Duration.ofSeconds(5);
    /** The wait for the reply to the final "."; null: the read timeout (faults that lose that reply wait no longer). */
    Duration dataEndTimeout;
    ImapMailboxReader.PostAction afterTracked = ImapMailboxReader.PostAction.moveTo("Tracked");
    boolean pop3Delete = true;
    TrackingPolicy policy = TrackingPolicy.allEmail();
    long seed = 42;
    UnaryOperator<RouterEngine.Builder> engine = UnaryOperator.identity();
    UnaryOperator<SmtpTransport.Builder> smtpBuilder = UnaryOperator.identity();
    UnaryOperator<ImapMailboxReader.Builder> imapBuilder = UnaryOperator.identity();
    UnaryOperator<Pop3MailboxReader.Builder> pop3Builder = UnaryOperator.identity();
    UnaryOperator<ActivityStore> store = UnaryOperator.identity();

    Options smtp(boolean value) {
      smtp = value;
      return this;
    }

    Options imap() {
      imap = true;
      return this;
    }

    Options pop3() {
      pop3 = true;
      return this;
    }

    /** Puts a {@link SecondImapClient} (disarmed) between the node's IMAP fault proxy and GreenMail. */
    Options secondImapClient() {
      secondImapClient = true;
      return this;
    }

    Options crash(Crash value) {
      crash = value;
      return this;
    }

    Options timeouts(Duration read) {
      readTimeout = read;
      connectTimeout = read;
      return this;
    }

    /** A wait for the reply to the final "." longer than the read timeout, as in production (10 minutes there). */
    Options dataEndTimeout(Duration value) {
      dataEndTimeout = value;
      return this;
    }

    Options afterTracked(ImapMailboxReader.PostAction value) {
      afterTracked = value;
      return this;
    }

    Options policy(TrackingPolicy value) {
      policy = value;
      return this;
    }

    Options seed(long value) {
      seed = value;
      return this;
    }

    Options engine(UnaryOperator<RouterEngine.Builder> value) {
      engine = value;
      return this;
    }

    Options smtpBuilder(UnaryOperator<SmtpTransport.Builder> value) {
      smtpBuilder = value;
      return this;
    }

    Options imapBuilder(UnaryOperator<ImapMailboxReader.Builder> value) {
      imapBuilder = value;
      return this;
    }

    Options pop3Builder(UnaryOperator<Pop3MailboxReader.Builder> value) {
      pop3Builder = value;
      return this;
    }

    /** Wraps the store the engine sees (inside the crash wrapper), e.g. to act as another client at some step. */
    Options store(UnaryOperator<ActivityStore> value) {
      store = value;
      return this;
    }
  }

  /**
   * One engine "process": its own proxies to the servers (its sockets, cut when it crashes), the
   * wrapped SPIs, and the engine. Discarded after a crash; a fresh node continues on the world.
   */
  static final class Node implements AutoCloseable {
    final String name;
    final Crash crash;
    final FaultProxy smtpProxy;
    final FaultProxy imapProxy;
    final FaultProxy pop3Proxy;
    /** The other IMAP client at work, or null unless the options asked for it. */
    final SecondImapClient secondImapClient;
    final RouterEngine engine;
    final SmtpTransport transport;
    final ImapMailboxReader imapReader;
    final Pop3MailboxReader pop3Reader;

    Node(World world, String name, Options o) {
      this.name = name;
      this.crash = o.crash;
      RouterEngine.Builder b = RouterEngine.builder()
          .activityStore(new Crash.Store(o.store.apply(world.crm.store()), crash))
          .checkpointStore(new Crash.Checkpoints(CheckpointStore.directory(world.checkpoints), crash))
          .clock(world.clock)
          .random(new Random(o.seed))
          .listener(event -> world.events.add(new Tagged(name, event)))
          .trackingPolicy(o.policy)
          .messageIdDomain("crm.example.test")
          .lease(Duration.ofMinutes(10))
          .retryDelay(Duration.ofMinutes(1))
          .maxRetryDelay(Duration.ofMinutes(10))
          .mailboxRetryDelay(Duration.ofMinutes(1));
      if (o.smtp && world.sink != null) {
        smtpProxy = FaultProxy.to(world.sink.port());
        transport = o.smtpBuilder.apply(SmtpTransport.builder()
            .host("127.0.0.1")
            .port(smtpProxy.port())
            .security(Security.PLAIN_TEXT_INSECURE)
            .connectTimeout(o.connectTimeout)
            .readTimeout(o.readTimeout)
            // The faults that lose the reply to the end of data are read timeouts of this suite too.
            .dataEndTimeout(o.dataEndTimeout != null ? o.dataEndTimeout : o.readTimeout)
            .writeTimeout(o.readTimeout)
            .ehloName("node.crm.example.test")
            .clock(world.clock))
            .build();
        b.transport(new Crash.Transport(transport, crash, smtpProxy));
      } else {
        smtpProxy = null;
        transport = null;
      }
      if (o.imap) {
        int imapPort = world.greenMail.getImap().getPort();
        if (o.secondImapClient) {
          secondImapClient = SecondImapClient.to(imapPort, world::secondClient);
          imapPort = secondImapClient.port();
        } else {
          secondImapClient = null;
        }
        imapProxy = FaultProxy.to(imapPort);
        imapReader = o.imapBuilder.apply(ImapMailboxReader.builder()
            .host("127.0.0.1")
            .port(imapProxy.port())
            .security(Security.PLAIN_TEXT_INSECURE)
            .credentials(Credentials.password(IMAP_LOGIN, PASSWORD))
            .connectTimeout(o.connectTimeout)
            .readTimeout(o.readTimeout)
            .writeTimeout(o.readTimeout)
            .afterTracked(o.afterTracked))
            .build();
        b.mailbox(Mailbox.ofUser("user-1", new Crash.Reader(imapReader, crash)).withName(IMAP_MAILBOX));
      } else {
        secondImapClient = null;
        imapProxy = null;
        imapReader = null;
      }
      if (o.pop3) {
        pop3Proxy = FaultProxy.to(world.greenMail.getPop3().getPort());
        pop3Reader = o.pop3Builder.apply(Pop3MailboxReader.builder()
            .host("127.0.0.1")
            .port(pop3Proxy.port())
            .security(Security.PLAIN_TEXT_INSECURE)
            .credentials(Credentials.password(POP3_LOGIN, PASSWORD))
            .connectTimeout(o.connectTimeout)
            .readTimeout(o.readTimeout)
            .writeTimeout(o.readTimeout)
            .deleteAfterProcessing(o.pop3Delete))
            .build();
        b.mailbox(Mailbox.ofUser("user-2", new Crash.Reader(pop3Reader, crash)).withName(POP3_MAILBOX));
      } else {
        pop3Proxy = null;
        pop3Reader = null;
      }
      this.engine = o.engine.apply(b).build();
      for (FaultProxy p : new FaultProxy[] {smtpProxy, imapProxy, pop3Proxy}) {
        if (p != null) {
          crash.onKill(() -> {
            p.refuseConnections(true);
            p.cutAll();
          });
        }
      }
    }

    /** One tick; {@code null} when the process crashed during it. */
    TickReport tick() {
      try {
        return engine.tick();
      } catch (Crash.CrashError e) {
        return null;
      }
    }

    boolean crashed() {
      return crash.dead();
    }

    @Override
    public void close() {
      engine.close();
      for (FaultProxy p : new FaultProxy[] {smtpProxy, imapProxy, pop3Proxy}) {
        if (p != null) {
          p.close();
        }
      }
      if (secondImapClient != null) {
        secondImapClient.close();
      }
    }
  }
}
