package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.store.MailFolder;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.reliability.Crash.Point;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Stops an engine at every step of both flows, starts a fresh one on the same durable state (the
 * H2 file database, reopened; the checkpoint directory; the same mail servers) and checks the
 * contract: nothing lost; an outgoing email sent at most once more (only when the crash fell between
 * the server's acceptance and Sent being recorded, with the same Message-ID); no incoming message
 * with two activities.
 */
@ExtendWith(Figures.Watcher.class)
final class CrashConsistencyTest {
  private static final int EMAILS = 5;
  private static final int MESSAGES = 4;

  @TempDir
  Path dir;

  private World world;

  @AfterEach
  void stop() {
    if (world != null) {
      world.close();
    }
  }

  /** Every pair of one of {@code first} and one of {@code second}, as test arguments in that order. */
  private static List<Arguments> pairs(List<?> first, List<?> second) {
    List<Arguments> out = new ArrayList<>();
    for (Object a : first) {
      for (Object b : second) {
        out.add(Arguments.of(a, b));
      }
    }
    return out;
  }

  static List<Arguments> outgoingCrashes() {
    return pairs(List.of(false, true), List.of(Point.AFTER_CLAIM, Point.AFTER_RECORD_IDENTITY, Point.MID_DATA,
        Point.ACCEPTED_BEFORE_MARK_SENT, Point.AFTER_MARK_SENT));
  }

  /**
   * With PIPELINING the next email was begun behind the end of data of the one the engine dies
   * with: the server has its envelope, never its end of data, so it is not delivered twice either.
   */
  @ParameterizedTest(name = "pipelining {0}, {1}")
  @MethodSource("outgoingCrashes")
  void outgoing_crashAtEveryStep_freshEngineSendsEveryEmailAndRepeatsOnlyTheAcceptedUnrecordedOne(
      boolean pipelining, Point point) {
    world = new World(dir).withSink(pipelining ? SmtpSink.builder().pipelining().start() : SmtpSink.start());
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= EMAILS; i++) {
      String id = "email-" + i;
      ids.add(id);
      world.crm.add(Mail.outgoing(id, "seller@crm.example.test"));
    }
    // Identities are recorded in one call for the whole claimed batch, before anything is sent.
    int occurrence = point == Point.AFTER_CLAIM || point == Point.AFTER_RECORD_IDENTITY ? 1 : 2;
    // Sent recorded email by email (sentBatchSize 1), so each step of one email is a crash point;
    // groups are below.
    World.Node first = world.node("first", new World.Options().crash(new Crash(point, occurrence))
        .engine(b -> b.sentBatchSize(1)));

    assertThat(first.tick()).as("the first engine dies during its tick").isNull();
    assertThat(first.crash.diedAt()).isEqualTo(point + " #" + occurrence);
    first.close();
    world.crm.restart();
    Map<String, String> idsAtCrash = new HashMap<>();
    world.crm.outgoing().forEach((id, row) -> idsAtCrash.put(id, row.messageId()));
    int acceptedAtCrash = world.sink.acceptedCount();

    World.Node second = world.node("second");
    second.tick();
    assertThat(world.sink.acceptedCount())
        .as("emails the dead engine holds under a live lease are not sent by another")
        .isEqualTo(acceptedAtCrash);
    world.clock.advance(Duration.ofMinutes(11)); // past the 10-minute lease
    second.tick();

    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    assertThat(rows.values()).as("nothing lost: every email is Sent").allMatch(r -> r.status() == EmailStatus.SENT);
    for (String id : ids) {
      Crm.Outgoing row = rows.get(id);
      if (idsAtCrash.get(id) != null) {
        assertThat(row.messageId()).as("a recorded Message-ID is kept for the retry of " + id)
            .isEqualTo(idsAtCrash.get(id));
      }
      int expected = point == Point.ACCEPTED_BEFORE_MARK_SENT && id.equals("email-2") ? 2 : 1;
      assertThat(world.sink.count(row.messageId()))
          .as("copies of %s (%s) the server accepted", id, row.messageId()).isEqualTo(expected);
    }
    assertThat(world.sink.acceptedCount()).isEqualTo(EMAILS + (point == Point.ACCEPTED_BEFORE_MARK_SENT ? 1 : 0));
  }

  @Test
  void outgoing_crashBeforeAGroupIsRecordedSent_freshEngineRepeatsExactlyThatGroup() {
    world = new World(dir).withSink();
    for (int i = 1; i <= EMAILS; i++) {
      world.crm.add(Mail.outgoing("email-" + i, "seller@crm.example.test"));
    }
    // A group at the default sentBatchSize (16) is 8 emails, so it holds all five: the server
    // accepts them all, then the engine dies before the one call that would record them Sent.
    Crash crash = new Crash(Point.ACCEPTED_BEFORE_MARK_SENT, 1);
    World.Node first = world.node("first", new World.Options().crash(crash));

    assertThat(first.tick()).as("the first engine dies during its tick").isNull();
    assertThat(crash.unrecordedAtDeath()).as("accepted, not recorded: one group of every email").hasSize(EMAILS);
    assertThat(world.sink.acceptedCount()).isEqualTo(EMAILS);
    first.close();
    world.crm.restart();

    World.Node second = world.node("second");
    world.clock.advance(Duration.ofMinutes(11)); // past the 10-minute lease
    second.tick();

    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    assertThat(rows.values()).as("nothing lost: every email is Sent").allMatch(r -> r.status() == EmailStatus.SENT);
    for (Crm.Outgoing row : rows.values()) {
      assertThat(world.sink.count(row.messageId()))
          .as("copies of %s (%s): the group's documented repeat, same Message-ID", row.id(), row.messageId())
          .isEqualTo(2);
    }
    assertThat(world.sink.acceptedCount()).isEqualTo(2 * EMAILS);
  }

  /**
   * Groups of 2 (sentBatchSize 4) recorded on their own thread while the session sends on: the
   * engine dies in the first group's record, while the session may be handing the server the
   * third or fourth email. Whatever the server got and the store did not record is repeated, with
   * its Message-ID, and nothing else.
   */
  @ParameterizedTest(name = "pipelining {0}")
  @ValueSource(booleans = {false, true})
  void outgoing_crashWhileAGroupIsRecordedOnItsOwnThread_freshEngineRepeatsOnlyWhatWasUnrecorded(boolean pipelining) {
    world = new World(dir).withSink(pipelining ? SmtpSink.builder().pipelining().start() : SmtpSink.start());
    int emails = 8;
    for (int i = 1; i <= emails; i++) {
      world.crm.add(Mail.outgoing("email-" + i, "seller@crm.example.test"));
    }
    Crash crash = new Crash(Point.ACCEPTED_BEFORE_MARK_SENT, 1);
    World.Node first = world.node("first", new World.Options().crash(crash)
        .engine(b -> b.sentBatchSize(4).batchPerSender(emails)));

    assertThat(first.tick()).as("the first engine dies during its tick").isNull();
    Set<String> unrecorded = crash.unrecordedAtDeath();
    // The first group, and what the session handed over meanwhile: never more than sentBatchSize.
    assertThat(unrecorded).contains("email-1", "email-2").hasSizeBetween(2, 4);
    first.close();
    world.crm.restart();

    World.Node second = world.node("second", new World.Options().engine(b -> b.batchPerSender(emails)));
    world.clock.advance(Duration.ofMinutes(11)); // past the 10-minute lease
    second.tick();

    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    assertThat(rows.values()).as("nothing lost: every email is Sent").allMatch(r -> r.status() == EmailStatus.SENT);
    for (Crm.Outgoing row : rows.values()) {
      int copies = world.sink.count(row.messageId());
      if (row.id().equals("email-1") || row.id().equals("email-2")) {
        assertThat(copies).as("copies of %s: accepted before the group's record, repeated", row.id()).isEqualTo(2);
      } else if (unrecorded.contains(row.id())) {
        // Handed over when the process died: the server may have its end of data, or not.
        assertThat(copies).as("copies of %s, handed over at the death", row.id()).isBetween(1, 2);
      } else {
        assertThat(copies).as("copies of %s, sent after the death only", row.id()).isEqualTo(1);
      }
    }
  }

  static List<Arguments> incomingCrashes() {
    return pairs(List.of("IMAP", "POP3"), List.of(Point.AFTER_FETCH_HEADERS, Point.AFTER_DOWNLOAD,
        Point.AFTER_CREATE_RECEIVED, Point.AFTER_POST_ACTION, Point.AFTER_CHECKPOINT));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("incomingCrashes")
  void incoming_crashAtEveryStep_freshEngineTracksEveryMessageOnce(String protocol, Point point) {
    world = new World(dir).withGreenMail();
    boolean imap = protocol.equals("IMAP");
    List<String> messageIds = new ArrayList<>();
    for (int i = 1; i <= MESSAGES; i++) {
      byte[] raw = Mail.incoming(protocol + "-" + i);
      messageIds.add(Mail.incomingId(protocol + "-" + i));
      if (imap) {
        world.deliverImap(raw);
      } else {
        world.deliverPop3(raw);
      }
    }
    World.Options options = new World.Options().smtp(false);
    options = imap ? options.imap() : options.pop3();
    int occurrence = point == Point.AFTER_CREATE_RECEIVED ? 2 : 1;
    World.Node first = world.node("first", options.crash(new Crash(point, occurrence)));

    assertThat(first.tick()).as("the first engine dies during its tick").isNull();
    first.close();
    world.crm.restart();
    int createdBeforeRestart = world.crm.receivedCount();

    World.Options fresh = new World.Options().smtp(false);
    World.Node second = world.node("second", imap ? fresh.imap() : fresh.pop3());
    second.tick();
    second.tick();

    assertThat(world.crm.receivedByMessageId())
        .as("every message has exactly one activity: nothing lost, nothing twice")
        .containsOnlyKeys(messageIds)
        .allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    assertThat(world.crm.receivedCount()).as("activities in all").isEqualTo(MESSAGES);
    assertThat(createdBy("second")).as("activities the fresh engine created").isEqualTo(MESSAGES - createdBeforeRestart);
    assertThat(createdBeforeRestart).isEqualTo(switch (point) {
      case AFTER_FETCH_HEADERS, AFTER_DOWNLOAD -> 0;
      case AFTER_CREATE_RECEIVED -> 2;
      default -> MESSAGES;
    });
    if (imap) {
      MailFolder tracked = world.existingImapFolder("Tracked");
      assertThat(world.imapFolder("INBOX").getMessageCount()).as("INBOX after the post-actions").isZero();
      assertThat(tracked.getMessageCount()).as("moved to Tracked, each once").isEqualTo(MESSAGES);
    } else {
      // A crash after the checkpoint but before QUIT: POP3 never committed the deletions, and the
      // cursor is past the messages, so they stay on the server, read once, never offered again.
      int left = point == Point.AFTER_CHECKPOINT ? MESSAGES : 0;
      assertThat(world.pop3Count(left)).as("messages left on the POP3 server").isEqualTo(left);
    }
  }

  private int createdBy(String node) {
    return (int) world.events.stream().filter(t -> t.node().equals(node)).map(World.Tagged::event)
        .filter(e -> e instanceof RouterEvent.MessageTracked t && t.created()).count();
  }
}
