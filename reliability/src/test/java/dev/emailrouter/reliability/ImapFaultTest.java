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
 * Network faults between ImapMailboxReader and GreenMail: connections cut in the middle of a FETCH
 * (headers or bodies) or of a post-action, stalls past the 1 s read timeout, trickles. The reader
 * reconnects once within a session; beyond that the mailbox fails for the tick and a later tick
 * catches up. Every message ends with exactly one activity, moved to Tracked exactly once.
 */
@ExtendWith(Figures.Watcher.class)
final class ImapFaultTest {
  static final Duration TIMEOUT = Duration.ofSeconds(1);
  static final Duration BOUND = TIMEOUT.multipliedBy(10);
  static final int MESSAGES = 3;
  /** The start of GreenMail's answer carrying a whole message. */
  static final String BODY_LITERAL = "FETCH \\(.*BODY\\[\\] \\{\\d+\\}";

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
      world.deliverImap(Mail.incoming("imap-" + i));
      ids.add(Mail.incomingId("imap-" + i));
    }
    node = world.node("node", new World.Options().smtp(false).imap().timeouts(TIMEOUT));
    proxy = node.imapProxy;
  }

  @AfterEach
  void stop() {
    world.close();
  }

  @Test
  void tick_whenTheConnectionDropsMidFetchOfTheBodies_reconnectsWithinTheTickAndTracksEverything() {
    Fault cut = proxy.arm(Fault.when("cut mid-FETCH BODY[]", DOWN, BODY_LITERAL).cut(DOWN, 40));

    TickReport report = timedTick();

    assertThat(cut.fired()).isEqualTo(1);
    assertThat(report.tracked()).hasSize(MESSAGES);
    assertThat(proxy.connections()).isEqualTo(2);
    assertTrackedOnce();
  }

  @Test
  void tick_whenTheConnectionDropsMidFetchTwice_failsTheMailboxForNowAndALaterTickTracksEverything() {
    Fault cut = proxy.arm(Fault.when("cut mid-FETCH BODY[]", DOWN, BODY_LITERAL).cut(DOWN, 40).times(2));

    TickReport first = timedTick();
    assertThat(cut.fired()).isEqualTo(2);
    assertThat(first.tracked()).isEmpty();
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    TickReport second = timedTick();

    assertThat(second.tracked()).hasSize(MESSAGES);
    assertTrackedOnce();
  }

  @Test
  void tick_whenTheConnectionDropsMidFetchOfTheHeaders_catchesUpLater() {
    proxy.arm(Fault.when("cut mid-FETCH headers", DOWN, "BODY\\[HEADER\\.FIELDS").cut(DOWN, 30).times(2));

    TickReport first = timedTick();
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    timedTick();
    assertTrackedOnce();
  }

  @Test
  void tick_whenTheServerStallsMidFetch_timesOutReconnectsAndTracksEverything() {
    Fault stall = proxy.arm(Fault.when("stall mid-FETCH BODY[]", DOWN, BODY_LITERAL).stall(DOWN, 20));

    TickReport report = timedTick();

    assertThat(stall.fired()).isEqualTo(1);
    assertThat(report.tracked()).hasSize(MESSAGES);
    assertTrackedOnce();
  }

  @Test
  void tick_whenTheGreetingNeverComes_failsTheMailboxWithinTheTimeoutAndCatchesUpLater() {
    proxy.arm(Fault.onConnect("silent server").stall(DOWN, 0));

    TickReport first = timedTick();
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    timedTick();
    assertTrackedOnce();
  }

  @Test
  void tick_whenTheServerTricklesItsAnswers_tracksEverythingSlowly() {
    proxy.arm(Fault.onConnect("trickle").trickle(DOWN, 64, Duration.ofMillis(5)));

    TickReport report = timedTick(Duration.ofSeconds(30));

    assertThat(report.tracked()).hasSize(MESSAGES);
    assertTrackedOnce();
  }

  @Test
  void tick_whenTheConnectionDropsDuringThePostAction_neitherLosesNorDuplicatesAnything() {
    // The first UID MOVE reaches the server but its answer is lost, and so is the retry's: the
    // messages moved, the checkpoint was not saved. The next tick finds them gone from INBOX and
    // their activities in place.
    Fault cut = proxy.arm(Fault.when("cut after UID MOVE", UP, "UID MOVE").cut(DOWN, 0).times(2));

    TickReport first = timedTick();
    assertThat(cut.fired()).isEqualTo(2);
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    TickReport second = timedTick();
    assertThat(second.tracked()).isEmpty();
    assertTrackedOnce();
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

  private void assertTrackedOnce() {
    assertThat(world.crm.receivedByMessageId()).containsOnlyKeys(ids).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    assertThat(world.imapFolder("INBOX").getMessageCount()).isZero();
    assertThat(world.imapFolder("Tracked").getMessageCount()).isEqualTo(MESSAGES);
  }
}
