package dev.emailrouter.reliability;

import static dev.emailrouter.reliability.FaultProxy.Direction.DOWN;
import static dev.emailrouter.reliability.FaultProxy.Direction.UP;
import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.reliability.FaultProxy.Fault;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A known password (and token), configured for SMTP, IMAP and POP3, through good logins, refused logins, servers
 * careless enough to quote the password back in their refusal (made by rewriting the wire), and a
 * credentials supplier whose own failure quotes it: everything the router logs (TRACE for
 * dev.emailrouter; this class runs in its own JVM so slf4j-simple starts at that level), every
 * exception it throws (message, causes, stack trace), every event and report, and the toString of
 * every object a host holds must not contain it — plain or base64.
 */
final class SecretsInLogsTest {
  private static final String KNOWN = "Kn0wn-S3cret-" + Long.toHexString(System.nanoTime());

  @TempDir
  Path dir;

  private World world;
  private PrintStream originalErr;
  private PrintStream originalOut;
  private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
  private final List<String> texts = new ArrayList<>();
  private boolean messagesOnly;

  @BeforeEach
  void capture() {
    // Only meaningful at TRACE: the secrets-in-logs surefire execution starts this JVM so.
    Assumptions.assumeTrue(LoggerFactory.getLogger("dev.emailrouter").isTraceEnabled(),
        "runs in the secrets-in-logs execution, where dev.emailrouter logs at TRACE");
    originalErr = System.err;
    originalOut = System.out;
    System.setErr(new PrintStream(new Tee(originalErr, captured), true, StandardCharsets.UTF_8));
    System.setOut(new PrintStream(new Tee(originalOut, captured), true, StandardCharsets.UTF_8));
    world = new World(dir).withGreenMail();
  }

  @AfterEach
  void release() {
    if (world == null) {
      return;
    }
    System.setErr(originalErr);
    System.setOut(originalOut);
    world.close();
  }

