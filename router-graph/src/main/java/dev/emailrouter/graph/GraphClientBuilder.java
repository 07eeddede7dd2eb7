package dev.emailrouter.graph;

import static java.util.Objects.requireNonNull;

import dev.emailrouter.api.Credentials;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * The setters {@link GraphMailboxReader.Builder} and {@link GraphTransport.Builder} share (Graph's
 * root URL, the token supplier, the OkHttp client, the clock, the Retry-After budget and the
 * concurrency limit), written once so both check them alike and default them alike. Graph has no
 * host, port or TLS setting of its own, so it does not take {@link
 * dev.emailrouter.api.ServerSettings}; it is the same idea for an HTTP API.
 *
 * <p>A generic base so every setter returns the adapter's own builder. Only this package extends it.
 * Not thread-safe, as builders are.
 *
 * @param <B> the adapter's builder type, returned by every setter
 */
public abstract class GraphClientBuilder<B extends GraphClientBuilder<B>> {
  private HttpUrl baseUrl = GraphHttp.baseUrl(GraphHttp.DEFAULT_BASE_URL);
  private Supplier<Credentials> credentials;
  private OkHttpClient okHttpClient;
  private Clock clock = Clock.systemUTC();
  private GraphHttp.Sleeper sleeper = GraphHttp.THREAD_SLEEP;
  private Duration maxRetryWait = Duration.ofSeconds(10);
  private int maxConcurrentRequests = 4;

  GraphClientBuilder() {}

  /**
   * Sets Graph's root URL; default {@code https://graph.microsoft.com/v1.0} (a national cloud has
   * its own, e.g. {@code https://graph.microsoft.us/v1.0}).
   *
   * @param url an https URL without a query
   * @return this builder
   * @throws IllegalArgumentException if it is not https (plain http only to 127.0.0.1, for tests)
   */
  public final B baseUrl(String url) {
    this.baseUrl = GraphHttp.baseUrl(url);
    return self();
  }

  /**
   * Sets where access tokens come from; required. Give an {@code OAuth2TokenProvider}
   * (router-oauth2) built with {@code clientCredentials} and the scope {@code
   * https://graph.microsoft.com/.default}: being a {@code TokenSource}, it is told when Graph
   * refuses a token and fetches a new one.
   *
   * @param value supplies {@link Credentials.Kind#OAUTH2_TOKEN} credentials; the user name is not used
   * @return this builder
   */
  public final B credentials(Supplier<Credentials> value) {
    this.credentials = requireNonNull(value, "credentials");
    return self();
  }

  /**
   * Sets the OkHttp client (timeouts, proxy); default a new client with OkHttp's defaults.
   *
   * @param value the client
   * @return this builder
   */
  public final B okHttpClient(OkHttpClient value) {
    this.okHttpClient = requireNonNull(value, "okHttpClient");
    return self();
  }

  /**
   * Sets the clock Retry-After instants are measured with (and the transport's Date header is
   * written with); default the system clock in UTC.
   *
   * @param value the clock
   * @return this builder
   */
  public final B clock(Clock value) {
    this.clock = requireNonNull(value, "clock");
    return self();
  }

  /** How Retry-After waits are slept; for tests. */
  final B sleeper(GraphHttp.Sleeper value) {
    this.sleeper = requireNonNull(value, "sleeper");
    return self();
  }

  /**
   * Sets how long one call may wait in all for Graph's Retry-After before it gives up with a
   * transient failure naming the instant; default 10 seconds, so a tick is never held long.
   *
   * @param value between 0 and 5 minutes
   * @return this builder
   * @throws IllegalArgumentException if out of range
   */
  public final B maxRetryWait(Duration value) {
    requireNonNull(value, "maxRetryWait");
    if (value.isNegative() || value.compareTo(Duration.ofMinutes(5)) > 0) {
      throw new IllegalArgumentException("maxRetryWait must be between 0 and 5 minutes, was " + value);
    }
    this.maxRetryWait = value;
    return self();
  }

  /**
   * Sets how many requests go to one mailbox at once; default 4, Graph's limit per mailbox and
   * application.
   *
   * @param value between 1 and 4
   * @return this builder
   * @throws IllegalArgumentException if out of range
   */
  public final B maxConcurrentRequests(int value) {
    if (value < 1 || value > 4) {
      throw new IllegalArgumentException("maxConcurrentRequests must be between 1 and 4 (Graph's limit per mailbox),"
          + " was " + value);
    }
    this.maxConcurrentRequests = value;
    return self();
  }

  /** Fails when no credentials were given; both adapters need them. */
  final void requireCredentials() {
    if (credentials == null) {
      throw new IllegalStateException("credentials are required: an OAuth2TokenProvider for"
          + " https://graph.microsoft.com/.default");
    }
  }

  /** The HTTP client of one built adapter, from the shared settings. */
  final GraphHttp http() {
    return new GraphHttp(baseUrl, okHttpClient == null ? new OkHttpClient() : okHttpClient, credentials, clock,
        sleeper, maxRetryWait, maxConcurrentRequests);
  }

  /** Graph's host (and port where not 443), for {@code describe()}. */
  final String authority() {
    return baseUrl.host() + (baseUrl.port() == 443 ? "" : ":" + baseUrl.port());
  }

  final Clock clock() {
    return clock;
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }
}
