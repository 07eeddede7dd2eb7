package dev.emailrouter.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.TokenSource;
import dev.emailrouter.api.TransientRouterException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the Graph adapters: bearer tokens with one refresh on 401, throttling (429, 503,
 * 504 with {@code Retry-After}) within a bounded wait, at most a few requests at once per mailbox,
 * JSON batching, and the mapping of Graph's error codes to transient or permanent failures.
 *
 * <p><b>Retry-After.</b> The SPI has no "try again at" for a mailbox or an email, so a throttled
 * request is retried here only while the total wait stays within {@code maxRetryWait} (default 10
 * seconds, so a tick is never held longer). A longer Retry-After ends the call with a {@link
 * TransientRouterException} naming the instant, and the mailbox is remembered as throttled until
 * then: every request for it before that instant fails at once, without reaching Graph, so the
 * engine's next attempts don't prolong the throttling. Thread-safe.
 */
final class GraphHttp {
  private static final Logger LOG = LoggerFactory.getLogger(GraphHttp.class);
  static final String DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0";
  static final MediaType JSON = MediaType.get("application/json");
  static final MediaType TEXT = MediaType.get("text/plain");
  /** The most requests Graph takes in one {@code $batch}. */
  static final int MAX_BATCH = 20;
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Set<Integer> THROTTLED = Set.of(429, 503, 504);
  /** Throttled answers one call takes before it gives up, whatever their Retry-After (a 0 would loop). */
  static final int MAX_THROTTLED_RETRIES = 8;

  /** Waits; the tests replace it so they never sleep. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  static final Sleeper THREAD_SLEEP = d -> Thread.sleep(d.toMillis());

  /** One answer: the status, the headers that matter, and the body. */
  record Reply(int status, String retryAfter, byte[] body) {

    JsonNode json() {
      if (body.length == 0) {
        return MAPPER.createObjectNode();
      }
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        return MAPPER.createObjectNode();
      }
    }

    boolean ok() {
      return status >= 200 && status < 300;
    }

    /** Graph's {@code error.code}, or the empty string. */
    String errorCode() {
      return json().path("error").path("code").asText("");
    }

    String errorMessage() {
      return json().path("error").path("message").asText("");
    }

