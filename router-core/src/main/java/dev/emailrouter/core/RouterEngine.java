package dev.emailrouter.core;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.SentFolder;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.internal.StreamProviderShortcut;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes email between a CRM ({@link ActivityStore}) and mail servers, one {@link #tick()} at a
 * time, driven by the host's own scheduler.
 *
 * <p>Each tick sends due Pending Send emails through the {@link MailTransport} (per sender at most
 * {@code batchPerSender}, one connection per session reused for the batch), then reads each
 * configured {@link Mailbox} from its checkpoint and creates Received activities for what the
 * {@link TrackingPolicy} accepts. {@code tick()} never throws for a failing email, message, server
 * or mailbox; it says what happened in the {@link TickReport} and to the {@link RouterListener}.
 *
 * <pre>{@code
 * RouterEngine engine = RouterEngine.builder()
 *     .activityStore(store)
 *     .transport(SmtpTransport.builder().host("smtp.example.com").credentials(creds).build())
 *     .mailbox(Mailbox.ofUser("user-1", ImapMailboxReader.builder().host("imap.example.com")
 *         .credentials(creds).build()))
 *     .build();
 * scheduler.scheduleWithFixedDelay(engine::tick, 0, 30, TimeUnit.SECONDS);
 * }</pre>
 *
 * <p>Thread-safe: ticks of one engine run one at a time (a concurrent call waits for the running
 * one). Several engines, in one process or many, may share one store: claims keep them from
 * sending one email twice, and with {@link Builder#mailboxLeases shared mailbox leases} each
 * mailbox is read by one of them at a time. Closing the engine stops its worker threads and
 * releases its mailbox leases; it holds no connection between ticks.
 */
public final class RouterEngine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RouterEngine.class);

  /**
   * The default of {@link Builder#blockedAttachmentExtensions}: the Dynamics 365 (Dataverse)
   * default list of blocked file extensions for attachments, {@code Organization.BlockedAttachments}
   * (ade, adp, app, asa, ashx, asmx, asp, bas, bat, cdx, cer, chm, class, cmd, com, config, cpl,
   * crt, csh, dll, exe, fxp, hlp, hta, htr, htw, ida, idc, idq, inf, ins, isp, its, jar, js, jse,
   * ksh, lnk, mad, maf, mag, mam, maq, mar, mas, mat, mau, mav, maw, mda, mdb, mde, mdt, mdw, mdz,
   * msc, msh, msh1, msh1xml, msh2, msh2xml, mshxml, msi, msp, mst, ops, pcd, pif, prf, prg,
   * printer, pst, reg, rem, scf, scr, sct, shb, shs, shtm, shtml, soap, stm, svg, tmp, url, vb,
   * vbe, vbs, vsmacros, vss, vst, vsw, ws, wsc, wsf, wsh), so a CRM that refuses these files gets
   * none from the router; plus {@code ps1}, {@code lib}, {@code sys} and {@code vxd}, which earlier
   * versions of the router blocked. Lower case, without the dot; unmodifiable.
   *
   * @see <a href="https://learn.microsoft.com/power-apps/developer/data-platform/files-images-overview#block-files-by-extension">
   *     Dataverse: Block files by extension</a> (the value {@code blockedattachments} has by default)
   */
  public static final Set<String> DEFAULT_BLOCKED_ATTACHMENT_EXTENSIONS = Set.of(("ade;adp;app;asa;ashx;asmx;asp;bas;"
      + "bat;cdx;cer;chm;class;cmd;com;config;cpl;crt;csh;dll;exe;fxp;hlp;hta;htr;htw;ida;idc;idq;inf;ins;isp;its;jar;"
      + "js;jse;ksh;lnk;mad;maf;mag;mam;maq;mar;mas;mat;mau;mav;maw;mda;mdb;mde;mdt;mdw;mdz;msc;msh;msh1;msh1xml;msh2;"
      + "msh2xml;mshxml;msi;msp;mst;ops;pcd;pif;prf;prg;printer;pst;reg;rem;scf;scr;sct;shb;shs;shtm;shtml;soap;stm;"
      + "tmp;url;vb;vbe;vbs;vsmacros;vss;vst;vsw;ws;wsc;wsf;wsh;svg"
      // Not on Dataverse's list but blocked by this router before it adopted that list: kept, so an
      // upgrade never lets through what an earlier version stopped (PowerShell scripts, drivers).
      + ";ps1;lib;sys;vxd").split(";"));

  private final Settings settings;
  private final OutgoingFlow outgoing;
  private final IncomingFlow incoming;
  private final ReentrantLock tickLock = new ReentrantLock();
  /** Guarded by {@link #tickLock}. */
  private boolean closed;

  private RouterEngine(Settings settings) {
    this.settings = settings;
    // One backoff for both flows and every mailbox: they all call the one store.
    StoreHealth storeHealth = new StoreHealth(settings.clock(), settings.retry().backoff(settings.random()));
    this.outgoing = settings.transport() == null ? null : new OutgoingFlow(settings, storeHealth);
    this.incoming = new IncomingFlow(settings, storeHealth);
  }

  /**
   * Starts a builder.
   *
   * @return a builder with the defaults listed on its methods
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs one round: outgoing first, then every mailbox that is due.
   *
   * @return what happened; never {@code null}
   * @throws IllegalStateException if the engine was closed
   */
  public TickReport tick() {
    tickLock.lock();
    try {
      if (closed) {
        // Checked before claiming anything: a closed engine's worker pools would refuse the work and
        // leave claimed emails in Sending until their lease expires.
        throw new IllegalStateException("the engine is closed; build a new RouterEngine to tick again");
      }
      Instant started = settings.clock().instant();
      Duration forSending = settings.mailboxes().isEmpty() ? settings.tickBudget() : settings.tickBudget().dividedBy(2);
      TickBudget budget = new TickBudget(settings.clock(), started.plus(settings.tickBudget()), started.plus(forSending));
      EventSink sink = new EventSink(settings.listener());
      Instant incomingStarted = started;
      if (outgoing != null) {
        try {
          outgoing.run(sink, budget);
        } catch (RuntimeException e) {
          // A store that fails to claim is a problem of this tick only; the next tick tries again.
          LOG.warn("outgoing flow failed this tick: {}", e.toString(), e);
          sink.accept(new RouterEvent.ServerUnavailable("activity store", "claiming failed: " + e,
              settings.clock().instant()));
        }
        incomingStarted = settings.clock().instant();
      }
      incoming.run(sink, budget);
      budget.report(settings.tickBudget(), sink);
      Instant finished = settings.clock().instant();
      TickReport report = new TickReport(started, Duration.between(started, finished), sink.events(),
          Duration.between(started, incomingStarted), Duration.between(incomingStarted, finished));
      LOG.debug("tick done: {}", report);
      return report;
    } finally {
      tickLock.unlock();
    }
  }

  /**
   * Enables a mailbox that was disabled after repeated failures, and clears its backoff.
   *
   * @param mailboxName the mailbox's name
   * @throws IllegalArgumentException if no mailbox has that name
   */
  public void enableMailbox(String mailboxName) {
    incoming.enable(mailboxName);
  }

  /**
   * Whether a mailbox is disabled after repeated failures.
   *
   * @param mailboxName the mailbox's name
   * @return {@code true} when disabled
   * @throws IllegalArgumentException if no mailbox has that name
   */
  public boolean isMailboxDisabled(String mailboxName) {
    return incoming.isDisabled(mailboxName);
  }

  /**
   * The names of the configured mailboxes, in the order they were added.
   *
   * @return an unmodifiable list; empty for an engine without mailboxes
   */
  public List<String> mailboxNames() {
    return settings.mailboxes().stream().map(Mailbox::name).toList();
  }

  /**
   * When the engine last read a mailbox without failure (to the end, or as far as the tick's budget
   * let it), by the engine's clock. Safe to call from any thread, during a tick too.
   *
   * @param mailboxName the mailbox's name
   * @return the instant, or empty if the mailbox was not read successfully since the engine was built
   * @throws IllegalArgumentException if no mailbox has that name
   */
  public Optional<Instant> lastSuccessfulPass(String mailboxName) {
    return incoming.lastSuccessfulPass(mailboxName);
  }

  /**
   * Test Access (the E-mail Router's "Test Access" button): checks the transport's and every
   * mailbox's settings against their servers, step by step, without running a tick. It never
   * sends mail and never changes a mailbox, and it opens connections of its own, so it may be
   * called while ticks run, from any thread. The checks run one after another on the calling
   * thread, so it takes as long as the slowest servers' timeouts add up to. A reader or transport
   * that fails does not throw: the failure, with the setting to change, is in its report.
   *
   * @return the reports in configuration order: the transport's under {@code "transport"} (when
   *     the engine has one), then each mailbox's under its name; unmodifiable
   */
  public Map<String, AccessReport> testAccess() {
    Map<String, AccessReport> reports = new LinkedHashMap<>();
    if (settings.transport() != null) {
      reports.put("transport", safely(settings.transport().describe(), settings.transport()::testAccess));
    }
    for (Mailbox mailbox : settings.mailboxes()) {
      reports.put(mailbox.name(), safely(mailbox.reader().describe(), mailbox.reader()::testAccess));
    }
    return Collections.unmodifiableMap(reports);
  }

  /** A host's adapter may still throw from testAccess: that is its report, not the caller's problem. */
  private static AccessReport safely(String target, Supplier<AccessReport> check) {
    try {
      AccessReport report = check.get();
      return report != null ? report : new AccessReport(target, List.of(AccessStep.failed(AccessStep.Check.LOGIN,
          "testAccess() returned null", null)));
    } catch (RuntimeException e) {
      return new AccessReport(target, List.of(AccessStep.failed(AccessStep.Check.LOGIN,
          "testAccess() threw " + e.getClass().getName() + ": " + e.getMessage(), null)));
    }
  }

  /**
   * How many emails the running tick has claimed and not yet recorded an outcome for. Safe to call
   * from any thread; 0 between ticks and for an engine without a transport.
   *
   * @return the number of emails in flight
   */
  public int emailsInFlight() {
    return outgoing == null ? 0 : outgoing.inFlight();
  }

  /**
   * Stops the engine's worker threads and closes the mailbox readers that are {@link
   * AutoCloseable} (an IMAP reader that keeps its connection between ticks logs out); a running
   * tick finishes first, and later ticks fail. Never throws; closing twice does nothing more.
   */
  @Override
  public void close() {
    tickLock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      if (outgoing != null) {
        outgoing.close();
      }
      incoming.close();
    } finally {
      tickLock.unlock();
    }
  }

  /**
   * Configures a {@link RouterEngine}. Every setter validates at once and names the setting and the
   * value it refuses. For one thread at a time.
   */
  public static final class Builder {
    private ActivityStore store;
    private MailTransport transport;
    private SentFolder sentFolder;
    private final List<Mailbox> mailboxes = new ArrayList<>();
    private TrackingPolicy policy = TrackingPolicy.responsesToCrmEmail();
    private Clock clock = Clock.systemUTC();
    private RouterListener listener = event -> {};
    private CheckpointStore checkpoints = CheckpointStore.inMemory();
    private Random random = new Random();
    /** {@code null}: {@link Settings#defaultTickBudget} of the lease, taken at build. */
    private Duration tickBudget;
    private boolean nameStreamProvider = true;
    // Each group record holds its settings' defaults and checks: the setters below only replace a component.
    private Settings.Outgoing outgoing = Settings.Outgoing.DEFAULTS;
    private Settings.SentCopyQueue sentCopyQueue = Settings.SentCopyQueue.DEFAULTS;
    private Settings.Retry retry = Settings.Retry.DEFAULTS;
    private Settings.Tokens tokens = Settings.Tokens.DEFAULTS;
    private Settings.Incoming incoming = Settings.Incoming.DEFAULTS;
    private Settings.Reading reading = Settings.Reading.DEFAULTS;
    private Settings.Nodes nodes = Settings.Nodes.DEFAULTS;

    private Builder() {}

    /**
     * The host's CRM. Required.
     *
     * @param value the store
     * @return this builder
     */
    public Builder activityStore(ActivityStore value) {
      store = Objects.requireNonNull(value, "activityStore");
      return this;
    }

    /**
     * The outgoing server. Without one, the engine sends nothing (an incoming-only engine).
     *
     * @param value the transport
     * @return this builder
     */
    public Builder transport(MailTransport value) {
      transport = Objects.requireNonNull(value, "transport");
      return this;
    }

    /**
     * Keeps a copy of each sent email in its sender's Sent folder (Server-Side Synchronization: copy
     * to Sent Items), e.g. router-imap's {@code ImapSentFolder}. Default: none, and sending pays
     * nothing for it.
     *
     * <p>After the server accepted an email (for every recipient or some of them), the send
     * session hands the exact bytes it sent to {@link SentFolder#keepCopy}, before the email is
     * recorded as Sent; the copy is idempotent by Message-ID, so a resend or a crash before {@code
     * markSent} never leaves two copies. A failed copy never changes the email's state: it is
     * reported ({@link RouterEvent.SentCopyFailed}) and a transient failure is tried again on later
     * ticks, with the email's retry delays and up to {@code maxAttempts} times, from a queue held in
     * memory (at most 1,000 copies and 64 MiB; what does not fit is reported and given up); until
     * such a delay is over, further copies are queued without being tried, so a Sent folder server
     * that is down never holds sending up by its timeouts. A restart forgets the copies waiting in
     * that queue. It needs a {@link #transport}: {@link #build()} refuses a Sent folder without one.
     *
     * @param value the Sent folder
     * @return this builder
     */
    public Builder sentFolder(SentFolder value) {
      sentFolder = Objects.requireNonNull(value, "sentFolder");
      return this;
    }

    /** Bounds the queue of copies to retry; for tests. */
    Builder sentCopyQueue(int maxCopies, long maxBytes) {
      sentCopyQueue = new Settings.SentCopyQueue(maxCopies, maxBytes);
      return this;
    }

    /**
     * Adds a mailbox to read. Names must be unique.
     *
     * @param value the mailbox
     * @return this builder
     * @throws IllegalArgumentException if a mailbox with the same name was added
     */
    public Builder mailbox(Mailbox value) {
      Objects.requireNonNull(value, "mailbox");
      for (Mailbox m : mailboxes) {
        if (m.name().equals(value.name())) {
          throw new IllegalArgumentException("mailbox names must be unique; " + value.name()
              + " was added twice (use Mailbox.withName to tell them apart)");
        }
      }
      mailboxes.add(value);
      return this;
    }

    /**
     * The tracking policy for mailboxes without their own. Default {@link
     * TrackingPolicy#responsesToCrmEmail()}, as the E-mail Router's default.
     *
     * @param value the policy
     * @return this builder
     */
    public Builder trackingPolicy(TrackingPolicy value) {
      policy = Objects.requireNonNull(value, "trackingPolicy");
      return this;
    }

    /**
     * The clock for every time the engine reads (attempt times, leases, backoff). Default UTC
     * system clock; tests pass one they move.
     *
     * @param value the clock
     * @return this builder
     */
    public Builder clock(Clock value) {
      clock = Objects.requireNonNull(value, "clock");
      return this;
    }

    /**
     * Receives every event. Default: none.
     *
     * @param value the listener
     * @return this builder
     */
    public Builder listener(RouterListener value) {
      listener = Objects.requireNonNull(value, "listener");
      return this;
    }

    /**
     * Where mailbox checkpoints live. Default {@link CheckpointStore#inMemory()}.
     *
     * @param value the store
     * @return this builder
     */
    public Builder checkpointStore(CheckpointStore value) {
      checkpoints = Objects.requireNonNull(value, "checkpointStore");
      return this;
    }

    /**
     * The source of backoff jitter and part of the Message-ID randomness; a seeded one makes runs
     * repeatable. Message-IDs stay unique even when several engines are given the same seed: each
     * engine adds a part of its own drawn from {@link SecureRandom}. Default a new {@link Random}.
     *
     * @param value the random source
     * @return this builder
     */
    public Builder random(Random value) {
      random = Objects.requireNonNull(value, "random");
      return this;
    }

    /**
     * The most emails sent per sender per tick. Default 6.
     *
     * @param value 1 to 1,000
     * @return this builder
     */
    public Builder batchPerSender(int value) {
      outgoing = outgoing.withBatchPerSender(value);
      return this;
    }

    /**
     * The most emails sent per tick in all. Default 600.
     *
     * @param value 1 to 1,000,000
     * @return this builder
     */
    public Builder maxPerTick(int value) {
      outgoing = outgoing.withMaxPerTick(value);
      return this;
    }

    /**
     * How many SMTP sessions send in parallel during a tick, each reusing one connection. Default 1.
     * It must not exceed the transport's {@link MailTransport#maxSessions()} (the SMTP transport's
     * {@code maxSessions}, default 4): {@link #build()} checks.
     *
     * @param value 1 to 64
     * @return this builder
     */
    public Builder sendSessions(int value) {
      outgoing = outgoing.withSendSessions(value);
      return this;
    }

    /**
     * The most accepted emails a send session leaves not yet recorded as Sent. The session records
     * them in groups of half of this (rounded up), one store call each ({@link
     * dev.emailrouter.api.ActivityStore#markSentAll}), on another thread while it sends the next
     * emails, one group at a time; it waits for that call only when this many are unrecorded, and
     * records the rest before it sends no more (its end, the server or the store failing, the
     * tick's time used up). So a store pays one round trip per group, not per email, and its round
     * trip and commit overlap the sending instead of stopping it. The price: an engine that dies
     * after the server accepted emails and before they were recorded sends up to this many emails
     * per send session again once their lease expires (the at-least-once repeat, with the same
     * Message-IDs). 1 records every email as soon as it is accepted, before the next is sent.
     * Default 16 (groups of 8).
     *
     * @param value 1 to 1000
     * @return this builder
     */
    public Builder sentBatchSize(int value) {
      outgoing = outgoing.withSentBatchSize(value);
      return this;
    }

    /**
     * How long a claim on an email holds (E-mail Router: SendingStatusDelay). Must be longer than
     * a batch takes to send. Default 30 minutes.
     *
     * @param value at least 1 second
     * @return this builder
     */
    public Builder lease(Duration value) {
      outgoing = outgoing.withLease(value);
      return this;
    }

    /**
     * Whether {@link #build()} may name Jakarta Mail's {@code StreamProvider} in the JVM-wide
     * system property {@code jakarta.mail.util.StreamProvider}. Jakarta Mail API 2.1.x otherwise
     * scans the class path for that provider on every MIME operation (jakartaee/mail-api#861),
     * about a third of the CPU the router spends reading mail. The property names the very provider
     * the scan finds, so only the cost changes; but it is a global effect on the host's JVM, hence
     * this setting. A property already set (by the host, or by an earlier engine) is never
     * replaced, and nothing is set when the JVM runs with {@code
     * -Demailrouter.keepStreamProviderLookup=true}.
     * Default {@code true}; logged once at DEBUG when done.
     *
     * @param value {@code false} to leave the property alone
     * @return this builder
     */
    public Builder nameStreamProvider(boolean value) {
      nameStreamProvider = value;
      return this;
    }

    /**
     * How long one tick may keep starting new work. Once it is used up, the tick sends no further
     * email (the emails it had claimed return to Pending Send at once, without an attempt counted)
     * and reads no further mailbox or batch (they are read first on the next tick); work already
     * under way finishes, so a tick can run over by at most one send or one batch and the adapters'
     * timeouts. When the engine has mailboxes as well as a transport, sending may use at most half
     * of the budget, so a backlog of email to send never leaves the mailboxes unread. Each tick
     * ends with a {@link RouterEvent.TickBudgetUsedUp} when something was left for the next tick.
     * Default 10 minutes, or half the {@link #lease} when that is shorter.
     *
     * @param value at least 1 second, and shorter than the lease: an email claimed at the start of
     *     a tick must be sent before another engine may claim it again
     * @return this builder
     */
    public Builder tickBudget(Duration value) {
      tickBudget = Settings.atLeast("tickBudget", value, Duration.ofSeconds(1));
      return this;
    }

    /**
     * Attempts before an email that keeps failing transiently is Failed (E-mail Router:
     * MaximumDeliveryAttempts). Default 10.
     *
     * @param value 1 to 1,000
     * @return this builder
     */
    public Builder maxAttempts(int value) {
      retry = retry.withMaxAttempts(value);
      return this;
    }

    /**
     * The delay before the first retry (E-mail Router: PendingStatusDelay); each later one doubles,
     * up to {@link #maxRetryDelay}, with ±20% jitter. The same backoff holds the outgoing server
     * after it could not be used, and the activity store after an outage ({@link
     * RouterEvent.StoreUnavailable}). Default 5 minutes.
     *
     * @param value at least 1 second
     * @return this builder
     */
    public Builder retryDelay(Duration value) {
      retry = retry.withRetryDelay(value);
      return this;
    }

    /**
     * The longest delay between retries. Default 4 hours.
     *
     * @param value at least 1 second
     * @return this builder
     */
    public Builder maxRetryDelay(Duration value) {
      retry = retry.withMaxRetryDelay(value);
      return this;
    }

    /**
     * Whether to add a tracking token to each sent email's subject. Default on.
     *
     * @param value {@code false} to turn tokens off
     * @return this builder
     */
    public Builder trackingTokens(boolean value) {
      tokens = tokens.withTrackingTokens(value);
      return this;
    }

    /**
     * The tracking token's prefix. Default {@code CRM:}.
     *
     * @param value 1 to 20 characters: letters, digits, {@code :-_#}
     * @return this builder
     */
    public Builder trackingTokenPrefix(String value) {
      tokens = tokens.withTrackingTokenPrefix(value);
      return this;
    }

    /**
     * The least number of digits in a tracking token (zero-padded; more when the number needs
     * them). Default 7, as in {@code CRM:0001234}.
     *
     * @param value 1 to 18
     * @return this builder
     */
    public Builder trackingTokenDigits(int value) {
      tokens = tokens.withTrackingTokenDigits(value);
      return this;
    }

    /**
     * The domain of generated Message-IDs. Default: the sender's domain.
     *
     * @param value a domain name
     * @return this builder
     */
    public Builder messageIdDomain(String value) {
      outgoing = outgoing.withMessageIdDomain(value);
      return this;
    }

    /**
     * The most new messages read from one mailbox per tick. Default 500.
     *
     * @param value 1 to 100,000
     * @return this builder
     */
    public Builder maxMessagesPerMailbox(int value) {
      incoming = incoming.withMaxMessagesPerMailbox(value);
      return this;
    }

    /**
     * Messages larger than this are rejected ({@code TOO_LARGE}) without being downloaded. Default
     * 25 MB.
     *
     * @param bytes at least 1 KB
     * @return this builder
     */
    public Builder maxMessageSize(long bytes) {
      incoming = incoming.withMaxMessageSize(bytes);
      return this;
    }

    /**
     * Attachments larger than this are dropped from a tracked message (recorded on the activity
     * and in the report). Default 25 MB.
     *
     * @param bytes at least 0
     * @return this builder
     */
    public Builder maxAttachmentSize(long bytes) {
      incoming = incoming.withMaxAttachmentSize(bytes);
      return this;
    }

    /**
     * File extensions whose attachments are dropped from tracked messages, case-insensitive,
     * replacing the default, {@link RouterEngine#DEFAULT_BLOCKED_ATTACHMENT_EXTENSIONS} (the Dynamics 365
     * default list: {@code exe}, {@code bat}, {@code js}, {@code jar}...). To add to the default,
     * pass a copy of that set with more extensions.
     *
     * <p>A part's name is checked as Windows would save it: every name it gives (Content-Disposition
     * {@code filename} and Content-Type {@code name}, decoded from RFC 2231 and RFC 2047), without
     * path components, an NTFS stream suffix ({@code payload.exe::$DATA}), or trailing dots and
     * spaces, in lower case; its last extension decides. A dropped attachment is listed in the
     * received email's dropped attachments with the reason.
     *
     * @param extensions extensions without the dot; none to block nothing
     * @return this builder
     */
    public Builder blockedAttachmentExtensions(Set<String> extensions) {
      incoming = incoming.withBlockedAttachmentExtensions(extensions);
      return this;
    }

    /**
     * Ticks a failing message (unparseable, or the store fails on it) is tried before it is moved
     * to quarantine. Default 3.
     *
     * @param value 1 to 100
     * @return this builder
     */
    public Builder maxMessageAttempts(int value) {
      incoming = incoming.withMaxMessageAttempts(value);
      return this;
    }

    /**
     * Failures in a row after which a mailbox is disabled with an alert. Default 10.
     *
     * @param value 1 to 10,000
     * @return this builder
     */
    public Builder mailboxFailuresBeforeDisable(int value) {
      reading = reading.withMailboxFailuresBeforeDisable(value);
      return this;
    }

    /**
     * The delay before a failed mailbox is read again; it doubles with each failure in a row, up to
     * one hour. Default 1 minute.
     *
     * @param value at least 1 second
     * @return this builder
     */
    public Builder mailboxRetryDelay(Duration value) {
      reading = reading.withMailboxRetryDelay(value);
      return this;
    }

    /**
     * How many mailboxes are read at once during a tick, each on its own connection. Default 1.
     *
     * @param value 1 to 64
     * @return this builder
     */
    public Builder mailboxParallelism(int value) {
      reading = reading.withMailboxParallelism(value);
      return this;
    }

    /**
     * Where mailbox leases live, for a host that runs several engines (nodes) on the same
     * mailboxes: each mailbox is then read by one engine at a time, each engine reads its fair share
     * of the mailboxes per tick, checkpoint writes are fenced by the lease, and a dead engine's
     * mailboxes are taken over once its leases expire ({@link MailboxLeases} says how). The
     * checkpoint store must then be shared by the engines too, and fence its writes (router-jdbc's
     * {@code JdbcCheckpointStore} with its {@code JdbcMailboxLeases}). Default {@link
     * MailboxLeases#singleNode()}: this engine owns every mailbox.
     *
     * @param value the leases
     * @return this builder
     */
    public Builder mailboxLeases(MailboxLeases value) {
      nodes = nodes.withMailboxLeases(value);
      return this;
    }

    /**
     * How long a mailbox lease holds unless renewed: after an engine dies, its mailboxes are read
     * again by another engine at that engine's first tick after this time. Set it to about two
     * intervals of the host's scheduler, so a live engine's announcement ({@link
     * MailboxLeases#liveOwners}) never lapses between its ticks; a reading engine renews the lease
     * whenever half of it has passed, so a long pass keeps it. Ignored with {@link
     * MailboxLeases#singleNode()}. Default 1 minute (two ticks of the 30-second schedule the
     * README shows).
     *
     * @param value 2 seconds to 1 day
     * @return this builder
     */
    public Builder mailboxLeaseDuration(Duration value) {
      nodes = nodes.withMailboxLeaseDuration(value);
      return this;
    }

    /**
     * This engine's name as the holder of mailbox leases: unique per engine among those sharing
     * the leases (a host name and process id, say), and shown in the lease table. Default a random
     * name drawn when the engine is built, so a restarted engine is a new owner.
     *
     * @param value 1 to 200 characters, no control characters
     * @return this builder
     */
    public Builder leaseOwner(String value) {
      nodes = nodes.withLeaseOwner(value);
      return this;
    }

    /**
     * Builds the engine.
     *
     * @return the engine
     * @throws IllegalStateException if no activity store was set, or neither a transport nor a
     *     mailbox; or when settings disagree (the message names both): {@code sendSessions} above the
     *     transport's {@link MailTransport#maxSessions()}, {@code maxRetryDelay} shorter than {@code
     *     retryDelay}, {@code tickBudget} not shorter than {@code lease}, a {@code sentFolder}
     *     without a transport
     */
    public RouterEngine build() {
      if (store == null) {
        throw new IllegalStateException("activityStore is required: pass the host's ActivityStore "
            + "(or an InMemoryActivityStore for tests)");
      }
      if (transport == null && mailboxes.isEmpty()) {
        throw new IllegalStateException("an engine needs a transport, a mailbox, or both; neither was set");
      }
      int sendSessions = outgoing.sendSessions();
      if (transport != null && transport.maxSessions().isPresent()
          && sendSessions > transport.maxSessions().getAsInt()) {
        throw new IllegalStateException("sendSessions (" + sendSessions + ") must not exceed the transport's "
            + "maxSessions (" + transport.maxSessions().getAsInt() + "): the sessions beyond it would each wait "
            + "out the transport's timeout and then report the server unavailable; lower sendSessions or raise "
            + "maxSessions on " + transport.describe());
      }
      if (retry.maxRetryDelay().compareTo(retry.retryDelay()) < 0) {
        throw new IllegalStateException("maxRetryDelay (" + retry.maxRetryDelay() + ") must not be shorter than "
            + "retryDelay (" + retry.retryDelay() + ")");
      }
      Duration lease = outgoing.lease();
      if (tickBudget != null && tickBudget.compareTo(lease) >= 0) {
        throw new IllegalStateException("tickBudget (" + tickBudget + ") must be shorter than lease (" + lease
            + "): an email claimed at the start of a tick could be claimed again by another engine before it is sent");
      }
      if (sentFolder != null && transport == null) {
        throw new IllegalStateException("sentFolder is set but no transport: an engine without a transport sends "
            + "nothing, so it would never keep a copy; set the transport too, or leave sentFolder out");
      }
      Settings settings = new Settings(store, transport, sentFolder, mailboxes, policy, clock, listener, checkpoints,
          random, tickBudget != null ? tickBudget : Settings.defaultTickBudget(lease), outgoing, sentCopyQueue, retry,
          tokens, incoming, reading, nodes.withOwnerDrawn());
      if (nameStreamProvider) {
        StreamProviderShortcut.apply();
      }
      return new RouterEngine(settings);
    }
  }
}
