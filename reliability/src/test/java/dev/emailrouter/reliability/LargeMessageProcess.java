package dev.emailrouter.reliability;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.pop3.Pop3MailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The small-heap JVM of {@code LargeMessageIT} (started with -Xmx256m): one engine reads a ~50 MB
 * message over IMAP and over POP3 from the parent's GreenMail into a store that streams
 * attachments through a digest (never holding them), and sends a ~50 MB email whose attachment is
 * made as it is read to the parent's SMTP sink. Prints what it got and the peak heap.
 */
public final class LargeMessageProcess {

  private LargeMessageProcess() {}

  /**
   * Runs it.
   *
   * @param args IMAP port, POP3 port, SMTP sink port, attachment size, seed
   */
  public static void main(String[] args) {
    AtomicLong sampled = new AtomicLong();
    Thread sampler = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        sampled.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    sampler.setDaemon(true);
    sampler.start();
    int code = 0;
    try {
      run(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]), Long.parseLong(args[3]),
          Long.parseLong(args[4]));
    } catch (OutOfMemoryError e) {
      System.out.println("OOM=" + e);
      code = 3;
    } catch (RuntimeException e) {
      e.printStackTrace(System.out);
      code = 2;
    }
    sampler.interrupt();
    long pools = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
        pools += pool.getPeakUsage().getUsed();
      }
    }
    System.out.println("HEAP_MAX_MB=" + Runtime.getRuntime().maxMemory() / (1024 * 1024));
    System.out.println("PEAK_HEAP_SAMPLED_MB=" + sampled.get() / (1024 * 1024));
    System.out.println("PEAK_HEAP_POOLS_MB=" + pools / (1024 * 1024));
    System.exit(code);
  }

  private static void run(int imapPort, int pop3Port, int sinkPort, long size, long seed) {
    StreamingStore store = new StreamingStore();
    store.delegate.add(OutgoingEmail.builder("big-out", EmailAddress.of("seller@crm.example.test"))
        .to(EmailAddress.of("contact@example.test")).subject("Large").textBody("See the attachment.")
        .attachment(new Attachment("big.bin", "application/octet-stream", size, () -> new Noise(seed, size)))
        .build());
    ImapMailboxReader imap = ImapMailboxReader.builder().host("127.0.0.1").port(imapPort)
        .security(Security.PLAIN_TEXT_INSECURE).credentials(Credentials.password(World.IMAP_LOGIN, World.PASSWORD))
        .readTimeout(Duration.ofSeconds(120)).build();
    Pop3MailboxReader pop3 = Pop3MailboxReader.builder().host("127.0.0.1").port(pop3Port)
        .security(Security.PLAIN_TEXT_INSECURE).credentials(Credentials.password(World.POP3_LOGIN, World.PASSWORD))
        .readTimeout(Duration.ofSeconds(120)).build();
    SmtpTransport smtp = SmtpTransport.builder().host("127.0.0.1").port(sinkPort).security(Security.PLAIN_TEXT_INSECURE)
        .readTimeout(Duration.ofSeconds(120)).writeTimeout(Duration.ofSeconds(120)).build();
    try (RouterEngine engine = RouterEngine.builder().activityStore(store).transport(smtp)
        .mailbox(Mailbox.ofUser("u1", imap).withName("imap")).mailbox(Mailbox.ofUser("u2", pop3).withName("pop3"))
        .trackingPolicy(TrackingPolicy.allEmail()).maxMessageSize(200L << 20).maxAttachmentSize(200L << 20).build()) {
      int tracked = 0;
      int sent = 0;
      for (int i = 0; i < 5 && (tracked < 2 || sent < 1); i++) {
        long start = System.nanoTime();
        TickReport report = engine.tick();
        tracked += report.tracked().size();
        sent += report.sent().size();
        System.out.println("TICK " + i + " " + report + " in " + (System.nanoTime() - start) / 1_000_000 + " ms; events "
            + report.events());
      }
      System.out.println("TRACKED=" + tracked);
      System.out.println("SENT=" + sent);
    }
  }

  /** The in-memory store, except that received attachments are streamed through a digest and dropped. */
  static final class StreamingStore extends ForwardingActivityStore {
    final InMemoryActivityStore delegate;

    StreamingStore() {
      this(new InMemoryActivityStore());
    }

    private StreamingStore(InMemoryActivityStore delegate) {
      super(delegate);
      this.delegate = delegate;
    }

    @Override
    public ReceiveResult createReceived(ReceivedEmail email) {
      for (Attachment a : email.attachments()) {
        try (InputStream in = a.content().open()) {
          CountingStream counting = new CountingStream(in);
          String sha = Noise.sha256(counting);
          System.out.println("ATTACHMENT_" + email.mailbox() + "=" + counting.count + ":" + sha);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      return delegate.createReceived(email.toBuilder().attachments(List.of()).build());
    }
  }

  /** Counts what passes. */
  private static final class CountingStream extends java.io.FilterInputStream {
    long count;

    CountingStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
