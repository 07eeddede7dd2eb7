package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentFolder;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

final class SentCopyTest {
  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore memory = new InMemoryActivityStore();
  private final Crm crm = new Crm(memory);
  private final RecordingTransport transport = new RecordingTransport().answerAll(SentCopyTest::acceptWithBytes);
  private final FakeSentFolder folder = new FakeSentFolder();
  private final List<RouterEvent> heard = new CopyOnWriteArrayList<>();

  /** A store whose markSentAll can fail once as an outage. */
  private static final class Crm extends ForwardingActivityStore {
    final AtomicBoolean downAtMarkSent = new AtomicBoolean();

    Crm(InMemoryActivityStore delegate) {
      super(delegate);
    }

    @Override
    public List<String> markSentAll(List<SentOutcome> outcomes) {
      if (downAtMarkSent.getAndSet(false)) {
        throw new TransientRouterException("CRM database unavailable (connection refused)");
      }
      return super.markSentAll(outcomes);
    }
  }

  /** A Sent folder per sender, idempotent by Message-ID, failing as scripted. */
  private static final class FakeSentFolder implements SentFolder {
    final Map<String, Map<String, byte[]>> folders = new ConcurrentHashMap<>();
    final Deque<RuntimeException> failures = new ArrayDeque<>();
    final List<String> calls = new CopyOnWriteArrayList<>();

    @Override
    public void keepCopy(OutgoingEmail email, ContentSource message) {
      calls.add(email.activityId());
      synchronized (failures) {
        if (!failures.isEmpty()) {
          throw failures.pollFirst();
        }
      }
      byte[] bytes;
      try (InputStream in = message.open()) {
        bytes = in.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      folders.computeIfAbsent(email.from().normalized(), k -> new ConcurrentHashMap<>())
          .putIfAbsent(email.messageId(), bytes);
    }

    void failNext(RuntimeException... next) {
      synchronized (failures) {
        failures.addAll(List.of(next));
      }
    }

    Map<String, byte[]> of(String sender) {
      return folders.getOrDefault(sender, Map.of());
    }
  }

  private static SendResult acceptWithBytes(OutgoingEmail e) {
    return SendResult.accepted("250 2.0.0 Ok: queued as " + e.activityId()).withMessage(ContentSource.ofBytes(
        bytesOf(e)));
  }

