package dev.emailrouter.reliability;

import static dev.emailrouter.reliability.FaultProxy.Direction.DOWN;
import static dev.emailrouter.reliability.FaultProxy.Direction.UP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.reliability.FaultProxy.Fault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Network faults between Pop3MailboxReader and GreenMail: cuts in the middle of UIDL, TOP and RETR,
 * a stall past the 1 s read timeout, a trickle, deletions that never reached the server. POP3
 * sessions don't reconnect: the mailbox fails for the tick and a later tick catches up. Every message ends with exactly one
 * activity and, once a QUIT went through, off the server.
 */
@ExtendWith(Figures.Watcher.class)
final class Pop3FaultTest {
  static final Duration TIMEOUT = Duration.ofSeconds(1);
  static final Duration BOUND = TIMEOUT.multipliedBy(10);
  static final int MESSAGES = 3;

  @TempDir
  Path dir;

  private World world;
  private World.Node node;
  private FaultProxy proxy;
  private final List<String> ids = new ArrayList<>();

  @BeforeEach
  void start() {
    world = new World(dir).withGreenMail();
    for (int i = 1; i <= MESSAGES; i++) {
      world.deliverPop3(Mail.incoming("pop-" + i));
      ids.add(Mail.incomingId("pop-" + i));
    }
    node = world.node("node", new World.Options().smtp(false).pop3().timeouts(TIMEOUT));
    proxy = node.pop3Proxy;
  }

  @AfterEach
  void stop() {
    world.close();
  }

  @Test
  void tick_whenTheConnectionDropsMidRetr_failsTheMailboxForNowAndALaterTickTracksEverything() {
    Fault cut = proxy.arm(Fault.when("cut mid-RETR", UP, "^RETR ").cut(DOWN, 40));

    TickReport first = timedTick();
    assertThat(cut.fired()).isEqualTo(1);
    assertThat(first.tracked()).isEmpty();
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    TickReport second = timedTick();

    assertThat(second.tracked()).hasSize(MESSAGES);
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheServerStallsMidRetr_givesUpWithinTheTimeoutAndCatchesUpLater() {
    Fault stall = proxy.arm(Fault.when("stall mid-RETR", UP, "^RETR ").stall(DOWN, 40));

    TickReport first = timedTick();
    assertThat(stall.fired()).isEqualTo(1);
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    timedTick();
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheConnectionDropsMidTop_catchesUpLater() {
    // TOP is used for messages over wholeMessageUpTo; 0 sends it for every message.
    node = world.node("top", new World.Options().smtp(false).pop3().timeouts(TIMEOUT)
        .pop3Builder(b -> b.wholeMessageUpTo(0)));
    proxy = node.pop3Proxy;
    proxy.arm(Fault.when("cut mid-TOP", UP, "^TOP ").cut(DOWN, 30));

    TickReport first = timedTick();
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    timedTick();
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheConnectionDropsMidUidl_catchesUpLater() {
    proxy.arm(Fault.when("cut mid-UIDL", UP, "^UIDL").cut(DOWN, 8));

    TickReport first = timedTick();
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    timedTick();
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheSessionDiesBeforeItsDeletions_theNextSessionOfTheReaderDeletesThem() {
    // The DELEs never reach the server (no QUIT either): RFC 1939 keeps the messages. The activities
    // exist and the cursor is past the messages, so they are not read again; the reader remembers
    // the deletions and its next session sends them.
    Fault cut = proxy.arm(Fault.when("lose the DELEs and QUIT", UP, "^DELE ").cut(DOWN, 0));

    TickReport first = timedTick();
    assertThat(cut.fired()).isEqualTo(1);
    assertThat(first.tracked()).hasSize(MESSAGES);
    assertThat(world.pop3Inbox().getMessageCount()).isEqualTo(MESSAGES);

    world.deliverPop3(Mail.incoming("pop-4"));
    ids.add(Mail.incomingId("pop-4"));
    TickReport second = timedTick();

    assertThat(second.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly(Mail.incomingId("pop-4"));
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheGreetingNeverComes_failsTheMailboxWithinTheTimeoutAndCatchesUpLater() {
    proxy.arm(Fault.onConnect("silent server").stall(DOWN, 0));

    TickReport first = timedTick();
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    timedTick();
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheServerTricklesItsAnswers_tracksEverythingSlowly() {
    proxy.arm(Fault.onConnect("trickle").trickle(DOWN, 16, Duration.ofMillis(5)));

    TickReport report = timedTick(Duration.ofSeconds(30));

    assertThat(report.tracked()).hasSize(MESSAGES);
    assertTrackedOnceAndDeleted();
  }

  private TickReport timedTick() {
    return timedTick(BOUND);
  }

  private TickReport timedTick(Duration bound) {
    long start = System.nanoTime();
    TickReport report = node.tick();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("wall-clock time of the tick (guard against a hang)")
        .isLessThan(bound);
    assertThat(report).isNotNull();
    return report;
  }

  private void assertTrackedOnceAndDeleted() {
    assertThat(world.crm.receivedByMessageId()).containsOnlyKeys(ids).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    assertThat(world.pop3Count(0)).as("messages left on the POP3 server").isZero();
  }
}
