package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.core.RouterEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second client expunging, moving and flagging messages in the middle of the router's UID FETCH
 * answers (scripted on the wire by {@link SecondImapClient}, with the messages really gone from
 * GreenMail and the sequence numbers after each EXPUNGE shifted as RFC 3501 says). Every message
 * that still exists at the end is tracked exactly once; only messages the other client took away
 * are reported gone; the cursor skips no live UID.
 */
@ExtendWith(Figures.Watcher.class)
final class ImapSecondClientTest {

  @TempDir
  Path dir;

  private World world;
  /** Message-ID by UID, of every message delivered. */
  private final Map<Long, String> delivered = new LinkedHashMap<>();

  @AfterEach
  void stop() {
    if (world != null) {
      world.close();
    }
  }

  @Test
  void tick_whenAnotherClientExpungesMovesAndFlagsDuringEveryFetch_tracksEveryLiveMessageOnceAndNoLiveOneIsGone() {
    world = new World(dir).withGreenMail();
    deliver(12);
    World.Node node = world.node("node", new World.Options().smtp(false).imap().secondImapClient());
    SecondImapClient other = node.secondImapClient;
    other.always();

    for (int tick = 0; tick < 4; tick++) {
      node.tick();
      world.clock.advance(Duration.ofMinutes(2));
      deliver(5);
    }
    other.disarm();
    for (int tick = 0; tick < 6 && world.imapFolder("INBOX").getMessageCount() > 0; tick++) {
      world.clock.advance(Duration.ofMinutes(61));
      node.tick();
    }

    assertLiveTrackedOnceAndOnlyGoneOnesGone(other);
  }

  @Test
  void tick_whenAnotherClientMeddlesWithTheFirstFetchOnly_tracksEveryLiveMessageOnTheFirstTickOrLater() {
    world = new World(dir).withGreenMail();
    deliver(6);
    World.Node node = world.node("node", new World.Options().smtp(false).imap().secondImapClient());
    SecondImapClient other = node.secondImapClient;
    other.arm(1); // the header FETCH of the first tick: 1 expunged after 2 was sent, 3 comes numbered as 2

    node.tick();
    for (int tick = 0; tick < 4 && world.imapFolder("INBOX").getMessageCount() > 0; tick++) {
      world.clock.advance(Duration.ofMinutes(61));
      node.tick();
    }

    assertThat(other.gone()).as("the other client took one message away").hasSize(1);
    assertLiveTrackedOnceAndOnlyGoneOnesGone(other);
  }

  private void deliver(int n) {
    for (int i = 0; i < n; i++) {
      String key = "second-" + (delivered.size() + 1);
      delivered.put(world.deliverImap(Mail.incoming(key)), Mail.incomingId(key));
    }
  }

  private void assertLiveTrackedOnceAndOnlyGoneOnesGone(SecondImapClient other) {
    Set<Long> gone = other.gone();
    assertThat(other.done()).as("what the other client did").extracting(SecondImapClient.Done::act)
        .contains(SecondImapClient.Act.EXPUNGE, SecondImapClient.Act.FLAG);
    Map<String, Integer> activities = world.crm.receivedByMessageId();
    assertThat(activities).as("activities per Message-ID").allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    List<String> lost = delivered.entrySet().stream().filter(e -> !gone.contains(e.getKey()))
        .filter(e -> !activities.containsKey(e.getValue())).map(e -> "UID " + e.getKey() + " " + e.getValue()).toList();
    assertThat(lost).as("live messages never tracked; the other client did %s; events: %s", other.done(),
        world.events.stream().map(World.Tagged::event).filter(e -> !(e instanceof RouterEvent.MessageTracked)).toList())
        .isEmpty();
    assertThat(world.events(RouterEvent.MessageGone.class)).as("messages reported gone")
        .allSatisfy(g -> assertThat(gone).as("gone UIDs").contains(Long.parseLong(g.ref())));
    assertThat(world.imapFolder("INBOX").getMessageCount()).as("left in INBOX").isZero();
    world.merged(0);
  }
}
