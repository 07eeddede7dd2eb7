package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Which messages the engine takes for one: the same Message-ID, or, without one, the same bytes.
 * Different messages are never merged silently.
 */
final class MessageIdentityTest {
  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final FakeMailbox inbox = new FakeMailbox("inbox");

  private RouterEngine.Builder engine() {
    return RouterEngine.builder()
        .activityStore(store)
        .mailbox(Mailbox.ofUser("user-1", inbox))
        .trackingPolicy(TrackingPolicy.allEmail())
        .clock(clock)
        .random(new Random(3));
  }

  @Test
  void tick_withDifferentMessagesWithoutMessageIdOrHeaderBlock_createsAnActivityForEach() {
    String empty = inbox.add("");
    String blankFirst = inbox.add("\r\nThe quarterly figures are attached below.\r\n");
    String bodyOnly = inbox.add("Please call me back about the invoice.\r\n");
    String otherBody = inbox.add("\r\nA different note, same shape.\r\n");

    TickReport report = engine().build().tick();

    assertThat(report.messageFailures()).isEmpty();
    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::ref)
        .containsExactly(empty, blankFirst, bodyOnly, otherBody);
    assertThat(report.tracked()).allSatisfy(t -> {
      assertThat(t.created()).isTrue();
      assertThat(t.contentMismatch()).isFalse();
    });
    assertThat(store.received()).hasSize(4);
    assertThat(store.received()).extracting(ReceivedEmail::dedupKey).doesNotHaveDuplicates()
        .allSatisfy(k -> assertThat(k).matches("sha256:[0-9a-f]{64}"));
    assertThat(store.received()).extracting(ReceivedEmail::textBody).anySatisfy(
        t -> assertThat(t).contains("quarterly figures")).anySatisfy(t -> assertThat(t).contains("same shape"));
  }

  @Test
  void tick_withDifferentMessagesWithoutMessageIdButTheSameHeaders_createsAnActivityForEach() {
    String headers = "From: customer@example.org\r\nTo: sales@example.com\r\nSubject: Order\r\n"
        + "Date: Fri, 1 Mar 2024 08:00:00 +0000\r\n\r\n";
    inbox.add(headers + "Ten units, please.\r\n");
    inbox.add(headers + "Cancel the order.\r\n");

    TickReport report = engine().build().tick();

    assertThat(report.tracked()).hasSize(2).allSatisfy(t -> assertThat(t.created()).isTrue());
    assertThat(store.received()).extracting(ReceivedEmail::textBody)
        .containsExactlyInAnyOrder("Ten units, please.\r\n", "Cancel the order.\r\n");
  }

  @Test
  void tick_withTheSameBytesWithoutMessageIdTwice_createsOneActivity() {
    String raw = "\r\nNo headers at all, read twice.\r\n";
    inbox.add(raw);
    inbox.add(raw);
    inbox.add("");
    inbox.add("");

    TickReport report = engine().build().tick();

    assertThat(store.received()).hasSize(2);
    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::created).containsExactly(true, false, true,
        false);
    assertThat(report.tracked()).noneMatch(RouterEvent.MessageTracked::contentMismatch);
  }

  @Test
  void tick_withTheSameMessageIdAndADifferentBody_createsOneActivityAndReportsTheMismatch() {
    TestMail original = TestMail.message().text("The real offer: 100 units at 5 EUR.");
    String first = inbox.add(original.build());
    String second = inbox.add(original.text("Something else entirely.").build());

    TickReport report = engine().build().tick();

    assertThat(store.received()).singleElement()
        .satisfies(r -> assertThat(r.textBody()).contains("The real offer"));
    assertThat(report.tracked()).hasSize(2);
    RouterEvent.MessageTracked kept = report.tracked().get(0);
    RouterEvent.MessageTracked reused = report.tracked().get(1);
    assertThat(kept.ref()).isEqualTo(first);
    assertThat(kept.contentMismatch()).isFalse();
    assertThat(reused.ref()).isEqualTo(second);
    assertThat(reused.created()).isFalse();
    assertThat(reused.activityId()).isEqualTo(kept.activityId());
    assertThat(reused.contentMismatch()).isTrue();
    assertThat(reused.storedContentDigest()).isEqualTo(kept.contentDigest());
    assertThat(reused.contentDigest()).isNotEqualTo(kept.contentDigest()).matches("sha256:[0-9a-f]{64}");
  }

  @Test
  void tick_withTheSameMessageTwice_reportsNoMismatch() {
    String raw = TestMail.message().text("Same bytes twice.").build();
    inbox.add(raw);
    inbox.add(raw);

    TickReport report = engine().build().tick();

    assertThat(store.received()).hasSize(1);
    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::created).containsExactly(true, false);
    assertThat(report.tracked()).noneMatch(RouterEvent.MessageTracked::contentMismatch);
    assertThat(report.tracked().get(1).storedContentDigest()).isEqualTo(report.tracked().get(0).contentDigest());
  }

  @Test
  void tick_withAStoreThatKeepsNoDigests_tracksAsBeforeAndReportsNoMismatch() {
    ForwardingActivityStore noDigests = new ForwardingActivityStore(store) {
      @Override
      public ReceiveResult createReceived(ReceivedEmail email) {
        ReceiveResult r = super.createReceived(email);
        return new ReceiveResult(r.activityId(), r.created());
      }
    };
    TestMail m = TestMail.message().text("one");
    inbox.add(m.build());
    inbox.add(m.text("two").build());

    TickReport report = engine().activityStore(noDigests).build().tick();

    assertThat(store.received()).hasSize(1);
    assertThat(report.tracked()).hasSize(2).noneMatch(RouterEvent.MessageTracked::contentMismatch);
    assertThat(report.tracked().get(1).storedContentDigest()).isNull();
  }

  @Test
  void tick_inAForwardMailbox_keysForwardedOriginalsWithoutMessageIdByTheirOwnBytes() {
    store.addParty("user1@example.com", new Party(Party.Type.USER, "user-1", "Una User"));
    FakeMailbox forward = new FakeMailbox("forward");
    RouterEngine engine = RouterEngine.builder().activityStore(store).trackingPolicy(TrackingPolicy.allEmail())
        .clock(clock).random(new Random(3)).mailbox(Mailbox.forward(forward)).build();
    String headers = "From: customer@example.org\r\nTo: user1@example.com\r\nSubject: Order\r\n\r\n";
    String first = headers + "Ten units, please.\r\n";
    forward.add(forwardOf(first));
    forward.add(forwardOf(headers + "Cancel the order.\r\n"));
    forward.add(forwardOf(first)); // the same original forwarded again

    TickReport report = engine.tick();

    assertThat(report.messageFailures()).isEmpty();
    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::created).containsExactly(true, true, false);
    assertThat(store.received()).extracting(ReceivedEmail::textBody)
        .containsExactlyInAnyOrder("Ten units, please.\r\n", "Cancel the order.\r\n");
  }

  private static String forwardOf(String original) {
    return TestMail.message().from("user1@example.com").to("crm-forward@example.com").subject("FW: Order")
        .text("forwarded").attachMessage(original).build();
  }

  @Test
  void contentDigest_coversEveryByte_andIsTheSameForTheSameBytes() throws Exception {
    String a = digest("");
    String b = digest("\r\n");
    String c = digest("Subject: x\r\n\r\nbody");
    String d = digest("Subject: x\r\n\r\nbodY");

    assertThat(a).isEqualTo("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(List.of(a, b, c, d)).doesNotHaveDuplicates();
    assertThat(digest("Subject: x\r\n\r\nbody")).isEqualTo(c);
  }

  private static String digest(String raw) throws Exception {
    byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
    RawMessage message = new RawMessage("1", bytes.length, ContentSource.ofBytes(bytes));
    ContentDigest digest = new ContentDigest();
    RawMessage watched = digest.watching(message);
    try (InputStream in = watched.content().open()) {
      in.readNBytes(Math.max(0, bytes.length - 2)); // a reader that stops early: finish() reads the rest again
    }
    return digest.finish(message);
  }
}
