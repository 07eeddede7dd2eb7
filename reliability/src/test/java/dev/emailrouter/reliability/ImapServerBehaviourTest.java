package dev.emailrouter.reliability;

import static dev.emailrouter.reliability.FaultProxy.Direction.DOWN;
import static dev.emailrouter.reliability.FaultProxy.Direction.UP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.reliability.FaultProxy.Fault;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an IMAP server may do, end to end: NO and BAD answers (made by rewriting the wire), a
 * message expunged by another client in the middle of a tick, the read folder or the destination
 * folder deleted, a UIDVALIDITY reset. Nothing is lost, nothing gets two activities, and a message
 * the server can't deliver ends in quarantine without blocking the others.
 */
@ExtendWith(Figures.Watcher.class)
final class ImapServerBehaviourTest {
  private static final Pattern BODY_FETCH = Pattern.compile("^(\\S+) UID FETCH (\\S+) \\(UID BODY\\.PEEK\\[\\]\\)\r\n$");

  @TempDir
  Path dir;

  private World world;
  private final List<String> ids = new ArrayList<>();
  private final List<Long> uids = new ArrayList<>();

  @BeforeEach
  void start() {
    world = new World(dir).withGreenMail();
  }

  @AfterEach
  void stop() {
    world.close();
  }

  private void deliver(String folder, int first, int count) {
    for (int i = first; i < first + count; i++) {
      uids.add(Mail.append(world.imapFolder(folder), Mail.incoming("imap-" + i)));
      ids.add(Mail.incomingId("imap-" + i));
    }
  }

  private World.Options imap() {
    return new World.Options().smtp(false).imap();
  }

