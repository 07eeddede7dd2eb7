package dev.emailrouter.pop3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * POP3 PIPELINING (RFC 2449): where CAPA offers it, RETR and TOP go out a window at a time and the
 * replies are matched in order; elsewhere the reader stays lock-step.
 */
final class Pop3PipeliningTest {
  private static final Instant CLOCK_START = Instant.parse("2030-01-01T00:00:00Z");

  private static MailboxReader reader(ScriptedPop3Server server, Consumer<Pop3MailboxReader.Builder> more) {
    Pop3MailboxReader.Builder builder = Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(server.port())
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password("sales", "secret"))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5));
    more.accept(builder);
    return builder.build();
  }

  private static ScriptedMaildrop maildrop(int count) {
    ScriptedMaildrop maildrop = new ScriptedMaildrop();
    for (int i = 1; i <= count; i++) {
      maildrop.add("uidl-" + i, TestMail.raw("m-" + i, "subject " + i, "body " + i));
    }
    return maildrop;
  }

  private static String text(RawMessage message) {
    return new String(TestMail.bytes(message), StandardCharsets.ISO_8859_1);
  }

  private static long commandsInOneRead(ScriptedPop3Server server, String verb) {
    return server.batches().stream()
        .mapToLong(batch -> batch.stream().filter(c -> c.startsWith(verb + " ")).count())
        .max().orElse(0);
  }

  @Test
  void session_whenServerOffersPipelining_sendsAWindowOfRetrsBeforeTheFirstReply_andMatchesRepliesInOrder()
      throws Exception {
    int count = 100; // more than one window, so the window is refilled while replies come in
    ScriptedMaildrop maildrop = maildrop(count).pipelining();
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop);
        MailboxReader.Session session = reader(server, b -> { }).open()) {
      NewMessages fresh = session.fetchNew("", Set.of(), count);
      assertThat(fresh.messages()).extracting(m -> m.first("subject").orElseThrow())
          .containsExactlyElementsOf(IntStream.rangeClosed(1, count).mapToObj(i -> "subject " + i).toList());
      List<RawMessage> downloaded = session.fetchMessages(fresh.messages().stream().map(MessageHeaders::ref).toList());

      assertThat(downloaded).hasSize(count);
      for (int i = 0; i < count; i++) {
        assertThat(downloaded.get(i).ref()).isEqualTo("uidl-" + (i + 1));
        assertThat(text(downloaded.get(i))).contains("Message-ID: <m-" + (i + 1) + "@example.test>")
            .endsWith("body " + (i + 1) + "\r\n");
      }
      assertThat(maildrop.retrs()).as("each message downloaded once").isEqualTo(count);
      assertThat(commandsInOneRead(server, "RETR")).as("RETRs that reached the server before it replied")
          .isGreaterThan(1).isLessThanOrEqualTo(Pop3Pipeline.WINDOW);
    }
  }

  @Test
  void session_whenServerDoesNotOfferPipelining_sendsOneCommandAtATime() throws Exception {
    ScriptedMaildrop maildrop = maildrop(10);
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop);
        MailboxReader.Session session = reader(server, b -> { }).open()) {
      NewMessages fresh = session.fetchNew("", Set.of(), 10);
      assertThat(session.fetchMessages(fresh.messages().stream().map(MessageHeaders::ref).toList()))
          .extracting(Pop3PipeliningTest::text)
          .allSatisfy(t -> assertThat(t).contains("Message-ID: <m-"));
      assertThat(server.batches()).allSatisfy(batch -> assertThat(batch).hasSize(1));
    }
  }

  @Test
  void session_whenLargeMessagesArePipelined_topsThenStreamsEachRetrWhole() throws Exception {
    String big = "x".repeat(998) + "\r\n";
    String bigBody = big.repeat(2100) + ".starts with a dot"; // about 2 MB, spooled to a temp file
    ScriptedMaildrop maildrop = maildrop(40).pipelining();
    maildrop.add("uidl-big", TestMail.raw("big", "big one", bigBody));
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop);
        MailboxReader.Session session = reader(server, b -> b.wholeMessageUpTo(0)).open()) {
      NewMessages fresh = session.fetchNew("", Set.of(), 100);
      assertThat(fresh.messages()).hasSize(41);
      assertThat(fresh.messages().get(40).first("subject")).contains("big one");
      assertThat(maildrop.retrs()).as("headers came from TOP").isZero();
      assertThat(commandsInOneRead(server, "TOP")).isGreaterThan(1);

      List<RawMessage> downloaded = session.fetchMessages(fresh.messages().stream().map(MessageHeaders::ref).toList());

      assertThat(commandsInOneRead(server, "RETR")).isGreaterThan(1);
      assertThat(downloaded).hasSize(41);
      assertThat(text(downloaded.get(39))).endsWith("body 40\r\n");
      assertThat(TestMail.bytes(downloaded.get(40)))
          .isEqualTo((TestMail.raw("big", "big one", bigBody) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }
  }

  @Test
  void session_whenDataLinesStartWithADot_undoesTheDotStuffing() throws Exception {
    String raw = TestMail.raw("dots", "dots", ".hidden\r\n.\r\n..two\r\nend");
    ScriptedMaildrop maildrop = new ScriptedMaildrop().pipelining().add("uidl-dots", raw);
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop);
        MailboxReader.Session session = reader(server, b -> { }).open()) {
      NewMessages fresh = session.fetchNew("", Set.of(), 10);
      assertThat(session.fetchMessages(List.of(fresh.messages().get(0).ref())))
          .extracting(TestMail::bytes)
          .containsExactly((raw + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }
  }

  @Test
  void session_whenAMessageIsFarLargerThanListSaid_keepsNoCopy_takesHeadersByTop_andStreamsItWhole()
      throws Exception {
    String body = ("y".repeat(998) + "\r\n").repeat(300); // about 300 KB, listed as 100 bytes
    ScriptedMaildrop maildrop = maildrop(3).pipelining();
    maildrop.add("uidl-lying", TestMail.raw("lying", "lying size", body));
    maildrop.understateSize(4);
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop);
        MailboxReader.Session session = reader(server, b -> { }).open()) {
      NewMessages fresh = session.fetchNew("", Set.of(), 10);

      assertThat(fresh.messages()).extracting(m -> m.first("subject").orElseThrow())
          .containsExactly("subject 1", "subject 2", "subject 3", "lying size");
      assertThat(server.commands()).contains("RETR 4", "TOP 4 0");
      List<RawMessage> downloaded = session.fetchMessages(List.of("uidl-3", "uidl-lying"));
      assertThat(text(downloaded.get(0))).endsWith("body 3\r\n");
      assertThat(TestMail.bytes(downloaded.get(1)))
          .isEqualTo((TestMail.raw("lying", "lying size", body) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }
  }

  @Test
  void session_whenOneRetrInTheWindowIsRefused_takesItsHeadersFromTop_andKeepsTheOtherRepliesInStep()
      throws Exception {
    ScriptedMaildrop maildrop = maildrop(5).pipelining().refuseRetr(3);
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop);
        MailboxReader.Session session = reader(server, b -> { }).open()) {
      NewMessages fresh = session.fetchNew("", Set.of(), 10);

      assertThat(fresh.messages()).extracting(m -> m.first("subject").orElseThrow())
          .containsExactly("subject 1", "subject 2", "subject 3", "subject 4", "subject 5");
      assertThat(server.commands()).contains("TOP 3 0");
      List<String> refs = fresh.messages().stream().map(MessageHeaders::ref).toList();
      assertThatThrownBy(() -> session.fetchMessages(refs))
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("refused to download message uidl-3 (-ERR [SYS/PERM] message 3 can't be read)");
      // The replies after the refused one were read off the connection: the session goes on in step.
      assertThat(session.fetchMessages(List.of("uidl-1", "uidl-2", "uidl-4", "uidl-5")))
          .extracting(m -> m.ref() + " " + text(m).contains("Message-ID: <m-" + m.ref().substring(5) + "@"))
          .containsExactly("uidl-1 true", "uidl-2 true", "uidl-4 true", "uidl-5 true");
    }
  }

  @Test
  void session_whenTheServerStallsMidWindow_failsTransientlyAfterTheReadTimeout_andTheNextSessionReadsAll()
      throws Exception {
    ScriptedMaildrop maildrop = maildrop(10).pipelining().hangAtRetr(4);
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop)) {
      MailboxReader reader = reader(server, b -> b.readTimeout(Duration.ofMillis(300)));
      try (MailboxReader.Session session = reader.open()) {
        assertThatThrownBy(() -> session.fetchNew("", Set.of(), 10))
            .isInstanceOf(TransientRouterException.class)
            .hasMessageContaining("timed out");
      } finally {
        maildrop.release();
      }
      try (MailboxReader.Session session = reader.open()) {
        assertThat(session.fetchNew("", Set.of(), 10).messages()).hasSize(10);
      }
    }
  }

  @Test
  void tick_withDeleteAfterProcessing_sendsRsetTheDelesAndQuitInOneWindow_afterTheStoreCommitted() throws Exception {
    int count = 20;
    ScriptedMaildrop maildrop = maildrop(count).pipelining();
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop)) {
      InMemoryActivityStore store = new InMemoryActivityStore();
      try (RouterEngine engine = engine(store, reader(server, b -> b.deleteAfterProcessing(true)), new MutableClock(CLOCK_START))) {
        engine.tick();
      }

      assertThat(store.received()).hasSize(count);
      assertThat(maildrop.size()).isZero();
      List<String> expected = new ArrayList<>(List.of("RSET"));
      IntStream.rangeClosed(1, count).forEach(i -> expected.add("DELE " + i));
      expected.add("QUIT");
      List<String> commands = server.commands();
      assertThat(commands.subList(commands.lastIndexOf("RSET"), commands.size())).containsExactlyElementsOf(expected);
      assertThat(commandsInOneRead(server, "DELE")).isGreaterThan(1);
    }
  }

  @Test
  void tick_whenTheConnectionDropsBeforeQuitAnswers_deletesThoseMessagesInTheNextSession() throws Exception {
    ScriptedMaildrop maildrop = maildrop(5).pipelining().dropAtQuit();
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop)) {
      InMemoryActivityStore store = new InMemoryActivityStore();
      MutableClock clock = new MutableClock(CLOCK_START);
      try (RouterEngine engine = engine(store, reader(server, b -> b.deleteAfterProcessing(true)), clock)) {
        engine.tick();
        assertThat(maildrop.size()).as("QUIT never answered: nothing deleted").isEqualTo(5);
        clock.advance(Duration.ofHours(1));
        engine.tick();
      }

      assertThat(maildrop.size()).isZero();
      assertThat(store.received()).hasSize(5);
    }
  }

  private static RouterEngine engine(InMemoryActivityStore store, MailboxReader reader, Clock clock) {
    return RouterEngine.builder()
        .activityStore(store)
        .mailbox(Mailbox.ofQueue("queue-1", reader))
        .trackingPolicy(TrackingPolicy.allEmail())
        .clock(clock)
        .build();
  }

  @Test
  void tick_whenTheConnectionDropsMidWindow_losesNothing_theUnansweredAreReadNextTick() throws Exception {
    int count = 40;
    ScriptedMaildrop maildrop = maildrop(count).pipelining().dropAtRetr(20);
    MutableClock clock = new MutableClock(CLOCK_START);
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop)) {
      InMemoryActivityStore store = new InMemoryActivityStore();
      try (RouterEngine engine = RouterEngine.builder()
          .activityStore(store)
          .mailbox(Mailbox.ofQueue("queue-1", reader(server, b -> { })))
          .trackingPolicy(TrackingPolicy.allEmail())
          .clock(clock)
          .build()) {
        engine.tick();
        assertThat(server.commands()).contains("RETR 20");
        assertThat(store.received()).hasSizeLessThan(count);
        clock.advance(Duration.ofHours(1)); // past the mailbox's back-off
        engine.tick();
      }

      assertThat(store.received()).extracting(ReceivedEmail::messageId)
          .containsExactlyInAnyOrderElementsOf(
              IntStream.rangeClosed(1, count).mapToObj(i -> "<m-" + i + "@example.test>").toList());
      assertThat(store.received()).allSatisfy(email ->
          assertThat(email.subject()).isEqualTo("subject " + email.messageId().replaceAll("\\D", "")));
    }
  }
}
