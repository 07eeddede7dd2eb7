package dev.emailrouter.graph;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.TransientRouterException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import okhttp3.HttpUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one Exchange Online mail folder through Microsoft Graph, incrementally by delta query.
 *
 * <p><b>Cursor.</b> The cursor is the delta query's link: {@code @odata.nextLink} while a round of
 * pages is under way, {@code @odata.deltaLink} after its last page. The delta query asks for created
 * messages only ({@code changeType=created}), so marking a message read or moving it never brings it
 * back, and pages hold at most {@code max} messages ({@code Prefer: odata.maxpagesize}). When Graph
 * says a delta token expired or is invalid (HTTP 410, or {@code syncStateNotFound}), the reader
 * starts a full sync of the folder and says so ({@link NewMessages#reset()}): messages handled
 * before come again, and the store's idempotent creation (by Message-ID) absorbs them.
 *
 * <p><b>Headers first.</b> The delta query selects only {@code internetMessageId}, {@code from},
 * the recipients, {@code subject} and the dates; the raw headers the policy reads (In-Reply-To,
 * References, Auto-Submitted...) come from {@code internetMessageHeaders} and the size from the
 * {@code PidTagMessageSize} property, for the page's messages in one {@code $batch}. The whole MIME
 * ({@code /messages/{id}/$value}) is downloaded only for the messages the engine asks for.
 *
 * <p><b>Post-actions</b> (mark read, move, delete) go in {@code $batch} calls of up to 20 requests.
 *
 * <p><b>Authentication.</b> App-only: an OAuth2 access token for {@code
 * https://graph.microsoft.com/.default} from the credentials supplier (an {@code OAuth2TokenProvider}
 * of router-oauth2 with the client credentials grant); a 401 makes it fetch a new token once. The
 * application needs the application permission {@code Mail.ReadWrite}.
 *
 * <pre>{@code
 * OAuth2TokenProvider token = OAuth2TokenProvider.microsoft365("<tenant-id>")
 *     .clientCredentials("<client-id>", clientSecret)
 *     .scope("https://graph.microsoft.com/.default")
 *     .username("crm-router")
 *     .build();
 * MailboxReader sales = GraphMailboxReader.builder()
 *     .mailbox("sales@contoso.com")
 *     .credentials(token)
 *     .afterTracked(GraphMailboxReader.PostAction.MARK_READ)
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe; each session is for one thread at a time.
 */
public final class GraphMailboxReader implements MailboxReader {
  private static final Logger LOG = LoggerFactory.getLogger(GraphMailboxReader.class);

  /** Graph's well-known folder names, usable wherever a folder id is. */
  static final Set<String> WELL_KNOWN = Set.of("archive", "clutter", "conflicts", "conversationhistory",
      "deleteditems", "drafts", "inbox", "junkemail", "localfailures", "msgfolderroot", "outbox",
      "recoverableitemsdeletions", "scheduled", "searchfolders", "sentitems", "serverfailures", "syncissues");
  private static final String DELTA_SELECT =
      "id,internetMessageId,subject,from,toRecipients,ccRecipients,sentDateTime,receivedDateTime";
  /** PidTagMessageSize: the size Exchange keeps for a message, in bytes. */
  private static final String SIZE_PROPERTY = "Integer 0x0E08";
  private static final DateTimeFormatter RFC_5322 = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

  private final GraphHttp http;
  private final String mailbox;
  private final String folder;
  private final PostAction afterTracked;
  private final PostAction afterRejected;
  private final String quarantineFolder;
  private final String description;
  private final Map<String, String> folderIds = new ConcurrentHashMap<>();

  private GraphMailboxReader(Builder b) {
    this.http = b.http();
    this.mailbox = b.mailbox;
    this.folder = b.folder;
    this.afterTracked = b.afterTracked;
    this.afterRejected = b.afterRejected;
    this.quarantineFolder = b.quarantineFolder;
    this.description = "msgraph://" + b.authority() + "/users/" + mailbox + "/mailFolders/" + folder;
  }

  /**
   * Starts a builder; {@link Builder#mailbox(String)} and {@link Builder#credentials(Supplier)} are
   * required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Describes the folder as {@code msgraph://graph.microsoft.com/users/sales@contoso.com/mailFolders/inbox}.
   *
   * @return the description; never a credential
   */
  @Override
  public String describe() {
    return description;
  }

  /**
   * Checks that the folder exists and the application may read it, and opens a session.
   *
   * @return the session
   * @throws TransientRouterException if Graph can't be reached or throttles
   * @throws PermanentRouterException if the token is refused, the permission is missing, or the
   *     mailbox or folder does not exist
   */
  @Override
  public Session open() {
    String id = folderId(folder, false);
    return new GraphSession(id);
  }

  @Override
  public String toString() {
    return "GraphMailboxReader[" + description + "]";
  }

  /** The folder's id for requests: a well-known name as it is, else found by display name (created if asked). */
  private String folderId(String name, boolean create) {
    String known = folderIds.get(name);
    if (known != null) {
      return known;
    }
    String id;
    if (WELL_KNOWN.contains(name.toLowerCase(Locale.ROOT))) {
      id = name.toLowerCase(Locale.ROOT);
      GraphHttp.Reply reply = http.get(mailbox, http.url("users", mailbox, "mailFolders", id)
          .addQueryParameter("$select", "id").build(), "open folder " + name + " of " + mailbox);
      if (!reply.ok()) {
        throw GraphHttp.failure(reply, "open folder " + name + " of " + mailbox, "Mail.ReadWrite");
      }
    } else {
      String what = "find folder " + name + " of " + mailbox;
      GraphHttp.Reply reply = http.get(mailbox, http.url("users", mailbox, "mailFolders")
          .addQueryParameter("$filter", "displayName eq '" + name.replace("'", "''") + "'")
          .addQueryParameter("$select", "id,displayName").build(), what);
      if (!reply.ok()) {
        throw GraphHttp.failure(reply, what, "Mail.ReadWrite");
      }
      JsonNode found = reply.json().path("value");
      if (found.size() > 0) {
        id = found.get(0).path("id").asText();
      } else if (create) {
        ObjectNode body = GraphHttp.mapper().createObjectNode().put("displayName", name);
        GraphHttp.Reply made = http.postJson(mailbox, http.url("users", mailbox, "mailFolders").build(), body,
            "create folder " + name + " in " + mailbox);
        if (!made.ok()) {
          throw GraphHttp.failure(made, "create folder " + name + " in " + mailbox, "Mail.ReadWrite");
        }
        id = made.json().path("id").asText();
      } else {
        throw new PermanentRouterException("mailbox " + mailbox + " has no top-level folder named '" + name
            + "'; give a folder's display name, its id, or a well-known name such as inbox");
      }
    }
    folderIds.put(name, id);
    return id;
  }

  private final class GraphSession implements Session {
    private final String folderId;

    GraphSession(String folderId) {
      this.folderId = folderId;
    }

    @Override
    public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
      requireNonNull(cursor, "cursor");
      requireNonNull(retry, "retry");
      if (max < 1) {
        throw new IllegalArgumentException("max must be at least 1, was " + max);
      }
      DeltaCursor at;
      try {
        at = DeltaCursor.parse(cursor);
      } catch (IllegalArgumentException e) {
        throw new PermanentRouterException("the stored cursor of " + description + " is not a Graph delta cursor ("
            + e.getMessage() + "); was it written by another reader?", e);
      }
      boolean reset = false;
      Round round;
      try {
        round = walk(at, max);
      } catch (SyncStateGone e) {
        // The documented answer to an expired or unknown delta token: synchronise the folder again.
        LOG.warn("Graph no longer knows the delta token of {}; synchronising the folder again (messages seen before"
            + " come again and are recognised by their Message-ID)", description);
        reset = true;
        round = walk(DeltaCursor.first(), max);
      }
      List<JsonNode> wanted = new ArrayList<>(round.messages);
      Set<String> seen = new HashSet<>();
      for (JsonNode m : round.messages) {
        seen.add(m.path("id").asText());
      }
      List<String> retries = new ArrayList<>();
      if (!reset) {
        for (String ref : retry) {
          if (seen.add(ref)) {
            retries.add(ref);
          }
        }
      }
      List<MessageHeaders> headers = headers(wanted, retries);
      return new NewMessages(headers, round.cursor.format(), reset, round.more);
    }

    /** Follows the delta links from {@code at} until {@code max} messages are in hand or the round ends. */
    private Round walk(DeltaCursor at, int max) {
      List<JsonNode> taken = new ArrayList<>();
      HttpUrl link = at.isFirst() ? firstLink() : http.link(at.link(), "the stored delta link");
      Set<String> done = new HashSet<>(at.done());
      for (int pages = 0; ; pages++) {
        JsonNode page = page(link, max);
        List<JsonNode> items = new ArrayList<>();
        for (JsonNode m : page.path("value")) {
          if (m.has("@removed") || done.contains(m.path("id").asText())) {
            continue;
          }
          items.add(m);
        }
        String next = page.path("@odata.nextLink").asText(null);
        String delta = page.path("@odata.deltaLink").asText(null);
        if (taken.size() == max) {
          // Looking ahead only to say whether more wait; nothing of this page is returned.
          if (!items.isEmpty()) {
            return new Round(taken, new DeltaCursor(link.toString(), done), true);
          }
        } else {
          int room = max - taken.size();
          if (items.size() > room) {
            for (JsonNode m : items.subList(0, room)) {
              taken.add(m);
              done.add(m.path("id").asText());
            }
            return new Round(taken, new DeltaCursor(link.toString(), done), true);
          }
          taken.addAll(items);
        }
        if (next != null) {
          link = http.link(next, "@odata.nextLink");
          done.clear();
        } else if (delta != null) {
          return new Round(taken, new DeltaCursor(http.link(delta, "@odata.deltaLink").toString(), Set.of()), false);
        } else {
          throw new TransientRouterException("Graph answered the delta query of " + description + " with neither"
              + " @odata.nextLink nor @odata.deltaLink; retrying later");
        }
        if (pages > 1000) {
          throw new TransientRouterException("the delta query of " + description + " gave more than 1000 empty pages"
              + " in a row; retrying later");
        }
        if (taken.size() == max) {
          done.clear();
        }
      }
    }

    private HttpUrl firstLink() {
      return http.url("users", mailbox, "mailFolders", folderId, "messages", "delta")
          .addQueryParameter("changeType", "created")
          .addQueryParameter("$select", DELTA_SELECT).build();
    }

    private JsonNode page(HttpUrl link, int max) {
      String what = "run the delta query of " + description;
      GraphHttp.Reply reply = http.get(mailbox, link, what, "Prefer", "odata.maxpagesize=" + Math.min(max, 1000));
      if (reply.status() == 410 || reply.errorCode().equalsIgnoreCase("syncStateNotFound")
          || reply.errorCode().equalsIgnoreCase("syncStateInvalid") || reply.errorCode().equalsIgnoreCase(
              "resyncRequired")) {
        throw new SyncStateGone();
      }
      if (!reply.ok()) {
        throw GraphHttp.failure(reply, what, "Mail.ReadWrite");
      }
      return reply.json();
    }

    /** The headers of the new messages and of the retries that still exist, fetched in batches. */
    private List<MessageHeaders> headers(List<JsonNode> fresh, List<String> retries) {
      List<String> ids = new ArrayList<>();
      for (JsonNode m : fresh) {
        ids.add(m.path("id").asText());
      }
      ids.addAll(retries);
      List<GraphHttp.BatchItem> items = new ArrayList<>();
      for (String id : ids) {
        HttpUrl url = http.url("users", mailbox, "messages", id)
            .addQueryParameter("$select", "internetMessageHeaders," + DELTA_SELECT)
            .addQueryParameter("$expand", "singleValueExtendedProperties($filter=id eq '" + SIZE_PROPERTY + "')")
            .build();
        items.add(new GraphHttp.BatchItem("GET", http.relative(url), null));
      }
      List<GraphHttp.Reply> replies = items.isEmpty() ? List.of()
          : http.batch(mailbox, items, "fetch the headers of " + items.size() + " messages in " + description);
      List<MessageHeaders> out = new ArrayList<>();
      for (int i = 0; i < ids.size(); i++) {
        GraphHttp.Reply r = replies.get(i);
        if (gone(r)) {
          continue; // deleted since the delta query, or a retry whose message is gone
        }
        if (!r.ok()) {
          throw GraphHttp.failure(r, "fetch the headers of a message in " + description, "Mail.ReadWrite");
        }
        out.add(toHeaders(r.json()));
      }
      // Oldest first, as the engine wants them; retries keep their place by arrival too.
      out.sort(Comparator.comparing(h -> h.receivedAt() == null ? Instant.MAX : h.receivedAt()));
      return out;
    }

    @Override
    public List<RawMessage> fetchMessages(List<String> refs) {
      requireNonNull(refs, "refs");
      List<RawMessage> out = new ArrayList<>();
      for (String ref : refs) {
        String what = "download message " + ref + " of " + description;
        GraphHttp.Reply reply = http.get(mailbox, http.url("users", mailbox, "messages", ref, "$value").build(), what);
        if (gone(reply)) {
          continue;
        }
        if (!reply.ok()) {
          throw GraphHttp.failure(reply, what, "Mail.ReadWrite");
        }
        byte[] mime = reply.body();
        out.add(new RawMessage(ref, mime.length, ContentSource.ofBytes(mime)));
      }
      return out;
    }

    @Override
    public void dispose(Map<String, Disposition> dispositions) {
      requireNonNull(dispositions, "dispositions");
      List<GraphHttp.BatchItem> items = new ArrayList<>();
      List<String> refs = new ArrayList<>();
      for (Map.Entry<String, Disposition> e : dispositions.entrySet()) {
        PostAction action = switch (e.getValue()) {
          case TRACKED -> afterTracked;
          case REJECTED -> afterRejected;
          case QUARANTINED -> PostAction.moveTo(quarantineFolder);
        };
        GraphHttp.BatchItem item = item(e.getKey(), action);
        if (item != null) {
          items.add(item);
          refs.add(e.getKey());
        }
      }
      if (items.isEmpty()) {
        return;
      }
      List<GraphHttp.Reply> replies = http.batch(mailbox, items, "apply post-actions in " + description);
      RouterException first = null;
      int failed = 0;
      for (int i = 0; i < replies.size(); i++) {
        GraphHttp.Reply r = replies.get(i);
        if (r.ok() || gone(r)) {
          continue; // done, or the message is gone already
        }
        failed++;
        if (first == null) {
          first = GraphHttp.failure(r, items.get(i).method() + " message " + refs.get(i) + " of " + description,
              "Mail.ReadWrite");
        }
      }
      if (first != null) {
        String message = failed + " of " + items.size() + " post-actions failed, the first: " + first.getMessage();
        throw first.isTransient() ? new TransientRouterException(message, first)
            : new PermanentRouterException(message, first);
      }
    }

    private GraphHttp.BatchItem item(String ref, PostAction action) {
      return switch (action.kind) {
        case LEAVE -> null;
        case MARK_READ -> new GraphHttp.BatchItem("PATCH", http.relative(http.url("users", mailbox, "messages", ref)
            .build()), GraphHttp.mapper().createObjectNode().put("isRead", true));
        case DELETE -> new GraphHttp.BatchItem("DELETE", http.relative(http.url("users", mailbox, "messages", ref)
            .build()), null);
        case MOVE -> new GraphHttp.BatchItem("POST", http.relative(http.url("users", mailbox, "messages", ref, "move")
            .build()), GraphHttp.mapper().createObjectNode().put("destinationId", folderId(action.folder, true)));
      };
    }

    @Override
    public void close() {
      // Nothing to release: every request is complete when its method returns.
    }
  }

  /**
   * Whether an answer says the message is not there: 404, or an id Graph can't read (a ref from
   * before a resync, say), which must not stop the mailbox for good.
   */
  private static boolean gone(GraphHttp.Reply reply) {
    return reply.status() == 404 || reply.errorCode().equals("ErrorInvalidIdMalformed");
  }

  /** The messages of one walk along the delta links, and where to go on. */
  private record Round(List<JsonNode> messages, DeltaCursor cursor, boolean more) {}

  /** Graph no longer knows the delta token: a full sync is due. */
  private static final class SyncStateGone extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SyncStateGone() {
      super(null, null, false, false);
    }
  }

  /** A message's headers: its raw Internet headers where Graph has them, completed from its properties. */
  static MessageHeaders toHeaders(JsonNode m) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (JsonNode h : m.path("internetMessageHeaders")) {
      String name = h.path("name").asText("");
      if (!name.isEmpty()) {
        headers.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(h.path("value").asText(""));
      }
    }
    // A message that never passed through transport (one put into the folder by a client) has no
    // Internet headers; its properties say the same things.
    putIfAbsent(headers, "message-id", m.path("internetMessageId").asText(null));
    putIfAbsent(headers, "subject", m.path("subject").asText(null));
    putIfAbsent(headers, "from", address(m.path("from")));
    putIfAbsent(headers, "to", addresses(m.path("toRecipients")));
    putIfAbsent(headers, "cc", addresses(m.path("ccRecipients")));
    Instant sent = instant(m.path("sentDateTime").asText(null));
    putIfAbsent(headers, "date", sent == null ? null : RFC_5322.format(sent));
    long size = -1;
    for (JsonNode p : m.path("singleValueExtendedProperties")) {
      if (p.path("id").asText("").replace("0x0E08", "0xe08").equalsIgnoreCase("Integer 0xe08")) {
        try {
          size = Math.max(-1, Long.parseLong(p.path("value").asText("")));
        } catch (NumberFormatException e) {
          size = -1;
        }
      }
    }
    return new MessageHeaders(m.path("id").asText(), size, instant(m.path("receivedDateTime").asText(null)), headers);
  }

  private static void putIfAbsent(Map<String, List<String>> headers, String name, String value) {
    if (value != null && !value.isEmpty() && !headers.containsKey(name)) {
      headers.put(name, List.of(value));
    }
  }

  private static String address(JsonNode recipient) {
    JsonNode a = recipient.path("emailAddress");
    String address = a.path("address").asText("");
    if (address.isEmpty()) {
      return null;
    }
    String name = a.path("name").asText("");
    return name.isEmpty() || name.equals(address) ? address
        : "\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\" <" + address + ">";
  }

  private static String addresses(JsonNode recipients) {
    List<String> all = new ArrayList<>();
    for (JsonNode r : recipients) {
      String a = address(r);
      if (a != null) {
        all.add(a);
      }
    }
    return all.isEmpty() ? null : String.join(", ", all);
  }

  private static Instant instant(String value) {
    if (value == null) {
      return null;
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * What the reader does with a message once the engine has handled it.
   *
   * <p>Immutable and thread-safe.
   */
  public static final class PostAction {

    /** Leaves the message as it is. */
    public static final PostAction LEAVE = new PostAction(Kind.LEAVE, null);

    /** Marks it read ({@code PATCH isRead=true}), as Outlook does when it is opened. */
    public static final PostAction MARK_READ = new PostAction(Kind.MARK_READ, null);

    /** Deletes it ({@code DELETE /messages/{id}}: into Deleted Items, as Outlook's Delete). */
    public static final PostAction DELETE = new PostAction(Kind.DELETE, null);

    enum Kind { LEAVE, MARK_READ, DELETE, MOVE }

    final Kind kind;
    final String folder;

    private PostAction(Kind kind, String folder) {
      this.kind = kind;
      this.folder = folder;
    }

    /**
     * Moves the message ({@code POST /messages/{id}/move}) to a folder: a well-known name such as
     * {@code archive} or {@code deleteditems}, or the display name of a top-level folder, which is
     * created when it does not exist yet.
     *
     * @param folder the destination
     * @return the action
     * @throws IllegalArgumentException if {@code folder} is blank
     */
    public static PostAction moveTo(String folder) {
      return new PostAction(Kind.MOVE, folderName("moveTo", folder));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof PostAction other && kind == other.kind && Objects.equals(folder, other.folder);
    }

    @Override
    public int hashCode() {
      return Objects.hash(kind, folder);
    }

    /**
     * Names the action: {@code LEAVE}, {@code MARK_READ}, {@code DELETE} or {@code MOVE_TO(folder)}.
     *
     * @return the name
     */
    @Override
    public String toString() {
      return kind == Kind.MOVE ? "MOVE_TO(" + folder + ")" : kind.name();
    }
  }

  private static String folderName(String setting, String folder) {
    requireNonNull(folder, setting);
    if (folder.isBlank() || folder.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(setting + " must be a folder name without control characters, was '"
          + folder + "'");
    }
    return folder;
  }

  /**
   * Configures a {@link GraphMailboxReader}. Each setter checks its argument at once; {@link
   * #build()} checks that the required ones were given. Every error names the setting and the value.
   * The settings it shares with {@link GraphTransport.Builder} come from {@link GraphClientBuilder}.
   *
   * <p>Not thread-safe; a builder may be reused to build several readers.
   */
  public static final class Builder extends GraphClientBuilder<Builder> {
    private String mailbox;
    private String folder = "inbox";
    private PostAction afterTracked = PostAction.LEAVE;
    private PostAction afterRejected = PostAction.LEAVE;
    private String quarantineFolder = "Quarantine";

    private Builder() {}

    /**
     * Sets the mailbox to read: its user principal name, SMTP address or object id. Required.
     *
     * @param value e.g. {@code sales@contoso.com}
     * @return this builder
     * @throws IllegalArgumentException if blank or holding whitespace or a slash
     */
    public Builder mailbox(String value) {
      this.mailbox = mailboxName("mailbox", value);
      return this;
    }

    /**
     * Sets the folder to read: a well-known name ({@code inbox}), a folder id, or the display name of
     * a top-level folder; default {@code inbox}.
     *
     * @param value the folder
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder folder(String value) {
      this.folder = folderName("folder", value);
      return this;
    }

    /**
     * Sets what happens to a message once its activity exists; default {@link PostAction#LEAVE}.
     *
     * @param action the post-action
     * @return this builder
     */
    public Builder afterTracked(PostAction action) {
      this.afterTracked = requireNonNull(action, "afterTracked");
      return this;
    }

    /**
     * Sets what happens to a message the tracking policy rejected; default {@link PostAction#LEAVE}.
     *
     * @param action the post-action
     * @return this builder
     */
    public Builder afterRejected(PostAction action) {
      this.afterRejected = requireNonNull(action, "afterRejected");
      return this;
    }

    /**
     * Sets the folder quarantined messages are moved to; default {@code Quarantine}, created when
     * first needed. Quarantined messages are never deleted.
     *
     * @param value a well-known name or a top-level folder's display name
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder quarantineFolder(String value) {
      this.quarantineFolder = folderName("quarantineFolder", value);
      return this;
    }

    /**
     * Builds the reader; nothing is sent before {@link GraphMailboxReader#open()}.
     *
     * @return the reader
     * @throws IllegalStateException if the mailbox or the credentials are missing
     */
    public GraphMailboxReader build() {
      if (mailbox == null) {
        throw new IllegalStateException("mailbox is required: the address of the mailbox to read");
      }
      requireCredentials();
      return new GraphMailboxReader(this);
    }
  }

  static String mailboxName(String setting, String value) {
    requireNonNull(value, setting);
    if (value.isBlank() || value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c)
        || c == '/' || c == '?' || c == '#')) {
      throw new IllegalArgumentException(setting + " must be a mailbox address or id without spaces or slashes, was '"
          + value + "'");
    }
    return value;
  }
}
