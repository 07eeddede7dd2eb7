package dev.emailrouter.imap;

import static dev.emailrouter.imap.TestMailboxes.START;
import static dev.emailrouter.imap.TestMailboxes.append;
import static dev.emailrouter.imap.TestMailboxes.appendSimple;
import static dev.emailrouter.imap.TestMailboxes.folder;
import static dev.emailrouter.imap.TestMailboxes.reader;
import static dev.emailrouter.imap.TestMailboxes.seen;
import static dev.emailrouter.imap.TestMailboxes.simple;
import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.user.GreenMailUser;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class ImapMailboxReaderFetchTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(TestMailboxes.imap());

  private GreenMailUser user;
  private MailFolder inbox;
  private ImapMailboxReader reader;

  @BeforeEach
  void setUp() {
    user = TestMailboxes.user(greenMail);
    inbox = folder(greenMail, user, "INBOX");
    reader = reader(greenMail.getImap().getPort()).build();
  }

  private NewMessages fetchNew(String cursor, int max) {
    return fetchNew(reader, cursor, Set.of(), max);
  }

  private static NewMessages fetchNew(MailboxReader reader, String cursor, Set<String> retry, int max) {
    try (MailboxReader.Session session = reader.open()) {
      return session.fetchNew(cursor, retry, max);
    }
  }

  private static List<String> subjects(NewMessages news) {
    return news.messages().stream().map(m -> m.first("subject").orElseThrow()).toList();
  }

  @Test
  void fetchNew_onFirstSync_returnsAllMessagesOldestFirstWithRawHeaders() {
    byte[] raw = ("Message-ID: <first@example.test>\r\n"
        + "From: =?UTF-8?Q?Ren=C3=A9e?= <renee@example.test>\r\n"
        + "To: sales@example.test,\r\n  other@example.test\r\n"
        + "Subject: =?UTF-8?Q?R=C3=A9ponse?= CRM:0001234\r\n"
        + "In-Reply-To: <crm-1@example.test>\r\n"
        + "References: <crm-0@example.test> <crm-1@example.test>\r\n"
        + "X-Unwanted: not asked for\r\n"
        + "Date: Fri, 1 Mar 2024 10:00:00 +0100\r\n"
        + "\r\n"
        + "Hello\r\n").getBytes(StandardCharsets.US_ASCII);
    Instant received = START.plusSeconds(7);
    long uid = append(inbox, raw, received);
    appendSimple(inbox, 2, 2);

    NewMessages news = fetchNew("", 100);

    assertThat(news.reset()).isFalse();
    assertThat(news.more()).isFalse();
    assertThat(subjects(news)).containsExactly("=?UTF-8?Q?R=C3=A9ponse?= CRM:0001234", "message 2", "message 3");
    MessageHeaders first = news.messages().get(0);
    assertThat(first.ref()).isEqualTo(Long.toString(uid));
    assertThat(first.receivedAt()).isEqualTo(received);
    assertThat(first.size()).isPositive();
    assertThat(first.first("from")).hasValue("=?UTF-8?Q?Ren=C3=A9e?= <renee@example.test>");
    assertThat(first.first("to")).hasValue("sales@example.test,  other@example.test");
    assertThat(first.first("message-id")).hasValue("<first@example.test>");
    assertThat(first.first("in-reply-to")).hasValue("<crm-1@example.test>");
    assertThat(first.all("references")).containsExactly("<crm-0@example.test> <crm-1@example.test>");
    assertThat(first.headers()).doesNotContainKey("x-unwanted");
    assertThat(news.messages()).extracting(MessageHeaders::ref)
        .isSortedAccordingTo((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)));
  }

  @Test
  void fetchNew_withReturnedCursor_returnsNothing() {
    appendSimple(inbox, 1, 3);
    NewMessages first = fetchNew("", 100);

    NewMessages second = fetchNew(first.cursor(), 100);

    assertThat(second.messages()).isEmpty();
    assertThat(second.cursor()).isEqualTo(first.cursor());
    assertThat(second.more()).isFalse();
    assertThat(second.reset()).isFalse();
  }

  @Test
  void fetchNew_whenMailboxIsEmpty_returnsNothingAndACursor() {
    NewMessages first = fetchNew("", 100);
    appendSimple(inbox, 1, 1);

    NewMessages second = fetchNew(first.cursor(), 100);

    assertThat(first.messages()).isEmpty();
    assertThat(subjects(second)).containsExactly("message 1");
  }

  @Test
  void fetchNew_afterNewMail_returnsOnlyTheNewMessages() {
    appendSimple(inbox, 1, 3);
    NewMessages first = fetchNew("", 100);
    appendSimple(inbox, 4, 2);

    NewMessages second = fetchNew(first.cursor(), 100);

    assertThat(subjects(second)).containsExactly("message 4", "message 5");
    assertThat(fetchNew(second.cursor(), 100).messages()).isEmpty();
  }

  @Test
  void fetchNew_whenMoreThanMax_returnsTheOldestAndContinuesFromTheCursor() {
    appendSimple(inbox, 1, 7);

    NewMessages page1 = fetchNew("", 3);
    NewMessages page2 = fetchNew(page1.cursor(), 3);
    NewMessages page3 = fetchNew(page2.cursor(), 3);

    assertThat(subjects(page1)).containsExactly("message 1", "message 2", "message 3");
    assertThat(page1.more()).isTrue();
    assertThat(subjects(page2)).containsExactly("message 4", "message 5", "message 6");
    assertThat(page2.more()).isTrue();
    assertThat(subjects(page3)).containsExactly("message 7");
    assertThat(page3.more()).isFalse();
  }

  @Test
  void fetchNew_doesNotSetSeen() {
    appendSimple(inbox, 1, 2);

    NewMessages news = fetchNew("", 100);

    assertThat(news.messages()).hasSize(2);
    for (long uid : inbox.getMessageUids()) {
      assertThat(seen(inbox, uid)).isFalse();
    }
  }

  @Test
  void fetchNew_whenUidValidityDiffers_resetsAndReturnsEveryMessage() {
    appendSimple(inbox, 1, 3);
    NewMessages first = fetchNew("", 100);
    String otherValidity = "v1:" + (inbox.getUidValidity() + 1) + ":3";

    NewMessages news = fetchNew(reader, otherValidity, Set.of(first.messages().get(0).ref()), 100);

    assertThat(news.reset()).isTrue();
    assertThat(subjects(news)).containsExactly("message 1", "message 2", "message 3");
    assertThat(news.cursor()).isEqualTo(first.cursor());
  }

  @Test
  void fetchNew_withGarbageCursor_startsOverFromTheFirstMessage() {
    appendSimple(inbox, 1, 2);

    NewMessages news = fetchNew("pop3:whatever", 100);

    assertThat(news.reset()).isTrue();
    assertThat(subjects(news)).containsExactly("message 1", "message 2");
  }

  @Test
  void fetchNew_withRetryRefs_returnsThemAgainAndLeavesOutExpungedOnes() throws Exception {
    appendSimple(inbox, 1, 4);
    NewMessages first = fetchNew("", 100);
    String ref1 = first.messages().get(0).ref();
    String ref3 = first.messages().get(2).ref();
    inbox.setFlags(new jakarta.mail.Flags(jakarta.mail.Flags.Flag.DELETED), true, Long.parseLong(ref3), null,
        false);
    inbox.expunge();
    appendSimple(inbox, 5, 1);

    NewMessages news = fetchNew(reader, first.cursor(), Set.of(ref1, ref3), 1);

    assertThat(subjects(news)).containsExactly("message 1", "message 5");
    assertThat(news.more()).isFalse();
  }

  @Test
  void fetchNew_withProcessReceivedAfter_skipsOlderMailOnTheFirstSyncOnly() {
    Instant cutoff = START.plus(10, ChronoUnit.DAYS).plus(3, ChronoUnit.HOURS);
    append(inbox, simple(1), cutoff.minus(30, ChronoUnit.DAYS));
    append(inbox, simple(2), cutoff.minus(2, ChronoUnit.HOURS)); // same day, earlier: SINCE finds it
    append(inbox, simple(3), cutoff.plus(1, ChronoUnit.HOURS));
    append(inbox, simple(4), cutoff.minus(90, ChronoUnit.DAYS)); // old mail copied in later
    append(inbox, simple(5), cutoff.plus(2, ChronoUnit.HOURS));
    ImapMailboxReader limited = reader(greenMail.getImap().getPort()).processReceivedAfter(cutoff).build();

    NewMessages first = fetchNew(limited, "", Set.of(), 100);
    append(inbox, simple(6), cutoff.minus(365, ChronoUnit.DAYS)); // arrives after the first sync: taken
    NewMessages second = fetchNew(limited, first.cursor(), Set.of(), 100);

    assertThat(subjects(first)).containsExactly("message 3", "message 5");
    assertThat(first.more()).isFalse();
    assertThat(subjects(second)).containsExactly("message 6");
  }

  @Test
  void fetchNew_withProcessReceivedAfterAndSmallMax_keepsFilteringUntilTheFirstSyncIsDone() {
    Instant cutoff = START.plus(10, ChronoUnit.DAYS);
    append(inbox, simple(1), cutoff.plus(1, ChronoUnit.HOURS));
    append(inbox, simple(2), cutoff.plus(2, ChronoUnit.HOURS));
    append(inbox, simple(3), cutoff.minus(40, ChronoUnit.DAYS));
    append(inbox, simple(4), cutoff.plus(3, ChronoUnit.HOURS));
    ImapMailboxReader limited = reader(greenMail.getImap().getPort()).processReceivedAfter(cutoff).build();

    NewMessages page1 = fetchNew(limited, "", Set.of(), 2);
    NewMessages page2 = fetchNew(limited, page1.cursor(), Set.of(), 2);
    NewMessages page3 = fetchNew(limited, page2.cursor(), Set.of(), 2);

    assertThat(subjects(page1)).containsExactly("message 1", "message 2");
    assertThat(page1.more()).isTrue();
    assertThat(subjects(page2)).containsExactly("message 4");
    assertThat(page2.more()).isFalse();
    assertThat(page3.messages()).isEmpty();
    assertThat(page3.cursor()).isEqualTo(page2.cursor());
  }

  @Test
  void fetchNew_whenNothingArrived_sendsTheSameFewCommandsWhateverTheMailboxSize() throws Exception {
    GreenMailUser big = greenMail.setUser("big@example.test", "big", "big-pw");
    appendSimple(inbox, 1, 10);
    MailFolder bigInbox = folder(greenMail, big, "INBOX");
    appendSimple(bigInbox, 1, 500);
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort())) {
      ImapMailboxReader small = reader(proxy.port()).build();
      ImapMailboxReader large = reader(proxy.port())
          .credentials(dev.emailrouter.api.Credentials.password("big", "big-pw")).build();
      // the cursors a first sync would have returned
      String smallCursor = new ImapCursor(inbox.getUidValidity(), inbox.getUIDNext() - 1, 0).format();
      String largeCursor = new ImapCursor(bigInbox.getUidValidity(), bigInbox.getUIDNext() - 1, 0).format();

      proxy.clear();
      NewMessages smallTick = fetchNew(small, smallCursor, Set.of(), 1000);
      List<String> smallCommands = verbs(proxy.commands());
      proxy.clear();
      NewMessages largeTick = fetchNew(large, largeCursor, Set.of(), 1000);
      List<String> largeCommands = verbs(proxy.commands());

      assertThat(smallTick.messages()).isEmpty();
      assertThat(largeTick.messages()).isEmpty();
      assertThat(largeCommands).isEqualTo(smallCommands);
      assertThat(largeCommands).hasSizeLessThanOrEqualTo(8)
          .noneMatch(c -> c.contains("FETCH") || c.contains("SEARCH") || c.equals("NOOP") || c.equals("STATUS"));
    }
  }

  @Test
  void idleTick_onAServerOfferingUnselect_costsThreeRoundTrips_loginSelectLogout() throws Exception {
    appendSimple(inbox, 1, 20);
    // GreenMail offers no UNSELECT; the proxy announces it, as Dovecot, Exchange and Gmail do.
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort()).announce("UNSELECT")) {
      ImapMailboxReader idle = reader(proxy.port()).build();
      String cursor = new ImapCursor(inbox.getUidValidity(), inbox.getUIDNext() - 1, 0).format();
      fetchNew(idle, cursor, Set.of(), 1000); // a first tick, as an engine's previous one

      proxy.clear();
      NewMessages tick = fetchNew(idle, cursor, Set.of(), 1000);

      assertThat(tick.messages()).isEmpty();
      // Every line the client sends waits for an answer: a command, or the answer to a continuation.
      // GreenMail announces its capabilities neither in its greeting nor in its login answer, so Angus
      // asks with CAPABILITY before and after the login; a server that announces them (Dovecot does)
      // is spared both, which leaves the three counted here.
      List<String> roundTrips = proxy.commands().stream().filter(c -> !c.equals("CAPABILITY")).toList();
      assertThat(verbs(roundTrips)).hasSize(3).endsWith("SELECT", "LOGOUT")
          .first().isIn("LOGIN", "AUTHENTICATE");
    }
  }

  @Test
  void closingASession_onAServerWithoutUnselect_leavesTheFolderFirst_soTheFolderCanBeDeletedAfterwards()
      throws Exception {
    appendSimple(folder(greenMail, user, "Sales"), 1, 3);
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort())) {
      NewMessages first = fetchNew(reader(proxy.port()).folder("Sales").build(), "", Set.of(), 1000);

      assertThat(first.messages()).hasSize(3);
      List<String> verbs = verbs(proxy.commands());
      assertThat(verbs.subList(verbs.indexOf("CLOSE"), verbs.size())).containsExactly("CLOSE", "LOGOUT");
    }
    // GreenMail keeps a logged-out session that never left its folder attached to it, and then fails
    // to delete the folder; a session that left it first does not stand in the way.
    greenMail.getManagers().getImapHostManager().deleteMailbox(user, "Sales");
  }

  private static List<String> verbs(List<String> commands) {
    return commands.stream().map(c -> c.split(" ")[0]).toList();
  }

  @Test
  void fetchNew_forManyMessages_fetchesAllTheirHeadersWithOneCommand() throws Exception {
    appendSimple(inbox, 1, 150);
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort())) {
      NewMessages news = fetchNew(reader(proxy.port()).build(), "", Set.of(), 1000);

      assertThat(news.messages()).hasSize(150);
      assertThat(proxy.commandsStartingWith("UID SEARCH")).containsExactly("UID SEARCH UID 1:*");
      assertThat(proxy.commandsStartingWith("UID FETCH")).containsExactly(
          "UID FETCH 1:150 (UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS ("
              + String.join(" ", dev.emailrouter.api.MessageHeaders.WANTED).toUpperCase(java.util.Locale.ROOT) + ")])");
      assertThat(proxy.commands()).noneMatch(c -> c.startsWith("FETCH") || c.startsWith("NOOP"));
    }
  }

  @Test
  void fetchNew_whenTheServerOmitsUidNext_asksForNewUidsAndIgnoresTheLastMessageEcho() throws Exception {
    appendSimple(inbox, 1, 3);
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort())) {
      proxy.dropServerLinesContaining("[UIDNEXT");
      ImapMailboxReader blind = reader(proxy.port()).build();
      NewMessages first = fetchNew(blind, "", Set.of(), 100);

      NewMessages idle = fetchNew(blind, first.cursor(), Set.of(), 100);
      appendSimple(inbox, 4, 1);
      NewMessages next = fetchNew(blind, idle.cursor(), Set.of(), 100);

      assertThat(subjects(first)).containsExactly("message 1", "message 2", "message 3");
      assertThat(idle.messages()).isEmpty();
      assertThat(proxy.commands()).contains("UID SEARCH UID 4:*");
      assertThat(subjects(next)).containsExactly("message 4");
    }
  }

  @Test
  void fetchNew_withProcessReceivedAfterWhenTheServerOmitsUidNext_stillFiltersTheFirstSync() throws Exception {
    Instant cutoff = START.plus(10, ChronoUnit.DAYS);
    append(inbox, simple(1), cutoff.minus(20, ChronoUnit.DAYS));
    append(inbox, simple(2), cutoff.plus(1, ChronoUnit.HOURS));
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort())) {
      proxy.dropServerLinesContaining("[UIDNEXT");
      ImapMailboxReader blind = reader(proxy.port()).processReceivedAfter(cutoff).build();

      NewMessages first = fetchNew(blind, "", Set.of(), 100);
      append(inbox, simple(3), cutoff.minus(30, ChronoUnit.DAYS));
      NewMessages second = fetchNew(blind, first.cursor(), Set.of(), 100);

      assertThat(subjects(first)).containsExactly("message 2");
      assertThat(subjects(second)).containsExactly("message 3");
    }
  }
}