    /** {@code HTTP 403 ErrorAccessDenied: Access is denied.} */
    String said() {
      String code = errorCode();
      String message = errorMessage();
      if (message.length() > 200) {
        message = message.substring(0, 200) + "...";
      }
      return "HTTP " + status + (code.isEmpty() ? "" : " " + code) + (message.isEmpty() ? "" : ": " + message);
    }
  }

  /** One request of a {@code $batch}: a method, a URL relative to the version root, and a JSON body or none. */
  record BatchItem(String method, String url, JsonNode body) {}

  private final HttpUrl base;
  private final OkHttpClient http;
  private final Supplier<Credentials> credentials;
  private final Clock clock;
  private final Sleeper sleeper;
  private final Duration maxRetryWait;
  private final int maxConcurrent;
  private final Map<String, Gate> gates = new ConcurrentHashMap<>();

  GraphHttp(HttpUrl base, OkHttpClient http, Supplier<Credentials> credentials, Clock clock, Sleeper sleeper,
      Duration maxRetryWait, int maxConcurrent) {
    this.base = base;
    this.http = http;
    this.credentials = credentials;
    this.clock = clock;
    this.sleeper = sleeper;
    this.maxRetryWait = maxRetryWait;
    this.maxConcurrent = maxConcurrent;
  }

  static ObjectMapper mapper() {
    return MAPPER;
  }

  /** Checks a base URL setting: http(s), no query; plain http only to a loopback address. */
  static HttpUrl baseUrl(String value) {
    HttpUrl url = value == null ? null : HttpUrl.parse(value.endsWith("/") ? value.substring(0, value.length() - 1)
        : value);
    if (url == null || url.query() != null) {
      throw new IllegalArgumentException("baseUrl must be an https URL such as " + DEFAULT_BASE_URL + ", was "
          + (value == null ? "null" : "'" + value + "'"));
    }
    if (!url.isHttps() && !List.of("127.0.0.1", "localhost", "[::1]", "::1").contains(url.host())) {
      throw new IllegalArgumentException("baseUrl must use https (plain http only to 127.0.0.1), was '" + value + "'");
    }
    return url;
  }

  HttpUrl base() {
    return base;
  }

  /** The absolute URL of a path relative to the version root, e.g. {@code /users/a@b/messages}. */
  HttpUrl.Builder url(String... segments) {
    HttpUrl.Builder b = base.newBuilder();
    for (String s : segments) {
      b.addPathSegment(s);
    }
    return b;
  }

  /** The part of an absolute URL after the version root, as {@code $batch} wants it. */
  String relative(HttpUrl url) {
    String all = url.toString();
    String root = base.toString();
    if (root.endsWith("/")) {
      root = root.substring(0, root.length() - 1);
    }
    return all.substring(root.length());
  }

  /**
   * Checks that a link Graph returned (a nextLink, a deltaLink) leads to the same service, so the
   * token is never sent elsewhere.
   */
  HttpUrl link(String value, String what) {
    HttpUrl url = HttpUrl.parse(value);
    if (url == null || !url.scheme().equals(base.scheme()) || !url.host().equals(base.host())
        || url.port() != base.port()) {
      throw new PermanentRouterException(what + " leads to " + (url == null ? "something that is not a URL"
          : url.scheme() + "://" + url.host() + ":" + url.port()) + ", not to " + base.host()
          + "; refused so the access token is never sent to another host");
    }
    return url;
  }

  Reply get(String mailbox, HttpUrl url, String what, String... headers) {
    Request.Builder b = new Request.Builder().url(url).get();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return call(mailbox, b, what);
  }

  Reply send(String mailbox, String method, HttpUrl url, RequestBody body, String what) {
    return call(mailbox, new Request.Builder().url(url).method(method, body), what);
  }

  Reply postJson(String mailbox, HttpUrl url, JsonNode body, String what) {
    return send(mailbox, "POST", url, RequestBody.create(body.toString(), JSON), what);
  }

  /**
   * Sends a request, with the access token, within the mailbox's concurrency limit; retries once
   * with a new token after a 401, and after throttling within {@code maxRetryWait}.
   *
   * @return the answer, whatever its status except 401 (twice) and throttling beyond the budget
   * @throws TransientRouterException if Graph can't be reached, or throttles longer than allowed
   * @throws PermanentRouterException if it refuses the token twice
   */
  Reply call(String mailbox, Request.Builder request, String what) {
    Gate gate = gates.computeIfAbsent(mailbox.toLowerCase(Locale.ROOT), k -> new Gate(maxConcurrent));
    Duration waited = Duration.ZERO;
    boolean refreshed = false;
    int backoff = 0;
    while (true) {
      waited = waited.plus(awaitTurn(gate, waited, mailbox, what));
      Credentials login = token();
      Reply reply;
      boolean acquired;
      try {
        acquired = gate.permits.tryAcquire(remaining(waited).toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TransientRouterException("interrupted while waiting to " + what, e);
      }
      if (!acquired) {
        throw new TransientRouterException("could not " + what + ": " + maxConcurrent + " requests to mailbox "
            + mailbox + " were already under way for longer than " + maxRetryWait + " (Graph allows "
            + maxConcurrent + " at once per mailbox); retrying later");
      }
      try {
        reply = execute(request.header("Authorization", "Bearer " + login.secret()).build(), what);
      } finally {
        gate.permits.release();
      }
      if (reply.status() == 401) {
        if (!refreshed && credentials instanceof TokenSource source) {
          source.invalidate(login.secret());
          refreshed = true;
          continue;
        }
        throw new PermanentRouterException("Graph refused the access token to " + what + " (" + reply.said()
            + (refreshed ? ", also with a new token" : "") + "); check the application's credentials and that the"
            + " token is for https://graph.microsoft.com/.default");
      }
      if (THROTTLED.contains(reply.status())) {
        Duration wait = retryAfter(reply.retryAfter(), backoff++);
        Instant until = clock.instant().plus(wait);
        gate.throttleUntil(until);
        LOG.debug("Graph throttles mailbox {} ({}), Retry-After {}", mailbox, reply.status(), wait);
        if (waited.plus(wait).compareTo(maxRetryWait) > 0 || backoff > MAX_THROTTLED_RETRIES) {
          throw new TransientRouterException("Graph throttles mailbox " + mailbox + " (" + reply.said()
              + ", Retry-After " + wait.toSeconds() + " s) while trying to " + what + "; not asked again before "
              + until);
        }
        continue;
      }
      return reply;
    }
  }

  /**
   * Sends requests in {@code $batch} calls of at most 20, retrying the ones Graph throttled
   * within the same wait budget.
   *
   * @return the answers, in the order of {@code items}
   */
  List<Reply> batch(String mailbox, List<BatchItem> items, String what) {
    Reply[] replies = new Reply[items.size()];
    for (int from = 0; from < items.size(); from += MAX_BATCH) {
      int to = Math.min(items.size(), from + MAX_BATCH);
      List<Integer> pending = new ArrayList<>();
      for (int i = from; i < to; i++) {
        pending.add(i);
      }
      Duration waited = Duration.ZERO;
      int backoff = 0;
      while (!pending.isEmpty()) {
        ObjectNode body = MAPPER.createObjectNode();
        ArrayNode requests = body.putArray("requests");
        for (int i : pending) {
          BatchItem item = items.get(i);
          ObjectNode r = requests.addObject().put("id", Integer.toString(i)).put("method", item.method())
              .put("url", item.url());
          if (item.body() != null) {
            r.putObject("headers").put("Content-Type", "application/json");
            r.set("body", item.body());
          }
        }
        Reply outer = postJson(mailbox, url("$batch").build(), body, what);
        if (!outer.ok()) {
          throw failure(outer, what, null);
        }
        Map<Integer, Reply> byId = new LinkedHashMap<>();
        for (JsonNode r : outer.json().path("responses")) {
          JsonNode inner = r.path("body");
          byte[] bytes = inner.isMissingNode() || inner.isNull() ? new byte[0] : inner.toString().getBytes(
              java.nio.charset.StandardCharsets.UTF_8);
          String retry = r.path("headers").path("Retry-After").asText(null);
          byId.put(Integer.parseInt(r.path("id").asText("-1")), new Reply(r.path("status").asInt(500), retry, bytes));
        }
        List<Integer> throttled = new ArrayList<>();
        Duration wait = Duration.ZERO;
        for (int i : pending) {
          Reply r = byId.get(i);
          if (r == null) {
            r = new Reply(500, null, new byte[0]);
          }
          if (THROTTLED.contains(r.status())) {
            throttled.add(i);
            Duration w = retryAfter(r.retryAfter(), backoff);
            wait = w.compareTo(wait) > 0 ? w : wait;
          } else {
            replies[i] = r;
          }
        }
        if (!throttled.isEmpty()) {
          backoff++;
          Instant until = clock.instant().plus(wait);
          gates.computeIfAbsent(mailbox.toLowerCase(Locale.ROOT), k -> new Gate(maxConcurrent)).throttleUntil(until);
          if (waited.plus(wait).compareTo(maxRetryWait) > 0 || backoff > MAX_THROTTLED_RETRIES) {
            throw new TransientRouterException("Graph throttles mailbox " + mailbox + " (" + throttled.size() + " of "
                + (to - from) + " batched requests answered 429/503/504, Retry-After " + wait.toSeconds()
                + " s) while trying to " + what + "; not asked again before " + until);
          }
          waited = waited.plus(wait);
        }
        pending = throttled;
      }
    }
    return List.of(replies);
  }

  /** Waits while the mailbox is throttled, if that fits the budget; returns how long it waited. */
  private Duration awaitTurn(Gate gate, Duration waited, String mailbox, String what) {
    Instant until = gate.throttledUntil;
    Instant now = clock.instant();
    if (until == null || !until.isAfter(now)) {
      return Duration.ZERO;
    }
    Duration wait = Duration.between(now, until);
    if (waited.plus(wait).compareTo(maxRetryWait) > 0) {
      throw new TransientRouterException("Graph throttled mailbox " + mailbox + " until " + until
          + " (its Retry-After); not asked to " + what + " before then");
    }
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransientRouterException("interrupted while waiting out Graph's Retry-After to " + what, e);
    }
    return wait;
  }

  private Duration remaining(Duration waited) {
    Duration left = maxRetryWait.minus(waited);
    return left.isNegative() || left.isZero() ? Duration.ofMillis(1) : left;
  }

  private Credentials token() {
    Credentials login = credentials.get();
    if (login == null || login.kind() != Credentials.Kind.OAUTH2_TOKEN) {
      throw new PermanentRouterException("Graph needs an OAuth2 access token, but the credentials supplier gave "
          + (login == null ? "null" : login.kind()) + "; use an OAuth2TokenProvider (router-oauth2) with the client"
          + " credentials grant and the scope https://graph.microsoft.com/.default");
    }
    return login;
  }

  private Reply execute(Request request, String what) {
    try (Response response = http.newCall(request).execute()) {
      ResponseBody body = response.body();
      return new Reply(response.code(), response.header("Retry-After"), body == null ? new byte[0] : body.bytes());
    } catch (InterruptedIOException e) {
      throw new TransientRouterException("Graph did not answer in time to " + what + " (" + e.getMessage()
          + "); retrying later", e);
    } catch (IOException e) {
      throw new TransientRouterException("Graph at " + base.host() + " can't be reached to " + what + " ("
          + e.getClass().getSimpleName() + ": " + e.getMessage() + "); retrying later", e);
    }
  }

  /** Retry-After in seconds or as an HTTP date; without one, 1, 2, 4... seconds (at most 60). */
  private Duration retryAfter(String header, int attempt) {
    if (header != null) {
      String value = header.strip();
      try {
        long seconds = Long.parseLong(value);
        return Duration.ofSeconds(Math.max(0, seconds));
      } catch (NumberFormatException e) {
        try {
          Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
          Duration d = Duration.between(clock.instant(), at);
          return d.isNegative() ? Duration.ZERO : d;
        } catch (DateTimeParseException ignored) {
          // Unreadable: fall back to the backoff below, as the documentation advises without a Retry-After.
        }
      }
    }
    return Duration.ofSeconds(Math.min(60, 1L << Math.min(attempt, 6)));
  }

  /**
   * The failure for an answer the caller did not expect, transient or permanent by Graph's status
   * and error code, with the code in the message.
   *
   * @param permission the application permission the call needs ({@code Mail.ReadWrite}, {@code
   *     Mail.Send}), named when Graph denies access; or {@code null}
   */
  static RouterException failure(Reply reply, String what, String permission) {
    String code = reply.errorCode();
    String said = reply.said();
    int status = reply.status();
    if (status == 403 || code.equals("ErrorAccessDenied") || code.equals("AccessDenied")
        || code.equals("Authorization_RequestDenied")) {
      return new PermanentRouterException("Graph denied access to " + what + " (" + said + "). Grant the"
          + " application the Microsoft Graph application permission " + (permission == null ? "Mail.ReadWrite"
              + " (reading) or Mail.Send (sending)" : permission) + " with admin consent; if an application access"
          + " policy or RBAC for Applications in Exchange Online restricts the application to the CRM's mailboxes,"
          + " this mailbox must be in its scope");
    }
    if (code.equals("MailboxNotEnabledForRESTAPI") || code.equals("MailboxNotSupportedForRESTAPI")) {
      return new PermanentRouterException("Graph can't " + what + " (" + said + "): the mailbox is not in Exchange"
          + " Online or not licensed for it (on-premises, inactive or soft-deleted); use IMAP for it");
    }
    if (status == 413 || code.equals("ErrorMessageSizeExceeded")) {
      return new PermanentRouterException("Graph refused to " + what + " as too large (" + said + ")");
    }
    if (status == 404) {
      return new PermanentRouterException("Graph found nothing to " + what + " (" + said + "); check the mailbox"
          + " address and folder");
    }
    if (status >= 500 || status == 408 || status == 409 || status == 423) {
      return new TransientRouterException("Graph could not " + what + " now (" + said + "); retrying later");
    }
    return new PermanentRouterException("Graph refused to " + what + " (" + said + ")");
  }

  /** A mailbox's concurrency limit and the end of its throttling. */
  private static final class Gate {
    final Semaphore permits;
    volatile Instant throttledUntil;

    Gate(int permits) {
      this.permits = new Semaphore(permits, true);
    }

    synchronized void throttleUntil(Instant until) {
      if (throttledUntil == null || until.isAfter(throttledUntil)) {
        throttledUntil = until;
      }
    }
  }
}
