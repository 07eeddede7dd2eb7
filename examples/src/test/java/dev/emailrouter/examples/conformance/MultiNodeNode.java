package dev.emailrouter.examples.conformance;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.CheckpointStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.MailboxCheckpoint;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.jdbc.JdbcActivityStore;
import dev.emailrouter.jdbc.JdbcCheckpointStore;
import dev.emailrouter.jdbc.JdbcMailboxLeases;
import dev.emailrouter.smtp.SmtpTransport;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * One node of {@link MultiNodeIT}: an engine in its own JVM on the shared PostgreSQL, Postfix and
 * Dovecot, ticking once a second until it is killed. It prints what the test checks, one line per
 * fact, with this JVM's wall clock (the nodes share the machine's):
 * {@code TICK millis}, {@code PASS mailbox millis} (a mailbox read without failure),
 * {@code TRACKED mailbox messageId created}, {@code SENT activityId messageId},
 * {@code CKPT mailbox token cursor} (a fenced checkpoint write the store took), {@code EVENT text}.
 *
 * <p>Arguments: owner jdbcUrl smtpPort imapPort caPem user password leaseMillis tickMillis folder...
 */
public final class MultiNodeNode {
  private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
      StandardCharsets.UTF_8);

  private MultiNodeNode() {}

  public static void main(String[] args) throws Exception {
    String owner = args[0];
    DataSource db = new Pool(args[1]);
    int smtpPort = Integer.parseInt(args[2]);
    int imapPort = Integer.parseInt(args[3]);
    Path ca = Path.of(args[4]);
    String user = args[5];
    String password = args[6];
    Duration lease = Duration.ofMillis(Long.parseLong(args[7]));
    long tickMillis = Long.parseLong(args[8]);
    List<String> folders = List.of(args).subList(9, args.length);

    RouterEngine.Builder b = RouterEngine.builder()
        .activityStore(new JdbcActivityStore(db))
        .transport(SmtpTransport.builder().host("127.0.0.1").port(smtpPort).security(Security.STARTTLS)
            .trustedCertificates(ca).ehloName(owner + ".example.test").build())
        .checkpointStore(recording(new JdbcCheckpointStore(db)))
        .mailboxLeases(new JdbcMailboxLeases(db))
        .mailboxLeaseDuration(lease)
        .leaseOwner(owner)
        .trackingPolicy(TrackingPolicy.allEmail())
        .batchPerSender(25)
        .sendSessions(2)
        // A claim of the killed node is taken again once this has passed: short, so the test sees it.
        .lease(Duration.ofSeconds(20))
        .tickBudget(Duration.ofSeconds(8))
        .retryDelay(Duration.ofSeconds(2))
        .maxRetryDelay(Duration.ofSeconds(10))
        .listener(MultiNodeNode::print);
    for (String folder : folders) {
      b.mailbox(Mailbox.ofQueue("queue-1", ImapMailboxReader.builder().host("127.0.0.1").port(imapPort)
          .security(Security.STARTTLS).trustedCertificates(ca).credentials(Credentials.password(user, password))
          .folder(folder).build()));
    }
    RouterEngine engine = b.build();
    Map<String, Instant> passes = new HashMap<>();
    while (true) {
      OUT.println("TICK " + System.currentTimeMillis());
      engine.tick();
      for (String name : engine.mailboxNames()) {
        Optional<Instant> last = engine.lastSuccessfulPass(name);
        if (last.isPresent() && !last.get().equals(passes.get(name))) {
          passes.put(name, last.get());
          OUT.println("PASS " + name + " " + last.get().toEpochMilli());
        }
      }
      Thread.sleep(tickMillis); // the host's scheduler: a fixed delay between ticks
    }
  }

  private static void print(RouterEvent e) {
    if (e instanceof RouterEvent.MessageTracked t) {
      OUT.println("TRACKED " + t.mailbox() + " " + t.messageId() + " " + t.created());
    } else if (e instanceof RouterEvent.EmailSent s) {
      OUT.println("SENT " + s.activityId() + " " + s.messageId());
    } else if (!(e instanceof RouterEvent.MessageRejected || e instanceof RouterEvent.EmailRetried)) {
      OUT.println("EVENT " + e.toString().replace('\n', ' '));
    }
  }

  private static CheckpointStore recording(CheckpointStore target) {
    return new CheckpointStore() {
      @Override
      public Optional<MailboxCheckpoint> load(String mailbox) {
        return target.load(mailbox);
      }

      @Override
      public void save(String mailbox, MailboxCheckpoint checkpoint) {
        target.save(mailbox, checkpoint);
        OUT.println("CKPT " + mailbox + " -1 " + checkpoint.cursor());
      }

      @Override
      public boolean save(String mailbox, MailboxCheckpoint checkpoint, long fencingToken) {
        boolean saved = target.save(mailbox, checkpoint, fencingToken);
        if (saved) {
          OUT.println("CKPT " + mailbox + " " + fencingToken + " " + checkpoint.cursor());
        }
        return saved;
      }
    };
  }

  /** A minimal connection pool: PostgreSQL forks a backend per connection. */
  private static final class Pool implements DataSource {
    private final String url;
    private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();

    Pool(String url) {
      this.url = url;
    }

    @Override
    public Connection getConnection() throws SQLException {
      Connection real = idle.poll();
      if (real == null) {
        real = DriverManager.getConnection(url);
      }
      Connection held = real;
      return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
          (proxy, method, margs) -> {
            if (method.getName().equals("close")) {
              if (!held.getAutoCommit()) {
                held.rollback();
                held.setAutoCommit(true);
              }
              idle.add(held);
              return null;
            }
            try {
              return method.invoke(held, margs);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }
}
