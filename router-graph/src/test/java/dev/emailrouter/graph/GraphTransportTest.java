package dev.emailrouter.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.oauth2.OAuth2TokenProvider;
import dev.emailrouter.testfixtures.FakeTokenSource;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The transport against the Graph emulator: the request sendMail documents, size limits, throttling, refusals. */
final class GraphTransportTest {
  private static final EmailAddress CRM = EmailAddress.of("crm@contoso.test", "CRM");

  private final GraphEmulator graph = new GraphEmulator("token-1", "token-2");
  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-07T10:00:00Z"));
  private final FakeTokenSource tokens = new FakeTokenSource("app", "token-1", "token-2");

  @AfterEach
  void stop() {
    graph.close();
  }

  private GraphTransport.Builder transport() {
    return GraphTransport.builder().baseUrl(graph.baseUrl()).credentials(tokens).clock(clock).sleeper(clock::sleep);
  }

  private static OutgoingEmail email(String id) {
    return OutgoingEmail.builder(id, CRM).to(EmailAddress.of("anna@customer.test")).subject("Quote " + id)
        .textBody("Hello.\r\n").messageId("<" + id + "@crm.contoso.test>").build();
  }

  private SendResult send(GraphTransport t, OutgoingEmail email) {
    try (MailTransport.Session s = t.openSession()) {
      return s.send(email);
    }
  }

  @Test
  void send_postsBase64MimeAsTextPlain_toTheSendersMailbox_keepsTheMessageId_andACopyInSentItems() {
    SendResult result = send(transport().build(), email("q-1"));

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    assertThat(result.serverReply()).startsWith("202");
    RecordedRequest request = graph.recorded.get(0);
    assertThat(request.getMethod()).isEqualTo("POST");
    assertThat(request.getUrl().encodedPath()).isEqualTo("/v1.0/users/crm@contoso.test/sendMail");
    assertThat(request.getHeaders().get("Content-Type")).startsWith("text/plain");
    String mime = new String(Base64.getDecoder().decode(request.getBody().utf8()), StandardCharsets.UTF_8);
    assertThat(mime).contains("Message-ID: <q-1@crm.contoso.test>", "To: anna@customer.test", "Subject: Quote q-1");
    assertThat(graph.folder("crm@contoso.test", "sentitems")).hasSize(1);
  }

  @Test
  void send_withBccAndAnAttachment_postsTheBccField_whichTheBccRecipientNeverSees() {
    OutgoingEmail email = OutgoingEmail.builder("bcc-1", CRM).to(EmailAddress.of("anna@customer.test"))
        .bcc(EmailAddress.of("hidden@customer.test")).subject("Plan").textBody("See attached.\r\n")
        .messageId("<bcc-1@crm.contoso.test>")
        .attachment(new Attachment("plan.txt", "text/plain", -1, ContentSource.ofBytes(
            "the plan".getBytes(StandardCharsets.US_ASCII)))).build();

    SendResult result = send(transport().build(), email);

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    String posted = new String(graph.folder("crm@contoso.test", "sentitems").get(0), StandardCharsets.US_ASCII);
    assertThat(posted).startsWith("Bcc: hidden@customer.test\r\n").contains("Message-ID: <bcc-1@crm.contoso.test>",
        "filename=plan.txt", Base64.getEncoder().encodeToString("the plan".getBytes(StandardCharsets.US_ASCII)));
    assertThat(graph.folder("hidden@customer.test", "inbox")).singleElement().satisfies(mime ->
        assertThat(new String(mime, StandardCharsets.US_ASCII)).doesNotContain("hidden@").contains("plan.txt"));
    assertThat(graph.folder("anna@customer.test", "inbox")).hasSize(1);
  }

