package dev.emailrouter.examples.conformance;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OAuth2 identity provider on 127.0.0.1 for the conformance tests: a token endpoint (client
 * credentials; the client ID is the mailbox address the token is for) and an RFC 7662
 * introspection endpoint Dovecot asks about every token. Tokens can be revoked one by one, all can
 * be refused, and the whole provider can be stopped and started again on the same port.
 */
final class TestIdentityProvider implements AutoCloseable {
  static final String CLIENT_SECRET = "idp-Client-Secret";

  private final int port;
  private HttpServer server;
  /** Issued token → the user it is for. */
  private final Map<String, String> issued = new ConcurrentHashMap<>();
  private final Set<String> revoked = ConcurrentHashMap.newKeySet();
  private volatile boolean rejectAll;
  private final AtomicInteger serial = new AtomicInteger();
  private final Map<String, AtomicInteger> tokenRequests = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> introspections = new ConcurrentHashMap<>();

  private TestIdentityProvider(int port) {
    this.port = port;
  }

  static TestIdentityProvider start() throws IOException {
    HttpServer first = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    TestIdentityProvider idp = new TestIdentityProvider(first.getAddress().getPort());
    idp.serve(first);
    return idp;
  }

  /** Starts answering again, on the same port, after {@link #stop()}. */
  synchronized void restart() throws IOException {
    if (server == null) {
      serve(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16));
    }
  }

  /** Stops answering: connections to the port are refused, as for an identity provider that is down. */
  synchronized void stop() {
    if (server != null) {
      server.stop(0);
      server = null;
    }
  }

  private synchronized void serve(HttpServer s) {
    s.createContext("/token", this::token);
    s.createContext("/introspect", this::introspect);
    s.start();
    server = s;
  }

  String tokenUrl() {
    return "http://127.0.0.1:" + port + "/token";
  }

  String introspectionUrl() {
    return "http://127.0.0.1:" + port + "/introspect";
  }

  void revoke(String token) {
    revoked.add(token);
  }

  void rejectAll(boolean value) {
    rejectAll = value;
  }

  int tokenRequests(String user) {
    return tokenRequests.computeIfAbsent(user, u -> new AtomicInteger()).get();
  }

  int introspections(String user) {
    return introspections.computeIfAbsent(user, u -> new AtomicInteger()).get();
  }

  private void token(HttpExchange exchange) throws IOException {
    Map<String, String> form = form(exchange);
    String user = form.getOrDefault("client_id", "");
    tokenRequests.computeIfAbsent(user, u -> new AtomicInteger()).incrementAndGet();
    if (!"client_credentials".equals(form.get("grant_type")) || !CLIENT_SECRET.equals(form.get("client_secret"))) {
      answer(exchange, 401, "{\"error\":\"invalid_client\"}");
      return;
    }
    String token = "tok-" + serial.incrementAndGet() + "-" + Long.toHexString(System.nanoTime());
    issued.put(token, user);
    answer(exchange, 200, "{\"access_token\":\"" + token + "\",\"token_type\":\"Bearer\",\"expires_in\":3600}");
  }

  private void introspect(HttpExchange exchange) throws IOException {
    String token = form(exchange).getOrDefault("token", "");
    String user = issued.get(token);
    if (user != null) {
      introspections.computeIfAbsent(user, u -> new AtomicInteger()).incrementAndGet();
    }
    if (user == null || rejectAll || revoked.contains(token)) {
      answer(exchange, 200, "{\"active\":false}");
    } else {
      answer(exchange, 200, "{\"active\":true,\"username\":\"" + user + "\",\"scope\":\"mail\"}");
    }
  }

  private static Map<String, String> form(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Map<String, String> form = new HashMap<>();
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return form;
  }

  private static void answer(HttpExchange exchange, int code, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    stop();
  }
}