  @Test
  void tick_whenTheServerAnswersNoToTheDownload_failsTheMailboxForNowAndCatchesUpLater() {
    deliver("INBOX", 1, 3);
    World.Node node = world.node("node", imap());
    AtomicReference<String> tag = new AtomicReference<>();
    node.imapProxy.arm(Fault.rewrite("note the download's tag", UP, line -> {
      Matcher m = BODY_FETCH.matcher(line);
      if (m.matches()) {
        tag.compareAndSet(null, m.group(1));
      }
      return null;
    }).always());
    Fault no = node.imapProxy.arm(Fault.rewrite("NO to the download", DOWN, line -> tag.get() != null
        && line.startsWith(tag.get() + " OK ") ? tag.get() + " NO [UNAVAILABLE] try again later\r\n" : null));

    TickReport first = node.tick();
    assertThat(no.fired()).isEqualTo(1);
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.MailboxFailed) e).reason()).contains("UNAVAILABLE"));

    world.clock.advance(Duration.ofMinutes(2));
    assertThat(node.tick().tracked()).hasSize(3);
    assertTrackedOnce();
  }

  @Test
  void tick_whenTheServerAnswersBadForOneMessage_quarantinesItAfterItsAttemptsAndTracksTheOthers() {
    deliver("INBOX", 1, 4);
    long poison = uids.get(1);
    World.Node node = world.node("node", imap());
    Fault bad = node.imapProxy.arm(Fault.rewrite("BAD for one message", UP, line -> {
      Matcher m = BODY_FETCH.matcher(line);
      return m.matches() && contains(m.group(2), poison)
          ? m.group(1) + " UID FETCH " + m.group(2) + " (UID BODY.PEEK[] X-BOGUS)\r\n" : null;
    }).always());

    List<RouterEvent.MessageFailed> failures = new ArrayList<>();
    for (int tick = 1; tick <= 3; tick++) {
      TickReport report = node.tick();
      failures.addAll(report.messageFailures());
      world.clock.advance(Duration.ofMinutes(2));
    }

    assertThat(bad.fired()).isGreaterThanOrEqualTo(3);
    assertThat(failures).extracting(RouterEvent.MessageFailed::attempts).containsExactly(1, 2, 3);
    assertThat(failures).allSatisfy(f -> assertThat(f.ref()).isEqualTo(Long.toString(poison)));
    assertThat(failures.get(2).quarantined()).isTrue();
    assertThat(world.crm.receivedByMessageId()).containsOnlyKeys(ids.get(0), ids.get(2), ids.get(3));
    assertThat(world.imapFolder("Quarantine").getMessageCount()).as("moved aside, never deleted").isEqualTo(1);
    assertThat(world.imapFolder("Tracked").getMessageCount()).isEqualTo(3);
    assertThat(world.imapFolder("INBOX").getMessageCount()).isZero();
  }

  @Test
  void tick_whenAnotherClientExpungesAMessageBeforeItIsDownloaded_tracksTheOthersAndKeepsGoing() {
    deliver("INBOX", 1, 3);
    long gone = uids.get(1);
    TrackingPolicy expungingPolicy = (message, context) -> {
      if (message.ref().equals(Long.toString(gone))) {
        world.expungeImap("INBOX", gone); // another client, while the engine decides
      }
      return TrackingDecision.track(TrackingDecision.Reason.ACCEPT_ALL, "");
    };
    World.Node node = world.node("node", imap().policy(expungingPolicy));

    TickReport report = node.tick();

    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly(ids.get(0), ids.get(2));
    assertThat(report.problems()).isEmpty();
    assertThat(world.crm.receivedByMessageId()).containsOnlyKeys(ids.get(0), ids.get(2));
    assertThat(world.imapFolder("Tracked").getMessageCount()).isEqualTo(2);
  }

  @Test
  void tick_whenAnotherClientExpungesAMessageAfterItWasTracked_stillMovesTheRestAndRecordsTheCheckpoint() {
    deliver("INBOX", 1, 3);
    long gone = uids.get(0);
    World.Node node = world.node("node", imap().store(store -> expungeOnCreate(store, ids.get(0), gone)));

    TickReport first = node.tick();
    assertThat(first.tracked()).hasSize(3);
    assertThat(first.problems()).isEmpty();

    deliver("INBOX", 4, 1);
    TickReport second = node.tick();
    assertThat(second.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly(ids.get(3));
    assertTrackedOnce(3);
  }

  @Test
  void tick_whenTheFolderIsDeletedAndMadeAgain_failsWhileItIsMissingAndReadsTheNewOneFromTheStart() {
    deliver("Sales", 1, 2);
    World.Node node = world.node("node", imap().imapBuilder(b -> b.folder("Sales")));
    assertThat(node.tick().tracked()).hasSize(2);
    long validity = world.imapFolder("Sales").getUidValidity();

    world.deleteImapFolder("Sales");
    TickReport missing = node.tick();
    assertThat(missing.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.MailboxFailed) e).reason()).contains("Sales").contains("does not exist"));

    deliver("Sales", 3, 1);
    newUidValidity("Sales", validity);
    world.clock.advance(Duration.ofMinutes(2));
    TickReport again = node.tick();
    assertThat(again.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly(ids.get(2));
    assertTrackedOnce(3);
  }

  @Test
  void tick_whenTheDestinationFolderIsDeleted_makesItAgainAndMovesThere() {
    deliver("INBOX", 1, 2);
    World.Node node = world.node("node", imap());
    assertThat(node.tick().tracked()).hasSize(2);

    world.deleteImapFolder("Tracked");
    deliver("INBOX", 3, 1);
    TickReport report = node.tick();

    assertThat(report.tracked()).hasSize(1);
    assertThat(report.problems()).isEmpty();
    assertThat(world.imapFolder("Tracked").getMessageCount()).isEqualTo(1);
    assertThat(world.imapFolder("INBOX").getMessageCount()).isZero();
  }

  @Test
  void tick_whenUidValidityIsReset_seesEveryMessageAgainAndCreatesNoSecondActivity() {
    deliver("Sales", 1, 3);
    World.Node node = world.node("node", imap().imapBuilder(b -> b.folder("Sales"))
        .afterTracked(ImapMailboxReader.PostAction.LEAVE));
    assertThat(node.tick().tracked()).hasSize(3);
    long validity = world.imapFolder("Sales").getUidValidity();

    // The server's folder is rebuilt (a restore, a migration): same messages, new UIDs, new UIDVALIDITY.
    world.deleteImapFolder("Sales");
    ids.clear();
    uids.clear();
    deliver("Sales", 1, 4);
    newUidValidity("Sales", validity);
    assertThat(world.imapFolder("Sales").getUidValidity()).isNotEqualTo(validity);
    TickReport report = node.tick();

    assertThat(report.rejected()).hasSize(3)
        .allSatisfy(r -> assertThat(r.decision().reason()).isEqualTo(TrackingDecision.Reason.DUPLICATE));
    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly(ids.get(3));
    assertThat(world.crm.receivedByMessageId()).containsOnlyKeys(ids).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
  }

  /** Whether an IMAP UID set such as {@code 1:3,7} holds {@code uid}. */
  static boolean contains(String set, long uid) {
    for (String part : set.split(",")) {
      int colon = part.indexOf(':');
      if (colon < 0 ? Long.parseLong(part) == uid
          : Long.parseLong(part.substring(0, colon)) <= uid && uid <= Long.parseLong(part.substring(colon + 1))) {
        return true;
      }
    }
    return false;
  }

  /** The store, with another client expunging a message right after its activity was created. */
  private ActivityStore expungeOnCreate(ActivityStore store, String messageId, long uid) {
    return (ActivityStore) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ActivityStore.class},
        (p, method, args) -> {
          Object result;
          try {
            result = method.invoke(store, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals("createReceived") && ((ReceivedEmail) args[0]).messageId().equals(messageId)
              && ((ReceiveResult) result).created()) {
            world.expungeImap("INBOX", uid);
          }
          return result;
        });
  }

  @Test
  void tick_whenTheServerRefusesTheLogin_failsTheMailboxNamingItWithoutThePasswordAndRecoversOnceItIsFixed() {
    deliver("INBOX", 1, 3);
    String wrong = "wrong-" + World.PASSWORD;
    World.Node refused = world.node("refused", imap().imapBuilder(b -> b.credentials(
        dev.emailrouter.api.Credentials.password(World.IMAP_LOGIN, wrong))));

    TickReport first = refused.tick();

    assertThat(first.tracked()).isEmpty();
    assertThat(first.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance)
        .map(RouterEvent.MailboxFailed.class::cast).singleElement().satisfies(f -> {
          assertThat(f.mailbox()).isEqualTo(World.IMAP_MAILBOX);
          assertThat(f.reason()).as("the reason names the mailbox or its login")
              .containsAnyOf(World.IMAP_MAILBOX, World.IMAP_LOGIN, "127.0.0.1")
              .doesNotContain(wrong).doesNotContain(World.PASSWORD);
        });
    assertThat(world.events).map(t -> t.event().toString()).as("no event carries a password")
        .noneMatch(e -> e.contains(World.PASSWORD));
    assertThat(world.imapFolder("INBOX").getMessageCount()).as("nothing touched").isEqualTo(3);
    assertThat(world.crm.receivedCount()).isZero();
    refused.close();

    World.Node fixed = world.node("fixed", imap());
    assertThat(fixed.tick().tracked()).hasSize(3);
    assertTrackedOnce();
  }

  private void assertTrackedOnce() {
    assertTrackedOnce(ids.size());
  }

  private void assertTrackedOnce(int inTracked) {
    assertThat(world.crm.receivedByMessageId()).containsOnlyKeys(ids).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    assertThat(world.imapFolder("INBOX").getMessageCount()).isZero();
    assertThat(world.imapFolder("Tracked").getMessageCount()).isEqualTo(inTracked);
  }

  /**
   * GreenMail takes UIDVALIDITY from the clock in seconds: a folder made again within the same second
   * would keep it, which a real server never does.
   */
  private void newUidValidity(String folder, long old) {
    Object rebuilt = world.imapFolder(folder);
    if (world.imapFolder(folder).getUidValidity() == old) {
      try {
        java.lang.reflect.Field field = rebuilt.getClass().getDeclaredField("uidValidity");
        field.setAccessible(true);
        field.setLong(rebuilt, old + 1);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
