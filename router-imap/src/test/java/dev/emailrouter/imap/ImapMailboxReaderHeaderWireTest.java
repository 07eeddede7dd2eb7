package dev.emailrouter.imap;

import static dev.emailrouter.imap.TestMailboxes.simple;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.TransientRouterException;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The header stage reads the answers to its {@code UID FETCH} itself (not through Angus's response
 * objects): what a server may send there, in any order and among other untagged responses, and what
 * a broken or hostile one sends, at the wire.
 */
final class ImapMailboxReaderHeaderWireTest {

  private static final String SECTION = "BODY[HEADER.FIELDS (SUBJECT)]";
  private ScriptedImapServer server;

  @BeforeEach
  void setUp() throws IOException {
    server = new ScriptedImapServer();
    server.skipUidsBelow(11); // UIDs 11..15 at sequence numbers 1..5
    for (int i = 1; i <= 5; i++) {
      server.append(simple(i));
    }
  }

  @AfterEach
  void tearDown() throws IOException {
    server.close();
  }

  private MailboxReader.Session open() {
    return TestMailboxes.reader(server.port()).build().open();
  }

  private static String literal(String text) {
    return "{" + text.length() + "}\r\n" + text;
  }

  @Test
  void fetchNew_whenItemsComeInAnyOrderAndHeadersAsQuotedStringOrNil_readsEachMessage() {
    server.answerHeadersOf(12, "* 2 FETCH (" + SECTION + " " + literal("Subject: second\r\n\r\n")
        + " INTERNALDATE \" 2-Mar-2024 10:30:00 -0130\" FLAGS (\\Seen) RFC822.SIZE 321 UID 12)\r\n");
    server.answerHeadersOf(13, "* 3 FETCH (UID 13 RFC822.SIZE 10 " + SECTION + " \"Subject: quoted\")\r\n");
    server.answerHeadersOf(14, "* 4 FETCH (uid 14 body[header.fields (subject)] NIL rfc822.size 0)\r\n");
    // one message's items split over two responses, as RFC 3501 allows
    server.answerHeadersOf(15, "* 5 FETCH (UID 15 RFC822.SIZE 55)\r\n* 5 FETCH (UID 15 " + SECTION + " "
        + literal("Subject: split\r\n\r\n") + ")\r\n");

    try (MailboxReader.Session session = open()) {
      NewMessages found = session.fetchNew("", Set.of(), 100);

      assertThat(found.messages()).extracting(MessageHeaders::ref).containsExactly("11", "12", "13", "14", "15");
      MessageHeaders second = found.messages().get(1);
      assertThat(second.headers().get("subject")).containsExactly("second");
      assertThat(second.size()).isEqualTo(321);
      assertThat(second.receivedAt()).isEqualTo(Instant.parse("2024-03-02T12:00:00Z"));
      assertThat(found.messages().get(2).headers().get("subject")).containsExactly("quoted");
      assertThat(found.messages().get(3).headers()).isEmpty();
      assertThat(found.messages().get(4).headers().get("subject")).containsExactly("split");
      assertThat(found.messages().get(4).size()).isEqualTo(55);
      assertThat(found.messages().get(0).receivedAt()).isEqualTo(Instant.parse("2024-03-01T09:00:00Z"));
    }
  }

  @Test
  void fetchNew_whenOtherUntaggedResponsesComeAmidTheAnswer_readsEveryMessage_looksForTheNewMail_andTheConnectionServesOn() {
    server.during("HEADER.FIELDS", (uid, answer) -> {
      if (uid == 13) {
        answer.untagged("* 6 EXISTS\r\n* 1 RECENT\r\n* OK [HIGHESTMODSEQ 9] still here\r\n"
            + "* FLAGS (\\Answered \\Seen $Forwarded)\r\n* 1 FETCH (FLAGS (\\Seen) MODSEQ (9))\r\n"
            + "* 2 FETCH (UID 12 FLAGS (\\Seen \\Flagged) X-GM-LABELS (\"a b\" {3}\r\nc d))\r\n");
      }
    });

    try (MailboxReader.Session session = open()) {
      NewMessages first = session.fetchNew("", Set.of(), 100);
      NewMessages second = session.fetchNew(first.cursor(), Set.of(), 100);
      List<RawMessage> downloaded = session.fetchMessages(List.of("13"));

      assertThat(first.messages()).extracting(MessageHeaders::ref).containsExactly("11", "12", "13", "14", "15");
      assertThat(first.messages()).extracting(m -> m.headers().get("subject").get(0))
          .containsExactly("message 1", "message 2", "message 3", "message 4", "message 5");
      assertThat(second.messages()).isEmpty();
      assertThat(server.commands()).as("the EXISTS amid the answer reached the reader's watch")
          .contains("UID SEARCH UID 16:*");
      assertThat(TestMailboxes.subject(downloaded.get(0))).isEqualTo("message 3");
    }
  }

  @Test
  void fetchNew_handsEachMessageEarly_onceItsSizeDateAndHeadersCame_asTheAnswerHoldsIt() {
    // one message answered three times (a broken server): handed once
    String twelve = "* 2 FETCH (UID 12 RFC822.SIZE 12 INTERNALDATE \" 2-Mar-2024 10:30:00 +0000\" " + SECTION + " "
        + literal("Subject: twelve\r\n\r\n") + ")\r\n";
    server.answerHeadersOf(12, twelve + twelve + twelve);
    // one message's items split over two responses: handed once both came, not before
    server.answerHeadersOf(15, "* 5 FETCH (UID 15 " + SECTION + " " + literal("Subject: split\r\n\r\n")
        + ")\r\n* 5 FETCH (UID 15 RFC822.SIZE 55 INTERNALDATE \" 2-Mar-2024 10:30:00 +0000\")\r\n");
    List<MessageHeaders> early = new java.util.ArrayList<>();

    try (MailboxReader.Session session = open()) {
      NewMessages found = session.fetchNew("", Set.of(), 100, early::add);

      assertThat(early).extracting(MessageHeaders::ref).containsExactly("11", "12", "13", "14", "15");
      assertThat(early).containsExactlyElementsOf(found.messages());
      assertThat(early.get(4).size()).isEqualTo(55);
      assertThat(early.get(4).headers().get("subject")).containsExactly("split");
    }
  }

