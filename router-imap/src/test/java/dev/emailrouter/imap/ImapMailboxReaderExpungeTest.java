package dev.emailrouter.imap;

import static dev.emailrouter.imap.TestMailboxes.simple;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Another client expunges, moves and flags messages while the reader's UID FETCH is being answered:
 * the server's EXPUNGE amid the answer renumbers the messages after it (RFC 3501 7.4.1), and
 * unsolicited FETCH responses carry the flag changes. Every live message must come back once, under
 * its own UID and with its own content.
 */
final class ImapMailboxReaderExpungeTest {

  private ScriptedImapServer server;
  /** Message number (its subject says "message n") by UID. */
  private final Map<Long, Integer> numbers = new TreeMap<>();

  @BeforeEach
  void setUp() throws IOException {
    server = new ScriptedImapServer();
    server.skipUidsBelow(11); // UIDs 11..15 at sequence numbers 1..5: the two never agree
    for (int i = 1; i <= 5; i++) {
      numbers.put(server.append(simple(i)), i);
    }
  }

  @AfterEach
  void tearDown() throws IOException {
    server.close();
  }

  private MailboxReader scriptedReader() {
    return TestMailboxes.reader(server.port()).build();
  }

  @Test
  void fetchNew_whenAnEarlierMessageIsExpungedAmidTheAnswer_returnsEveryLiveMessageOnceAndTheCursorSkipsNone() {
    // After UID 13 (sequence 3) was answered, another client expunges UID 12 (sequence 2) and flags
    // UID 13, now sequence 2; UID 14 is then answered as sequence 3, the number UID 13 had.
    server.during("HEADER.FIELDS", (uid, answer) -> {
      if (uid == 14) {
        answer.expunge(12);
        answer.flagged(13, "\\Seen \\Flagged");
      }
    });

    try (MailboxReader.Session session = scriptedReader().open()) {
      NewMessages found = session.fetchNew("", Set.of(), 100);

      assertThat(found.messages()).extracting(MessageHeaders::ref).containsExactly("11", "12", "13", "14", "15");
      for (MessageHeaders m : found.messages()) {
        assertThat(m.headers().get("subject")).as("subject of UID %s", m.ref())
            .containsExactly("message " + numbers.get(Long.parseLong(m.ref())));
      }
      assertThat(ImapCursor.parse(found.cursor()).lastUid()).isEqualTo(15);
    }
  }

  @Test
  void fetchMessages_whenMessagesAreMovedAndFlaggedAmidTheAnswer_returnsEveryLiveMessageWithItsOwnContent() {
    try (MailboxReader.Session session = scriptedReader().open()) {
      session.fetchNew("", Set.of(), 100);
      // Between the header stage and the download, UID 12 goes; amid the download, after UID 13
      // (sequence 2) was answered, UID 11 is moved away (sequence 1) and UID 14, now sequence 2,
      // flagged: UID 14's answer then carries the number UID 13's had.
      server.during("BODY.PEEK[]", (uid, answer) -> {
        if (uid == 12) {
          answer.expunge(12);
        } else if (uid == 14) {
          answer.expunge(11);
          answer.flagged(14, "\\Flagged");
          answer.flaggedWithUid(15, "\\Seen");
        }
      });

      List<RawMessage> downloaded = session.fetchMessages(List.of("11", "12", "13", "14", "15"));

      assertThat(downloaded).extracting(RawMessage::ref).containsExactly("11", "13", "14", "15");
      for (RawMessage m : downloaded) {
        assertThat(TestMailboxes.subject(m)).as("content of UID %s", m.ref())
            .isEqualTo("message " + numbers.get(Long.parseLong(m.ref())));
      }
    }
  }

  @Test
  void tick_whenMessagesGoAmidTheAnswers_tracksEveryLiveMessageOnce_andReportsOnlyTheGoneOneGone() {
    // Header stage: after UIDs 11 to 13 were answered, UID 12 is expunged, so UID 14 is answered as
    // sequence 3, the number UID 13 had; UID 12 is gone by the download.
    server.during("HEADER.FIELDS", (uid, answer) -> {
      if (uid == 14) {
        answer.expunge(12);
        answer.flagged(15, "\\Seen");
      }
    });
    // Download, UIDs 11, 13, 14, 15 at sequence numbers 1 to 4: after 11 and 13 were answered,
    // 11 is moved away and 14 expunged, so 15 is answered as sequence 2, the number 13 had.
    server.during("BODY.PEEK[]", (uid, answer) -> {
      if (uid == 14) {
        answer.expunge(11);
        answer.expunge(14);
      }
    });
    InMemoryActivityStore crm = new InMemoryActivityStore();
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .mailbox(Mailbox.ofQueue("queue", scriptedReader())).trackingPolicy(TrackingPolicy.allEmail()).build()) {

      TickReport first = engine.tick();
      TickReport second = engine.tick();

      assertThat(first.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly("11", "13", "15");
      assertThat(first.events()).filteredOn(RouterEvent.MessageGone.class::isInstance)
          .extracting(e -> ((RouterEvent.MessageGone) e).ref()).containsExactlyInAnyOrder("12", "14");
      assertThat(first.problems()).allMatch(RouterEvent.MessageGone.class::isInstance);
      assertThat(crm.received()).extracting(ReceivedEmail::subject)
          .containsExactlyInAnyOrder("message 1", "message 3", "message 5");
      assertThat(second.events()).as("nothing left behind the cursor").isEmpty();
    }
  }

  @Test
  void fetchNew_whenTheServerAnswersWithoutTheUid_failsTransientRatherThanSkippingTheMessage() {
    server.answerWithoutUid(13);

    try (MailboxReader.Session session = scriptedReader().open()) {
      assertThatThrownBy(() -> session.fetchNew("", Set.of(), 100))
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining("UIDs 13")
          .hasMessageContaining("nothing was skipped");
    }
  }

  @Test
  void fetchMessages_whenTheServerAnswersWithoutTheUid_failsTransientRatherThanReportingTheMessageGone() {
    try (MailboxReader.Session session = scriptedReader().open()) {
      session.fetchNew("", Set.of(), 100);
      server.answerWithoutUid(14);

      assertThatThrownBy(() -> session.fetchMessages(List.of("13", "14")))
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining("UIDs 14");
    }
  }
}