  @Test
  void theKnownPasswordAppearsInNoLogLineExceptionMessageEventReportOrToString() {
    // SMTP: refused (the server quotes the password back), then accepted.
    SmtpSink refusing = SmtpSink.builder().auth("crm", "another-password").echoSecretOnAuthFailure().start();
    SmtpSink accepting = SmtpSink.builder().auth("crm", KNOWN).start();
    try (refusing; accepting) {
      for (SmtpSink sink : List.of(refusing, accepting)) {
        world.crm.add(Mail.outgoing("email-" + sink.port(), "seller@crm.example.test"));
        MailTransport smtp = recorded(dev.emailrouter.smtp.SmtpTransport.builder().host("127.0.0.1").port(sink.port())
            .security(dev.emailrouter.api.Security.PLAIN_TEXT_INSECURE).readTimeout(Duration.ofSeconds(5))
            .credentials(() -> Credentials.password("crm", KNOWN)).build());
        tick(RouterEngine.builder().activityStore(world.crm.store()).transport(smtp).clock(world.clock));
        world.clock.advance(Duration.ofHours(1));
      }
      assertThat(refusing.authAttempts()).as("the refusing server did get the password").contains("crm:" + KNOWN);
      assertThat(accepting.acceptedCount()).as("both emails, once the login works").isEqualTo(2);
    }

    // IMAP and POP3: a wrong password for the server (which quotes it back), then the right one.
    world.deliverImap(Mail.incoming("imap-1"));
    world.deliverPop3(Mail.incoming("pop-1"));
    for (boolean right : new boolean[] {false, true}) {
      setPassword(world.imapUser, right);
      setPassword(world.pop3User, right);
      FaultProxy imapProxy = FaultProxy.to(world.greenMail.getImap().getPort());
      FaultProxy pop3Proxy = FaultProxy.to(world.greenMail.getPop3().getPort());
      imapProxy.arm(Fault.rewrite("echo the password", DOWN, line -> line.matches("^\\S+ NO .*\r\n")
          ? line.replaceFirst(" NO .*", " NO [AUTHENTICATIONFAILED] password " + KNOWN + " is wrong") : null).always());
      AtomicBoolean pass = new AtomicBoolean();
      pop3Proxy.arm(Fault.rewrite("note PASS", UP, line -> {
        pass.set(line.startsWith("PASS"));
        return null;
      }).always());
      pop3Proxy.arm(Fault.rewrite("echo the password", DOWN, line -> pass.getAndSet(false) && line.startsWith("-ERR")
          ? "-ERR password " + KNOWN + " is wrong\r\n" : null).always());
      try (imapProxy; pop3Proxy) {
        MailboxReader imap = recorded(dev.emailrouter.imap.ImapMailboxReader.builder().host("127.0.0.1")
            .port(imapProxy.port()).security(dev.emailrouter.api.Security.PLAIN_TEXT_INSECURE)
            .credentials(Credentials.password(World.IMAP_LOGIN, KNOWN)).build());
        MailboxReader pop3 = recorded(dev.emailrouter.pop3.Pop3MailboxReader.builder().host("127.0.0.1")
            .port(pop3Proxy.port()).security(dev.emailrouter.api.Security.PLAIN_TEXT_INSECURE)
            .credentials(Credentials.password(World.POP3_LOGIN, KNOWN)).build());
        tick(RouterEngine.builder().activityStore(world.crm.store()).clock(world.clock)
            .trackingPolicy(dev.emailrouter.api.TrackingPolicy.allEmail())
            .checkpointStore(dev.emailrouter.core.CheckpointStore.directory(world.checkpoints))
            .mailbox(Mailbox.ofUser("user-1", imap).withName("imap"))
            .mailbox(Mailbox.ofUser("user-2", pop3).withName("pop3")));
      }
    }
    assertThat(world.crm.receivedCount()).as("the right password worked on both").isEqualTo(2);

    // A credentials supplier whose own failure quotes the secret (a vault client echoing a response).
    // The adapters can't scrub a secret they never got; they keep it out of their own messages and
    // logs, and pass the host's own exception on, unchanged, as the cause: only messages count here.
    messagesOnly = true;
    Supplier<Credentials> failing = () -> {
      throw new IllegalStateException("vault refused; the stored value was " + KNOWN);
    };
    MailboxReader imap = recorded(dev.emailrouter.imap.ImapMailboxReader.builder().host("127.0.0.1")
        .port(world.greenMail.getImap().getPort()).security(dev.emailrouter.api.Security.PLAIN_TEXT_INSECURE)
        .username(World.IMAP_LOGIN).credentials(failing).build());
    MailboxReader pop3 = recorded(dev.emailrouter.pop3.Pop3MailboxReader.builder().host("127.0.0.1")
        .port(world.greenMail.getPop3().getPort()).security(dev.emailrouter.api.Security.PLAIN_TEXT_INSECURE)
        .username(World.POP3_LOGIN).credentials(failing).build());
    world.crm.add(Mail.outgoing("email-supplier", "seller@crm.example.test"));
    MailTransport smtp = recorded(dev.emailrouter.smtp.SmtpTransport.builder().host("127.0.0.1").port(1)
        .security(dev.emailrouter.api.Security.PLAIN_TEXT_INSECURE).credentials(failing).build());
    tick(RouterEngine.builder().activityStore(world.crm.store()).clock(world.clock).transport(smtp)
        .mailbox(Mailbox.ofUser("user-1", imap).withName("imap-s")).mailbox(Mailbox.ofUser("user-2", pop3).withName("pop3-s")));

    texts.add(Credentials.password("crm", KNOWN).toString());
    texts.add(Credentials.oauth2("crm", KNOWN).toString());

    String logs = captured.toString(StandardCharsets.UTF_8);
    assertThat(logs).as("the router logged at TRACE").contains("TRACE dev.emailrouter");
    List<String> leaks = new ArrayList<>();
    for (String text : texts) {
      if (containsSecret(text)) {
        leaks.add(text.lines().filter(SecretsInLogsTest::containsSecret).findFirst().orElse(text));
      }
    }
    logs.lines().filter(SecretsInLogsTest::containsSecret).forEach(line -> leaks.add("log: " + line));
    assertThat(leaks).as("texts holding the password (of %d exceptions, events, reports and toStrings, and the logs)",
        texts.size()).isEmpty();
    Figures.record(SecretsInLogsTest.class, "known password: 3 protocols, good/refused/echoed logins, failing supplier",
        6, 4, 0, 0, texts.size() + " exceptions, events, reports and toStrings + " + logs.lines().count()
            + " log lines searched");
  }

