package dev.emailrouter.oauth2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.TransientRouterException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Set;
import java.util.function.Consumer;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One OAuth2 token endpoint and the grant sent to it (RFC 6749 sections 4.4 and 6): sends the
 * request, reads the JSON answer, classifies failures, and keeps the refresh token (which a
 * rotating endpoint replaces). Requests are made one at a time by {@link OAuth2TokenProvider}.
 */
final class TokenEndpoint {
  private static final Logger LOG = LoggerFactory.getLogger(TokenEndpoint.class);
  private static final ObjectReader JSON = new ObjectMapper().readerFor(JsonNode.class);
  /** Error codes (RFC 6749 5.2) that say the configuration is wrong: retrying the same request won't help. */
  private static final Set<String> PERMANENT_ERRORS = Set.of("invalid_client", "invalid_grant",
      "unauthorized_client", "unsupported_grant_type", "invalid_scope", "invalid_request");
  /** Without expires_in the token is trusted this long. */
  static final Duration DEFAULT_LIFETIME = Duration.ofMinutes(10);
  private static final Duration MAX_RETRY_AFTER = Duration.ofHours(24);
  private static final int MAX_DESCRIPTION = 300;

  private final OkHttpClient http;
  private final HttpUrl url;
  private final OAuth2TokenProvider.Grant grant;
  private final String clientId;
  private final String clientSecret;
  private final String scope;
  private final Consumer<String> onRotated;
  private final Clock clock;
  /** Replaced by a rotating endpoint; written and read by the one thread that requests at a time. */
  private volatile String refreshToken;

  TokenEndpoint(OkHttpClient http, HttpUrl url, OAuth2TokenProvider.Grant grant, String clientId,
      String clientSecret, String refreshToken, String scope, Consumer<String> onRotated, Clock clock) {
    this.http = http;
    this.url = url;
    this.grant = grant;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.refreshToken = refreshToken;
    this.scope = scope;
    this.onRotated = onRotated;
    this.clock = clock;
  }

  /** The endpoint without query, for messages. */
  String url() {
    return url.newBuilder().query(null).build().toString();
  }

  /** An access token and the instant it expires. {@link #toString()} hides the value. */
  record Token(String value, Instant expiresAt) {
    @Override
    public String toString() {
      return "Token[expiresAt=" + expiresAt + ", value=***]";
    }
  }

  /** A failed request: the exception to throw, and the instant before which not to ask again, if the endpoint said. */
  static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient RouterException exception;
    private final transient Instant retryAfter;

    Failure(RouterException exception, Instant retryAfter) {
      super(exception.getMessage(), null, false, false);
      this.exception = exception;
      this.retryAfter = retryAfter;
    }

    RouterException exception() {
      return exception;
    }