  @Test
  void fetchNew_whenTheSearchAnswerComesInPiecesOutOfOrderAmidOtherResponses_readsEveryMessageInUidOrder() {
    // Two SEARCH lines (any case, numbers in any order, a MODSEQ after them), a flag change, an EXISTS
    server.answerNextSearchWith("* 3 FETCH (FLAGS (\\Seen))\r\n* SEARCH 15 13\r\n* 6 EXISTS\r\n"
        + "* search 11 12 14 (MODSEQ 9)\r\n* SEARCH\r\n");

    try (MailboxReader.Session session = open()) {
      NewMessages first = session.fetchNew("", Set.of(), 100);
      NewMessages second = session.fetchNew(first.cursor(), Set.of(), 100);

      assertThat(first.messages()).extracting(MessageHeaders::ref).containsExactly("11", "12", "13", "14", "15");
      assertThat(second.messages()).isEmpty();
      assertThat(server.commands()).as("the EXISTS amid the SEARCH answer reached the reader's watch")
          .contains("UID SEARCH UID 16:*");
    }
  }

  @Test
  void fetchNew_whenTheServerSendsASearchAnswerBeyondTheBound_dropsThatConnection_andAsksAgainOnANewOne() {
    // A broken or hostile server's endless SEARCH line: read up to the bound, not until the heap is gone;
    // the connection is closed, and the session asks again on a new one (this server answers right then)
    int uids = AuthenticatingProtocol.MAX_SEARCH_RESPONSE / 2 + 1024;
    server.answerNextSearchWith("* SEARCH" + " 1".repeat(uids) + "\r\n");

    try (MailboxReader.Session session = open()) {
      NewMessages found = session.fetchNew("", Set.of(), 100);

      assertThat(found.messages()).extracting(MessageHeaders::ref).containsExactly("11", "12", "13", "14", "15");
      assertThat(server.commands()).filteredOn(c -> c.startsWith("UID SEARCH UID 1:*")).hasSize(2);
      assertThat(server.commands()).filteredOn(c -> c.startsWith("SELECT")).hasSize(2);
    }
  }

  @Test
  void fetchNew_whenAFetchResponseIsMalformed_failsTransientWithoutSkippingTheMessage() {
    // A literal longer than an int: Angus's framing takes the line for the whole response, so the
    // literal's bytes never came; the message exists, so it must not be taken for gone.
    server.answerHeadersOf(12, "* 2 FETCH (UID 12 " + SECTION + " {99999999999}\r\n");
    server.answerHeadersOf(13, "* 3 FETCH (UID 13 " + SECTION + " " + literal("Subject: x\r\n\r\n") + "\r\n");

    try (MailboxReader.Session session = open()) {
      assertThatThrownBy(() -> session.fetchNew("", Set.of(), 100))
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining("UIDs 12:13")
          .hasMessageContaining("nothing was skipped");
    }
  }

  @Test
  void fetchNew_whenTheConnectionDropsInsideAHeaderLiteral_failsTransient() {
    server.endHeaderAnswersWith("* 9 FETCH (UID 99 " + SECTION + " {500}\r\nSubject: cut sho");

    try (MailboxReader.Session session = open()) {
      assertThatThrownBy(() -> session.fetchNew("", Set.of(), 100)).isInstanceOf(TransientRouterException.class);
    }
  }

  @Test
  void fetchNew_whenTheServerAnnouncesAHugeLiteral_failsTransientBeforeAllocatingIt() {
    // Angus's framing would grow its buffer to the 2 GB announced before reading a byte of it.
    server.endHeaderAnswersWith("* 9 FETCH (UID 99 " + SECTION + " {2000000000}\r\nSubject: huge");

    try (MailboxReader.Session session = open()) {
      assertThatThrownBy(() -> session.fetchNew("", Set.of(), 100))
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining("announced a response to UID FETCH of more than 16777216 bytes");
    }
  }

  @Test
  void fetchNew_whenTheServerSaysByeAmidTheAnswer_failsTransient() {
    server.endHeaderAnswersWith("* BYE shutting down\r\n");

    try (MailboxReader.Session session = open()) {
      assertThatThrownBy(() -> session.fetchNew("", Set.of(), 100)).isInstanceOf(TransientRouterException.class);
    }
  }

  @Test
  void fetchNew_whenTheServerAnswersNo_failsTransient() {
    server.endHeaderAnswersWith("{tag} NO [SERVERBUG] try later\r\n");

    try (MailboxReader.Session session = open()) {
      assertThatThrownBy(() -> session.fetchNew("", Set.of(), 100)).isInstanceOf(TransientRouterException.class);
    }
  }

  @Test
  void fetchNew_whenTheServerAnswersBad_fails() {
    server.endHeaderAnswersWith("{tag} BAD unknown item\r\n");

    try (MailboxReader.Session session = open()) {
      assertThatThrownBy(() -> session.fetchNew("", Set.of(), 100)).isInstanceOf(RuntimeException.class)
          .hasMessageContaining("127.0.0.1");
    }
  }
}
