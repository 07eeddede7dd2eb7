package dev.emailrouter.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.testfixtures.FakeTokenSource;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The reader against the Graph emulator: delta paging, headers first, post-actions, and the faults Graph documents. */
final class GraphMailboxReaderTest {
  private static final String MAILBOX = "sales@contoso.test";

  private final GraphEmulator graph = new GraphEmulator("token-1", "token-2");
  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-07T10:00:00Z"));
  private final FakeTokenSource tokens = new FakeTokenSource("app", "token-1", "token-2");

  @AfterEach
  void stop() {
    graph.close();
  }

  private GraphMailboxReader.Builder reader() {
    return GraphMailboxReader.builder().baseUrl(graph.baseUrl()).mailbox(MAILBOX).credentials(tokens).clock(clock)
        .sleeper(clock::sleep);
  }

  private static byte[] message(int n, String extraHeaders) {
    return ("Message-ID: <m" + n + "@customer.test>\r\n"
        + "From: Customer <customer@customer.test>\r\n"
        + "To: sales@contoso.test\r\n"
        + "Subject: Question " + n + "\r\n"
        + "Date: Mon, 7 Jan 2030 10:00:00 +0100\r\n"
        + extraHeaders
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "\r\n"
        + "Body " + n + ".\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private void deliver(int from, int to) {
    for (int n = from; n <= to; n++) {
      graph.deliver(MAILBOX, "inbox", message(n, ""));
    }
  }

  private static List<String> ids(NewMessages news) {
    return news.messages().stream().map(m -> m.first("message-id").orElse("?")).toList();
  }

  private static byte[] bytes(RawMessage m) throws IOException {
    try (java.io.InputStream in = m.content().open()) {
      return in.readAllBytes();
    }
  }

  private long requestsMatching(String prefix) {
    return graph.requests.stream().filter(r -> r.startsWith(prefix)).count();
  }

  // --- headers first ---------------------------------------------------------------------------

  @Test
  void fetchNew_asksForCreatedMessagesOnly_withSelectAndPageSize_andTakesRawHeadersAndSizeWithoutDownloading() {
    byte[] reply = message(1, "In-Reply-To: <q0@contoso.test>\r\nReferences: <r0@contoso.test> <q0@contoso.test>\r\n"
        + "Auto-Submitted: auto-replied\r\n");
    graph.deliver(MAILBOX, "inbox", reply);

    NewMessages news;
    try (MailboxReader.Session s = reader().build().open()) {
      news = s.fetchNew("", Set.of(), 50);
    }

    MessageHeaders m = news.messages().get(0);
    assertThat(m.first("in-reply-to")).contains("<q0@contoso.test>");
    assertThat(m.first("references")).contains("<r0@contoso.test> <q0@contoso.test>");
    assertThat(m.first("auto-submitted")).contains("auto-replied");
    assertThat(m.size()).as("the size from PidTagMessageSize").isEqualTo(reply.length);
    assertThat(m.receivedAt()).isNotNull();
    RecordedRequest delta = graph.recorded.stream().filter(r -> r.getUrl().encodedPath().endsWith("/messages/delta"))
        .findFirst().orElseThrow();
    assertThat(delta.getUrl().queryParameter("changeType")).isEqualTo("created");
    assertThat(delta.getUrl().queryParameter("$select")).contains("internetMessageId", "receivedDateTime")
        .doesNotContain("body");
    assertThat(delta.getHeaders().get("Prefer")).isEqualTo("odata.maxpagesize=50");
    assertThat(requestsMatching("GET /v1.0/users/" + MAILBOX + "/messages/")).as("downloads").isZero();
    assertThat(requestsMatching("POST /v1.0/$batch")).as("the headers come in one batch").isEqualTo(1);
  }

  @Test
  void fetchMessages_downloadsTheMimeOfTrackedMessagesOnly() throws IOException {
    deliver(1, 3);
    try (MailboxReader.Session s = reader().build().open()) {
      NewMessages news = s.fetchNew("", Set.of(), 50);
      List<RawMessage> raw = s.fetchMessages(List.of(news.messages().get(1).ref()));

      assertThat(raw).hasSize(1);
      assertThat(new String(bytes(raw.get(0)), StandardCharsets.US_ASCII))
          .contains("Message-ID: <m2@customer.test>", "Body 2.");
    }
    assertThat(graph.requests.stream().filter(r -> r.endsWith("/$value"))).hasSize(1);
  }

  // --- post-actions ------------------------------------------------------------------------------

  @Test
  void dispose_marksReadMovesAndDeletes_inOneBatch_andNoneComesBackInTheNextDelta() {
    deliver(1, 3);
    GraphMailboxReader reader = reader().afterTracked(GraphMailboxReader.PostAction.moveTo("Tracked"))
        .afterRejected(GraphMailboxReader.PostAction.MARK_READ).build();
    String cursor;
    try (MailboxReader.Session s = reader.open()) {
      NewMessages news = s.fetchNew("", Set.of(), 50);
      Map<String, Disposition> d = new LinkedHashMap<>();
      d.put(news.messages().get(0).ref(), Disposition.TRACKED);
      d.put(news.messages().get(1).ref(), Disposition.REJECTED);
      d.put(news.messages().get(2).ref(), Disposition.QUARANTINED);
      int before = graph.requests.size();
      s.dispose(d);
      List<String> sent = graph.requests.subList(before, graph.requests.size());
      assertThat(sent).as("requests of dispose, after the folder lookups").filteredOn(r -> !r.contains("mailFolders"))
          .containsExactly("POST /v1.0/$batch");
      cursor = news.cursor();
    }

    assertThat(graph.folderNames(MAILBOX)).containsExactly("Tracked", "Quarantine");
    assertThat(graph.folder(MAILBOX, "fld-tracked")).hasSize(1);
    assertThat(graph.folder(MAILBOX, "fld-quarantine")).hasSize(1);
    assertThat(graph.readFlags(MAILBOX)).containsEntry("<m2@customer.test>@inbox", true);
    try (MailboxReader.Session s = reader.open()) {
      assertThat(ids(s.fetchNew(cursor, Set.of(), 50))).as("after the post-actions").isEmpty();
    }
  }

  @Test
  void dispose_delete_movesToDeletedItems_andAMessageGoneMeanwhileIsNoFailure() {
    deliver(1, 2);
    GraphMailboxReader reader = reader().afterTracked(GraphMailboxReader.PostAction.DELETE).build();
    try (MailboxReader.Session s = reader.open()) {
      NewMessages news = s.fetchNew("", Set.of(), 50);
      graph.removeByMessageId(MAILBOX, "<m1@customer.test>");
      Map<String, Disposition> d = new LinkedHashMap<>();
      news.messages().forEach(m -> d.put(m.ref(), Disposition.TRACKED));

      s.dispose(d);
    }

    assertThat(graph.folder(MAILBOX, "inbox")).isEmpty();
    assertThat(graph.folder(MAILBOX, "deleteditems")).hasSize(1);
  }

  // --- throttling --------------------------------------------------------------------------------

  @Test
  void fetchNew_whenGraphThrottlesWithinTheBudget_waitsOutEachRetryAfter_onTheClock_andSucceeds() {
    deliver(1, 3);
    graph.throttleNext(3, 2);

    NewMessages news;
    try (MailboxReader.Session s = reader().build().open()) {
      news = s.fetchNew("", Set.of(), 50);
    }

    assertThat(ids(news)).hasSize(3);
    assertThat(clock.slept()).containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2));
  }

  @Test
  void fetchNew_whenBatchedHeaderRequestsAreThrottled_retriesJustThose_andReturnsEveryMessage() {
    deliver(1, 5);

    NewMessages news;
    try (MailboxReader.Session s = reader().build().open()) {
      graph.throttleBatchItems(3, 1);
      news = s.fetchNew("", Set.of(), 50);
    }

    assertThat(ids(news)).containsExactly("<m1@customer.test>", "<m2@customer.test>", "<m3@customer.test>",
        "<m4@customer.test>", "<m5@customer.test>");
    assertThat(requestsMatching("POST /v1.0/$batch")).isEqualTo(2);
    assertThat(clock.slept()).containsExactly(Duration.ofSeconds(1));
  }

  @Test
  void aStormLongerThanTheBudget_failsTransiently_namingTheInstant_andNothingIsAskedBeforeIt() {
    deliver(1, 1);
    GraphMailboxReader reader = reader().build();
    MailboxReader.Session s = reader.open();
    graph.throttleNext(100, 120);

    assertThatThrownBy(() -> s.fetchNew("", Set.of(), 50)).isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("Retry-After 120 s").hasMessageContaining("not asked again before 2030-01-07T10:02:00Z");
    int asked = graph.requests.size();
    clock.advance(Duration.ofSeconds(60));
    assertThatThrownBy(() -> s.fetchNew("", Set.of(), 50)).isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("throttled mailbox " + MAILBOX + " until 2030-01-07T10:02:00Z");
    assertThat(graph.requests).as("requests while throttled").hasSize(asked);
    assertThat(clock.slept()).as("no wait beyond the budget").isEmpty();

    graph.throttleNext(0, 0);
    clock.advance(Duration.ofSeconds(60));
    assertThat(ids(s.fetchNew("", Set.of(), 50))).containsExactly("<m1@customer.test>");
  }

  @Test
  void aStormWithRetryAfterZero_endsAfterABoundedNumberOfAttempts() {
    deliver(1, 1);
    MailboxReader.Session s = reader().build().open();
    graph.throttleNext(1000, 0);
    int before = graph.requests.size();

    assertThatThrownBy(() -> s.fetchNew("", Set.of(), 50)).isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("TooManyRequests");
    assertThat(graph.requests.size() - before).isEqualTo(GraphHttp.MAX_THROTTLED_RETRIES + 1);
  }

  // --- delta tokens ------------------------------------------------------------------------------

  @Test
  void fetchNew_whenTheDeltaTokenExpired_startsAFullSync_andSaysReset() {
    deliver(1, 3);
    GraphMailboxReader reader = reader().build();
    String cursor;
    try (MailboxReader.Session s = reader.open()) {
      cursor = s.fetchNew("", Set.of(), 50).cursor();
    }
    graph.expireDeltaTokens();
    deliver(4, 4);

    NewMessages again;
    try (MailboxReader.Session s = reader.open()) {
      again = s.fetchNew(cursor, Set.of("gone-ref"), 50);
    }

    assertThat(again.reset()).isTrue();
    assertThat(ids(again)).containsExactly("<m1@customer.test>", "<m2@customer.test>", "<m3@customer.test>",
        "<m4@customer.test>");
    try (MailboxReader.Session s = reader.open()) {
      NewMessages after = s.fetchNew(again.cursor(), Set.of(), 50);
      assertThat(after.reset()).isFalse();
      assertThat(ids(after)).isEmpty();
    }
  }

  @Test
  void tick_afterAnExpiredDeltaToken_createsNoActivityTwice() {
    deliver(1, 3);
    InMemoryActivityStore crm = new InMemoryActivityStore();
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .mailbox(Mailbox.ofQueue("queue", reader().build())).trackingPolicy(TrackingPolicy.allEmail()).build()) {
      engine.tick();
      assertThat(crm.received()).hasSize(3);

      graph.expireDeltaTokens();
      deliver(4, 4);
      engine.tick();
      engine.tick();
    }

    assertThat(crm.received()).extracting(ReceivedEmail::subject)
        .containsExactlyInAnyOrder("Question 1", "Question 2", "Question 3", "Question 4");
  }

  @Test
  void fetchNew_refusesALinkToAnotherHost_soTheTokenNeverLeaves() {
    try (MailboxReader.Session s = reader().build().open()) {
      assertThatThrownBy(() -> s.fetchNew("graph1 https://evil.example.test/v1.0/users/x/delta?$deltatoken=1",
          Set.of(), 10)).isInstanceOf(PermanentRouterException.class).hasMessageContaining("evil.example.test");
    }
    assertThat(graph.requests).noneMatch(r -> r.contains("delta"));
  }

  // --- authentication and permissions ------------------------------------------------------------

  @Test
  void aTokenRevokedInTheMiddleOfAPass_isInvalidatedOnce_andThePassGoesOnWithANewOne() throws IOException {
    deliver(1, 3);
    List<RawMessage> raw;
    try (MailboxReader.Session s = reader().build().open()) {
      NewMessages news = s.fetchNew("", Set.of(), 50);
      graph.revokeToken("token-1");
      raw = s.fetchMessages(news.messages().stream().map(MessageHeaders::ref).toList());
      s.dispose(Map.of(news.messages().get(0).ref(), Disposition.TRACKED));
    }

    assertThat(raw).hasSize(3);
    assertThat(tokens.invalidated()).containsExactly("token-1");
    assertThat(new String(bytes(raw.get(2)), StandardCharsets.US_ASCII)).contains("Body 3.");
  }

  @Test
  void aTokenRefusedTwice_failsPermanently_afterOneRefresh_withoutLooping() {
    graph.revokeToken("token-1");
    graph.revokeToken("token-2");

    assertThatThrownBy(() -> reader().build().open()).isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("InvalidAuthenticationToken").hasMessageContaining("also with a new token")
        .hasMessageNotContaining("token-2");
    assertThat(graph.requests).hasSize(2);
    assertThat(tokens.invalidated()).containsExactly("token-1");
  }

  @Test
  void open_whenAccessIsDenied_failsPermanently_namingThePermissionAndTheAccessPolicy() {
    graph.deny(MAILBOX);

    assertThatThrownBy(() -> reader().build().open()).isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("ErrorAccessDenied").hasMessageContaining("Mail.ReadWrite")
        .hasMessageContaining("application access policy");
  }

  @Test
  void open_ofAFolderThatDoesNotExist_failsPermanently() {
    assertThatThrownBy(() -> reader().folder("No Such Folder").build().open())
        .isInstanceOf(PermanentRouterException.class).hasMessageContaining("No Such Folder");
  }

  // --- builder -----------------------------------------------------------------------------------

  @Test
  void builder_refusesBadSettings_namingThem() {
    assertThatThrownBy(() -> GraphMailboxReader.builder().baseUrl("http://graph.example.test/v1.0"))
        .hasMessageContaining("baseUrl");
    assertThatThrownBy(() -> GraphMailboxReader.builder().mailbox("sales/../x")).hasMessageContaining("mailbox");
    assertThatThrownBy(() -> GraphMailboxReader.builder().maxConcurrentRequests(5))
        .hasMessageContaining("maxConcurrentRequests");
    assertThatThrownBy(() -> GraphMailboxReader.builder().maxRetryWait(Duration.ofHours(1)))
        .hasMessageContaining("maxRetryWait");
    assertThatThrownBy(() -> GraphMailboxReader.builder().credentials(tokens).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("mailbox");
    assertThat(GraphMailboxReader.builder().mailbox(MAILBOX).credentials(tokens).build().describe())
        .isEqualTo("msgraph://graph.microsoft.com/users/sales@contoso.test/mailFolders/inbox");
  }
}
