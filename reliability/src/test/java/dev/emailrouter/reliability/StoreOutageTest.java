package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.testfixtures.StoreOutage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CRM down for longer than a message's attempts ({@code maxMessageAttempts}, 3) and a
 * mailbox's failures before it is disabled, in both flows, then back: the {@link
 * dev.emailrouter.api.ActivityStore} Javadoc promises an outage is retried on a later tick, so
 * nothing is quarantined, failed or disabled because of it; once the CRM is back every message is
 * tracked once and every email Sent, and no email reaches the server more often than the
 * documented at-least-once repeat allows (one more copy per Sent the CRM could not record).
 */
@ExtendWith(Figures.Watcher.class)
final class StoreOutageTest {
  /** Ticks the CRM stays down: more than maxMessageAttempts (3) and mailboxFailuresBeforeDisable (10). */
  private static final int OUTAGE_TICKS = 12;
  private static final int QUIET_TICKS = 12;

  @TempDir
  Path dir;

  private World world;
  private final AtomicReference<StoreOutage> outage = new AtomicReference<>();
  private final List<String> ids = new ArrayList<>();

  @AfterEach
  void stop() {
    if (world != null) {
      world.close();
    }
  }

  @Test
  void tick_whenEveryStoreCallFailsForManyTicks_quarantinesNothingAndTracksEveryMessageOnceWhenTheCrmIsBack() {
    incoming(StoreOutage.Mode.ALL);
  }

  @Test
  void tick_whenCreateReceivedAndFindByMessageIdFailForManyTicks_quarantinesNothingAndTracksEveryMessageOnceLater() {
    incoming(StoreOutage.Mode.RECEIVE);
  }

  @Test
  void tick_whenEveryStoreCallFailsForManyTicks_failsNoEmailAndSendsEachOnceWhenTheCrmIsBack() {
    outgoing(StoreOutage.Mode.ALL);
  }

  @Test
  void tick_whenMarkSentFailsForManyTicks_failsNoEmailAndRepeatsNoneBeyondTheUnrecordedSends() {
    outgoing(StoreOutage.Mode.MARK_SENT);
  }

  private void incoming(StoreOutage.Mode mode) {
    world = new World(dir).withGreenMail();
    for (int i = 1; i <= 3; i++) {
      world.deliverImap(Mail.incoming("imap-" + i));
      ids.add(Mail.incomingId("imap-" + i));
      world.deliverPop3(Mail.incoming("pop-" + i));
      ids.add(Mail.incomingId("pop-" + i));
    }
    World.Node node = world.node("node", new World.Options().smtp(false).imap().pop3()
        .store(s -> wrap(new StoreOutage(s))));

    outageFor(node, mode);
    quiet(node, () -> world.crm.receivedCount() >= ids.size());

    assertNothingBlamedOnTheOutage();
    assertThat(world.crm.receivedByMessageId()).as("activities per Message-ID once the CRM is back")
        .containsOnlyKeys(ids).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    assertThat(world.existingImapFolder("Quarantine")).as("the Quarantine folder").satisfiesAnyOf(
        f -> assertThat(f).isNull(), f -> assertThat(f.getMessageCount()).isZero());
    assertThat(world.imapFolder("INBOX").getMessageCount()).as("IMAP INBOX").isZero();
    assertThat(world.pop3Count(0)).as("POP3 INBOX").isZero();
  }

  private void outgoing(StoreOutage.Mode mode) {
    world = new World(dir).withSink();
    for (int i = 1; i <= 3; i++) {
      world.crm.add(Mail.outgoing("email-" + i, "seller@crm.example.test"));
    }
    World.Node node = world.node("node", new World.Options().store(s -> wrap(new StoreOutage(s)))
        .engine(b -> b.maxAttempts(3)));

    outageFor(node, mode);
    quiet(node, () -> world.crm.outgoing().values().stream().allMatch(r -> r.status() == EmailStatus.SENT));

    assertNothingBlamedOnTheOutage();
    Map<String, Integer> unrecorded = outage.get().markSentFailed();
    assertThat(world.crm.outgoing()).as("emails once the CRM is back").allSatisfy((id, row) -> {
      assertThat(row.status()).as("%s (%s)", id, row.lastReason()).isEqualTo(EmailStatus.SENT);
      assertThat(world.sink.count(row.messageId())).as("copies of %s the server accepted; Sent not recorded %d times",
          id, unrecorded.getOrDefault(id, 0)).isBetween(1, 1 + unrecorded.getOrDefault(id, 0));
    });
    assertThat(world.undeliveredRecipients()).as("recipients never delivered").isEmpty();
  }

  private StoreOutage wrap(StoreOutage o) {
    outage.set(o);
    return o;
  }

  /** The CRM down for {@link #OUTAGE_TICKS} ticks, two minutes apart. */
  private void outageFor(World.Node node, StoreOutage.Mode mode) {
    outage.get().start(mode);
    for (int i = 0; i < OUTAGE_TICKS; i++) {
      node.tick();
      world.clock.advance(Duration.ofMinutes(2));
    }
    assertThat(outage.get().failed()).as("store calls failed during the outage").isPositive();
    outage.get().stop();
  }

  /** The CRM is back: ticks, the clock past every backoff and lease each time, until {@code done}. */
  private void quiet(World.Node node, java.util.function.BooleanSupplier done) {
    for (int i = 0; i < QUIET_TICKS && !done.getAsBoolean(); i++) {
      world.clock.advance(Duration.ofMinutes(61));
      node.tick();
    }
  }

  private void assertNothingBlamedOnTheOutage() {
    assertThat(world.events(RouterEvent.MessageFailed.class)).as("messages failed or quarantined for the outage")
        .noneMatch(RouterEvent.MessageFailed::quarantined);
    assertThat(world.events(RouterEvent.MailboxDisabled.class)).as("mailboxes disabled for the outage").isEmpty();
    assertThat(world.events(RouterEvent.EmailFailed.class)).as("emails failed for the outage").isEmpty();
  }
}
