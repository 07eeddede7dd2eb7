package dev.emailrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The promises every {@link MailboxReader} must keep, as JUnit 5 tests: extend this class with a
 * {@link Fixture} that gives a reader over an empty test mailbox and a way to put messages into it
 * and take them out, and every test below runs against it.
 *
 * <pre>{@code
 * final class MyReaderContractTest extends MailboxReaderContract {
 *   @Override
 *   protected Fixture newFixture() {
 *     TestMailServer server = TestMailServer.start();   // with one empty mailbox
 *     return new Fixture() {
 *       public MailboxReader reader() { return MyReader.connectingTo(server.address()); }
 *       public void deliver(byte[] message) { server.deliver(message); }
 *       public void remove(String messageId) { server.delete(messageId); }
 *       public void close() { server.stop(); }
 *     };
 *   }
 * }
 * }</pre>
 *
 * <p>The engine's "nothing lost" promise rests on these: a reader returns each new message once,
 * after its cursor and never before it, pages by {@code max} without skipping any, returns the
 * messages asked for again, and loses nothing across a reconnect. Each test gets a new fixture and
 * closes it afterwards; everything runs on the test thread.
 *
 * <p><b>Running it.</b> These are JUnit 5 (Jupiter) tests, so they run only where the build runs the
 * JUnit Platform: with Maven, maven-surefire-plugin (or failsafe) 3.x, which finds the Jupiter
 * engine by itself. Maven 3.8 binds Surefire 2.12.4 by default when a project pins no version; it
 * does not know the JUnit Platform, runs none of these tests and still reports success ("Tests run:
 * 0"). Nothing in this kit can notice that, since none of its code runs then, so pin the plugin and
 * make an empty run fail: {@code <version>3.5.4</version>} and {@code
 * <configuration><failIfNoTests>true</failIfNoTests></configuration>} on maven-surefire-plugin (or
 * {@code -DfailIfNoTests=true}, which old Surefire versions honour too). Surefire 2.22 also runs
 * them if {@code junit-jupiter-engine} is added as a test dependency.
 */
public abstract class MailboxReaderContract {

  private Fixture fixture;
  private int delivered;

  /** For subclasses. */
  protected MailboxReaderContract() {}

  /**
   * Creates the fixture for one test: a reader over a mailbox that is empty.
   *
   * @return the fixture; the contract closes it after the test
   */
  protected abstract Fixture newFixture();

  /** A test mailbox and a reader over it. Called from the test thread only. */
  public interface Fixture {

    /**
     * The reader under test; the contract opens and closes several sessions of it per test.
     *
     * @return the reader, configured to leave messages in place after {@link
     *     MailboxReader.Session#dispose} (or to delete them: the contract checks only what it
     *     may see either way)
     */
    MailboxReader reader();

    /**
     * Delivers a message into the mailbox, as the mail server does when one arrives; each one
     * arrives after the previous.
     *
     * @param message the whole message, RFC 5322 bytes with CRLF line ends and a unique Message-ID
     */
    void deliver(byte[] message);

    /**
     * Removes a message from the mailbox, as another mail client deleting it would.
     *
     * @param messageId the message's Message-ID, with angle brackets
     */
    void remove(String messageId);

    /**
     * Releases the fixture (stops the test server, say); called after each test.
     *
     * @throws Exception if releasing fails; the test then fails
     */
    default void close() throws Exception {}
  }

  @BeforeEach
  final void openFixture() {
    fixture = Objects.requireNonNull(newFixture(),
        "newFixture() returned null; return a Fixture over an empty mailbox");
    delivered = 0;
  }

  @AfterEach
  final void closeFixture() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  /**
   * The current test's fixture, for a subclass's own tests.
   *
   * @return the fixture
   */
  protected final Fixture fixture() {
    return fixture;
  }

  // --- helpers ----------------------------------------------------------------------------------

  private static String messageId(int n) {
    return "<reader-" + n + ".contract@example.test>";
  }

  private static byte[] message(int n) {
    return ("Message-ID: " + messageId(n) + "\r\n"
        + "From: A Customer <customer@example.test>\r\n"
        + "To: sales@example.test\r\n"
        + "Subject: Contract message " + n + "\r\n"
        + "Date: Mon, 7 Jan 2030 10:00:00 +0100\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "\r\n"
        + "Body of contract message " + n + ".\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** Delivers {@code count} new messages; returns their Message-IDs in order. */
  private List<String> deliver(int count) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      delivered++;
      fixture.deliver(message(delivered));
      ids.add(messageId(delivered));
    }
    return ids;
  }

  private <T> T inSession(Function<MailboxReader.Session, T> work) {
    try (MailboxReader.Session session = fixture.reader().open()) {
      return work.apply(session);
    }
  }

  private static NewMessages fetchNew(MailboxReader.Session session, String cursor, Set<String> retry, int max) {
    NewMessages news = session.fetchNew(cursor, retry, max);
    if (news == null) {
      fail("fetchNew returned null; return NewMessages with no messages and the cursor when nothing is new");
    }
    return news;
  }

  private NewMessages fetchNew(String cursor, int max) {
    return inSession(s -> fetchNew(s, cursor, Set.of(), max));
  }

  private static List<String> messageIds(NewMessages news) {
    List<String> ids = new ArrayList<>();
    for (MessageHeaders m : news.messages()) {
      ids.add(m.first("message-id").map(String::strip).orElse("(no message-id header for ref " + m.ref() + ")"));
    }
    return ids;
  }

  private static Map<String, String> refsById(NewMessages news) {
    Map<String, String> refs = new LinkedHashMap<>();
    for (MessageHeaders m : news.messages()) {
      refs.put(m.first("message-id").map(String::strip).orElse(""), m.ref());
    }
    return refs;
  }

  private static void assertMessages(NewMessages news, List<String> expected, String situation) {
    List<String> actual = messageIds(news);
    if (!actual.equals(expected)) {
      fail("fetchNew %s returned %s; expected %s, oldest first. %s", situation, actual, expected,
          missingOrExtra(actual, expected));
    }
  }

  private static String missingOrExtra(List<String> actual, List<String> expected) {
    List<String> missing = new ArrayList<>(expected);
    missing.removeAll(actual);
    List<String> extra = new ArrayList<>(actual);
    extra.removeAll(expected);
    Set<String> seen = new HashSet<>();
    List<String> twice = actual.stream().filter(id -> !seen.add(id)).toList();
    StringBuilder out = new StringBuilder();
    if (!missing.isEmpty()) {
      out.append("Missing ").append(missing).append(": a message after the cursor must never be skipped. ");
    }
    if (!extra.isEmpty()) {
      out.append("Not expected ").append(extra)
          .append(": a message at or before the cursor must not come again unless it is in retry. ");
    }
    if (!twice.isEmpty()) {
      out.append("Returned twice ").append(twice).append(". ");
    }
    return out.toString().strip();
  }

  // --- fetchNew -----------------------------------------------------------------------------------

  /** An empty mailbox has nothing new, and its cursor still finds what arrives later. */
  @Test
  public void fetchNew_onAnEmptyMailbox_returnsNoMessages_andACursorThatFindsLaterOnes() {
    NewMessages empty = fetchNew("", 100);
    assertMessages(empty, List.of(), "on an empty mailbox");
    assertThat(empty.more()).as("more on an empty mailbox").isFalse();

    List<String> later = deliver(2);

    assertMessages(fetchNew(empty.cursor(), 100), later, "with the cursor returned for the empty mailbox");
  }

  /** The first sync returns every message once, oldest first, with the headers the engine reads. */
  @Test
  public void fetchNew_onFirstSync_returnsEachDeliveredMessageOnce_oldestFirst_withItsHeaders() {
    List<String> ids = deliver(3);

    NewMessages news = fetchNew("", 100);

    assertMessages(news, ids, "on the first sync (cursor \"\")");
    assertThat(news.reset()).as("reset on a first sync of an unchanged mailbox").isFalse();
    assertThat(news.more()).as("more, with 3 messages and max = 100").isFalse();
    assertThat(new HashSet<>(refsById(news).values())).as("the refs of 3 different messages").hasSize(3);
    for (int i = 0; i < 3; i++) {
      MessageHeaders m = news.messages().get(i);
      int n = i + 1;
      assertThat(m.first("subject")).as("the Subject header of %s", ids.get(i)).contains("Contract message " + n);
      assertThat(m.first("from")).as("the From header of %s", ids.get(i)).isPresent();
      assertThat(m.first("to")).as("the To header of %s", ids.get(i)).isPresent();
      assertThat(m.first("date")).as("the Date header of %s", ids.get(i)).isPresent();
    }
  }

  /**
   * Headers a reader hands early (the four-argument {@code fetchNew}) are those of its answer: the
   * engine reads them in place of the answer's. A reader that hands nothing early passes.
   */
  @Test
  public void fetchNew_handingHeadersEarly_handsTheHeadersItsAnswerHolds() {
    deliver(3);
    List<MessageHeaders> early = new ArrayList<>();

    NewMessages news = inSession(s -> s.fetchNew("", Set.of(), 100, early::add));

    Map<String, MessageHeaders> answered = new LinkedHashMap<>();
    news.messages().forEach(m -> answered.put(m.ref(), m));
    for (MessageHeaders h : early) {
      if (answered.containsKey(h.ref())) {
        assertThat(h).as("the headers handed early for ref %s", h.ref()).isEqualTo(answered.get(h.ref()));
      }
    }
  }

  /** With the cursor it returned, a reader finds nothing new until something arrives. */
  @Test
  public void fetchNew_withTheReturnedCursor_returnsNothingNew() {
    deliver(3);
    NewMessages first = fetchNew("", 100);

    inSession(s -> {
      assertMessages(fetchNew(s, first.cursor(), Set.of(), 100), List.of(), "with its own cursor, in a new session");
      return null;
    });
    NewMessages again = fetchNew(first.cursor(), 100);
    assertMessages(again, List.of(), "with its own cursor, a second time");
    assertThat(again.reset()).as("reset with an unchanged mailbox").isFalse();
  }

  /** After more arrived, the cursor leads to only the new messages. */
  @Test
  public void fetchNew_afterMoreArrived_returnsOnlyTheNewOnes() {
    deliver(2);
    NewMessages first = fetchNew("", 100);
    List<String> newer = deliver(3);

    NewMessages second = fetchNew(first.cursor(), 100);

    assertMessages(second, newer, "after 3 more arrived");
    assertMessages(fetchNew(second.cursor(), 100), List.of(), "with the cursor after those");
  }

  /** At most {@code max} new messages come per call, and {@code more} says when others wait. */
  @Test
  public void fetchNew_returnsAtMostMax_andSaysWhenMoreWait_withoutSkippingAny() {
    List<String> ids = deliver(5);

    NewMessages page1 = fetchNew("", 2);
    NewMessages page2 = fetchNew(page1.cursor(), 2);
    NewMessages page3 = fetchNew(page2.cursor(), 2);

    assertMessages(page1, ids.subList(0, 2), "with max = 2 on 5 messages (first page)");
    assertMessages(page2, ids.subList(2, 4), "with max = 2 (second page)");
    assertMessages(page3, ids.subList(4, 5), "with max = 2 (third page)");
    if (!page1.more() || !page2.more() || page3.more()) {
      fail("fetchNew with max = 2 on 5 messages said more = %s, %s, %s; expected true, true, false: more is true"
          + " exactly when new messages wait beyond those returned", page1.more(), page2.more(), page3.more());
    }
  }

  /** Messages named in {@code retry} come again though the cursor is past them. */
  @Test
  public void fetchNew_returnsTheRetryRefsAgain_besideTheNewMessages() {
    List<String> ids = deliver(3);
    NewMessages first = fetchNew("", 100);
    String retryRef = refsById(first).get(ids.get(1));
    List<String> newer = deliver(1);

    NewMessages second = inSession(s -> fetchNew(s, first.cursor(), Set.of(retryRef), 100));

    List<String> actual = messageIds(second);
    if (actual.size() != 2 || !actual.containsAll(List.of(ids.get(1), newer.get(0)))) {
      fail("fetchNew with retry = {%s} (the ref of %s) after %s arrived returned %s; expected both: retry names"
          + " messages handled before but not finished, which must come again until the engine is done with them",
          retryRef, ids.get(1), newer.get(0), actual);
    }
    assertThat(refsById(second).get(ids.get(1))).as("the ref of the retried message").isEqualTo(retryRef);
  }

  /** A retry ref whose message was removed meanwhile is left out. */
  @Test
  public void fetchNew_leavesOutARetryRefWhoseMessageWasRemoved() {
    List<String> ids = deliver(2);
    NewMessages first = fetchNew("", 100);
    Set<String> retry = new HashSet<>(refsById(first).values());
    fixture.remove(ids.get(0));

    NewMessages second = inSession(s -> fetchNew(s, first.cursor(), retry, 100));

    assertMessages(second, List.of(ids.get(1)), "with both refs in retry after " + ids.get(0) + " was removed");
  }

  /** A reconnect with the stored cursor loses nothing that arrived in between. */
  @Test
  public void fetchNew_afterAReconnect_withTheStoredCursor_losesNothing() {
    List<String> before = deliver(2);
    List<String> during = new ArrayList<>();
    String cursor;
    try (MailboxReader.Session session = fixture.reader().open()) {
      NewMessages first = fetchNew(session, "", Set.of(), 100);
      assertMessages(first, before, "on the first sync");
      cursor = first.cursor();
      during.addAll(deliver(2)); // arrive while the session is open, after the fetch
    }
    List<String> between = deliver(1); // arrive while disconnected

    List<String> expected = new ArrayList<>(during);
    expected.addAll(between);
    NewMessages afterReconnect = fetchNew(cursor, 100);
    assertMessages(afterReconnect, expected, "in a new session with the cursor stored before the reconnect");
    assertMessages(fetchNew(afterReconnect.cursor(), 100), List.of(), "with the cursor after those");
  }

  /** A message keeps its ref across sessions, so a stored retry ref still names it. */
  @Test
  public void fetchNew_givesEachMessageTheSameRefInEverySession() {
    deliver(3);

    Map<String, String> first = refsById(fetchNew("", 100));
    Map<String, String> second = refsById(fetchNew("", 100));

    if (!first.equals(second)) {
      fail("two first syncs in two sessions gave the refs %s and %s: a ref must name the same message in every"
          + " session (an IMAP UID, a POP3 UIDL), not a position that changes", first, second);
    }
  }

  // --- fetchMessages and dispose ----------------------------------------------------------------

  /**
   * fetchMessages returns the whole messages asked for, in the order asked.
   *
   * @throws IOException if a message can't be read
   */
  @Test
  public void fetchMessages_returnsTheWholeMessages_inTheOrderAsked() throws IOException {
    List<String> ids = deliver(3);
    List<RawMessage> raw = inSession(s -> {
      Map<String, String> refs = refsById(fetchNew(s, "", Set.of(), 100));
      return s.fetchMessages(List.of(refs.get(ids.get(2)), refs.get(ids.get(0))));
    });

    assertThat(raw).as("fetchMessages of two refs").hasSize(2);
    String third = new String(Content.bytes(raw.get(0).content()), StandardCharsets.US_ASCII);
    String first = new String(Content.bytes(raw.get(1).content()), StandardCharsets.US_ASCII);
    if (!third.contains(ids.get(2)) || !first.contains(ids.get(0))) {
      fail("fetchMessages for the refs of %s and %s (in that order) returned messages with the headers\n%s\nand\n%s\n"
          + "return the messages in the order of the refs asked", ids.get(2), ids.get(0), head(third), head(first));
    }
    assertThat(third).as("the downloaded message %s", ids.get(2))
        .contains("Subject: Contract message 3", "Body of contract message 3.");
    assertThat(first).as("the downloaded message %s", ids.get(0))
        .contains("Subject: Contract message 1", "Body of contract message 1.");
  }

  private static String head(String message) {
    int end = message.indexOf("\r\n\r\n");
    return end < 0 ? message.substring(0, Math.min(message.length(), 500)) : message.substring(0, end);
  }

  /** A message removed since fetchNew is absent from fetchMessages; the others come. */
  @Test
  public void fetchMessages_leavesOutAMessageRemovedMeanwhile() {
    List<String> ids = deliver(3);
    Map<String, String> refs = refsById(fetchNew("", 100));
    fixture.remove(ids.get(1));

    List<RawMessage> raw = inSession(s -> s.fetchMessages(List.of(refs.get(ids.get(0)), refs.get(ids.get(1)),
        refs.get(ids.get(2)))));

    List<String> returned = raw.stream().map(RawMessage::ref).toList();
    if (!returned.equals(List.of(refs.get(ids.get(0)), refs.get(ids.get(2))))) {
      fail("fetchMessages of the refs %s after %s (ref %s) was removed returned the refs %s; expected the other two:"
          + " a message deleted meanwhile is simply absent, not an error and not an empty message",
          List.of(refs.get(ids.get(0)), refs.get(ids.get(1)), refs.get(ids.get(2))), ids.get(1), refs.get(ids.get(1)),
          returned);
    }
  }

  /** After dispose and the cursor is stored, the handled messages don't come again; new ones do. */
  @Test
  public void dispose_thenTheCursor_returnsOnlyMessagesThatArrivedSince() {
    List<String> ids = deliver(3);
    String cursor = inSession(s -> {
      NewMessages news = fetchNew(s, "", Set.of(), 100);
      Map<String, String> refs = refsById(news);
      Map<String, Disposition> dispositions = new LinkedHashMap<>();
      dispositions.put(refs.get(ids.get(0)), Disposition.TRACKED);
      dispositions.put(refs.get(ids.get(1)), Disposition.REJECTED);
      dispositions.put(refs.get(ids.get(2)), Disposition.TRACKED);
      s.dispose(dispositions);
      return news.cursor();
    });
    List<String> newer = deliver(1);

    assertMessages(fetchNew(cursor, 100), newer, "after dispose, with the cursor stored");
  }

  /** describe() is stable, so the engine can key the mailbox's checkpoint by it. */
  @Test
  public void describe_isStableAndNotBlank() {
    String first = fixture.reader().describe();
    assertThat(first).as("describe()").isNotBlank();
    assertThat(fixture.reader().describe()).as("describe() a second time (the default checkpoint key)")
        .isEqualTo(first);
  }
}
