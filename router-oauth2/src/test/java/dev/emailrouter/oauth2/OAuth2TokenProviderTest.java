package dev.emailrouter.oauth2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.testfixtures.MutableClock;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class OAuth2TokenProviderTest {
  private static final String SECRET = "client-Secret-123";
  private static final String REFRESH = "refresh-Token-456";

  private final MockWebServer server = new MockWebServer();
  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T10:00:00Z"));

  @BeforeEach
  void start() throws Exception {
    server.start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private String url() {
    return server.url("/tenant/oauth2/v2.0/token").toString();
  }

  private OAuth2TokenProvider.Builder appOnly() {
    return OAuth2TokenProvider.microsoft365("contoso.onmicrosoft.com").tokenEndpoint(url())
        .clientCredentials("client-1", SECRET).username("sales@contoso.com").clock(clock);
  }

  private static MockResponse token(String value, long expiresIn) {
    return json(200, "{\"token_type\":\"Bearer\",\"access_token\":\"" + value + "\",\"expires_in\":" + expiresIn + "}");
  }

  private static MockResponse json(int code, String body) {
    return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body).build();
  }

  private static Map<String, String> form(RecordedRequest request) {
    Map<String, String> form = new HashMap<>();
    for (String pair : request.getBody().utf8().split("&")) {
      int eq = pair.indexOf('=');
      form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return form;
  }

  @Test
  void get_firstCall_postsTheClientCredentialsGrant_andReturnsTheToken() throws Exception {
    server.enqueue(token("access-1", 3600));

    Credentials credentials = appOnly().build().get();

    assertThat(credentials).isEqualTo(Credentials.oauth2("sales@contoso.com", "access-1"));
    RecordedRequest request = server.takeRequest();
    assertThat(request.getMethod()).isEqualTo("POST");
    assertThat(form(request)).containsEntry("grant_type", "client_credentials").containsEntry("client_id", "client-1")
        .containsEntry("client_secret", SECRET).containsEntry("scope", "https://outlook.office365.com/.default");
  }

  @Test
  void get_whileTheTokenIsFresh_returnsTheCachedOne_withoutARequest() {
    server.enqueue(token("access-1", 3600));
    OAuth2TokenProvider provider = appOnly().build();
    provider.get();

    clock.advance(Duration.ofMinutes(54));

    assertThat(provider.get().secret()).isEqualTo("access-1");
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void get_withinRefreshBeforeOfExpiry_fetchesANewToken() {
    server.enqueue(token("access-1", 3600));
    server.enqueue(token("access-2", 3600));
    OAuth2TokenProvider provider = appOnly().refreshBefore(Duration.ofMinutes(5)).build();
    provider.get();

    clock.advance(Duration.ofMinutes(55).plusSeconds(1));

    assertThat(provider.get().secret()).isEqualTo("access-2");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void get_fromManyThreadsAtOnce_sendsOneRequest_andEveryThreadGetsItsToken() throws Exception {
    server.enqueue(token("access-1", 3600).newBuilder().headersDelay(300, TimeUnit.MILLISECONDS).build());
    OAuth2TokenProvider provider = appOnly().build();
    int threads = 16;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Credentials>> results = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        results.add(pool.submit(() -> {
          go.await();
          return provider.get();
        }));
      }
      go.countDown();
      for (Future<Credentials> result : results) {
        assertThat(result.get(10, TimeUnit.SECONDS).secret()).isEqualTo("access-1");
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void get_withARefreshToken_postsTheRefreshGrant_andHandsARotatedRefreshTokenToTheHost() throws Exception {
    List<String> stored = new CopyOnWriteArrayList<>();
    OAuth2TokenProvider provider = OAuth2TokenProvider.google().tokenEndpoint(url())
        .refreshToken("client-g", SECRET, REFRESH, stored::add).username("me@gmail.com").clock(clock).build();
    server.enqueue(json(200, "{\"token_type\":\"Bearer\",\"access_token\":\"a1\",\"expires_in\":3600,"
        + "\"refresh_token\":\"refresh-2\"}"));
    server.enqueue(json(200, "{\"token_type\":\"Bearer\",\"access_token\":\"a2\",\"expires_in\":3600,"
        + "\"refresh_token\":\"refresh-2\"}"));

    assertThat(provider.get().secret()).isEqualTo("a1");
    clock.advance(Duration.ofHours(1));
    assertThat(provider.get().secret()).isEqualTo("a2");

    Map<String, String> first = form(server.takeRequest());
    assertThat(first).containsEntry("grant_type", "refresh_token").containsEntry("refresh_token", REFRESH)
        .containsEntry("client_id", "client-g").containsEntry("scope", "https://mail.google.com/");
    assertThat(form(server.takeRequest())).containsEntry("refresh_token", "refresh-2");
    assertThat(stored).containsExactly("refresh-2"); // the same token again is no rotation
  }

  @Test
  void get_whenTheRefreshTokenIsRevoked_isPermanent_withoutSecrets_andIsNotAskedAgainDuringTheHold() {
    OAuth2TokenProvider provider = OAuth2TokenProvider.google().tokenEndpoint(url())
        .refreshToken("client-g", SECRET, REFRESH, t -> { }).username("me@gmail.com").clock(clock)
        .permanentFailureHold(Duration.ofMinutes(5)).build();
    server.enqueue(json(400, "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or "
        + "revoked: " + REFRESH + "\"}"));
    server.enqueue(token("a1", 3600));

    assertThatThrownBy(provider::get).isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("invalid_grant").hasMessageContaining("consent again")
        .hasMessageNotContaining(REFRESH).hasMessageNotContaining(SECRET);
    clock.advance(Duration.ofMinutes(4));
    assertThatThrownBy(provider::get).isInstanceOf(PermanentRouterException.class).hasMessageContaining("invalid_grant");
    assertThat(server.getRequestCount()).isEqualTo(1);

    clock.advance(Duration.ofMinutes(2));
    assertThat(provider.get().secret()).isEqualTo("a1");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void get_whenTheClientIsRefused_isPermanent() {
    for (String error : List.of("invalid_client", "unauthorized_client")) {
      server.enqueue(json(401, "{\"error\":\"" + error + "\"}"));
      assertThatThrownBy(() -> appOnly().build().get()).isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining(error).hasMessageContaining("client-1").hasMessageNotContaining(SECRET);
    }
  }

  @Test
  void get_whenTheEndpointFails5xx_isTransient_andTheNextCallAsksAgain() {
    server.enqueue(json(503, "{\"error\":\"temporarily_unavailable\"}"));
    server.enqueue(new MockResponse.Builder().code(500).body("oops").build());
    server.enqueue(token("a1", 3600));
    OAuth2TokenProvider provider = appOnly().build();

    assertThatThrownBy(provider::get).isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("temporarily_unavailable");
    assertThatThrownBy(provider::get).isInstanceOf(TransientRouterException.class).hasMessageContaining("HTTP 500");
    assertThat(provider.get().secret()).isEqualTo("a1");
  }

  @Test
  void get_when429WithRetryAfter_isTransient_andNoRequestIsSentBeforeThatTime() {
    server.enqueue(json(429, "{\"error\":\"slow_down\"}").newBuilder().setHeader("Retry-After", "30").build());
    server.enqueue(token("a1", 3600));
    OAuth2TokenProvider provider = appOnly().build();

    assertThatThrownBy(provider::get).isInstanceOf(TransientRouterException.class).hasMessageContaining("429");
    clock.advance(Duration.ofSeconds(29));
    assertThatThrownBy(provider::get).isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("not asked again before 2030-01-01T10:00:30Z");
    assertThat(server.getRequestCount()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(2));
    assertThat(provider.get().secret()).isEqualTo("a1");
  }

  @Test
  void get_whenTheEndpointDoesNotAnswerInTime_isTransient() {
    server.enqueue(token("late", 3600).newBuilder().headersDelay(2, TimeUnit.SECONDS).build());
    OAuth2TokenProvider provider = appOnly().readTimeout(Duration.ofMillis(200)).build();

    assertThatThrownBy(provider::get).isInstanceOf(TransientRouterException.class).hasMessageContaining("in time");
  }

  @Test
  void get_whenTheEndpointIsUnreachable_isTransient() {
    String unreachable = url();
    server.close();
    OAuth2TokenProvider provider = OAuth2TokenProvider.builder().tokenEndpoint(unreachable)
        .clientCredentials("client-1", SECRET).username("u@example.test").build();

    assertThatThrownBy(provider::get).isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("can't be reached").hasMessageNotContaining(SECRET);
  }

  @Test
  void get_whenARefreshFailsWhileTheOldTokenIsStillValid_returnsTheOldToken() {
    server.enqueue(token("a1", 3600));
    server.enqueue(json(503, "{}"));
    OAuth2TokenProvider provider = appOnly().build();
    provider.get();

    clock.advance(Duration.ofMinutes(58));

    assertThat(provider.get().secret()).isEqualTo("a1");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void invalidate_ofTheCurrentToken_makesTheNextGetFetchANewOne_butAStaleTokenChangesNothing() {
    server.enqueue(token("a1", 3600));
    server.enqueue(token("a2", 3600));
    OAuth2TokenProvider provider = appOnly().build();
    provider.get();

    provider.invalidate("a1");
    assertThat(provider.get().secret()).isEqualTo("a2");
    provider.invalidate("a1"); // another session refused with the old one: already replaced

    assertThat(provider.get().secret()).isEqualTo("a2");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void get_whenTheAnswerHasNoExpiry_trustsTheTokenForTenMinutes() {
    server.enqueue(json(200, "{\"access_token\":\"a1\",\"token_type\":\"Bearer\"}"));
    server.enqueue(token("a2", 3600));
    OAuth2TokenProvider provider = appOnly().refreshBefore(Duration.ZERO).build();
    provider.get();

    clock.advance(Duration.ofMinutes(9));
    assertThat(provider.get().secret()).isEqualTo("a1");
    clock.advance(Duration.ofMinutes(1));
    assertThat(provider.get().secret()).isEqualTo("a2");
  }

  @Test
  void microsoft365_withARefreshToken_asksForTheDelegatedMailScopes() throws Exception {
    server.enqueue(token("a1", 3600));
    OAuth2TokenProvider.microsoft365("contoso.onmicrosoft.com").tokenEndpoint(url())
        .refreshToken("client-1", null, REFRESH, t -> { }).username("me@contoso.com").build().get();

    Map<String, String> form = form(server.takeRequest());
    assertThat(form.get("scope")).isEqualTo("https://outlook.office.com/IMAP.AccessAsUser.All "
        + "https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access");
    assertThat(form).doesNotContainKey("client_secret");
  }

  @Test
  void scope_replacesThePresetsDefault() throws Exception {
    server.enqueue(token("a1", 3600));
    appOnly().scope("api://custom/.default").build().get();

    assertThat(form(server.takeRequest())).containsEntry("scope", "api://custom/.default");
  }

  @Test
  void toString_namesEndpointClientAndUser_butNoSecret() {
    server.enqueue(token("access-1", 3600));
    OAuth2TokenProvider provider = appOnly().build();
    provider.get();

    assertThat(provider.toString()).contains("client-1", "sales@contoso.com", "client_credentials")
        .doesNotContain(SECRET, "access-1");
  }

  @Test
  void builder_refusesWhatCantWork_namingTheSetting() {
    assertThatThrownBy(() -> OAuth2TokenProvider.google().clientCredentials("c", "s").username("u").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("refreshToken");
    assertThatThrownBy(() -> OAuth2TokenProvider.builder().clientCredentials("c", "s").username("u").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("tokenEndpoint");
    assertThatThrownBy(() -> appOnly().tokenEndpoint("http://login.example.com/token"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("https");
    assertThatThrownBy(() -> OAuth2TokenProvider.microsoft365("contoso/../x"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tenant");
    assertThatThrownBy(() -> OAuth2TokenProvider.microsoft365("t").clientCredentials("c", "s").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("username");
    assertThatThrownBy(() -> appOnly().clientCredentials("c", " "))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clientSecret")
        .hasMessageNotContaining("' '");
    assertThatThrownBy(() -> appOnly().refreshBefore(Duration.ofHours(2)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("refreshBefore").hasMessageContaining("PT2H");
  }
}