  private static byte[] bytesOf(OutgoingEmail e) {
    return ("Message-ID: " + e.messageId() + "\r\nSubject: " + e.subject() + "\r\n\r\nHi!\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  private RouterEngine.Builder engine() {
    return RouterEngine.builder()
        .activityStore(crm)
        .transport(transport)
        .sentFolder(folder)
        .clock(clock)
        .random(new Random(11))
        .lease(Duration.ofMinutes(10))
        .retryDelay(Duration.ofMinutes(1))
        .maxRetryDelay(Duration.ofMinutes(4))
        .maxAttempts(3)
        .listener(heard::add);
  }

  private static OutgoingEmail email(String id, String from) {
    return OutgoingEmail.builder(id, EmailAddress.of(from))
        .to(EmailAddress.of("customer@example.org"))
        .subject("Offer " + id)
        .textBody("Hi!")
        .build();
  }

  private OutgoingEmail sent(String id) {
    return memory.find(id).orElseThrow().email();
  }

  @Test
  void tick_whenTheServerAcceptsAnEmail_keepsTheBytesSentInTheSendersSentFolder() {
    memory.add(email("e1", "alice@example.com"));
    memory.add(email("e2", "bob@example.com"));

    TickReport report = engine().build().tick();

    assertThat(report.sent()).hasSize(2);
    assertThat(report.sentCopyFailures()).isEmpty();
    OutgoingEmail e1 = sent("e1");
    assertThat(folder.of("alice@example.com")).containsOnlyKeys(e1.messageId());
    assertThat(folder.of("alice@example.com").get(e1.messageId())).isEqualTo(bytesOf(e1));
    assertThat(folder.of("bob@example.com")).containsOnlyKeys(sent("e2").messageId());
    // The store never holds the bytes.
    assertThat(memory.find("e1").orElseThrow().result().message()).isEmpty();
  }

  @Test
  void tick_whenTheServerRefusesAnEmail_keepsNoCopy() {
    memory.add(email("refused", "alice@example.com"));
    memory.add(email("later", "alice@example.com"));
    transport.answer("refused", RecordingTransport.permanentFailure());
    transport.answer("later", RecordingTransport.transientFailure());

    engine().build().tick();

    assertThat(memory.find("refused").orElseThrow().status()).isEqualTo(EmailStatus.FAILED);
    assertThat(memory.find("later").orElseThrow().status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(folder.calls).isEmpty();
  }

  @Test
  void tick_whenNoSentFolderIsConfigured_sendsAsBefore() {
    memory.add(email("e1", "alice@example.com"));
    RouterEngine plain = RouterEngine.builder().activityStore(crm).transport(transport).clock(clock).build();

    TickReport report = plain.tick();

    assertThat(report.sent()).hasSize(1);
    assertThat(memory.find("e1").orElseThrow().result().message()).isEmpty();
  }

  @Test
  void tick_whenTheCopyFailsForNow_reportsIt_keepsTheEmailSent_andCopiesItOnALaterTick() {
    memory.add(email("e1", "alice@example.com"));
    folder.failNext(new TransientRouterException("imap://imap.example.com:143 can't be reached"));
    RouterEngine engine = engine().build();

    TickReport first = engine.tick();

    assertThat(memory.find("e1").orElseThrow().status()).isEqualTo(EmailStatus.SENT);
    assertThat(first.sent()).hasSize(1);
    assertThat(first.sentCopyFailures()).singleElement().satisfies(f -> {
      assertThat(f.activityId()).isEqualTo("e1");
      assertThat(f.sender()).isEqualTo("alice@example.com");
      assertThat(f.reason()).contains("can't be reached");
      assertThat(f.willRetry()).isTrue();
    });
    assertThat(folder.of("alice@example.com")).isEmpty();

    TickReport tooEarly = engine.tick();
    assertThat(folder.calls).hasSize(1);
    assertThat(tooEarly.sentCopyFailures()).isEmpty();

    clock.advance(Duration.ofMinutes(2)); // past the first retry delay (1 minute ± 20%)
    TickReport later = engine.tick();

    assertThat(later.sentCopyFailures()).isEmpty();
    assertThat(folder.of("alice@example.com").get(sent("e1").messageId())).isEqualTo(bytesOf(sent("e1")));
    assertThat(memory.find("e1").orElseThrow().status()).isEqualTo(EmailStatus.SENT);
    assertThat(transport.acceptedIds()).containsExactly("e1");
  }

  @Test
  void tick_whenTheCopyKeepsFailing_givesItUpAfterMaxAttempts() {
    memory.add(email("e1", "alice@example.com"));
    folder.failNext(new TransientRouterException("timeout"), new TransientRouterException("timeout"),
        new TransientRouterException("timeout"), new TransientRouterException("timeout"));
    RouterEngine engine = engine().build();

    List<RouterEvent.SentCopyFailed> failures = new java.util.ArrayList<>(engine.tick().sentCopyFailures());
    for (int i = 0; i < 4; i++) {
      clock.advance(Duration.ofMinutes(5));
      failures.addAll(engine.tick().sentCopyFailures());
    }

    assertThat(failures).extracting(RouterEvent.SentCopyFailed::willRetry).containsExactly(true, true, false);
    assertThat(failures.get(2).reason()).contains("given up after 3 attempts");
    assertThat(folder.calls).hasSize(3);
    assertThat(memory.find("e1").orElseThrow().status()).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void tick_whenTheCopyFailsForGood_reportsItOnceAndDoesNotRetry() {
    memory.add(email("e1", "alice@example.com"));
    folder.failNext(new PermanentRouterException("no folder marked \\Sent for alice@example.com"));
    RouterEngine engine = engine().build();

    TickReport first = engine.tick();
    clock.advance(Duration.ofMinutes(30));
    TickReport later = engine.tick();

    assertThat(first.sentCopyFailures()).singleElement()
        .satisfies(f -> assertThat(f.willRetry()).isFalse());
    assertThat(later.sentCopyFailures()).isEmpty();
    assertThat(folder.calls).containsExactly("e1");
    assertThat(memory.find("e1").orElseThrow().status()).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void tick_whenTheRetryQueueIsFull_givesTheCopyUpAndSaysSo() {
    memory.add(email("e1", "alice@example.com"));
    memory.add(email("e2", "alice@example.com"));
    memory.add(email("e3", "alice@example.com"));
    folder.failNext(new TransientRouterException("down"));
    RouterEngine engine = engine().sentCopyQueue(1, 1_000_000).build();

    TickReport first = engine.tick();

    assertThat(first.sentCopyFailures()).extracting(RouterEvent.SentCopyFailed::willRetry)
        .containsExactly(true, false, false);
    assertThat(first.sentCopyFailures().get(1).reason()).contains("the queue of copies to retry is full");

    clock.advance(Duration.ofMinutes(2));
    engine.tick();
    assertThat(folder.of("alice@example.com")).containsOnlyKeys(sent("e1").messageId());
  }

  @Test
  void tick_afterACopyFailedForNow_triesNoFurtherCopyUntilTheBackoffIsOver_andThenCopiesThemAll() {
    memory.add(email("e1", "alice@example.com"));
    memory.add(email("e2", "bob@example.com"));
    memory.add(email("e3", "carol@example.com"));
    folder.failNext(new TransientRouterException("imap://imap.example.com:143 timed out"));
    RouterEngine engine = engine().build();

    TickReport first = engine.tick();

    // One timeout, not three: the other copies were queued without waiting on the server.
    assertThat(folder.calls).containsExactly("e1");
    assertThat(first.sent()).hasSize(3);
    assertThat(first.sentCopyFailures()).extracting(RouterEvent.SentCopyFailed::willRetry)
        .containsExactly(true, true, true);
    assertThat(first.sentCopyFailures().get(1).reason()).contains("not tried now").contains("timed out");

    clock.advance(Duration.ofMinutes(2));
    TickReport later = engine.tick();

    assertThat(later.sentCopyFailures()).isEmpty();
    assertThat(folder.folders).containsOnlyKeys("alice@example.com", "bob@example.com", "carol@example.com");
  }

  @Test
  void tick_whenARetryFailsAgain_leavesTheOtherDueCopiesQueuedWithoutTryingThem() {
    memory.add(email("e1", "alice@example.com"));
    memory.add(email("e2", "bob@example.com"));
    folder.failNext(new TransientRouterException("down"), new TransientRouterException("still down"));
    RouterEngine engine = engine().build();
    engine.tick();
    assertThat(folder.calls).containsExactly("e1");

    clock.advance(Duration.ofMinutes(2));
    TickReport second = engine.tick();

    assertThat(folder.calls).containsExactly("e1", "e1");
    assertThat(second.sentCopyFailures()).singleElement()
        .satisfies(f -> assertThat(f.reason()).isEqualTo("still down"));
    clock.advance(Duration.ofMinutes(5));
    engine.tick();
    assertThat(folder.folders).containsOnlyKeys("alice@example.com", "bob@example.com");
  }

  @Test
  void tick_whenTheRetryQueueHasNoRoomForTheBytes_givesTheCopyUp() {
    memory.add(email("e1", "alice@example.com"));
    folder.failNext(new TransientRouterException("down"));
    RouterEngine engine = engine().sentCopyQueue(10, 10).build();

    TickReport first = engine.tick();

    assertThat(first.sentCopyFailures()).singleElement().satisfies(f -> {
      assertThat(f.willRetry()).isFalse();
      assertThat(f.reason()).contains("10 bytes");
    });
  }

  @Test
  void tick_whenTheStoreIsDownRecordingSent_resendsLaterAndTheSentFolderHoldsOneCopy() {
    memory.add(email("e1", "alice@example.com"));
    RouterEngine engine = engine().build();
    crm.downAtMarkSent.set(true);

    engine.tick();
    assertThat(memory.find("e1").orElseThrow().status()).isEqualTo(EmailStatus.SENDING);
    for (int i = 0; i < 4; i++) {
      clock.advance(Duration.ofMinutes(5)); // past the lease of the email the store could not record
      engine.tick();
    }

    assertThat(memory.find("e1").orElseThrow().status()).isEqualTo(EmailStatus.SENT);
    assertThat(transport.acceptedIds()).containsExactly("e1", "e1");
    assertThat(folder.calls).containsExactly("e1", "e1");
    assertThat(folder.of("alice@example.com")).hasSize(1).containsKey(sent("e1").messageId());
  }

  @Test
  void tick_whenTheSentFolderThrowsSomethingUnexpected_theEmailStaysSentAndTheCopyIsRetried() {
    memory.add(email("e1", "alice@example.com"));
    folder.failNext(new IllegalStateException("bug in the Sent folder"));
    RouterEngine engine = engine().build();

    TickReport first = engine.tick();
    clock.advance(Duration.ofMinutes(2));
    engine.tick();

    assertThat(first.sent()).hasSize(1);
    assertThat(first.sentCopyFailures()).singleElement().satisfies(f -> {
      assertThat(f.reason()).contains("IllegalStateException");
      assertThat(f.willRetry()).isTrue();
    });
    assertThat(folder.of("alice@example.com")).hasSize(1);
  }
}