  /**
   * Every credential kind on every protocol, with every logger at its most verbose: the router's
   * (TRACE), and Angus's and Jakarta's java.util.logging loggers at ALL, which turns on Angus's
   * protocol trace of every command and reply (on loggers named after the router's own packages
   * where the router subclasses Angus's transport). Jakarta Mail's {@code mail.debug} output is
   * not covered: no adapter turns it on (it is a session property, and the adapters build their
   * sessions from their own properties). Mechanisms a server does not offer are made offered by
   * rewriting its capability lines; GreenMail then refuses OAUTHBEARER, which is enough: the token
   * went out, and the refusal is logged too.
   */
  @Test
  void everyCredentialKindOnEveryProtocol_atTheMostVerboseLogLevels_leaksNoSecretAnywhere() {
    Assumptions.assumeTrue(LoggerFactory.getLogger("org.eclipse.angus").isTraceEnabled(),
        "runs in the secrets-in-logs execution, where every logger is at TRACE");
    VerboseJul jul = new VerboseJul(captured);
    GreenMail smtp = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    smtp.start();
    smtp.setUser("seller@crm.example.test", "crm", KNOWN);
    try {
      // SMTP: AUTH PLAIN and LOGIN (Angus's authenticators), XOAUTH2 and OAUTHBEARER (the router's).
      String[][] smtpKinds = {{"PLAIN", "password"}, {"LOGIN", "password"}, {"XOAUTH2", "token"},
          {"OAUTHBEARER", "token"}};
      for (String[] kind : smtpKinds) {
        try (FaultProxy proxy = FaultProxy.to(smtp.getSmtp().getPort())) {
          proxy.arm(Fault.rewrite("offer " + kind[0], DOWN, line -> line.matches("^250[- ]AUTH[ =].*\r\n")
              ? line.substring(0, 4) + "AUTH " + kind[0] + "\r\n" : null).always());
          world.crm.add(Mail.outgoing("email-" + kind[0], "seller@crm.example.test"));
          Credentials credentials = kind[1].equals("token") ? Credentials.oauth2("crm", KNOWN)
              : Credentials.password("crm", KNOWN);
          MailTransport transport = recorded(dev.emailrouter.smtp.SmtpTransport.builder().host("127.0.0.1")
              .port(proxy.port()).security(dev.emailrouter.api.Security.PLAIN_TEXT_INSECURE)
              .readTimeout(Duration.ofSeconds(5)).credentials(() -> credentials).build());
          tick(RouterEngine.builder().activityStore(world.crm.store()).transport(transport).clock(world.clock));
          world.clock.advance(Duration.ofHours(1));
        }
      }
      assertThat(smtp.getReceivedMessages()).as("PLAIN, LOGIN and XOAUTH2 logged in and sent").hasSize(3);

      // IMAP: LOGIN, AUTHENTICATE PLAIN, XOAUTH2, OAUTHBEARER. POP3: USER/PASS, AUTH PLAIN, XOAUTH2, OAUTHBEARER.
      world.imapUser.setPassword(KNOWN);
      world.pop3User.setPassword(KNOWN);
      String[][] mailboxKinds = {{"", "password"}, {"PLAIN", "password"}, {"XOAUTH2", "token"},
          {"OAUTHBEARER", "token"}};
      for (String[] kind : mailboxKinds) {
        FaultProxy imapProxy = FaultProxy.to(world.greenMail.getImap().getPort());
        FaultProxy pop3Proxy = FaultProxy.to(world.greenMail.getPop3().getPort());
        imapProxy.arm(Fault.rewrite("offer " + kind[0], DOWN, line -> line.contains("AUTH=XOAUTH2")
            ? line.replace(" AUTH=XOAUTH2", kind[0].isEmpty() ? "" : " AUTH=" + kind[0]) : null).always());
        pop3Proxy.arm(Fault.rewrite("offer " + kind[0], DOWN, line -> line.startsWith("SASL")
            ? (kind[0].isEmpty() ? "X-NO-SASL\r\n" : "SASL " + kind[0] + "\r\n") : null).always());
        Credentials credentials = kind[1].equals("token") ? Credentials.oauth2(World.IMAP_LOGIN, KNOWN)
            : Credentials.password(World.IMAP_LOGIN, KNOWN);
        Credentials pop3Credentials = kind[1].equals("token") ? Credentials.oauth2(World.POP3_LOGIN, KNOWN)
            : Credentials.password(World.POP3_LOGIN, KNOWN);
        try (imapProxy; pop3Proxy) {
          MailboxReader imap = recorded(dev.emailrouter.imap.ImapMailboxReader.builder().host("127.0.0.1")
              .port(imapProxy.port()).security(dev.emailrouter.api.Security.PLAIN_TEXT_INSECURE)
              .credentials(credentials).build());
          MailboxReader pop3 = recorded(dev.emailrouter.pop3.Pop3MailboxReader.builder().host("127.0.0.1")
              .port(pop3Proxy.port()).security(dev.emailrouter.api.Security.PLAIN_TEXT_INSECURE)
              .credentials(pop3Credentials).build());
          tick(RouterEngine.builder().activityStore(world.crm.store()).clock(world.clock)
              .trackingPolicy(dev.emailrouter.api.TrackingPolicy.allEmail())
              .mailbox(Mailbox.ofUser("user-1", imap).withName("imap-" + kind[0]))
              .mailbox(Mailbox.ofUser("user-2", pop3).withName("pop3-" + kind[0])));
        }
        world.clock.advance(Duration.ofHours(1));
      }
    } finally {
      jul.close();
      smtp.stop();
    }

    String logs = captured.toString(StandardCharsets.UTF_8);
    assertThat(logs).as("the router logged at TRACE").contains("TRACE dev.emailrouter");
    assertThat(logs).as("the SMTP protocol was traced").contains("MAIL FROM:<seller@crm.example.test>");
    assertThat(logs).as("Angus traced the IMAP protocol").containsPattern("CAPABILITY IMAP4rev1");
    assertThat(logs).as("Angus traced the POP3 protocol").contains("UIDL");
    List<String> leaks = new ArrayList<>();
    for (String text : texts) {
      if (containsSecret(text)) {
        leaks.add(text.lines().filter(SecretsInLogsTest::containsSecret).findFirst().orElse(text));
      }
    }
    logs.lines().filter(SecretsInLogsTest::containsSecret).forEach(line -> leaks.add("log: " + line));
    assertThat(leaks).as("texts holding the secret (of %d exceptions, events, reports and toStrings, and the logs)",
        texts.size()).isEmpty();
  }

