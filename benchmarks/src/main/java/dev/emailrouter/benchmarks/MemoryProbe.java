package dev.emailrouter.benchmarks;

import com.sun.management.GarbageCollectionNotificationInfo;
import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailIdentity;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.smtp.SmtpTransport;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * The child JVM of the memory scenario (started with {@code -Xmx256m}): sends one large message
 * through the engine into smtp-sink, or ingests one from Dovecot, and prints the heap it needed as
 * {@code result key=value} lines. Not for hosts.
 */
public final class MemoryProbe {
  private static final Set<String> HEAP_POOLS = new HashSet<>();
  private static final AtomicLong MAX_AFTER_GC = new AtomicLong();
  private static final AtomicLong MAX_BEFORE_GC = new AtomicLong();
  private static final AtomicLong GCS = new AtomicLong();

  private MemoryProbe() {}

  /**
   * Runs one phase.
   *
   * @param args {@code send PORT FILE} or {@code ingest PORT USER}
   * @throws Exception when the phase fails
   */
  public static void main(String[] args) throws Exception {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        HEAP_POOLS.add(pool.getName());
      }
    }
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
        if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
          return;
        }
        var info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData()).getGcInfo();
        MAX_AFTER_GC.accumulateAndGet(heapUsed(info.getMemoryUsageAfterGc()), Math::max);
        MAX_BEFORE_GC.accumulateAndGet(heapUsed(info.getMemoryUsageBeforeGc()), Math::max);
        GCS.incrementAndGet();
      }, null, null);
    }
    String mode = args[0];
    int port = Integer.parseInt(args[1]);
    System.gc();
    MAX_AFTER_GC.set(0);
    MAX_BEFORE_GC.set(0);
    GCS.set(0);
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      pool.resetPeakUsage();
    }
    long baseline = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    long t0 = System.nanoTime();
    long bytes;
    try {
      bytes = switch (mode) {
        case "send" -> send(port, Path.of(args[2]));
        case "ingest" -> ingest(port, args[2]);
        default -> throw new IllegalArgumentException("mode must be send or ingest, was " + mode);
      };
    } catch (OutOfMemoryError e) {
      System.out.println("result oom=true");
      throw e;
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    long peakSum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peakSum += pool.getPeakUsage().getUsed();
      }
    }
    System.out.println("result oom=false");
    System.out.println("result bytes=" + bytes);
    System.out.println("result seconds=" + seconds);
    System.out.println("result heapAtStart=" + baseline);
    System.out.println("result poolPeakSum=" + peakSum);
    System.out.println("result maxAfterGc=" + MAX_AFTER_GC.get());
    System.out.println("result maxBeforeGc=" + MAX_BEFORE_GC.get());
    System.out.println("result gcs=" + GCS.get());
    System.out.println("result maxHeap=" + Runtime.getRuntime().maxMemory());
  }

  private static long heapUsed(Map<String, MemoryUsage> usage) {
    long sum = 0;
    for (Map.Entry<String, MemoryUsage> e : usage.entrySet()) {
      if (HEAP_POOLS.contains(e.getKey())) {
        sum += e.getValue().getUsed();
      }
    }
    return sum;
  }

  private static long send(int port, Path attachment) throws IOException {
    long size = Files.size(attachment);
    InMemoryActivityStore store = new InMemoryActivityStore();
    store.add(OutgoingEmail.builder("large-1", EmailAddress.of("sender@crm.test"))
        .to(EmailAddress.of("user@example.test"))
        .subject("The drawing")
        .textBody("The drawing is attached.")
        .attachment(new Attachment("drawing.bin", "application/octet-stream", size,
            () -> Files.newInputStream(attachment)))
        .build());
    try (RouterEngine engine = RouterEngine.builder()
        .activityStore(store)
        .transport(SmtpTransport.builder().host("127.0.0.1").port(port).security(Security.PLAIN_TEXT_INSECURE)
            .ehloName("crm.test").build())
        .build()) {
      TickReport report = engine.tick();
      if (report.sent().size() != 1) {
        throw new IllegalStateException("the large email was not sent: " + report + " " + report.failed()
            + report.retried() + report.problems());
      }
    }
    return size;
  }

  private static long ingest(int port, String user) {
    DrainingStore store = new DrainingStore();
    try (RouterEngine engine = RouterEngine.builder()
        .activityStore(store)
        .mailbox(Mailbox.ofQueue("queue-1", Incoming.imap(port, user)))
        .trackingPolicy(TrackingPolicy.allEmail())
        .maxMessageSize(1L << 30)
        .maxAttachmentSize(1L << 30)
        .build()) {
      TickReport report = engine.tick();
      if (report.tracked().size() != 1) {
        throw new IllegalStateException("the large message was not tracked: " + report + " "
            + report.messageFailures() + report.problems());
      }
    }
    return store.attachmentBytes.get();
  }

  /**
   * A store that streams attachments away (counting their bytes) instead of keeping them, as a CRM
   * writing them to blob storage would; everything else is the in-memory store.
   */
  private static final class DrainingStore implements ActivityStore {
    private final InMemoryActivityStore delegate = new InMemoryActivityStore();
    final AtomicLong attachmentBytes = new AtomicLong();

    @Override
    public ReceiveResult createReceived(ReceivedEmail email) {
      byte[] buffer = new byte[1 << 16];
      for (Attachment a : email.attachments()) {
        try (InputStream in = a.content().open()) {
          for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            attachmentBytes.addAndGet(n);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      return delegate.createReceived(email.toBuilder().attachments(List.of()).build());
    }

    @Override
    public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
      return delegate.claimPendingSend(request);
    }

    @Override
    public long nextTrackingNumber() {
      return delegate.nextTrackingNumber();
    }

    @Override
    public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
      delegate.recordIdentity(claim, messageId, trackingToken, subject);
    }

    @Override
    public void markSent(Claim claim, Instant sentAt, SendResult result) {
      delegate.markSent(claim, sentAt, result);
    }

    @Override
    public List<Long> nextTrackingNumbers(int count) {
      return delegate.nextTrackingNumbers(count);
    }

    @Override
    public List<String> recordIdentities(List<EmailIdentity> identities) {
      return delegate.recordIdentities(identities);
    }

    @Override
    public List<String> markSentAll(List<SentOutcome> outcomes) {
      return delegate.markSentAll(outcomes);
    }

    @Override
    public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
      delegate.markRetry(claim, nextAttemptAt, attempts, reason);
    }

    @Override
    public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
      delegate.markPartlySent(claim, nextAttemptAt, attempts, result);
    }

    @Override
    public void markFailed(Claim claim, int attempts, SendResult result) {
      delegate.markFailed(claim, attempts, result);
    }

    @Override
    public Optional<ActivityRef> findByMessageId(String messageId) {
      return delegate.findByMessageId(messageId);
    }

    @Override
    public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
      return delegate.findByTrackingToken(trackingToken);
    }

    @Override
    public List<Party> resolve(EmailAddress address) {
      return delegate.resolve(address);
    }
  }
}
