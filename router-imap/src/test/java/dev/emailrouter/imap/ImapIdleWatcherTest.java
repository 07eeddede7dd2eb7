package dev.emailrouter.imap;

import static dev.emailrouter.imap.TestMailboxes.append;
import static dev.emailrouter.imap.TestMailboxes.folder;
import static dev.emailrouter.imap.TestMailboxes.reader;
import static dev.emailrouter.imap.TestMailboxes.simple;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.user.GreenMailUser;
import dev.emailrouter.imap.ImapIdleWatcher.State;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * IMAP IDLE against GreenMail (which offers IDLE), through a proxy that records the commands and can
 * cut connections or hide IDLE: new mail is signalled, the IDLE is renewed on time, a lost
 * connection comes back after a doubling backoff and then signals once, a server without IDLE is
 * left to polling. Re-IDLE and backoff run on a timer the test advances; the test waits only for
 * the server's pushes and the watcher's states, on queues with a generous timeout.
 */
final class ImapIdleWatcherTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(TestMailboxes.imap());

  private static final long WAIT_SECONDS = 30;
  private static final String NAME = "sales-inbox";

  private final ManualIdleTimer timer = new ManualIdleTimer();
  private final BlockingQueue<String> signals = new LinkedBlockingQueue<>();
  private final BlockingQueue<String> states = new LinkedBlockingQueue<>();
  private MailFolder inbox;
  private WireProxy proxy;
  private ImapMailboxReader reader;
  private ImapIdleWatcher watcher;

  @BeforeEach
  void setUp() throws IOException {
    GreenMailUser user = TestMailboxes.user(greenMail);
    inbox = folder(greenMail, user, "INBOX");
    proxy = new WireProxy(greenMail.getImap().getPort());
    reader = reader(proxy.port()).build();
  }

  @AfterEach
  void tearDown() throws IOException {
    if (watcher != null) {
      watcher.close();
    }
    reader.close();
    proxy.close();
  }

  /** A jitter source at the middle of its range: every backoff is exactly the doubled base. */
  private static Random noJitter() {
    return new Random() {
      private static final long serialVersionUID = 1L;

      @Override
      public double nextDouble() {
        return 0.5;
      }
    };
  }

  private ImapIdleWatcher.Builder watcherBuilder() {
    return ImapIdleWatcher.builder().listener(signals::add).timer(timer).random(noJitter())
        .observer((name, state) -> states.add(name + ":" + state));
  }

  /** Waits until a watch enters {@code state}, skipping the states before it. */
  private void awaitState(String name, State state) throws InterruptedException {
    String wanted = name + ":" + state;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (true) {
      String next = states.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (next == null) {
        fail("the watch never entered " + state);
      }
      if (next.equals(wanted)) {
        return;
      }
    }
  }

  private String awaitSignal() throws InterruptedException {
    String name = signals.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(name).as("a signal within %d s", WAIT_SECONDS).isNotNull();
    return name;
  }

  /**
   * Delivers a message while the watch idles and waits for the push. GreenMail answers IDLE with its
   * continuation before it starts listening to the folder (IdleCommand: continuation, then
   * addListener), so a message appended in between is never pushed; a real server (DovecotIdleIT)
   * has no such gap. So: deliver, and deliver again if no push came within 2 s (at most 10 times).
   */
  private String deliverAndAwaitSignal(int first) throws InterruptedException {
    for (int i = 0; i < 10; i++) {
      append(inbox, simple(first + i), TestMailboxes.START);
      String name = signals.poll(2, TimeUnit.SECONDS);
      if (name != null) {
        return name;
      }
    }
    return fail("no push for 10 messages delivered while idling");
  }

  private List<String> logins() {
    return proxy.commands().stream().filter(c -> c.startsWith("LOGIN") || c.startsWith("AUTHENTICATE")).toList();
  }

  @Test
  void newMail_whileIdling_tellsTheListenerTheMailboxName() throws Exception {
    watcher = watcherBuilder().build();
    ImapIdleWatcher.Watch watch = watcher.watch(NAME, reader);
    awaitState(NAME, State.IDLING);

    assertThat(deliverAndAwaitSignal(1)).isEqualTo(NAME);
    assertThat(watch.state()).isEqualTo(State.IDLING);
    assertThat(proxy.commands()).contains("IDLE");
  }

  @Test
  void reIdle_onceTheIntervalPassed_endsTheIdleWithDoneAndIdlesAgainOnTheSameConnection() throws Exception {
    watcher = watcherBuilder().reIdleInterval(Duration.ofMinutes(28)).build();
    watcher.watch(NAME, reader);
    awaitState(NAME, State.IDLING);
    assertThat(timer.pending()).containsExactly(Duration.ofMinutes(28));

    timer.advance(Duration.ofMinutes(27));
    assertThat(proxy.commands()).doesNotContain("DONE");

    timer.advance(Duration.ofMinutes(1));
    awaitState(NAME, State.IDLING);

    assertThat(proxy.commands()).containsSubsequence("IDLE", "DONE", "IDLE");
    assertThat(logins()).hasSize(1);
    assertThat(proxy.connections()).isEqualTo(1);
    assertThat(timer.pending()).containsExactly(Duration.ofMinutes(28));
    assertThat(deliverAndAwaitSignal(20)).isEqualTo(NAME);
  }

  @Test
  void lostConnection_reconnectsAfterADoublingBackoff_thenSignalsOnceSoTheTickCatchesUp() throws Exception {
    watcher = watcherBuilder().initialBackoff(Duration.ofSeconds(1)).maxBackoff(Duration.ofSeconds(4)).build();
    ImapIdleWatcher.Watch watch = watcher.watch(NAME, reader);
    awaitState(NAME, State.IDLING);

    proxy.refuseNew();
    proxy.dropConnections();
    awaitState(NAME, State.RECONNECTING);
    assertThat(timer.pending()).containsExactly(Duration.ofSeconds(1));
    append(inbox, simple(3), TestMailboxes.START); // arrives while nothing listens

    timer.advance(Duration.ofMillis(999));
    assertThat(watch.state()).isEqualTo(State.RECONNECTING);
    timer.advance(Duration.ofMillis(1));
    awaitState(NAME, State.RECONNECTING);
    assertThat(timer.pending()).containsExactly(Duration.ofSeconds(2));
    timer.advance(Duration.ofSeconds(2));
    awaitState(NAME, State.RECONNECTING);
    assertThat(timer.pending()).containsExactly(Duration.ofSeconds(4));
    timer.advance(Duration.ofSeconds(4));
    awaitState(NAME, State.RECONNECTING);
    assertThat(timer.pending()).as("capped at maxBackoff").containsExactly(Duration.ofSeconds(4));
    assertThat(signals).isEmpty();

    proxy.acceptNew();
    timer.advance(Duration.ofSeconds(4));
    awaitState(NAME, State.IDLING);

    assertThat(awaitSignal()).isEqualTo(NAME);
    assertThat(signals).isEmpty();
    timer.advance(Duration.ofMinutes(10)); // a whole IDLE, its DONE answered: the connection is healthy
    awaitState(NAME, State.IDLING);
    proxy.refuseNew();
    proxy.dropConnections();
    awaitState(NAME, State.RECONNECTING);
    assertThat(timer.pending()).as("the backoff starts over once an IDLE ran whole")
        .containsExactly(Duration.ofSeconds(1));
  }

  @Test
  void serverThatEndsEveryIdleAtOnce_isBackedOffFrom_notSentIdleAfterIdle() throws Exception {
    try (ScriptedImapServer server = new ScriptedImapServer();
        ImapMailboxReader scripted = reader(server.port()).build()) {
      server.offerIdleThatEndsAtOnce();
      watcher = watcherBuilder().build();
      watcher.watch(NAME, scripted);

      awaitState(NAME, State.RECONNECTING);
      assertThat(timer.pending()).containsExactly(Duration.ofSeconds(1));
      timer.advance(Duration.ofSeconds(1));
      awaitState(NAME, State.RECONNECTING);

      assertThat(timer.pending()).containsExactly(Duration.ofSeconds(2));
      assertThat(server.commands()).filteredOn("IDLE"::equals).hasSize(2);
    }
  }

  @Test
  void serverWithoutIdle_leavesTheMailboxToPolling() throws Exception {
    try (WireProxy noIdle = new WireProxy(greenMail.getImap().getPort(), "IDLE");
        ImapMailboxReader plain = reader(noIdle.port()).build()) {
      watcher = watcherBuilder().build();
      ImapIdleWatcher.Watch watch = watcher.watch(NAME, plain);

      awaitState(NAME, State.POLLING);

      assertThat(watch.state()).isEqualTo(State.POLLING);
      assertThat(noIdle.commands()).doesNotContain("IDLE").last().isEqualTo("LOGOUT");
      assertThat(timer.pending()).isEmpty();
      assertThat(signals).isEmpty();
    }
  }

  @Test
  void watchesBeyondMaxConnections_areLeftToPollingWithoutAConnection() throws Exception {
    watcher = watcherBuilder().maxConnections(1).build();
    watcher.watch(NAME, reader);
    awaitState(NAME, State.IDLING);

    ImapIdleWatcher.Watch second = watcher.watch("second", reader);

    assertThat(second.state()).isEqualTo(State.POLLING);
    assertThat(proxy.connections()).isEqualTo(1);
    assertThatThrownBy(() -> watcher.watch(NAME, reader))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("mailbox 'sales-inbox' is watched already");
  }

  @Test
  void close_endsTheIdleWithDoneAndLogsOut() throws Exception {
    watcher = watcherBuilder().build();
    ImapIdleWatcher.Watch watch = watcher.watch(NAME, reader);
    awaitState(NAME, State.IDLING);

    watcher.close();

    assertThat(watch.state()).isEqualTo(State.CLOSED);
    assertThat(proxy.commands()).containsSubsequence("IDLE", "DONE", "LOGOUT");
    assertThat(timer.pending()).isEmpty();
    assertThatThrownBy(() -> watcher.watch("another", reader)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void builder_rejectsAReIdleIntervalOver29MinutesAndAMissingListener() {
    assertThatThrownBy(() -> ImapIdleWatcher.builder().reIdleInterval(Duration.ofMinutes(30)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("reIdleInterval must be between 10 seconds and 29 minutes, was PT30M");
    assertThatThrownBy(() -> ImapIdleWatcher.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("listener is required");
    assertThatThrownBy(() -> ImapIdleWatcher.builder().listener(n -> { })
        .initialBackoff(Duration.ofMinutes(10)).maxBackoff(Duration.ofMinutes(1)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("initialBackoff must not exceed maxBackoff, was PT10M > PT1M");
  }
}