  /**
   * Whether the text holds the secret: as it is, or base64 encoded at any offset (so inside the
   * base64 of "\0user\0password" or of a SASL initial response too).
   */
  private static boolean containsSecret(String text) {
    if (text.contains(KNOWN)) {
      return true;
    }
    for (int offset = 0; offset < 3; offset++) {
      String b64 = Base64.getEncoder().encodeToString(("\0\0\0".substring(0, offset) + KNOWN)
          .getBytes(StandardCharsets.UTF_8));
      // The first group mixes in the bytes before, the last may be padded: the rest is fixed.
      if (text.contains(b64.substring(offset == 0 ? 0 : 4, b64.length() - 4))) {
        return true;
      }
    }
    return false;
  }

  /**
   * java.util.logging at ALL for the root and the router's, Angus's and Jakarta's loggers, every
   * record written to the captured output; undone by {@link #close()}.
   */
  private static final class VerboseJul implements AutoCloseable {
    private static final String[] NAMES = {"", "dev.emailrouter", "org.eclipse", "org.eclipse.angus", "jakarta",
        "jakarta.mail", "jakarta.activation"};
    private final List<java.util.logging.Logger> loggers = new ArrayList<>();
    private final List<java.util.logging.Level> levels = new ArrayList<>();
    private final java.util.logging.Handler handler;

