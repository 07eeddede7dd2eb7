package dev.emailrouter.graph;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.emailrouter.support.internal.RawHeaders;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;

/**
 * An in-process Microsoft Graph for the mail endpoints the adapters use, answering as Microsoft's
 * documentation shows: message delta with {@code @odata.nextLink} and {@code @odata.deltaLink}
 * (honouring {@code Prefer: odata.maxpagesize} and {@code changeType=created}), an expired delta
 * token as HTTP 410 {@code SyncStateNotFound}, {@code internetMessageHeaders} and the {@code
 * PidTagMessageSize} extended property, {@code /$value}, PATCH {@code isRead}, {@code /move},
 * DELETE (into Deleted Items), {@code sendMail} with base64 MIME answering 202 (and a copy in Sent
 * Items), {@code $batch} of at most 20 requests, 401 {@code InvalidAuthenticationToken}, 403 {@code
 * ErrorAccessDenied}, and throttling as 429 {@code TooManyRequests} with {@code Retry-After}.
 *
 * <p>Every mailbox exists; a message sent to an address lands in that mailbox's Inbox. Thread-safe
 * (MockWebServer dispatches on its own threads).
 */
final class GraphEmulator extends Dispatcher implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant EPOCH = Instant.parse("2030-01-07T09:00:00Z");
  private static final Set<String> WELL_KNOWN = Set.of("inbox", "sentitems", "deleteditems", "archive", "drafts",
      "junkemail", "msgfolderroot");

  final MockWebServer server = new MockWebServer();
  private final Map<String, Mailbox> mailboxes = new LinkedHashMap<>();
  private final Set<String> validTokens = new HashSet<>();
  private final Set<String> denied = new HashSet<>();
  final List<String> requests = new CopyOnWriteArrayList<>();
  final List<RecordedRequest> recorded = new CopyOnWriteArrayList<>();
  private long seq;
  private int generation = 1;
  private int throttleNext;
  private int throttleBatchItems;
  private long retryAfterSeconds = 1;
  private int throttleStatus = 429;
  private final Set<String> notInExchangeOnline = new HashSet<>();
  private volatile java.util.concurrent.CountDownLatch holdArrived;
  private volatile java.util.concurrent.CountDownLatch holdRelease;
  private int nextId;

  GraphEmulator(String... tokens) {
    validTokens.addAll(List.of(tokens));
    server.setDispatcher(this);
    try {
      server.start(java.net.InetAddress.getByName("127.0.0.1"), 0);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  String baseUrl() {
    return server.url("/v1.0").toString();
  }

  @Override
  public void close() {
    server.close();
  }

  // --- what tests set up -------------------------------------------------------------------------

  synchronized void acceptToken(String token) {
    validTokens.add(token);
  }

  /** The token is revoked: requests with it answer 401 InvalidAuthenticationToken. */
  synchronized void revokeToken(String token) {
    validTokens.remove(token);
  }

  /** Requests for this mailbox answer 403 ErrorAccessDenied, as under an application access policy that excludes it. */
  synchronized void deny(String mailbox) {
    denied.add(mailbox.toLowerCase(Locale.ROOT));
  }

  /** The next {@code count} top-level requests answer 429 with this Retry-After. */
  synchronized void throttleNext(int count, long retryAfter) {
    throttleNext = count;
    retryAfterSeconds = retryAfter;
  }

  /** The next {@code count} top-level requests answer this status (503, 504) with this Retry-After. */
  synchronized void unavailableNext(int count, int status, long retryAfter) {
    throttleNext = count;
    throttleStatus = status;
    retryAfterSeconds = retryAfter;
  }

  /** The mailbox is on-premises or inactive: Graph answers MailboxNotEnabledForRESTAPI. */
  synchronized void notInExchangeOnline(String mailbox) {
    notInExchangeOnline.add(mailbox.toLowerCase(Locale.ROOT));
  }

  /**
   * The next request is held at the server until {@code release} is counted down; {@code arrived}
   * is counted down when it is there.
   */
  void holdNextRequest(java.util.concurrent.CountDownLatch arrived, java.util.concurrent.CountDownLatch release) {
    holdRelease = release;
    holdArrived = arrived;
  }

  /** The next {@code count} requests inside {@code $batch} calls answer 429 with this Retry-After. */
  synchronized void throttleBatchItems(int count, long retryAfter) {
    throttleBatchItems = count;
    retryAfterSeconds = retryAfter;
  }

  /** Graph forgets every delta token handed out so far (cache eviction, maintenance). */
  synchronized void expireDeltaTokens() {
    generation++;
  }

  /** A message arrives in a folder of a mailbox; returns its Graph id. */
  synchronized String deliver(String mailbox, String folder, byte[] mime) {
    Msg m = new Msg(newId(), ++seq, folder, mime);
    box(mailbox).messages.put(m.id, m);
    return m.id;
  }

  /** Removes the message with this Message-ID from a mailbox, as another client deleting it for good. */
  synchronized void removeByMessageId(String mailbox, String messageId) {
    box(mailbox).messages.values().removeIf(m -> messageId.equals(m.header("message-id")));
  }

  /** The messages (MIME) in a folder of a mailbox, oldest first. */
  synchronized List<byte[]> folder(String mailbox, String folder) {
    List<byte[]> out = new ArrayList<>();
    for (Msg m : box(mailbox).messages.values()) {
      if (m.folder.equals(folder)) {
        out.add(m.mime);
      }
    }
    return out;
  }

  synchronized Map<String, Boolean> readFlags(String mailbox) {
    Map<String, Boolean> out = new LinkedHashMap<>();
    for (Msg m : box(mailbox).messages.values()) {
      out.put(m.header("message-id") + "@" + m.folder, m.isRead);
    }
    return out;
  }

  synchronized List<String> folderNames(String mailbox) {
    return new ArrayList<>(box(mailbox).folders.keySet());
  }

  private Mailbox box(String address) {
    return mailboxes.computeIfAbsent(address.toLowerCase(Locale.ROOT), k -> new Mailbox());
  }

  private String newId() {
    // Graph's ids are long base64 strings; these keep the same alphabet.
    return "AAMkAGI2TG93AAA" + Base64.getUrlEncoder().withoutPadding().encodeToString(
        ("msg-" + (++nextId)).getBytes(StandardCharsets.US_ASCII)) + "=";
  }

  // --- the service ---------------------------------------------------------------------------------

  private record Answer(int status, Map<String, String> headers, byte[] body) {
    static Answer json(int status, JsonNode body) {
      return new Answer(status, Map.of("Content-Type", "application/json"), body.toString().getBytes(
          StandardCharsets.UTF_8));
    }

    static Answer empty(int status) {
      return new Answer(status, Map.of(), new byte[0]);
    }

    static Answer error(int status, String code, String message) {
      ObjectNode body = JSON.createObjectNode();
      ObjectNode error = body.putObject("error");
      error.put("code", code).put("message", message);
      error.putObject("innerError").put("request-id", "3f3c8a4e-0000-0000-0000-000000000000")
          .put("date", "2030-01-07T09:00:00");
      return json(status, body);
    }
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
    recorded.add(request);
    HttpUrl url = request.getUrl();
    requests.add(request.getMethod() + " " + url.encodedPath());
    java.util.concurrent.CountDownLatch arrived = holdArrived;
    if (arrived != null) {
      holdArrived = null;
      arrived.countDown();
      holdRelease.await();
    }
    Answer answer;
    synchronized (this) {
      String auth = request.getHeaders().get("Authorization");
      String token = auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
      if (token == null || !validTokens.contains(token)) {
        answer = Answer.error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.");
      } else if (throttleNext > 0) {
        throttleNext--;
        answer = throttled();
      } else {
        byte[] body = request.getBody() == null ? new byte[0] : request.getBody().toByteArray();
        String path = url.encodedPath().substring("/v1.0".length());
        if (path.equals("/$batch") && request.getMethod().equals("POST")) {
          answer = batch(body);
        } else {
          answer = handle(request.getMethod(), path, url, request.getHeaders().get("Prefer"),
              request.getHeaders().get("Content-Type"), body);
        }
      }
    }
    MockResponse.Builder b = new MockResponse.Builder().code(answer.status());
    answer.headers().forEach(b::setHeader);
    return b.body(new okio.Buffer().write(answer.body())).build();
  }

  private Answer throttled() {
    Answer a = throttleStatus == 429
        ? Answer.error(429, "TooManyRequests", "Application is over its MailboxConcurrency limit.")
        : Answer.error(throttleStatus, "ServiceNotAvailable", "The service is temporarily unavailable.");
    Map<String, String> headers = new LinkedHashMap<>(a.headers());
    headers.put("Retry-After", Long.toString(retryAfterSeconds));
    return new Answer(a.status(), headers, a.body());
  }

  private Answer batch(byte[] body) {
    JsonNode requests;
    try {
      requests = JSON.readTree(body).path("requests");
    } catch (IOException e) {
      return Answer.error(400, "BadRequest", "Invalid batch payload format.");
    }
    if (requests.size() > GraphHttp.MAX_BATCH) {
      return Answer.error(400, "BadRequest", "Batch request cannot exceed 20 requests.");
    }
    ObjectNode out = JSON.createObjectNode();
    ArrayNode responses = out.putArray("responses");
    for (JsonNode r : requests) {
      String relative = r.path("url").asText();
      HttpUrl url = server.url("/v1.0" + relative);
      Answer a;
      if (throttleBatchItems > 0) {
        throttleBatchItems--;
        a = throttled();
      } else {
        byte[] itemBody = r.has("body") ? r.get("body").toString().getBytes(StandardCharsets.UTF_8) : new byte[0];
        a = handle(r.path("method").asText(), url.encodedPath().substring("/v1.0".length()), url, null,
            r.path("headers").path("Content-Type").asText(null), itemBody);
      }
      ObjectNode item = responses.addObject().put("id", r.path("id").asText()).put("status", a.status());
      ObjectNode headers = item.putObject("headers");
      a.headers().forEach(headers::put);
      if (a.body().length > 0) {
        try {
          item.set("body", JSON.readTree(a.body()));
        } catch (IOException e) {
          item.put("body", Base64.getEncoder().encodeToString(a.body()));
        }
      }
    }
    return Answer.json(200, out);
  }

  private Answer handle(String method, String path, HttpUrl url, String prefer, String contentType, byte[] body) {
    List<String> seg = new ArrayList<>(url.pathSegments());
    seg.remove(0); // v1.0
    if (seg.size() < 2 || !seg.get(0).equals("users")) {
      return Answer.error(400, "BadRequest", "Resource not found for the segment '" + path + "'.");
    }
    String user = seg.get(1);
    if (notInExchangeOnline.contains(user.toLowerCase(Locale.ROOT))) {
      return Answer.error(404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is"
          + " hosted on-premise.");
    }
    if (denied.contains(user.toLowerCase(Locale.ROOT))) {
      return Answer.error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.");
    }
    Mailbox box = box(user);
    List<String> rest = seg.subList(2, seg.size());
    if (rest.equals(List.of("sendMail")) && method.equals("POST")) {
      return sendMail(user, contentType, body);
    }
    if (rest.size() >= 1 && rest.get(0).equals("mailFolders")) {
      if (rest.size() == 1 && method.equals("GET")) {
        String filter = url.queryParameter("$filter");
        ArrayNode value = JSON.createArrayNode();
        for (String name : box.folders.keySet()) {
          if (filter == null || filter.equals("displayName eq '" + name.replace("'", "''") + "'")) {
            value.addObject().put("id", box.folders.get(name)).put("displayName", name);
          }
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("value", value);
        return Answer.json(200, out);
      }
      if (rest.size() == 1 && method.equals("POST")) {
        String name = json(body).path("displayName").asText();
        String id = "fld-" + name.toLowerCase(Locale.ROOT);
        box.folders.put(name, id);
        return Answer.json(201, JSON.createObjectNode().put("id", id).put("displayName", name));
      }
      String folder = folderOf(box, rest.get(1));
      if (folder == null) {
        return Answer.error(404, "ErrorItemNotFound", "The specified object was not found in the store.");
      }
      if (rest.size() == 2 && method.equals("GET")) {
        return Answer.json(200, JSON.createObjectNode().put("id", folder).put("displayName", rest.get(1)));
      }
      if (rest.size() == 4 && rest.get(2).equals("messages") && rest.get(3).equals("delta") && method.equals("GET")) {
        return delta(user, box, folder, url, prefer);
      }
    }
    if (rest.size() >= 2 && rest.get(0).equals("messages")) {
      Msg m = box.messages.get(rest.get(1));
      if (m == null) {
        return Answer.error(404, "ErrorItemNotFound", "The specified object was not found in the store.");
      }
      if (rest.size() == 2 && method.equals("GET")) {
        return Answer.json(200, properties(m, url.queryParameter("$select"), url.queryParameter("$expand")));
      }
      if (rest.size() == 3 && rest.get(2).equals("$value") && method.equals("GET")) {
        return new Answer(200, Map.of("Content-Type", "text/plain"), m.mime);
      }
      if (rest.size() == 2 && method.equals("PATCH")) {
        JsonNode change = json(body);
        if (change.has("isRead")) {
          m.isRead = change.get("isRead").asBoolean();
        }
        return Answer.json(200, properties(m, null, null));
      }
      if (rest.size() == 2 && method.equals("DELETE")) {
        box.messages.remove(m.id);
        if (!m.folder.equals("deleteditems")) {
          Msg moved = new Msg(newId(), ++seq, "deleteditems", m.mime);
          box.messages.put(moved.id, moved);
        }
        return Answer.empty(204);
      }
      if (rest.size() == 3 && rest.get(2).equals("move") && method.equals("POST")) {
        String destination = folderOf(box, json(body).path("destinationId").asText());
        if (destination == null) {
          return Answer.error(404, "ErrorItemNotFound", "The specified object was not found in the store.");
        }
        box.messages.remove(m.id);
        Msg moved = new Msg(newId(), ++seq, destination, m.mime);
        moved.isRead = m.isRead;
        box.messages.put(moved.id, moved);
        return Answer.json(201, properties(moved, null, null));
      }
    }
    return Answer.error(400, "BadRequest", "Unsupported request " + method + " " + path);
  }

  private static String folderOf(Mailbox box, String idOrName) {
    String lower = idOrName.toLowerCase(Locale.ROOT);
    if (WELL_KNOWN.contains(lower)) {
      return lower;
    }
    return box.folders.containsValue(idOrName) ? idOrName : null;
  }

  /** The documented delta round: pages of created messages, a nextLink until the last, then a deltaLink. */
  private Answer delta(String user, Mailbox box, String folder, HttpUrl url, String prefer) {
    int pageSize = 10;
    if (prefer != null && prefer.contains("odata.maxpagesize=")) {
      pageSize = Integer.parseInt(prefer.replaceAll(".*odata\\.maxpagesize=(\\d+).*", "$1"));
    }
    long from;
    long hwm;
    long last;
    String skip = url.queryParameter("$skiptoken");
    String deltaToken = url.queryParameter("$deltatoken");
    if (skip != null || deltaToken != null) {
      String[] t = (skip != null ? skip : deltaToken).split("\\.");
      if (Integer.parseInt(t[0].substring(1)) != generation) {
        return Answer.error(410, "SyncStateNotFound", "The sync state generation is not found. The delta token is"
            + " expired and data must be synchronized again.");
      }
      if (skip != null) {
        from = Long.parseLong(t[1]);
        hwm = Long.parseLong(t[2]);
        last = Long.parseLong(t[3]);
      } else {
        from = Long.parseLong(t[1]);
        hwm = seq;
        last = from;
      }
    } else {
      if (!"created".equals(url.queryParameter("changeType"))) {
        return Answer.error(400, "BadRequest", "this emulator serves changeType=created only");
      }
      from = 0;
      hwm = seq;
      last = 0;
    }
    List<Msg> page = new ArrayList<>();
    boolean more = false;
    for (Msg m : box.messages.values()) {
      if (m.folder.equals(folder) && m.seq > last && m.seq > from && m.seq <= hwm) {
        if (page.size() == pageSize) {
          more = true;
          break;
        }
        page.add(m);
      }
    }
    page.sort((a, b) -> Long.compare(a.seq, b.seq));
    ObjectNode out = JSON.createObjectNode();
    out.put("@odata.context", baseUrl() + "/$metadata#Collection(message)");
    String link = baseUrl() + "/users/" + user + "/mailFolders/" + folder + "/messages/delta";
    if (more) {
      out.put("@odata.nextLink", link + "?$skiptoken=g" + generation + "." + from + "." + hwm + "."
          + page.get(page.size() - 1).seq);
    } else {
      out.put("@odata.deltaLink", link + "?$deltatoken=g" + generation + "." + hwm);
    }
    ArrayNode value = out.putArray("value");
    for (Msg m : page) {
      ObjectNode p = properties(m, "id,internetMessageId,subject,from,toRecipients,ccRecipients,sentDateTime,"
          + "receivedDateTime", null);
      p.put("@odata.type", "#microsoft.graph.message");
      value.add(p);
    }
    return Answer.json(200, out);
  }

  private Answer sendMail(String user, String contentType, byte[] body) {
    if (contentType == null || !contentType.startsWith("text/plain")) {
      return Answer.error(400, "ErrorInvalidRequest", "this emulator takes sendMail with MIME only");
    }
    byte[] mime;
    try {
      mime = Base64.getDecoder().decode(new String(body, StandardCharsets.US_ASCII).strip());
    } catch (IllegalArgumentException e) {
      return Answer.error(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.");
    }
    if (body.length > GraphTransport.MAX_REQUEST_BYTES) {
      return Answer.error(413, "ErrorMessageSizeExceeded", "The message exceeds the maximum supported size.");
    }
    Msg parsed = new Msg("tmp", 0, "tmp", mime);
    Set<String> recipients = new LinkedHashSet<>();
    for (String header : List.of("to", "cc", "bcc")) {
      for (String value : parsed.headers.getOrDefault(header, List.of())) {
        try {
          for (InternetAddress a : InternetAddress.parseHeader(value, false)) {
            recipients.add(a.getAddress().toLowerCase(Locale.ROOT));
          }
        } catch (AddressException e) {
          return Answer.error(400, "ErrorInvalidRecipients", "At least one recipient is not valid.");
        }
      }
    }
    if (recipients.isEmpty()) {
      return Answer.error(400, "ErrorInvalidRecipients", "At least one recipient is not valid., Recipient is missing.");
    }
    byte[] delivered = withoutBcc(mime);
    for (String r : recipients) {
      Msg m = new Msg(newId(), ++seq, "inbox", delivered);
      box(r).messages.put(m.id, m);
    }
    Msg sent = new Msg(newId(), ++seq, "sentitems", mime);
    box(user).messages.put(sent.id, sent);
    return Answer.empty(202);
  }

  private static byte[] withoutBcc(byte[] mime) {
    String text = new String(mime, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    String head = end < 0 ? text : text.substring(0, end + 2);
    StringBuilder kept = new StringBuilder();
    boolean skipping = false;
    for (String line : head.split("\r\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
        if (!skipping) {
          kept.append(line).append("\r\n");
        }
        continue;
      }
      skipping = line.regionMatches(true, 0, "Bcc:", 0, 4);
      if (!skipping) {
        kept.append(line).append("\r\n");
      }
    }
    return (kept + (end < 0 ? "" : text.substring(end + 2))).getBytes(StandardCharsets.ISO_8859_1);
  }

  private ObjectNode properties(Msg m, String select, String expand) {
    Set<String> fields = select == null ? Set.of("id", "internetMessageId", "subject", "from", "toRecipients",
        "ccRecipients", "sentDateTime", "receivedDateTime", "isRead") : Set.of(select.split(","));
    ObjectNode p = JSON.createObjectNode();
    p.put("@odata.etag", "W/\"CQAAABYAAAA" + m.seq + "\"");
    p.put("id", m.id);
    if (fields.contains("receivedDateTime")) {
      p.put("receivedDateTime", EPOCH.plusSeconds(m.seq).toString());
    }
    if (fields.contains("sentDateTime")) {
      p.put("sentDateTime", EPOCH.plusSeconds(m.seq).toString());
    }
    if (fields.contains("internetMessageId")) {
      p.put("internetMessageId", m.header("message-id"));
    }
    if (fields.contains("subject")) {
      p.put("subject", m.header("subject"));
    }
    if (fields.contains("isRead")) {
      p.put("isRead", m.isRead);
    }
    if (fields.contains("from")) {
      recipient(p.putObject("from"), m.header("from"));
    }
    if (fields.contains("toRecipients")) {
      recipients(p.putArray("toRecipients"), m.header("to"));
    }
    if (fields.contains("ccRecipients")) {
      recipients(p.putArray("ccRecipients"), m.header("cc"));
    }
    if (fields.contains("internetMessageHeaders")) {
      ArrayNode headers = p.putArray("internetMessageHeaders");
      // Exchange adds its own transport headers in front of the message's.
      headers.addObject().put("name", "Received").put("value", "from emulator.example.test by"
          + " emulator.example.test with Microsoft SMTP Server; " + EPOCH.plusSeconds(m.seq));
      m.headers.forEach((name, values) -> values.forEach(v -> headers.addObject().put("name", name).put("value", v)));
    }
    if (expand != null && expand.contains("singleValueExtendedProperties")) {
      ArrayNode props = p.putArray("singleValueExtendedProperties");
      if (expand.contains("Integer 0x0E08")) {
        props.addObject().put("id", "Integer 0xe08").put("value", Integer.toString(m.mime.length));
      }
    }
    return p;
  }

  private static void recipient(ObjectNode into, String header) {
    if (header == null) {
      return;
    }
    try {
      InternetAddress[] all = InternetAddress.parseHeader(header, false);
      if (all.length > 0) {
        into.putObject("emailAddress").put("name", all[0].getPersonal() == null ? all[0].getAddress()
            : all[0].getPersonal()).put("address", all[0].getAddress());
      }
    } catch (AddressException e) {
      // Graph shows what it could not parse as no address at all.
    }
  }

  private static void recipients(ArrayNode into, String header) {
    if (header == null) {
      return;
    }
    try {
      for (InternetAddress a : InternetAddress.parseHeader(header, false)) {
        into.addObject().putObject("emailAddress").put("name", a.getPersonal() == null ? a.getAddress()
            : a.getPersonal()).put("address", a.getAddress());
      }
    } catch (AddressException e) {
      // as above
    }
  }

  private static JsonNode json(byte[] body) {
    try {
      return body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
    } catch (IOException e) {
      return JSON.createObjectNode();
    }
  }

  private static final class Mailbox {
    final Map<String, Msg> messages = Collections.synchronizedMap(new LinkedHashMap<>());
    final Map<String, String> folders = new LinkedHashMap<>();
  }

  private static final class Msg {
    final String id;
    final long seq;
    final String folder;
    final byte[] mime;
    final Map<String, List<String>> headers;
    boolean isRead;

    Msg(String id, long seq, String folder, byte[] mime) {
      this.id = id;
      this.seq = seq;
      this.folder = folder;
      this.mime = mime;
      this.headers = RawHeaders.parse(mime, 0, mime.length);
    }

    String header(String name) {
      List<String> v = headers.get(name);
      return v == null || v.isEmpty() ? null : v.get(0);
    }
  }
}