  @Test
  void send_whenARecipientsLocalPartIsNotAscii_reportsThatRecipientRefused_andSendsToTheOthers() {
    OutgoingEmail email = OutgoingEmail.builder("eai-1", CRM)
        .to(EmailAddress.of("anna@customer.test"), EmailAddress.of("jörg@customer.test"))
        .subject("Quote").textBody("Hello.\r\n").messageId("<eai-1@crm.contoso.test>").build();

    SendResult result = send(transport().build(), email);

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    assertThat(result.refused()).singleElement().satisfies(r -> {
      assertThat(r.recipient()).isEqualTo(EmailAddress.of("jörg@customer.test"));
      assertThat(r.outcome()).isEqualTo(SendResult.Outcome.PERMANENT);
      assertThat(r.serverReply()).contains("non-ASCII characters before the @");
    });
    byte[] posted = graph.folder("crm@contoso.test", "sentitems").get(0);
    assertThat(new String(posted, StandardCharsets.ISO_8859_1)).doesNotContain("rg@customer.test");
    assertThat(graph.folder("anna@customer.test", "inbox")).hasSize(1);
  }

  @Test
  void send_withSendAs_sendsFromThatMailbox() {
    send(transport().sendAs("queue@contoso.test").build(), email("q-2"));

    assertThat(graph.requests).containsExactly("POST /v1.0/users/queue@contoso.test/sendMail");
  }

