package dev.emailrouter.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A server that lists one UIDL for several messages (RFC 1939 forbids it; a damaged UIDL store does
 * it): every one of them is read, under refs that stay apart across sessions.
 */
final class Pop3DuplicateUidlTest {

  private static MailboxReader reader(ScriptedPop3Server server) {
    return Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(server.port())
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password("sales", "secret"))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5))
        .build();
  }

  private static ScriptedMaildrop maildropWithADuplicate() {
    return new ScriptedMaildrop()
        .add("dup-1", TestMail.raw("first", "first of the pair", "one"))
        .add("dup-1", TestMail.raw("second", "second of the pair", "two"))
        .add("uidl-3", TestMail.raw("third", "unique", "three"));
  }

  @Test
  void fetchNew_whenTwoMessagesShareAUidl_returnsBoth_withDistinctRefsThatStayTheSameNextSession() throws Exception {
    ScriptedMaildrop maildrop = maildropWithADuplicate();
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop)) {
      MailboxReader reader = reader(server);
      NewMessages first;
      try (MailboxReader.Session session = reader.open()) {
        first = session.fetchNew("", Set.of(), 10);
        assertThat(first.messages()).extracting(m -> m.first("subject").orElseThrow())
            .containsExactly("first of the pair", "second of the pair", "unique");
        List<String> refs = first.messages().stream().map(MessageHeaders::ref).toList();
        assertThat(refs).doesNotHaveDuplicates();
        assertThat(refs.get(0)).startsWith("dup-1 ");
        assertThat(refs.get(1)).startsWith("dup-1 ");
        assertThat(refs.get(2)).isEqualTo("uidl-3");
        assertThat(session.fetchMessages(refs.subList(0, 2))).extracting(m -> new String(TestMail.bytes(m),
            StandardCharsets.ISO_8859_1)).satisfiesExactly(
                one -> assertThat(one).contains("Message-ID: <first@example.test>").endsWith("one\r\n"),
                two -> assertThat(two).contains("Message-ID: <second@example.test>").endsWith("two\r\n"));
      }

      try (MailboxReader.Session session = reader.open()) {
        assertThat(session.fetchNew(first.cursor(), Set.of(), 10).messages()).isEmpty();
        NewMessages again = session.fetchNew("", Set.of(), 10);
        assertThat(again.messages()).extracting(MessageHeaders::ref)
            .containsExactlyElementsOf(first.messages().stream().map(MessageHeaders::ref).toList());
      }
    }
  }

  @Test
  void fetchNew_whenTheFirstOfAPairIsDeleted_theOtherStillUnfinishedIsReadAgain() throws Exception {
    ScriptedMaildrop maildrop = maildropWithADuplicate();
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop)) {
      MailboxReader reader = reader(server);
      NewMessages first;
      try (MailboxReader.Session session = reader.open()) {
        first = session.fetchNew("", Set.of(), 10);
      }
      String secondRef = first.messages().get(1).ref();
      maildrop.remove(1); // the first was handled and deleted; the second failed and waits for a retry

      try (MailboxReader.Session session = reader.open()) {
        // Had the refs been "the n-th message with this UIDL", the second would now hold the first's
        // ref, already in the cursor, and never be read again.
        assertThat(session.fetchNew(first.cursor(), Set.of(secondRef), 10).messages())
            .extracting(m -> m.first("subject").orElseThrow())
            .containsExactly("second of the pair");
      }
    }
  }

  @Test
  void tick_whenTwoMessagesShareAUidl_createsAnActivityForEach() throws Exception {
    ScriptedMaildrop maildrop = maildropWithADuplicate();
    try (ScriptedPop3Server server = new ScriptedPop3Server(maildrop)) {
      InMemoryActivityStore store = new InMemoryActivityStore();
      try (RouterEngine engine = RouterEngine.builder()
          .activityStore(store)
          .mailbox(Mailbox.ofQueue("queue-1", reader(server)))
          .trackingPolicy(TrackingPolicy.allEmail())
          .clock(Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC))
          .build()) {
        engine.tick();
        engine.tick();
      }

      assertThat(store.received()).extracting(ReceivedEmail::messageId)
          .containsExactlyInAnyOrder("<first@example.test>", "<second@example.test>", "<third@example.test>");
    }
  }
}