    Instant retryAfter() {
      return retryAfter;
    }
  }

  Token request() throws Failure {
    FormBody.Builder form = new FormBody.Builder().add("grant_type", grant.wire).add("client_id", clientId);
    if (clientSecret != null) {
      form.add("client_secret", clientSecret);
    }
    String usedRefreshToken = refreshToken;
    if (grant == OAuth2TokenProvider.Grant.REFRESH_TOKEN) {
      form.add("refresh_token", usedRefreshToken);
    }
    if (scope != null) {
      form.add("scope", scope);
    }
    Request request = new Request.Builder().url(url).header("Accept", "application/json").post(form.build()).build();
    Instant sent = clock.instant();
    try (Response response = http.newCall(request).execute()) {
      String body = readBody(response.body());
      if (response.isSuccessful()) {
        return success(body, sent, usedRefreshToken);
      }
      throw failure(response, body);
    } catch (InterruptedIOException e) {
      if (Thread.currentThread().isInterrupted()) {
        throw new Failure(new TransientRouterException("interrupted while requesting an access token from "
            + url() + " for client " + clientId, e), null);
      }
      throw new Failure(new TransientRouterException("token endpoint " + url() + " did not answer in time ("
          + e.getMessage() + "); retrying later", e), null);
    } catch (IOException e) {
      throw new Failure(new TransientRouterException("token endpoint " + url() + " can't be reached ("
          + e.getClass().getSimpleName() + ": " + scrub(e.getMessage()) + "); retrying later", e), null);
    }
  }

  private Token success(String body, Instant sent, String usedRefreshToken) throws Failure {
    JsonNode json = parse(body);
    String accessToken = json == null ? null : text(json, "access_token");
    if (accessToken == null || accessToken.isBlank()) {
      throw new Failure(new TransientRouterException("token endpoint " + url() + " answered 200 without an "
          + "access_token for client " + clientId + "; retrying later"), null);
    }
    String tokenType = text(json, "token_type");
    if (tokenType != null && !tokenType.equalsIgnoreCase("Bearer")) {
      throw new Failure(new PermanentRouterException("token endpoint " + url() + " issued a token of type '"
          + tokenType + "' for client " + clientId + "; mail servers take Bearer tokens only"), null);
    }
    Duration lifetime = DEFAULT_LIFETIME;
    JsonNode expiresIn = json.get("expires_in");
    if (expiresIn != null && (expiresIn.isNumber() || expiresIn.isTextual())) {
      try {
        long seconds = expiresIn.isNumber() ? expiresIn.asLong() : Long.parseLong(expiresIn.asText().strip());
        if (seconds > 0) {
          lifetime = Duration.ofSeconds(seconds);
        }
      } catch (NumberFormatException e) {
        LOG.warn("token endpoint {} sent an expires_in that is not a number; the token is trusted for {}", url(),
            DEFAULT_LIFETIME);
      }
    }
    String rotated = text(json, "refresh_token");
    if (grant == OAuth2TokenProvider.Grant.REFRESH_TOKEN && rotated != null && !rotated.isBlank()
        && !rotated.equals(usedRefreshToken)) {
      refreshToken = rotated;
      try {
        onRotated.accept(rotated);
      } catch (RuntimeException e) {
        // Not the exception's message: it could quote the token.
        LOG.warn("the host's onRotated callback failed with {}; the new refresh token is used in memory but may "
            + "not have been stored", e.getClass().getName());
      }
    }
    // Measured from when the request was sent, so time spent waiting for the answer is not counted twice.
    return new Token(accessToken, sent.plus(lifetime));
  }

  private Failure failure(Response response, String body) {
    int code = response.code();
    JsonNode json = parse(body);
    String error = json == null ? null : text(json, "error");
    String description = json == null ? null : text(json, "error_description");
    String said = error == null ? "HTTP " + code : "HTTP " + code + " " + error
        + (description == null ? "" : " (" + shorten(scrub(description)) + ")");
    Instant retryAfter = retryAfter(response.header("Retry-After"));
    boolean permanent;
    if (error != null && PERMANENT_ERRORS.contains(error)) {
      permanent = true;
    } else if (code >= 500 || code == 408 || code == 425 || code == 429 || "temporarily_unavailable".equals(error)
        || "server_error".equals(error) || "slow_down".equals(error)) {
      permanent = false;
    } else {
      permanent = true; // another 4xx (a wrong URL, say) or a redirect, which the provider does not follow
    }
    if (permanent) {
      return new Failure(new PermanentRouterException("token endpoint " + url() + " refused client " + clientId
          + " (" + grant.wire + "): " + said + "; " + advice(error)), null);
    }
    String wait = retryAfter == null ? "retrying later" : "not asked again before " + retryAfter;
    return new Failure(new TransientRouterException("token endpoint " + url() + " could not issue a token for client "
        + clientId + " now: " + said + "; " + wait), retryAfter);
  }

  private String advice(String error) {
    if ("invalid_grant".equals(error) && grant == OAuth2TokenProvider.Grant.REFRESH_TOKEN) {
      return "the refresh token is expired or revoked: have the user consent again and configure the new one";
    }
    if ("invalid_client".equals(error) || "unauthorized_client".equals(error)) {
      return "check the client ID and secret, and that the application may use this flow";
    }
    if ("invalid_scope".equals(error)) {
      return "check the scope and the application's API permissions";
    }
    return "check the OAuth2 configuration";
  }

  private Instant retryAfter(String header) {
    if (header == null || header.isBlank()) {
      return null;
    }
    String value = header.strip();
    Instant now = clock.instant();
    Instant at;
    try {
      at = now.plusSeconds(Long.parseLong(value));
    } catch (NumberFormatException e) {
      try {
        at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      } catch (DateTimeParseException e2) {
        return null;
      }
    }
    if (at.isBefore(now)) {
      return null;
    }
    Instant max = now.plus(MAX_RETRY_AFTER);
    return at.isAfter(max) ? max : at;
  }

  private static String readBody(ResponseBody body) throws IOException {
    if (body == null) {
      return "";
    }
    // A token answer is small; an endpoint sending megabytes is cut off rather than held.
    byte[] bytes = body.byteStream().readNBytes(64 * 1024);
    return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
  }

  private static JsonNode parse(String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      JsonNode node = JSON.readValue(body);
      return node != null && node.isObject() ? node : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static String text(JsonNode json, String field) {
    JsonNode node = json.get(field);
    return node == null || node.isNull() || !node.isValueNode() ? null : node.asText();
  }

  /** Removes the secrets this endpoint knows from text that came from elsewhere. */
  private String scrub(String text) {
    if (text == null) {
      return "";
    }
    String out = text;
    for (String secret : new String[] {clientSecret, refreshToken}) {
      if (secret != null && secret.length() >= 4) {
        out = out.replace(secret, "***");
      }
    }
    return out.replaceAll("[\\r\\n\\t]+", " ");
  }

  private static String shorten(String text) {
    return text.length() <= MAX_DESCRIPTION ? text : text.substring(0, MAX_DESCRIPTION) + "...";
  }
}