  @Test
  void send_ofAnEmailLargerThan4Mb_failsPermanently_beforeAnythingIsSent() {
    byte[] big = new byte[3 * 1024 * 1024 + 200 * 1024]; // 3.2 MB: over 4 MB once base64
    OutgoingEmail email = OutgoingEmail.builder("big-1", CRM).to(EmailAddress.of("anna@customer.test"))
        .subject("Big").textBody("See attached.").messageId("<big-1@crm.contoso.test>")
        .attachment(new Attachment("plan.bin", "application/octet-stream", -1, ContentSource.ofBytes(big))).build();

    SendResult result = send(transport().build(), email);

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.PERMANENT);
    assertThat(result.serverReply()).contains("4 MB", "big-1");
    assertThat(graph.requests).isEmpty();
  }

  @Test
  void send_whenThrottledWithinTheBudget_waitsOnTheClock_andIsAcceptedOnce() {
    graph.throttleNext(2, 3);

    SendResult result = send(transport().build(), email("q-3"));

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    assertThat(clock.slept()).containsExactly(Duration.ofSeconds(3), Duration.ofSeconds(3));
    assertThat(graph.folder("anna@customer.test", "inbox")).hasSize(1);
  }

  @Test
  void send_whenThrottledBeyondTheBudget_throwsTransient_soTheBatchWaits_andTheNextSendAsksNothing() {
    graph.throttleNext(100, 600);
    GraphTransport t = transport().build();

    try (MailTransport.Session s = t.openSession()) {
      assertThatThrownBy(() -> s.send(email("q-4"))).isInstanceOf(TransientRouterException.class)
          .hasMessageContaining("TooManyRequests").hasMessageContaining("Retry-After 600 s");
      assertThatThrownBy(() -> s.send(email("q-5"))).isInstanceOf(TransientRouterException.class);
    }
    assertThat(graph.requests).hasSize(1);
    assertThat(clock.slept()).isEmpty();
  }

  @Test
  void send_when503WithRetryAfter_waitsAndSends() {
    graph.unavailableNext(1, 503, 4);

    SendResult result = send(transport().build(), email("q-10"));

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    assertThat(clock.slept()).containsExactly(Duration.ofSeconds(4));
  }

  @Test
  void send_whenTheSendersMailboxIsNotInExchangeOnline_failsThatEmailPermanently_sayingSo() {
    graph.notInExchangeOnline("crm@contoso.test");

    SendResult result = send(transport().build(), email("q-11"));

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.PERMANENT);
    assertThat(result.serverReply()).contains("MailboxNotEnabledForRESTAPI", "not in Exchange Online");
  }

  @Test
  void send_neverHasMoreRequestsUnderWayForAMailboxThanAllowed() throws Exception {
    GraphTransport t = transport().maxConcurrentRequests(1).maxRetryWait(Duration.ZERO).build();
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    graph.holdNextRequest(arrived, release);
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      Future<SendResult> first = other.submit(() -> send(t, email("c-1")));
      assertThat(arrived.await(30, TimeUnit.SECONDS)).isTrue();

      try (MailTransport.Session s = t.openSession()) {
        assertThatThrownBy(() -> s.send(email("c-2"))).isInstanceOf(TransientRouterException.class)
            .hasMessageContaining("1 requests to mailbox crm@contoso.test were already under way");
      }
      release.countDown();
      assertThat(first.get(30, TimeUnit.SECONDS).outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    } finally {
      release.countDown();
      other.shutdownNow();
    }
    assertThat(graph.requests).hasSize(1);
  }

  @Test
  void send_whenTheSendersMailboxIsOutsideTheAccessPolicy_failsThatEmailPermanently_namingMailSend() {
    graph.deny("crm@contoso.test");

    SendResult result = send(transport().build(), email("q-6"));

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.PERMANENT);
    assertThat(result.serverReply()).contains("ErrorAccessDenied", "Mail.Send", "application access policy");
  }

  @Test
  void send_whenTheTokenWasRevoked_refreshesItOnce_andSends() {
    graph.revokeToken("token-1");

    SendResult result = send(transport().build(), email("q-7"));

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    assertThat(tokens.invalidated()).containsExactly("token-1");
  }

  @Test
  void send_whenBothTokensAreRefused_throwsPermanent() {
    graph.revokeToken("token-1");
    graph.revokeToken("token-2");

    try (MailTransport.Session s = transport().build().openSession()) {
      assertThatThrownBy(() -> s.send(email("q-8"))).isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("InvalidAuthenticationToken");
    }
  }

  @Test
  void appOnlyTokens_fromOAuth2TokenProvider_withTheGraphScope_areUsedAndRefreshedAfterA401() throws Exception {
    try (MockWebServer login = new MockWebServer()) {
      login.start(java.net.InetAddress.getByName("127.0.0.1"), 0);
      login.enqueue(token("graph-a"));
      login.enqueue(token("graph-b"));
      graph.acceptToken("graph-b");
      OAuth2TokenProvider provider = OAuth2TokenProvider.microsoft365("contoso.onmicrosoft.com")
          .tokenEndpoint(login.url("/contoso/oauth2/v2.0/token").toString())
          .clientCredentials("client-1", "secret-1").scope("https://graph.microsoft.com/.default")
          .username("crm@contoso.test").build();
      GraphTransport t = GraphTransport.builder().baseUrl(graph.baseUrl()).credentials(provider).clock(clock)
          .sleeper(clock::sleep).build();

      SendResult result = send(t, email("q-9"));

      assertThat(result.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
      assertThat(login.takeRequest().getBody().utf8()).contains("grant_type=client_credentials")
          .contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default");
      assertThat(login.getRequestCount()).as("one token refused by Graph, one new").isEqualTo(2);
    }
  }

  private static MockResponse token(String value) {
    return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/json")
        .body("{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"" + value + "\"}").build();
  }

  @Test
  void builder_sharedSettings_areCheckedAndNamedAsTheReadersAre() {
    // One GraphClientBuilder holds the settings both Graph adapters take, so one sentence per mistake.
    for (GraphClientBuilder<?> b : new GraphClientBuilder<?>[] {GraphTransport.builder(), GraphMailboxReader.builder()}) {
      assertThatThrownBy(() -> b.maxConcurrentRequests(5))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("maxConcurrentRequests must be between 1 and 4 (Graph's limit per mailbox), was 5");
      assertThatThrownBy(() -> b.maxRetryWait(Duration.ofMinutes(6)))
          .hasMessage("maxRetryWait must be between 0 and 5 minutes, was PT6M");
      assertThatThrownBy(() -> b.baseUrl("http://graph.example.com/v1.0")).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> GraphTransport.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("credentials are required");
  }
}