    VerboseJul(ByteArrayOutputStream sink) {
      java.util.logging.Formatter format = new java.util.logging.SimpleFormatter();
      handler = new java.util.logging.Handler() {
        @Override
        public void publish(java.util.logging.LogRecord record) {
          StringBuilder line = new StringBuilder("JUL ").append(record.getLevel()).append(' ')
              .append(record.getLoggerName()).append(": ").append(format.formatMessage(record)).append('\n');
          if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            line.append(trace);
          }
          byte[] bytes = line.toString().getBytes(StandardCharsets.UTF_8);
          synchronized (sink) {
            sink.write(bytes, 0, bytes.length);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
      handler.setLevel(java.util.logging.Level.ALL);
      for (String name : NAMES) {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
        loggers.add(logger);
        levels.add(logger.getLevel());
        logger.setLevel(java.util.logging.Level.ALL);
      }
      loggers.get(0).addHandler(handler);
    }

    @Override
    public void close() {
      loggers.get(0).removeHandler(handler);
      for (int i = 0; i < loggers.size(); i++) {
        loggers.get(i).setLevel(levels.get(i));
      }
    }
  }

  private void tick(RouterEngine.Builder builder) {
    try (RouterEngine engine = builder.build()) {
      texts.add(engine.toString());
      TickReport report = engine.tick();
      texts.add(report.toString());
      report.events().forEach(e -> texts.add(e.toString()));
    }
  }

  private static void setPassword(GreenMailUser user, boolean right) {
    user.setPassword(right ? KNOWN : "another-password");
  }

  private MailTransport recorded(MailTransport delegate) {
    texts.add(delegate.toString());
    return new MailTransport() {
      @Override
      public Session openSession() {
        Session session = record(delegate::openSession);
        return new Session() {
          @Override
          public SendResult send(OutgoingEmail email) {
            SendResult result = record(() -> session.send(email));
            texts.add(result.toString());
            return result;
          }

          @Override
          public void close() {
            session.close();
          }
        };
      }

      @Override
      public String describe() {
        return delegate.describe();
      }
    };
  }

  private MailboxReader recorded(MailboxReader delegate) {
    texts.add(delegate.toString());
    texts.add(delegate.describe());
    return new MailboxReader() {
      @Override
      public String describe() {
        return delegate.describe();
      }

      @Override
      public Session open() {
        return record(delegate::open);
      }
    };
  }

  /** Runs a call, keeping the whole text of anything it throws (message, causes, stack). */
  private <T> T record(Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      if (messagesOnly) {
        texts.add(e.toString());
      } else {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        texts.add(trace.toString());
      }
      throw e;
    }
  }

  /** Writes to two streams. */
  private static final class Tee extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    Tee(OutputStream a, OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int c) {
      try {
        a.write(c);
      } catch (java.io.IOException ignored) {
        // the original stream is best effort
      }
      synchronized (b) {
        try {
          b.write(c);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    }

    @Override
    public void write(byte[] buf, int off, int len) {
      try {
        a.write(buf, off, len);
      } catch (java.io.IOException ignored) {
        // best effort
      }
      synchronized (b) {
        try {
          b.write(buf, off, len);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    }
  }
}
