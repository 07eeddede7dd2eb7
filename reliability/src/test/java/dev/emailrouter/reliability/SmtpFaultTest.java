package dev.emailrouter.reliability;

import static dev.emailrouter.reliability.FaultProxy.Direction.DOWN;
import static dev.emailrouter.reliability.FaultProxy.Direction.UP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.reliability.FaultProxy.Fault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Network faults between SmtpTransport and the server, injected by a {@link FaultProxy}: the engine
 * recovers on this or a later tick, every email ends Sent exactly once (or, where the server's
 * answer to the data was lost, twice with the same Message-ID — the documented at-least-once), and
 * no tick outlives a small multiple of the 1 s timeouts.
 */
@ExtendWith(Figures.Watcher.class)
final class SmtpFaultTest {
  static final Duration TIMEOUT = Duration.ofSeconds(1);
  /** The wall-clock guard against a hang; not a performance figure. */
  static final Duration BOUND = TIMEOUT.multipliedBy(8);

  @TempDir
  Path dir;

  private World world;
  private World.Node node;
  private FaultProxy proxy;

  @BeforeEach
  void start() {
    world = new World(dir).withSink();
    for (int i = 1; i <= 3; i++) {
      world.crm.add(Mail.outgoing("email-" + i, "seller@crm.example.test"));
    }
    node = world.node("node", new World.Options().timeouts(TIMEOUT));
    proxy = node.smtpProxy;
  }

  @AfterEach
  void stop() {
    world.close();
  }

  @Test
  void tick_whenTheConnectionDropsMidData_reconnectsAndSendsEachEmailOnce() {
    Fault cut = proxy.arm(Fault.when("cut mid-DATA", UP, "^DATA").cut(UP, 100));

    TickReport report = timedTick();

    assertThat(cut.fired()).isEqualTo(1);
    assertThat(report.sent()).hasSize(3);
    assertThat(proxy.connections()).as("one reconnect").isEqualTo(2);
    assertEachSentOnce();
  }

  @Test
  void tick_whenTheConnectionDropsMidDataTwiceForOneEmail_retriesItOnALaterTickAndLosesNothing() {
    Fault cut = proxy.arm(Fault.when("cut mid-DATA", UP, "^DATA").cut(UP, 100).times(2));

    TickReport first = timedTick();
    assertThat(cut.fired()).isEqualTo(2);
    assertThat(first.retried()).singleElement().satisfies(r -> {
      assertThat(r.activityId()).isEqualTo("email-1");
      assertThat(r.attempts()).isEqualTo(1);
    });
    assertThat(first.sent()).hasSize(2);

    world.clock.advance(Duration.ofMinutes(2));
    TickReport second = timedTick();

    assertThat(second.sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly("email-1");
    assertEachSentOnce();
  }

  @Test
  void tick_whenTheServersAnswerToTheDataIsLost_sendsAgainWithTheSameMessageId() {
    // The server took the message, but its 250 never reaches the client: the client can't know, so
    // it sends again (every SMTP client does); the copy has the same Message-ID.
    Fault stall = proxy.arm(Fault.when("lose the 250 after the data", UP, "^\\.\r?$").stall(DOWN, 0));

    TickReport report = timedTick();

    assertThat(stall.fired()).isEqualTo(1);
    assertThat(report.sent()).hasSize(3);
    String id = world.crm.outgoing("email-1").messageId();
    assertThat(world.sink.count(id)).as("copies of the email whose 250 was lost").isEqualTo(2);
    assertThat(world.sink.count(world.crm.outgoing("email-2").messageId())).isEqualTo(1);
    assertThat(world.crm.outgoing().values()).allMatch(r -> r.status() == EmailStatus.SENT);
  }

  @Test
  void tick_whenTheServerStallsMidData_timesOutReconnectsAndSendsOnce() {
    Fault stall = proxy.arm(Fault.when("stall mid-DATA", UP, "^DATA").stall(UP, 50));

    TickReport report = timedTick();

    assertThat(stall.fired()).isEqualTo(1);
    assertThat(report.sent()).hasSize(3);
    assertEachSentOnce();
  }

  @Test
  void tick_whenTheGreetingNeverComes_reportsTheServerUnavailableWithoutCountingAnAttemptAndSendsLater() {
    proxy.arm(Fault.onConnect("silent server").stall(DOWN, 0));

    TickReport first = timedTick();

    assertThat(first.events()).filteredOn(RouterEvent.ServerUnavailable.class::isInstance).hasSize(1);
    assertThat(world.crm.outgoing().values()).allSatisfy(r -> {
      assertThat(r.status()).isEqualTo(EmailStatus.PENDING_SEND);
      assertThat(r.attempts()).isZero();
    });
    world.clock.advance(Duration.ofMinutes(2));
    TickReport second = timedTick();
    assertThat(second.sent()).hasSize(3);
    assertEachSentOnce();
  }

  @Test
  void tick_whenConnectionsAreRefused_waitsAndSendsOnceTheServerIsBack() {
    proxy.refuseConnections(true);
    TickReport first = timedTick();
    assertThat(first.events()).filteredOn(RouterEvent.ServerUnavailable.class::isInstance).hasSize(1);

    proxy.refuseConnections(false);
    world.clock.advance(Duration.ofMinutes(2));
    timedTick();

    assertEachSentOnce();
  }

  @Test
  void tick_whenTheServerTricklesItsReplies_sendsEverythingSlowlyButCompletely() {
    // 8 bytes every 10 ms: no single read waits anywhere near the 1 s timeout, so nothing times
    // out; the tick just takes longer. (Timeouts are per read: a trickle can hold a tick longer than
    // the read timeout, bounded here only by the data's length.)
    proxy.arm(Fault.onConnect("trickle").trickle(DOWN, 8, Duration.ofMillis(10)));

    TickReport report = timedTick(Duration.ofSeconds(20));

    assertThat(report.sent()).hasSize(3);
    assertEachSentOnce();
  }

  @Test
  void tick_whenTheServerTricklesSlowerThanTheReadTimeout_givesUpWithinTheTimeoutAndSendsLater() {
    proxy.arm(Fault.onConnect("trickle, 1 byte per 1.5 s").trickle(DOWN, 1, Duration.ofMillis(1500)));

    TickReport first = timedTick();
    assertThat(first.sent()).isEmpty();
    assertThat(first.events()).filteredOn(RouterEvent.ServerUnavailable.class::isInstance).hasSize(1);

    world.clock.advance(Duration.ofMinutes(2));
    timedTick();
    assertEachSentOnce();
  }

  private TickReport timedTick() {
    return timedTick(BOUND);
  }

  private TickReport timedTick(Duration bound) {
    long start = System.nanoTime();
    TickReport report = node.tick();
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(took).as("wall-clock time of the tick (guard against a hang)").isLessThan(bound);
    assertThat(report).as("tick returned").isNotNull();
    return report;
  }

  private void assertEachSentOnce() {
    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    assertThat(rows.values()).allMatch(r -> r.status() == EmailStatus.SENT);
    for (Crm.Outgoing r : rows.values()) {
      assertThat(world.sink.count(r.messageId())).as("copies of %s", r.id()).isEqualTo(1);
    }
    assertThat(world.sink.acceptedCount()).isEqualTo(rows.size());
  }
}
