package dev.emailrouter.reliability;

import static dev.emailrouter.reliability.FaultProxy.Direction.DOWN;
import static dev.emailrouter.reliability.FaultProxy.Direction.UP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.reliability.FaultProxy.Fault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a POP3 server may answer with -ERR, end to end: to RETR (for now, or for good), to the
 * login (refused, or [IN-USE]), to TOP, to DELE. The -ERR answers are made by rewriting the wire in
 * a {@link FaultProxy}. Nothing is lost; nothing gets two activities.
 */
@ExtendWith(Figures.Watcher.class)
final class Pop3ServerBehaviourTest {

  @TempDir
  Path dir;

  private World world;
  private final List<String> ids = new ArrayList<>();

  @BeforeEach
  void start() {
    world = new World(dir).withGreenMail();
    for (int i = 1; i <= 3; i++) {
      world.deliverPop3(Mail.incoming("pop-" + i));
      ids.add(Mail.incomingId("pop-" + i));
    }
  }

  @AfterEach
  void stop() {
    world.close();
  }

  private World.Options pop3() {
    return new World.Options().smtp(false).pop3();
  }

  /** Makes the server answer -ERR to RETR of message {@code number}, by asking it for one that does not exist. */
  private static Fault errOnRetr(int number) {
    return Fault.rewrite("-ERR to RETR " + number, UP, line -> line.equals("RETR " + number + "\r\n")
        ? "RETR 999\r\n" : null);
  }

  @Test
  void tick_whenTheServerAnswersErrToOneRetrOnce_tracksThatMessageOnALaterTick() {
    World.Node node = world.node("node", pop3());
    Fault err = node.pop3Proxy.arm(errOnRetr(2));

    TickReport first = node.tick();
    assertThat(err.fired()).isEqualTo(1);
    world.clock.advance(Duration.ofMinutes(2));
    TickReport second = node.tick();

    assertThat(first.tracked().size() + second.tracked().size()).isEqualTo(3);
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheServerAlwaysAnswersErrToOneRetr_quarantinesItLeavesItOnTheServerAndTracksTheOthers() {
    // Without deletions the message keeps its number 2 in every session, so the rewrite keeps hitting it.
    World.Node node = world.node("node", pop3().pop3Builder(b -> b.deleteAfterProcessing(false)));
    node.pop3Proxy.arm(errOnRetr(2).always());

    List<RouterEvent.MessageFailed> failures = new ArrayList<>();
    for (int tick = 1; tick <= 4; tick++) {
      failures.addAll(node.tick().messageFailures());
      world.clock.advance(Duration.ofMinutes(2));
    }

    assertThat(failures).extracting(RouterEvent.MessageFailed::attempts).containsExactly(1, 2, 3);
    assertThat(failures.get(2).quarantined()).isTrue();
    assertThat(world.crm.receivedByMessageId()).containsOnlyKeys(ids.get(0), ids.get(2));
    assertThat(world.pop3Count(3)).as("nothing deleted: the quarantined message stays").isEqualTo(3);
    assertThat(node.tick().messageFailures()).as("a quarantined message is not tried again").isEmpty();
  }

  @Test
  void tick_whenTheLoginIsRefused_failsTheMailboxWithoutLosingAnything() {
    World.Node wrong = world.node("wrong", pop3().pop3Builder(b -> b.credentials(
        Credentials.password(World.POP3_LOGIN, "not-the-password"))));

    TickReport report = wrong.tick();
    assertThat(report.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.MailboxFailed) e).reason()).contains("refused the login")
            .doesNotContain("not-the-password"));
    wrong.close();

    World.Node right = world.node("right", pop3());
    assertThat(right.tick().tracked()).hasSize(3);
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheMailboxIsInUse_retriesLater() {
    World.Node node = world.node("node", pop3());
    AtomicBoolean passSent = new AtomicBoolean();
    node.pop3Proxy.arm(Fault.rewrite("note PASS", UP, line -> {
      passSent.set(line.startsWith("PASS "));
      return null;
    }).always());
    Fault inUse = node.pop3Proxy.arm(Fault.rewrite("-ERR [IN-USE]", DOWN, line -> passSent.getAndSet(false)
        && line.startsWith("+OK") ? "-ERR [IN-USE] maildrop already locked\r\n" : null));

    TickReport first = node.tick();
    assertThat(inUse.fired()).isEqualTo(1);
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.MailboxFailed) e).reason()).contains("IN-USE"));

    world.clock.advance(Duration.ofMinutes(2));
    assertThat(node.tick().tracked()).hasSize(3);
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheServerRefusesTop_readsTheHeadersFromWholeMessages() {
    // TOP is used for messages over wholeMessageUpTo; 0 sends it for every message.
    World.Node node = world.node("node", pop3().pop3Builder(b -> b.wholeMessageUpTo(0)));
    Fault noTop = node.pop3Proxy.arm(Fault.rewrite("-ERR to TOP", UP, line -> line.startsWith("TOP ")
        ? "TOP 999 0\r\n" : null).always());

    TickReport report = node.tick();

    assertThat(noTop.fired()).isGreaterThanOrEqualTo(1);
    assertThat(report.tracked()).hasSize(3);
    assertTrackedOnceAndDeleted();
  }

  @Test
  void tick_whenTheServerRefusesADele_theNextSessionDeletesItAndNothingIsReadTwice() {
    World.Node node = world.node("node", pop3());
    Fault err = node.pop3Proxy.arm(Fault.rewrite("-ERR to DELE 1", UP, line -> line.equals("DELE 1\r\n")
        ? "DELE 999\r\n" : null));

    TickReport first = node.tick();
    assertThat(err.fired()).isEqualTo(1);
    assertThat(first.tracked()).hasSize(3);
    TickReport second = node.tick();

    assertThat(second.tracked()).isEmpty();
    assertTrackedOnceAndDeleted();
  }

  private void assertTrackedOnceAndDeleted() {
    assertThat(world.crm.receivedByMessageId()).containsOnlyKeys(ids).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    assertThat(world.pop3Count(0)).as("messages left on the POP3 server").isZero();
  }
}
