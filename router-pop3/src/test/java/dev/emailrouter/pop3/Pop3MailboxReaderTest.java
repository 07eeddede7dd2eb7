package dev.emailrouter.pop3;

import static dev.emailrouter.pop3.TestMail.bytes;
import static dev.emailrouter.pop3.TestMail.deliver;
import static dev.emailrouter.pop3.TestMail.raw;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.Security;
import dev.emailrouter.testfixtures.Loopback;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class Pop3MailboxReaderTest {

  @RegisterExtension
  static final GreenMailExtension greenMail =
      new GreenMailExtension(Loopback.setup(ServerSetup.PROTOCOL_POP3));

  private GreenMailUser user;

  @BeforeEach
  void createUser() {
    user = greenMail.setUser("sales@example.test", "sales", "secret");
  }

  private int port() {
    return greenMail.getPop3().getPort();
  }

  private Pop3MailboxReader.Builder builder(int port) {
    return Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password("sales", "secret"))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5))
        .writeTimeout(Duration.ofSeconds(5));
  }

  private MailboxReader reader() {
    return builder(port()).build();
  }

  private NewMessages fetchNew(MailboxReader reader, String cursor, Set<String> retry, int max) {
    try (MailboxReader.Session session = reader.open()) {
      return session.fetchNew(cursor, retry, max);
    }
  }

  private static List<String> subjects(NewMessages found) {
    return found.messages().stream().map(m -> m.first("subject").orElseThrow()).toList();
  }

  private static List<String> refs(NewMessages found) {
    return found.messages().stream().map(MessageHeaders::ref).toList();
  }

  @Test
  void fetchNew_onFirstSync_returnsAllMessagesWithHeadersAndSizes() {
    String first = raw("m1", "first", "hello\r\n");
    String second = raw("m2", "=?UTF-8?Q?caf=C3=A9?=", "second body\r\n");
    deliver(user, first);
    deliver(user, second);

    NewMessages found = fetchNew(reader(), "", Set.of(), 10);

    assertThat(found.reset()).isFalse();
    assertThat(found.more()).isFalse();
    assertThat(subjects(found)).containsExactly("first", "=?UTF-8?Q?caf=C3=A9?=");
    MessageHeaders headers = found.messages().get(0);
    assertThat(headers.first("message-id")).contains("<m1@example.test>");
    assertThat(headers.first("From")).contains("Alice <alice@example.test>");
    assertThat(headers.first("in-reply-to")).contains("<crm-1@crm.example.test>");
    assertThat(headers.all("received")).hasSize(2);
    // The size is what LIST says. GreenMail's LIST counts only the body ("hello\r\n"), where RFC 1939
    // and real servers count the whole message; the reader passes LIST through either way.
    assertThat(headers.size()).isEqualTo("hello\r\n".length());
    assertThat(found.messages().get(1).size()).isEqualTo("second body\r\n".length());
    assertThat(headers.receivedAt()).isEqualTo(Instant.parse("2025-10-07T10:00:05Z"));
    assertThat(refs(found)).doesNotHaveDuplicates().allSatisfy(ref -> assertThat(ref).isNotBlank());
    assertThat(found.cursor()).startsWith("v1:");
  }

  @Test
  void fetchNew_withReturnedCursor_returnsNothing() {
    deliver(user, raw("m1", "first", "hello\r\n"));
    MailboxReader reader = reader();
    NewMessages first = fetchNew(reader, "", Set.of(), 10);

    NewMessages second = fetchNew(reader, first.cursor(), Set.of(), 10);

    assertThat(second.messages()).isEmpty();
    assertThat(second.more()).isFalse();
    assertThat(second.cursor()).isEqualTo(first.cursor());
  }

  @Test
  void fetchNew_afterNewMail_returnsOnlyTheNewMessages() {
    deliver(user, raw("m1", "first", "hello\r\n"));
    MailboxReader reader = reader();
    NewMessages first = fetchNew(reader, "", Set.of(), 10);
    deliver(user, raw("m2", "second", "hello\r\n"));
    deliver(user, raw("m3", "third", "hello\r\n"));

    NewMessages second = fetchNew(reader, first.cursor(), Set.of(), 10);

    assertThat(subjects(second)).containsExactly("second", "third");
    assertThat(fetchNew(reader, second.cursor(), Set.of(), 10).messages()).isEmpty();
  }

  @Test
  void fetchNew_withMax_returnsOldestFirstAndSaysMore() {
    for (int i = 1; i <= 5; i++) {
      deliver(user, raw("m" + i, "message " + i, "hello\r\n"));
    }
    MailboxReader reader = reader();

    NewMessages first = fetchNew(reader, "", Set.of(), 2);
    NewMessages second = fetchNew(reader, first.cursor(), Set.of(), 2);
    NewMessages third = fetchNew(reader, second.cursor(), Set.of(), 2);

    assertThat(subjects(first)).containsExactly("message 1", "message 2");
    assertThat(first.more()).isTrue();
    assertThat(subjects(second)).containsExactly("message 3", "message 4");
    assertThat(second.more()).isTrue();
    assertThat(subjects(third)).containsExactly("message 5");
    assertThat(third.more()).isFalse();
  }

  @Test
  void fetchNew_withMaxZero_returnsOnlyRetriesAndSaysMore() {
    deliver(user, raw("m1", "first", "hello\r\n"));
    MailboxReader reader = reader();

    NewMessages found = fetchNew(reader, "", Set.of(), 0);

    assertThat(found.messages()).isEmpty();
    assertThat(found.more()).isTrue();
    assertThat(fetchNew(reader, found.cursor(), Set.of(), 10).messages()).hasSize(1);
  }

  @Test
  void fetchNew_afterAnotherClientDeletedMessages_prunesTheCursor() throws Exception {
    for (int i = 1; i <= 3; i++) {
      deliver(user, raw("m" + i, "message " + i, "hello\r\n"));
    }
    MailboxReader reader = reader();
    NewMessages all = fetchNew(reader, "", Set.of(), 10);
    List<String> refs = refs(all);
    assertThat(Pop3Cursor.decode(all.cursor())).containsExactlyInAnyOrderElementsOf(refs);

    deleteWithAnotherClient("message 1", "message 3");
    NewMessages after = fetchNew(reader, all.cursor(), Set.of(), 10);

    assertThat(after.messages()).isEmpty();
    assertThat(Pop3Cursor.decode(after.cursor())).containsExactly(refs.get(1));
  }

  @Test
  void fetchNew_withRetryRefs_returnsThemAgainInServerOrderAndDropsMissingOnes() {
    for (int i = 1; i <= 3; i++) {
      deliver(user, raw("m" + i, "message " + i, "hello\r\n"));
    }
    MailboxReader reader = reader();
    NewMessages all = fetchNew(reader, "", Set.of(), 10);
    deliver(user, raw("m4", "message 4", "hello\r\n"));

    NewMessages again = fetchNew(reader, all.cursor(),
        Set.of(refs(all).get(2), refs(all).get(0), "no-such-uidl"), 10);

    assertThat(subjects(again)).containsExactly("message 1", "message 3", "message 4");
    assertThat(Pop3Cursor.decode(again.cursor())).hasSize(4).doesNotContain("no-such-uidl");
  }

  @Test
  void fetchNew_withCursorFromElsewhere_throwsPermanentNamingTheMailbox() {
    MailboxReader reader = reader();
    try (MailboxReader.Session session = reader.open()) {
      assertThatThrownBy(() -> session.fetchNew("imap:12345:77", Set.of(), 10))
          .isInstanceOf(dev.emailrouter.api.PermanentRouterException.class)
          .hasMessageContaining(reader.describe())
          .hasMessageContaining("reset this mailbox's checkpoint");
    }
  }

  @Test
  void fetchNew_forLargeMessages_downloadsOnlyHeaders_withOneUidlAndOneTopPerMessage() throws Exception {
    String body = "x".repeat(70) + "\r\n";
    for (int i = 1; i <= 3; i++) {
      deliver(user, raw("m" + i, "message " + i, body.repeat(4_000))); // about 290 KB each, over 256 KiB
    }
    try (Pop3Proxy proxy = new Pop3Proxy(port())) {
      MailboxReader reader = builder(proxy.port()).build();
      NewMessages found;
      try (MailboxReader.Session session = reader.open()) {
        proxy.reset();
        found = session.fetchNew("", Set.of(), 10);

        assertThat(found.messages()).hasSize(3);
        assertThat(proxy.commands("UIDL")).containsExactly("UIDL");
        assertThat(proxy.commands("TOP")).containsExactly("TOP 1 0", "TOP 2 0", "TOP 3 0");
        assertThat(proxy.commands("LIST")).containsExactly("LIST");
        assertThat(proxy.commands("RETR")).isEmpty();
        assertThat(proxy.serverBytes()).isLessThan(10_000);

        List<RawMessage> messages = session.fetchMessages(List.of(refs(found).get(1)));
        assertThat(messages).hasSize(1);
        assertThat(proxy.commands("RETR")).containsExactly("RETR 2");
      }
    }
  }

  @Test
  void fetchNew_forSmallMessages_retrievesEachOnce_andTheDownloadSendsNothingMore() throws Exception {
    for (int i = 1; i <= 3; i++) {
      deliver(user, raw("m" + i, "message " + i, "small body " + i + "\r\n"));
    }
    try (Pop3Proxy proxy = new Pop3Proxy(port())) {
      MailboxReader reader = builder(proxy.port()).build();
      try (MailboxReader.Session session = reader.open()) {
        proxy.reset();
        NewMessages found = session.fetchNew("", Set.of(), 10);

        assertThat(found.messages()).hasSize(3);
        assertThat(found.messages().get(1).first("subject")).contains("message 2");
        assertThat(proxy.commands("TOP")).isEmpty();
        assertThat(proxy.commands("RETR")).containsExactly("RETR 1", "RETR 2", "RETR 3");

        List<RawMessage> messages = session.fetchMessages(List.of(refs(found).get(1), refs(found).get(2)));
        assertThat(messages).hasSize(2);
        assertThat(new String(messages.get(0).content().open().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8))
            .contains("Subject: message 2").contains("small body 2");
        assertThat(proxy.commands("RETR")).hasSize(3); // nothing downloaded twice
      }
    }
  }

  @Test
  void fetchNew_whenNothingIsNew_sendsNoTopListOrRetr() throws Exception {
    deliver(user, raw("m1", "first", "hello\r\n"));
    try (Pop3Proxy proxy = new Pop3Proxy(port())) {
      MailboxReader reader = builder(proxy.port()).build();
      String cursor = fetchNew(reader, "", Set.of(), 10).cursor();
      proxy.reset();

      assertThat(fetchNew(reader, cursor, Set.of(), 10).messages()).isEmpty();

      List<String> verbs = proxy.commands().stream().map(c -> c.split(" ")[0]).toList();
      assertThat(verbs).doesNotContain("TOP", "LIST", "RETR").contains("UIDL", "QUIT");
    }
  }

  @Test
  void fetchMessages_returnsTheExactBytesTheServerHolds() throws Exception {
    // a body line starting with a dot is dot-stuffed on the wire and must come back unstuffed
    String raw = raw("m1", "exact", "line one\r\n.leading dot\r\n..two dots\r\n\r\nlast line\r\n");
    deliver(user, raw);
    MailboxReader reader = reader();
    try (MailboxReader.Session session = reader.open()) {
      NewMessages found = session.fetchNew("", Set.of(), 10);

      List<RawMessage> messages = session.fetchMessages(refs(found));

      assertThat(messages).hasSize(1);
      RawMessage message = messages.get(0);
      assertThat(message.ref()).isEqualTo(refs(found).get(0));
      byte[] bytes = bytes(message);
      assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).isEqualTo(raw);
      assertThat(message.size()).isEqualTo(bytes.length);
      MimeMessage parsed = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(bytes));
      assertThat(parsed.getMessageID()).isEqualTo("<m1@example.test>");
      assertThat(parsed.getContent()).isEqualTo("line one\r\n.leading dot\r\n..two dots\r\n\r\nlast line\r\n");
      assertThat(bytes(message)).isEqualTo(bytes); // a source opens again from the start
    }
  }

  @Test
  void fetchMessages_largeMessage_isSpooledToATempFileDeletedAtClose() throws Exception {
    StringBuilder body = new StringBuilder();
    for (int i = 0; body.length() < 3 * 1024 * 1024; i++) {
      body.append("line ").append(i).append(' ').append("y".repeat(60)).append("\r\n");
    }
    String large = raw("big", "large", body.toString());
    String small = raw("small", "small", "tiny\r\n");
    deliver(user, large);
    deliver(user, small);
    MailboxReader reader = reader();
    List<RawMessage> messages;
    try (MailboxReader.Session session = reader.open()) {
      NewMessages found = session.fetchNew("", Set.of(), 10);
      messages = session.fetchMessages(refs(found));

      assertThat(messages).hasSize(2);
      assertThat(bytes(messages.get(0))).isEqualTo(large.getBytes(StandardCharsets.ISO_8859_1));
      assertThat(messages.get(0).size()).isEqualTo(large.length());
      assertThat(bytes(messages.get(1))).isEqualTo(small.getBytes(StandardCharsets.ISO_8859_1));
    }
    // the large one lived in a temp file, gone with the session; the small one in memory
    assertThatThrownBy(() -> messages.get(0).content().open()).isInstanceOf(IOException.class);
    assertThat(bytes(messages.get(1))).isEqualTo(small.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void fetchMessages_withUnknownRef_leavesItOut() {
    deliver(user, raw("m1", "first", "hello\r\n"));
    try (MailboxReader.Session session = reader().open()) {
      String ref = refs(session.fetchNew("", Set.of(), 10)).get(0);

      List<RawMessage> messages = session.fetchMessages(List.of("no-such-uidl", ref));

      assertThat(messages).extracting(RawMessage::ref).containsExactly(ref);
    }
  }

  @Test
  void dispose_whenDeletingAfterProcessing_deletesTrackedOnlyAndOnlyAtClose() throws Exception {
    for (String name : List.of("tracked", "rejected", "quarantined", "untouched")) {
      deliver(user, raw(name, name, "hello\r\n"));
    }
    MailboxReader reader = builder(port()).deleteAfterProcessing(true).build();
    try (MailboxReader.Session session = reader.open()) {
      NewMessages found = session.fetchNew("", Set.of(), 10);
      Map<String, String> bySubject = found.messages().stream()
          .collect(Collectors.toMap(m -> m.first("subject").orElseThrow(), MessageHeaders::ref));

      session.dispose(Map.of(
          bySubject.get("tracked"), Disposition.TRACKED,
          bySubject.get("rejected"), Disposition.REJECTED,
          bySubject.get("quarantined"), Disposition.QUARANTINED));

      assertThat(subjectsOnServer()).hasSize(4); // nothing happens before QUIT
    }
    assertThat(subjectsOnServer()).containsExactlyInAnyOrder("rejected", "quarantined", "untouched");
  }

  @Test
  void dispose_withDeleteRejected_deletesRejectedButNeverQuarantined() throws Exception {
    for (String name : List.of("tracked", "rejected", "quarantined")) {
      deliver(user, raw(name, name, "hello\r\n"));
    }
    MailboxReader reader = builder(port()).deleteAfterProcessing(true).deleteRejected(true).build();
    try (MailboxReader.Session session = reader.open()) {
      List<String> refs = refs(session.fetchNew("", Set.of(), 10));
      session.dispose(Map.of(refs.get(0), Disposition.TRACKED, refs.get(1), Disposition.REJECTED,
          refs.get(2), Disposition.QUARANTINED));
    }
    assertThat(subjectsOnServer()).containsExactly("quarantined");
  }

  @Test
  void dispose_withoutDeleteAfterProcessing_deletesNothing() throws Exception {
    deliver(user, raw("m1", "tracked", "hello\r\n"));
    deliver(user, raw("m2", "rejected", "hello\r\n"));
    try (MailboxReader.Session session = reader().open()) {
      List<String> refs = refs(session.fetchNew("", Set.of(), 10));
      session.dispose(Map.of(refs.get(0), Disposition.TRACKED, refs.get(1), Disposition.REJECTED));
    }
    assertThat(subjectsOnServer()).containsExactly("tracked", "rejected");
  }

  @Test
  void close_whenConnectionDropsBeforeQuit_keepsTheMessageAndTheNextSessionDeletesIt() throws Exception {
    deliver(user, raw("m1", "tracked", "hello\r\n"));
    deliver(user, raw("m2", "kept", "hello\r\n"));
    try (Pop3Proxy proxy = new Pop3Proxy(port())) {
      MailboxReader reader = builder(proxy.port()).deleteAfterProcessing(true).build();
      NewMessages found;
      try (MailboxReader.Session session = reader.open()) {
        found = session.fetchNew("", Set.of(), 10);
        session.dispose(Map.of(refs(found).get(0), Disposition.TRACKED));
        proxy.cutConnections();
      } // close() must not throw
      assertThat(subjectsOnServer()).containsExactly("tracked", "kept");

      NewMessages next = fetchNew(reader, found.cursor(), Set.of(), 10);

      assertThat(next.messages()).isEmpty(); // already handled: not offered again
      assertThat(subjectsOnServer()).containsExactly("kept");
    }
  }

  @Test
  void fetchNew_whenConnectionDrops_throwsTransient() throws Exception {
    deliver(user, raw("m1", "first", "hello\r\n"));
    try (Pop3Proxy proxy = new Pop3Proxy(port())) {
      MailboxReader reader = builder(proxy.port()).build();
      try (MailboxReader.Session session = reader.open()) {
        proxy.cutConnections();

        assertThatThrownBy(() -> session.fetchNew("", Set.of(), 10))
            .isInstanceOf(dev.emailrouter.api.TransientRouterException.class)
            .hasMessageContaining(reader.describe());
      }
    }
  }

  private void deleteWithAnotherClient(String... subjects) throws Exception {
    Set<String> doomed = Set.of(subjects);
    Store store = greenMail.getPop3().createStore();
    store.connect("sales", "secret");
    try {
      Folder inbox = store.getFolder("INBOX");
      inbox.open(Folder.READ_WRITE);
      for (Message message : inbox.getMessages()) {
        if (doomed.contains(message.getSubject())) {
          message.setFlag(Flags.Flag.DELETED, true);
        }
      }
      inbox.close(true);
    } finally {
      store.close();
    }
  }

  private List<String> subjectsOnServer() throws Exception {
    Store store = greenMail.getPop3().createStore();
    store.connect("sales", "secret");
    try {
      Folder inbox = store.getFolder("INBOX");
      inbox.open(Folder.READ_ONLY);
      try {
        return Arrays.stream(inbox.getMessages()).map(m -> {
          try {
            return m.getSubject();
          } catch (jakarta.mail.MessagingException e) {
            throw new IllegalStateException(e);
          }
        }).toList();
      } finally {
        inbox.close(false);
      }
    } finally {
      store.close();
    }
  }
}
