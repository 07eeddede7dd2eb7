package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Edge cases of reading mailboxes: paged readers, unreadable messages, attached messages. */
final class MoreIncomingTest {
  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final FakeMailbox inbox = new FakeMailbox("inbox");
  private final CheckpointStore checkpoints = CheckpointStore.inMemory();

  private RouterEngine.Builder engine() {
    return RouterEngine.builder().activityStore(store).mailbox(Mailbox.ofUser("user-1", inbox))
        .trackingPolicy(TrackingPolicy.allEmail()).checkpointStore(checkpoints).clock(clock).random(new Random(4));
  }

  @Test
  void aReaderReturningSmallPages_isReadPageByPageUpToTheTickBudget() {
    inbox.pageSize(2);
    for (int i = 0; i < 7; i++) {
      inbox.add(TestMail.message().build());
    }
    RouterEngine engine = engine().maxMessagesPerMailbox(5).build();

    TickReport first = engine.tick();

    assertThat(first.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly("1", "2", "3", "4", "5");
    assertThat(inbox.disposeCalls()).hasSize(3);
    assertThat(checkpoints.load("fake://inbox").orElseThrow().cursor()).isEqualTo("1:5");
    assertThat(engine.tick().tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly("6", "7");
  }

  @Test
  void aMessageThatCantBeDownloaded_isRetriedThenQuarantined_neverLost() {
    String good = inbox.add(TestMail.message().build());
    String broken = inbox.add(TestMail.message().build());
    inbox.unreadable(broken);
    RouterEngine engine = engine().maxMessageAttempts(2).build();

    TickReport first = engine.tick();
    TickReport second = engine.tick();

    assertThat(first.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly(good);
    assertThat(first.messageFailures()).singleElement().satisfies(f -> {
      assertThat(f.ref()).isEqualTo(broken);
      assertThat(f.reason()).contains("FETCH BODY[] failed");
      assertThat(f.quarantined()).isFalse();
    });
    assertThat(second.messageFailures()).singleElement().satisfies(f -> assertThat(f.quarantined()).isTrue());
    assertThat(inbox.dispositions()).containsEntry(broken, Disposition.QUARANTINED);
    assertThat(inbox.size()).isEqualTo(2);
  }

  @Test
  void aMessageThatBreaksTheBulkDownload_failsAlone_andTheOthersInItsChunkAreTracked() {
    String before = inbox.add(TestMail.message().build());
    String poisoned = inbox.add(TestMail.message().build());
    String after = inbox.add(TestMail.message().build());
    inbox.poison(poisoned);
    RouterEngine engine = engine().maxMessageAttempts(2).build();

    TickReport first = engine.tick();
    TickReport second = engine.tick();

    assertThat(first.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly(before, after);
    assertThat(first.messageFailures()).singleElement().satisfies(f -> assertThat(f.ref()).isEqualTo(poisoned));
    assertThat(first.problems()).isEmpty();
    assertThat(second.messageFailures()).singleElement().satisfies(f -> assertThat(f.quarantined()).isTrue());
    assertThat(inbox.dispositions()).containsEntry(poisoned, Disposition.QUARANTINED);
    assertThat(engine.isMailboxDisabled("fake://inbox")).isFalse();
  }

  @Test
  void anAttachedMessageInAUserMailbox_isKeptAsAnAttachment() throws Exception {
    String original = TestMail.message().subject("the original").build();
    inbox.add(TestMail.message().subject("see the attached mail").attachMessage(original).build());

    TickReport report = engine().build().tick();

    assertThat(report.tracked()).hasSize(1);
    ReceivedEmail r = store.received().get(0);
    assertThat(r.subject()).isEqualTo("see the attached mail");
    assertThat(r.attachments()).singleElement().satisfies(a -> {
      assertThat(a.fileName()).isEqualTo("original.eml");
      assertThat(a.contentType()).isEqualTo("message/rfc822");
    });
    try (var in = r.attachments().get(0).content().open()) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains("Subject: the original");
    }
  }

  @Test
  void attachmentFileNames_loseTheirPathSeparators() {
    inbox.add(TestMail.message()
        .attach("text/plain", "../../etc/passwd", "x")
        .attach("text/plain", "C:\\\\Windows\\\\evil.txt", "y")
        .build());

    engine().build().tick();

    assertThat(store.received().get(0).attachments()).extracting(Attachment::fileName)
        .allSatisfy(name -> assertThat(name).doesNotContain("/", "\\\\").isNotBlank())
        .hasSize(2);
  }

  @Test
  void anAttachmentWithoutAName_getsADefaultName() {
    String raw = "From: c@example.org\r\nTo: u@example.com\r\nSubject: s\r\nMessage-ID: <noname@example.org>\r\n"
        + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + "--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        + "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\n%PDF-1.4\r\n"
        + "--b--\r\n";
    inbox.add(raw);

    engine().build().tick();

    ReceivedEmail r = store.received().get(0);
    assertThat(r.textBody()).isEqualTo("body");
    assertThat(r.attachments()).singleElement().satisfies(a -> {
      assertThat(a.fileName()).isEqualTo("attachment-1.bin");
      assertThat(a.contentType()).isEqualTo("application/pdf");
    });
  }

  @Test
  void aMessageLargerThanTheSpoolThreshold_isParsedFromATemporaryFile() throws Exception {
    byte[] big = new byte[(int) MessageContent.SPOOL_THRESHOLD + 100_000];
    new Random(8).nextBytes(big);
    inbox.add(TestMail.message().attach("application/octet-stream", "filename=\"big.bin\"", big).build());

    engine().build().tick();

    Attachment a = store.received().get(0).attachments().get(0);
    try (var in = a.content().open()) {
      assertThat(in.readAllBytes()).isEqualTo(big);
    }
  }

  @Test
  void tick_afterClose_failsWithoutClaimingOrReadingAnything() {
    store.add(dev.emailrouter.api.OutgoingEmail.builder("e1", dev.emailrouter.api.EmailAddress.of("me@example.com"))
        .to(dev.emailrouter.api.EmailAddress.of("c@example.org")).subject("s").build());
    FakeMailbox other = new FakeMailbox("other");
    RouterEngine engine = engine().transport(new RecordingTransport()).sendSessions(2)
        .mailbox(Mailbox.ofUser("user-2", other)).mailboxParallelism(2).build();
    engine.close();

    assertThatThrownBy(engine::tick)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThat(store.status("e1")).isEqualTo(dev.emailrouter.api.EmailStatus.PENDING_SEND);
    assertThat(inbox.opens()).isZero();
  }

  @Test
  void builder_refusesTwoMailboxesWithTheSameName() {
    FakeMailbox same = new FakeMailbox("inbox");

    assertThatThrownBy(() -> engine().mailbox(Mailbox.ofQueue("q", same)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fake://inbox")
        .hasMessageContaining("withName");
    assertThat(engine().mailbox(Mailbox.ofQueue("q", same).withName("queue-inbox")).build()).isNotNull();
  }

  @Test
  void mailboxesWithDifferentNames_keepSeparateCheckpoints() {
    FakeMailbox shared = new FakeMailbox("shared");
    shared.add(TestMail.message().build());
    RouterEngine engine = RouterEngine.builder().activityStore(store).trackingPolicy(TrackingPolicy.allEmail())
        .checkpointStore(checkpoints).clock(clock)
        .mailbox(Mailbox.ofUser("u1", shared).withName("one"))
        .mailbox(Mailbox.ofUser("u2", shared).withName("two"))
        .build();

    TickReport report = engine.tick();

    assertThat(checkpoints.load("one")).hasValue(new MailboxCheckpoint("1:1", Map.of()));
    assertThat(checkpoints.load("two")).hasValue(new MailboxCheckpoint("1:1", Map.of()));
    assertThat(report.tracked()).hasSize(1);
    assertThat(report.rejected()).extracting(r -> r.mailbox()).containsExactly("two");
    assertThat(List.of(store.received().get(0).mailbox())).containsExactly("one");
  }

  @Test
  void anAttachmentWhoseBase64BreaksLate_failsWithAReasonThatQuotesNoMessageText() {
    StringBuilder b64 = new StringBuilder();
    String line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    while (b64.length() < 1_600_000) {
      b64.append(line);
    }
    b64.append("U0VDUkVUVEFJTA=A\r\n"); // broken padding: the decoder quotes what it read last
    String raw = "From: someone@example.org\r\nTo: user@example.com\r\nSubject: big\r\n"
        + "Message-ID: <big-b64@example.org>\r\nMIME-Version: 1.0\r\n"
        + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        + "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        + "--b\r\nContent-Type: application/octet-stream; name=\"x.bin\"\r\n"
        + "Content-Disposition: attachment; filename=\"x.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64 + "--b--\r\n";
    inbox.add(raw);

    TickReport report = engine().build().tick();

    assertThat(report.messageFailures()).allSatisfy(f -> assertThat(f.reason()).doesNotContain("most recent characters"));
    assertThat(report.tracked().size() + report.messageFailures().size()).isEqualTo(1);
  }
}
