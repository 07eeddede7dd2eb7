package dev.emailrouter.oauth2;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.TokenSource;
import dev.emailrouter.api.TransientRouterException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the SMTP, IMAP and POP3 adapters OAuth2 access tokens in place of a password, for
 * XOAUTH2 and OAUTHBEARER logins: from Microsoft Entra ID (Microsoft 365, Exchange Online), Google
 * (Gmail) or any OAuth2 token endpoint.
 *
 * <pre>{@code
 * OAuth2TokenProvider tokens = OAuth2TokenProvider.microsoft365("contoso.onmicrosoft.com")
 *     .clientCredentials(clientId, clientSecret)        // app-only; scope https://outlook.office365.com/.default
 *     .username("sales@contoso.com")                    // the mailbox the token logs in to
 *     .build();
 * MailboxReader sales = ImapMailboxReader.builder()
 *     .host("outlook.office365.com").security(Security.IMPLICIT_TLS)
 *     .username("sales@contoso.com").credentials(tokens)
 *     .build();
 * }</pre>
 *
 * <p><b>Flows.</b> {@link Builder#clientCredentials client credentials} (app-only: the application
 * itself is granted access to mailboxes, as Exchange Online allows) and {@link Builder#refreshToken
 * refresh token} (delegated: a user consented once, as Gmail requires). When the token endpoint
 * answers a refresh with a new refresh token (rotation, as Microsoft and some others do), the
 * provider uses it from then on and hands it to the host's callback so the host can store it.
 *
 * <p><b>Caching.</b> {@link #get()} returns the cached token until {@link Builder#refreshBefore
 * refreshBefore} (default 5 minutes) before it expires, then fetches a new one. Concurrent callers
 * share one request: however many threads ask while a token is being fetched, the endpoint sees
 * one request and all of them get its answer. Should that refresh fail for a reason that may pass
 * while the old token still has time left, the old token is returned. {@link #invalidate(String)}
 * drops a token a mail server refused, so the next {@code get()} fetches a fresh one.
 *
 * <p><b>Failures.</b> {@code get()} throws {@link PermanentRouterException} when the endpoint says
 * the configuration is wrong ({@code invalid_client}, {@code invalid_grant}, {@code
 * unauthorized_client}, {@code invalid_scope}, {@code unsupported_grant_type}, {@code
 * invalid_request}, or another 4xx): the engine reports the mailbox or server and backs it off.
 * The provider then repeats that failure without asking the endpoint again for {@link
 * Builder#permanentFailureHold permanentFailureHold} (default 5 minutes), so mailboxes sharing it
 * cause no request storm. It throws {@link TransientRouterException} for a 5xx, a 408 or 429, a
 * timeout or an unreachable endpoint; a {@code Retry-After} on such an answer is honoured: until
 * then no request is sent and the failure is repeated. Client secrets, refresh tokens and access
 * tokens never appear in log lines, exception messages or {@link #toString()}.
 *
 * <p>Immutable configuration; thread-safe.
 */
public final class OAuth2TokenProvider implements TokenSource {
  private static final Logger LOG = LoggerFactory.getLogger(OAuth2TokenProvider.class);

  /** Microsoft's token endpoint; {@code {tenant}} is the directory (tenant) ID or a domain. */
  static final String MICROSOFT_TOKEN_ENDPOINT = "https://login.microsoftonline.com/%s/oauth2/v2.0/token";
  /** App-only (client credentials) access to Exchange Online over IMAP, POP3 and SMTP. */
  static final String MICROSOFT_APP_SCOPE = "https://outlook.office365.com/.default";
  /** Delegated access to Exchange Online over IMAP, POP3 and SMTP, with a refresh token. */
  static final String MICROSOFT_DELEGATED_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All "
      + "https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access";
  static final String GOOGLE_TOKEN_ENDPOINT = "https://oauth2.googleapis.com/token";
  /** Gmail over IMAP, POP3 and SMTP. */
  static final String GOOGLE_SCOPE = "https://mail.google.com/";

  private final TokenEndpoint endpoint;
  private final String username;
  private final Clock clock;
  private final Duration refreshBefore;
  private final Duration permanentFailureHold;
  private final String description;

  private final Object lock = new Object();
  /** The cached token; guarded by {@link #lock}. */
  private TokenEndpoint.Token current;
  /** The request every caller waits for while a token is fetched; guarded by {@link #lock}. */
  private CompletableFuture<TokenEndpoint.Token> inFlight;
  /** A failure repeated without a request until its time; guarded by {@link #lock}. */
  private HeldFailure held;

  private OAuth2TokenProvider(Builder b) {
    this.username = b.username;
    this.clock = b.clock;
    this.refreshBefore = b.refreshBefore;
    this.permanentFailureHold = b.permanentFailureHold;
    OkHttpClient base = b.okHttpClient != null ? b.okHttpClient : new OkHttpClient();
    OkHttpClient http = base.newBuilder()
        .connectTimeout(b.connectTimeout)
        .readTimeout(b.readTimeout)
        .writeTimeout(b.readTimeout)
        .callTimeout(b.connectTimeout.plus(b.readTimeout).plus(b.readTimeout))
        .followRedirects(false)
        .build();
    String scope = b.scope != null ? b.scope : b.defaultScope(b.grant);
    this.endpoint = new TokenEndpoint(http, b.tokenEndpoint, b.grant, b.clientId, b.clientSecret, b.refreshToken,
        scope, b.onRotated, clock);
    this.description = "OAuth2TokenProvider[" + b.tokenEndpoint + ", client " + b.clientId + ", " + b.grant.wire
        + ", user " + username + "]";
  }

  /**
   * Starts a builder for Microsoft Entra ID (Microsoft 365, Exchange Online): token endpoint
   * {@code https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token}; default scope {@code
   * https://outlook.office365.com/.default} with client credentials, and {@code
   * https://outlook.office.com/IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send offline_access}
   * with a refresh token.
   *
   * @param tenant the directory (tenant) ID or a verified domain such as {@code contoso.onmicrosoft.com}
   * @return a new builder
   * @throws IllegalArgumentException if the tenant is blank or not a plain ID or domain
   */
  public static Builder microsoft365(String tenant) {
    Objects.requireNonNull(tenant, "tenant");
    if (!Pattern.matches("[A-Za-z0-9][A-Za-z0-9.-]{0,253}", tenant)) {
      throw new IllegalArgumentException("tenant must be a directory (tenant) ID or a domain such as "
          + "contoso.onmicrosoft.com, was '" + tenant + "'");
    }
    Builder b = new Builder();
    b.tokenEndpoint = HttpUrl.get(String.format(Locale.ROOT, MICROSOFT_TOKEN_ENDPOINT, tenant));
    b.provider = Builder.Provider.MICROSOFT;
    return b;
  }

  /**
   * Starts a builder for Google (Gmail): token endpoint {@code https://oauth2.googleapis.com/token},
   * default scope {@code https://mail.google.com/}. Google gives Gmail access only to a user's
   * consent, so the flow is {@link Builder#refreshToken refreshToken}.
   *
   * @return a new builder
   */
  public static Builder google() {
    Builder b = new Builder();
    b.tokenEndpoint = HttpUrl.get(GOOGLE_TOKEN_ENDPOINT);
    b.provider = Builder.Provider.GOOGLE;
    return b;
  }

  /**
   * Starts a builder for any OAuth2 token endpoint (RFC 6749); {@link Builder#tokenEndpoint} is
   * required, and a scope if the endpoint wants one.
   *
   * @return a new builder
   */
  public static Builder builder() {
    Builder b = new Builder();
    b.provider = Builder.Provider.GENERIC;
    return b;
  }

  /**
   * Returns credentials with a valid access token for the configured user, from the cache or
   * fetched now; concurrent callers share one request.
   *
   * @return {@link Credentials.Kind#OAUTH2_TOKEN} credentials
   * @throws PermanentRouterException if the token endpoint refuses the configuration
   * @throws TransientRouterException if it can't be reached, times out, or asks to retry later
   */
  @Override
  public Credentials get() {
    CompletableFuture<TokenEndpoint.Token> request;
    boolean mine = false;
    TokenEndpoint.Token stillValid;
    synchronized (lock) {
      Instant now = clock.instant();
      if (current != null && now.isBefore(current.expiresAt().minus(refreshBefore))) {
        return credentials(current);
      }
      stillValid = current != null && now.isBefore(current.expiresAt()) ? current : null;
      if (held != null && now.isBefore(held.until)) {
        if (stillValid != null) {
          return credentials(stillValid);
        }
        throw held.repeat();
      }
      if (inFlight == null) {
        inFlight = new CompletableFuture<>();
        mine = true;
      }
      request = inFlight;
    }
    if (mine) {
      fetch(request);
    }
    try {
      return credentials(request.get());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransientRouterException("interrupted while waiting for an access token from " + endpoint.url(), e);
    } catch (ExecutionException e) {
      RouterException failure = (RouterException) e.getCause();
      if (failure.isTransient() && stillValid != null) {
        LOG.warn("refreshing the access token for {} failed, the current one is used until it expires at {}: {}",
            username, stillValid.expiresAt(), failure.getMessage());
        return credentials(stillValid);
      }
      throw copy(failure);
    }
  }

  private void fetch(CompletableFuture<TokenEndpoint.Token> request) {
    try {
      TokenEndpoint.Token token = endpoint.request();
      synchronized (lock) {
        current = token;
        held = null;
        inFlight = null;
      }
      LOG.debug("access token for {} from {} valid until {}", username, endpoint.url(), token.expiresAt());
      request.complete(token);
    } catch (TokenEndpoint.Failure f) {
      synchronized (lock) {
        Instant until = f.retryAfter() != null ? f.retryAfter()
            : f.exception().isTransient() ? null : clock.instant().plus(permanentFailureHold);
        held = until == null ? null : new HeldFailure(f.exception(), until);
        inFlight = null;
      }
      LOG.debug("no access token for {} from {}: {}", username, endpoint.url(), f.exception().getMessage());
      request.completeExceptionally(f.exception());
    } catch (RuntimeException | Error e) {
      synchronized (lock) {
        inFlight = null;
      }
      TransientRouterException failure = new TransientRouterException("requesting an access token from "
          + endpoint.url() + " failed unexpectedly: " + e.getClass().getName(), e);
      request.completeExceptionally(failure);
      throw e;
    }
  }

  /**
   * Drops {@code rejectedToken} if it is still the cached token, so the next {@link #get()}
   * fetches a new one; does nothing if another caller has already replaced it. Sends nothing.
   *
   * @param rejectedToken the access token a mail server refused
   */
  @Override
  public void invalidate(String rejectedToken) {
    Objects.requireNonNull(rejectedToken, "rejectedToken");
    synchronized (lock) {
      if (current != null && current.value().equals(rejectedToken)) {
        current = null;
        LOG.debug("access token for {} dropped: a mail server refused it", username);
      }
    }
  }

  /**
   * The user name the tokens are for.
   *
   * @return the mailbox login
   */
  public String username() {
    return username;
  }

  /**
   * The {@link Builder#username(String) username} the tokens are for, so that a reader's or
   * transport's builder takes it as its user name and refuses a different one at build time.
   *
   * @return the user, always present
   */
  @Override
  public Optional<String> mailboxUser() {
    return Optional.of(username);
  }

  /**
   * Names the endpoint, the client ID, the flow and the user; never a secret or token.
   *
   * @return the description
   */
  @Override
  public String toString() {
    return description;
  }

  private Credentials credentials(TokenEndpoint.Token token) {
    return Credentials.oauth2(username, token.value());
  }

  /** A new exception for this caller, so threads don't share (and add suppressed to) one instance. */
  private static RouterException copy(RouterException e) {
    return e.isTransient() ? new TransientRouterException(e.getMessage(), e)
        : new PermanentRouterException(e.getMessage(), e);
  }

  private static final class HeldFailure {
    final RouterException failure;
    final Instant until;

    HeldFailure(RouterException failure, Instant until) {
      this.failure = failure;
      this.until = until;
    }

    RouterException repeat() {
      String message = failure.getMessage() + " (not asked again before " + until + ")";
      return failure.isTransient() ? new TransientRouterException(message, failure)
          : new PermanentRouterException(message, failure);
    }
  }

  /** The OAuth2 grant the provider uses. */
  enum Grant {
    CLIENT_CREDENTIALS("client_credentials"),
    REFRESH_TOKEN("refresh_token");

    final String wire;

    Grant(String wire) {
      this.wire = wire;
    }
  }

  /**
   * Configures an {@link OAuth2TokenProvider}. Every setter checks its value at once and names the
   * setting and the value when it refuses one; {@link #build()} checks that a flow and the user are
   * set. Not thread-safe.
   */
  public static final class Builder {
    enum Provider { MICROSOFT, GOOGLE, GENERIC }

    private Provider provider;
    private HttpUrl tokenEndpoint;
    private Grant grant;
    private String clientId;
    private String clientSecret;
    private String refreshToken;
    private Consumer<String> onRotated;
    private String scope;
    private String username;
    private Clock clock = Clock.systemUTC();
    private Duration refreshBefore = Duration.ofMinutes(5);
    private Duration permanentFailureHold = Duration.ofMinutes(5);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration readTimeout = Duration.ofSeconds(30);
    private OkHttpClient okHttpClient;

    private Builder() {}

    /**
     * Sets the token endpoint; replaces a preset's.
     *
     * @param url an {@code https} URL, e.g. {@code https://login.example.com/oauth2/token}
     *     ({@code http} only for a loopback address, as tests use)
     * @return this builder
     * @throws IllegalArgumentException if it is not an http(s) URL, or plain http to another host
     */
    public Builder tokenEndpoint(String url) {
      Objects.requireNonNull(url, "tokenEndpoint");
      HttpUrl parsed = HttpUrl.parse(url);
      if (parsed == null) {
        throw new IllegalArgumentException("tokenEndpoint must be an http(s) URL, was '" + url + "'");
      }
      if (!parsed.isHttps() && !isLoopback(parsed.host())) {
        throw new IllegalArgumentException("tokenEndpoint must use https (plain http only to 127.0.0.1, ::1 or "
            + "localhost), was '" + url + "'");
      }
      this.tokenEndpoint = parsed;
      return this;
    }

    /**
     * Uses the client credentials flow (app-only): the application's own ID and secret buy the
     * token. Replaces {@link #refreshToken}.
     *
     * @param clientId the application (client) ID
     * @param clientSecret the client secret
     * @return this builder
     * @throws IllegalArgumentException if either is blank
     */
    public Builder clientCredentials(String clientId, String clientSecret) {
      this.clientId = nonBlank("clientId", clientId, true);
      this.clientSecret = nonBlank("clientSecret", clientSecret, false);
      this.refreshToken = null;
      this.onRotated = null;
      this.grant = Grant.CLIENT_CREDENTIALS;
      return this;
    }

    /**
     * Uses the refresh token flow (delegated): a refresh token the user's consent produced buys
     * the access tokens. When the endpoint returns a new refresh token, the provider uses it from
     * then on and passes it to {@code onRotated} (on the thread that fetched it, once per rotation)
     * so the host can store it where it keeps the old one. Replaces {@link #clientCredentials}.
     *
     * @param clientId the application (client) ID
     * @param clientSecret the client secret, or {@code null} for a public client that has none
     * @param refreshToken the refresh token
     * @param onRotated receives each new refresh token; must not throw (a failure is logged)
     * @return this builder
     * @throws IllegalArgumentException if the client ID or refresh token is blank
     */
    public Builder refreshToken(String clientId, String clientSecret, String refreshToken,
        Consumer<String> onRotated) {
      this.clientId = nonBlank("clientId", clientId, true);
      this.clientSecret = clientSecret == null || clientSecret.isEmpty() ? null
          : nonBlank("clientSecret", clientSecret, false);
      this.refreshToken = nonBlank("refreshToken", refreshToken, false);
      this.onRotated = Objects.requireNonNull(onRotated, "onRotated");
      this.grant = Grant.REFRESH_TOKEN;
      return this;
    }

    /**
     * Sets the scope asked for, replacing the preset's default.
     *
     * @param value one or more scopes separated by spaces
     * @return this builder
     * @throws IllegalArgumentException if blank or holding control characters
     */
    public Builder scope(String value) {
      Objects.requireNonNull(value, "scope");
      if (value.isBlank() || value.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException("scope must be one or more scopes separated by spaces, was '" + value
            + "'");
      }
      this.scope = value.strip();
      return this;
    }

    /**
     * Sets the mailbox login the tokens are for (required); it goes into the XOAUTH2 and
     * OAUTHBEARER login beside the token, and must match the reader's or transport's user.
     *
     * @param value e.g. {@code sales@contoso.com}
     * @return this builder
     * @throws IllegalArgumentException if blank or holding whitespace or control characters
     */
    public Builder username(String value) {
      Objects.requireNonNull(value, "username");
      if (value.isBlank() || value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
        throw new IllegalArgumentException("username must be a login name without spaces, was '" + value + "'");
      }
      this.username = value;
      return this;
    }

    /**
     * Sets the clock token expiry is measured with; the system clock (UTC) by default.
     *
     * @param value the clock
     * @return this builder
     */
    public Builder clock(Clock value) {
      this.clock = Objects.requireNonNull(value, "clock");
      return this;
    }

    /**
     * Sets how long before its expiry a token is replaced; 5 minutes by default, so a login never
     * starts with a token about to expire.
     *
     * @param value between 0 and 1 hour
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder refreshBefore(Duration value) {
      Objects.requireNonNull(value, "refreshBefore");
      if (value.isNegative() || value.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("refreshBefore must be between 0 and 1 hour, was " + value);
      }
      this.refreshBefore = value;
      return this;
    }

    /**
     * Sets how long a permanent refusal by the token endpoint is repeated without a new request;
     * 5 minutes by default.
     *
     * @param value between 0 and 24 hours
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder permanentFailureHold(Duration value) {
      Objects.requireNonNull(value, "permanentFailureHold");
      if (value.isNegative() || value.compareTo(Duration.ofHours(24)) > 0) {
        throw new IllegalArgumentException("permanentFailureHold must be between 0 and 24 hours, was " + value);
      }
      this.permanentFailureHold = value;
      return this;
    }

    /**
     * Sets how long to wait for the TCP (and TLS) connection to the token endpoint; 10 s by default.
     *
     * @param value between 1 ms and 10 minutes
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder connectTimeout(Duration value) {
      this.connectTimeout = timeout("connectTimeout", value);
      return this;
    }

    /**
     * Sets how long to wait for the token endpoint's answer; 30 s by default.
     *
     * @param value between 1 ms and 10 minutes
     * @return this builder
     * @throws IllegalArgumentException if out of range
     */
    public Builder readTimeout(Duration value) {
      this.readTimeout = timeout("readTimeout", value);
      return this;
    }

    /**
     * Shares a host's {@link OkHttpClient} (its connection pool, proxy and TLS settings); the
     * provider derives its own client from it with this builder's timeouts and no redirects.
     *
     * @param value the client
     * @return this builder
     */
    public Builder okHttpClient(OkHttpClient value) {
      this.okHttpClient = Objects.requireNonNull(value, "okHttpClient");
      return this;
    }

    /**
     * Builds the provider; sends nothing yet (the first {@code get()} fetches the first token).
     *
     * @return the provider
     * @throws IllegalStateException if no flow, user or token endpoint is set, or the flow does
     *     not suit the preset
     */
    public OAuth2TokenProvider build() {
      if (tokenEndpoint == null) {
        throw new IllegalStateException("tokenEndpoint is required with builder(), e.g. "
            + "tokenEndpoint(\"https://login.example.com/oauth2/token\")");
      }
      if (grant == null) {
        throw new IllegalStateException("a flow is required: clientCredentials(clientId, clientSecret) or "
            + "refreshToken(clientId, clientSecret, refreshToken, onRotated)");
      }
      if (provider == Provider.GOOGLE && grant == Grant.CLIENT_CREDENTIALS) {
        throw new IllegalStateException("Google does not issue Gmail access tokens for client credentials; use "
            + "refreshToken(clientId, clientSecret, refreshToken, onRotated) with a user's consent");
      }
      if (username == null) {
        throw new IllegalStateException("username is required: the mailbox login the tokens are for, e.g. "
            + "username(\"sales@example.com\")");
      }
      return new OAuth2TokenProvider(this);
    }

    String defaultScope(Grant g) {
      return switch (provider) {
        case MICROSOFT -> g == Grant.CLIENT_CREDENTIALS ? MICROSOFT_APP_SCOPE : MICROSOFT_DELEGATED_SCOPE;
        case GOOGLE -> GOOGLE_SCOPE;
        case GENERIC -> null;
      };
    }

    private static String nonBlank(String setting, String value, boolean showValue) {
      Objects.requireNonNull(value, setting);
      if (value.isBlank() || value.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException(setting + " must not be blank or hold control characters"
            + (showValue ? ", was '" + value + "'" : ""));
      }
      return value;
    }

    private static Duration timeout(String setting, Duration value) {
      Objects.requireNonNull(value, setting);
      if (value.toMillis() < 1 || value.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException(setting + " must be between 1 ms and 10 minutes, was " + value);
      }
      return value;
    }

    private static boolean isLoopback(String host) {
      return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
    }
  }
}
