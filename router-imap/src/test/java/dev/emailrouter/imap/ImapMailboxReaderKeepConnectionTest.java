package dev.emailrouter.imap;

import static dev.emailrouter.imap.TestMailboxes.appendSimple;
import static dev.emailrouter.imap.TestMailboxes.folder;
import static dev.emailrouter.imap.TestMailboxes.reader;
import static dev.emailrouter.imap.TestMailboxes.simple;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.user.GreenMailUser;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code keepConnection}: the reader keeps its connection, logged in and selected, between
 * sessions, so an idle tick is one NOOP; new mail, a server that drops the connection, the idle
 * timeout and {@code close()} are checked on the wire through a proxy that records the commands.
 */
final class ImapMailboxReaderKeepConnectionTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(TestMailboxes.imap());

  private static final Duration IDLE = Duration.ofMinutes(5);

  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T10:00:00Z"));
  private MailFolder inbox;
  private WireProxy proxy;
  private ImapMailboxReader reader;

  @BeforeEach
  void setUp() throws IOException {
    GreenMailUser user = TestMailboxes.user(greenMail);
    inbox = folder(greenMail, user, "INBOX");
    proxy = new WireProxy(greenMail.getImap().getPort());
    reader = reader(proxy.port()).keepConnection(IDLE).clock(clock).build();
  }

  @AfterEach
  void tearDown() throws IOException {
    reader.close();
    proxy.close();
  }

  /** One engine tick: open, read from the cursor, close; returns the new cursor and what came. */
  private static NewMessages tick(MailboxReader reader, String cursor) {
    try (MailboxReader.Session session = reader.open()) {
      return session.fetchNew(cursor, Set.of(), 100);
    }
  }

  private static List<String> subjects(NewMessages news) {
    return news.messages().stream().map(m -> m.first("subject").orElseThrow()).toList();
  }

  private List<String> logins() {
    return proxy.commands().stream().filter(c -> c.startsWith("LOGIN") || c.startsWith("AUTHENTICATE")).toList();
  }

  @Test
  void idleTick_withKeepConnection_sendsOnlyNoopOnTheConnectionOfThePreviousTick() {
    appendSimple(inbox, 1, 3);
    NewMessages first = tick(reader, "");
    proxy.clear();

    NewMessages idle = tick(reader, first.cursor());

    assertThat(idle.messages()).isEmpty();
    assertThat(idle.cursor()).isEqualTo(first.cursor());
    assertThat(proxy.commands()).containsExactly("NOOP");
    assertThat(proxy.connections()).isEqualTo(1);
  }

  @Test
  void idleTick_byDefault_logsInAndOutEveryTick() {
    MailboxReader plain = reader(proxy.port()).build();
    NewMessages first = tick(plain, "");
    proxy.clear();

    tick(plain, first.cursor());

    assertThat(logins()).hasSize(1);
    assertThat(proxy.commands()).contains("LOGOUT").doesNotContain("NOOP");
    assertThat(proxy.connections()).isEqualTo(2);
  }

  @Test
  void newMessage_betweenTicks_isSeenOnTheKeptConnection() {
    appendSimple(inbox, 1, 2);
    NewMessages first = tick(reader, "");
    appendSimple(inbox, 3, 1);
    proxy.clear();

    NewMessages next = tick(reader, first.cursor());

    assertThat(subjects(next)).containsExactly("message 3");
    assertThat(proxy.commands().get(0)).isEqualTo("NOOP");
    assertThat(proxy.commandsStartingWith("UID SEARCH UID 3:*")).hasSize(1);
    assertThat(logins()).isEmpty();
    assertThat(proxy.connections()).isEqualTo(1);
    proxy.clear();

    NewMessages idle = tick(reader, next.cursor());

    assertThat(idle.messages()).isEmpty();
    assertThat(proxy.commands()).containsExactly("NOOP");
  }

  @Test
  void newMessage_arrivingAfterTheSearchOfATick_isSeenByTheNextTick() {
    appendSimple(inbox, 1, 1);
    NewMessages first;
    try (MailboxReader.Session session = reader.open()) {
      first = session.fetchNew("", Set.of(), 100);
      appendSimple(inbox, 2, 1); // arrives after the search: the server says EXISTS to a later command
      session.dispose(Map.of(first.messages().get(0).ref(), Disposition.TRACKED));
    }
    proxy.clear();

    NewMessages next = tick(reader, first.cursor());

    assertThat(subjects(next)).containsExactly("message 2");
    assertThat(logins()).isEmpty();
  }

  @Test
  void keptConnection_droppedBetweenTicks_nextTickLogsInAgainAndLosesNothing() throws IOException {
    appendSimple(inbox, 1, 2);
    NewMessages first = tick(reader, "");
    proxy.dropConnections();
    appendSimple(inbox, 3, 2);
    proxy.clear();

    NewMessages next = tick(reader, first.cursor());

    assertThat(subjects(next)).containsExactly("message 3", "message 4");
    assertThat(next.reset()).isFalse();
    assertThat(logins()).hasSize(1);
    assertThat(proxy.connections()).isEqualTo(2);
    proxy.clear();

    assertThat(tick(reader, next.cursor()).messages()).isEmpty();
    assertThat(proxy.commands()).containsExactly("NOOP");
  }

  @Test
  void keptConnection_unusedLongerThanTheIdleTimeout_isLoggedOutAndTheTickLogsInAgain() {
    NewMessages first = tick(reader, "");
    clock.advance(IDLE);
    proxy.clear();

    tick(reader, first.cursor()); // exactly the idle timeout: still kept

    assertThat(proxy.commands()).containsExactly("NOOP");
    clock.advance(IDLE.plusSeconds(1));
    proxy.clear();

    tick(reader, first.cursor());

    assertThat(proxy.commands()).contains("LOGOUT");
    assertThat(proxy.commands().indexOf("LOGOUT")).isLessThan(proxy.commands().indexOf(logins().get(0)));
    assertThat(proxy.connections()).isEqualTo(2);
  }

  @Test
  void close_logsOutTheKeptConnection_andLaterSessionsKeepNone() {
    NewMessages first = tick(reader, "");
    proxy.clear();

    reader.close();

    assertThat(proxy.commands()).contains("LOGOUT");
    proxy.clear();
    tick(reader, first.cursor());
    assertThat(logins()).hasSize(1);
    assertThat(proxy.commands()).contains("LOGOUT");
    proxy.clear();
    tick(reader, first.cursor());
    assertThat(logins()).hasSize(1);
    assertThat(proxy.connections()).isEqualTo(3);
  }

  @Test
  void twoSessionsAtOnce_keepOneConnectionAndLogOutOfTheOther() {
    NewMessages first = tick(reader, "");
    MailboxReader.Session a = reader.open(); // takes the kept connection
    MailboxReader.Session b = reader.open(); // none left: logs in
    a.fetchNew(first.cursor(), Set.of(), 10);
    b.fetchNew(first.cursor(), Set.of(), 10);
    proxy.clear();

    a.close();
    b.close();

    assertThat(proxy.commands()).endsWith("LOGOUT").doesNotContain("NOOP"); // GreenMail: EXAMINE, CLOSE first
    proxy.clear();
    tick(reader, first.cursor());
    assertThat(proxy.commands()).containsExactly("NOOP");
    assertThat(proxy.connections()).isEqualTo(2);
  }

  @Test
  void byeOnTheKeptConnection_nextTickLogsInAgainAndSeesTheNewMail() throws IOException {
    try (ScriptedImapServer server = new ScriptedImapServer();
        ImapMailboxReader scripted = reader(server.port()).keepConnection(IDLE).clock(clock).build()) {
      server.append(simple(1));
      NewMessages first = tick(scripted, "");
      server.append(simple(2));
      server.answerNextNoopWith("* BYE server shutting down\r\n");

      NewMessages next = tick(scripted, first.cursor());

      assertThat(subjects(next)).containsExactly("message 2");
      assertThat(next.reset()).isFalse();
      assertThat(server.commands().stream().filter(c -> c.startsWith("LOGIN"))).hasSize(2);
    }
  }

  @Test
  void uidValidityChangeReportedOnTheKeptConnection_isNotTrustedAndTheTickSelectsAgain() throws IOException {
    try (ScriptedImapServer server = new ScriptedImapServer();
        ImapMailboxReader scripted = reader(server.port()).keepConnection(IDLE).clock(clock).build()) {
      server.append(simple(1));
      NewMessages first = tick(scripted, "");
      server.answerNextNoopWith("* OK [UIDVALIDITY " + (ScriptedImapServer.UID_VALIDITY + 1) + "] renewed\r\n");
      int before = server.commands().size();

      tick(scripted, first.cursor());

      List<String> after = server.commands().subList(before, server.commands().size());
      assertThat(after.get(0)).isEqualTo("NOOP");
      assertThat(after).contains("LOGOUT").anyMatch(c -> c.startsWith("LOGIN")).anyMatch(c -> c.startsWith("SELECT"));
    }
  }

  @Test
  void aFailedSession_logsOutInsteadOfKeepingItsConnection() throws IOException {
    try (ScriptedImapServer server = new ScriptedImapServer();
        ImapMailboxReader scripted = reader(server.port()).keepConnection(IDLE).clock(clock)
            .afterTracked(ImapMailboxReader.PostAction.moveTo("Done")).build()) {
      server.append(simple(1));
      NewMessages first;
      try (MailboxReader.Session session = scripted.open()) {
        first = session.fetchNew("", Set.of(), 100);
        String ref = first.messages().get(0).ref();
        assertThatThrownBy(() -> session.dispose(Map.of(ref, Disposition.TRACKED))) // UID MOVE: BAD
            .isInstanceOf(RuntimeException.class);
      }
      assertThat(server.commands()).endsWith("LOGOUT");
      int before = server.commands().size();

      tick(scripted, first.cursor());

      List<String> after = server.commands().subList(before, server.commands().size());
      assertThat(after).anyMatch(c -> c.startsWith("LOGIN")).doesNotContain("NOOP");
    }
  }

  @Test
  void oauth2_theKeptConnectionOutlivesItsToken_andALoginAfterItDroppedAsksForAFreshOne() throws IOException {
    AtomicInteger asked = new AtomicInteger();
    ImapMailboxReader oauth = reader(proxy.port()).username(TestMailboxes.USER)
        .credentials(() -> {
          asked.incrementAndGet();
          return Credentials.oauth2(TestMailboxes.USER, TestMailboxes.PASSWORD); // GreenMail takes it as token
        })
        .keepConnection(IDLE).clock(clock).build();
    try (oauth) {
      NewMessages first = tick(oauth, "");
      tick(oauth, first.cursor());
      assertThat(asked).hasValue(1); // the second tick ran on the connection logged in with the first token
      proxy.dropConnections();

      tick(oauth, first.cursor());

      assertThat(asked).hasValue(2);
      assertThat(proxy.commandsStartingWith("AUTHENTICATE XOAUTH2")).hasSize(2);
    }
  }

  @Test
  void keepConnection_outOfRange_failsNamingTheSettingAndValue() {
    assertThatThrownBy(() -> ImapMailboxReader.builder().keepConnection(Duration.ofMillis(999)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keepConnection idle timeout must be between 1 second and 29 minutes, was PT0.999S");
    assertThatThrownBy(() -> ImapMailboxReader.builder().keepConnection(Duration.ofMinutes(30)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was PT30M");
  }
}
