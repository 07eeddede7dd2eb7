package dev.emailrouter.imap;

import static java.util.Objects.requireNonNull;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailServerBuilder;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.SentFolder;
import dev.emailrouter.api.ServerSettings;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.support.internal.LoginCredentials;
import dev.emailrouter.support.internal.Secrets;
import dev.emailrouter.support.internal.Uris;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.FolderNotFoundException;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.InternetHeaders;
import jakarta.mail.internet.MailDateFormat;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.text.ParseException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.eclipse.angus.mail.iap.Argument;
import org.eclipse.angus.mail.iap.Literal;
import org.eclipse.angus.mail.iap.ProtocolException;
import org.eclipse.angus.mail.iap.Response;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.imap.IMAPStore;
import org.eclipse.angus.mail.imap.protocol.IMAPProtocol;
import org.eclipse.angus.mail.imap.protocol.IMAPResponse;
import org.eclipse.angus.mail.imap.protocol.ListInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's {@link SentFolder} for IMAP: keeps a copy of each sent email in the sender's Sent
 * folder (Server-Side Synchronization: copy to Sent Items), with the flag {@code \Seen} and the
 * email's {@code Date} as the message's internal date.
 *
 * <pre>{@code
 * SentFolder sent = ImapSentFolder.builder()
 *     .host("imap.example.com")
 *     .credentials(sender -> Credentials.password("router-admin", adminSecret).onBehalfOf(sender.address()))
 *     .build();
 * RouterEngine engine = RouterEngine.builder()...transport(smtp).sentFolder(sent).build();
 * }</pre>
 *
 * <p>Each copy is one connection: the login (as the sender, or an administrator on the sender's
 * behalf, exactly as {@link ImapMailboxReader} logs in), finding the folder, {@code EXAMINE}, {@code
 * UID SEARCH HEADER Message-ID <id>}, and {@code APPEND} only when the search found nothing, so a
 * resend never leaves a second copy. The folder is the one {@link Builder#folder(String)} names,
 * else the one the server marks {@code \Sent} (RFC 6154 SPECIAL-USE); a server without SPECIAL-USE is
 * searched for a folder named {@code Sent}, {@code Sent Items} or {@code Sent Messages}. No folder is
 * ever created: a missing one is a {@link PermanentRouterException} naming the {@code folder}
 * setting.
 *
 * <p>Failures are {@link TransientRouterException} (server unreachable, timeout, connection lost, a
 * {@code NO} that may go away) or {@link PermanentRouterException} (login refused, no Sent folder,
 * certificate not trusted); messages never contain the secret.
 *
 * <p>Immutable and thread-safe: the engine's send sessions may copy on several threads at once.
 */
public final class ImapSentFolder implements SentFolder {

  private static final Logger log = LoggerFactory.getLogger(ImapSentFolder.class);

  /** Names a Sent folder has on servers without SPECIAL-USE, in the order they are preferred. */
  static final List<String> FALLBACK_NAMES = List.of("Sent", "Sent Items", "Sent Messages");

  private final ServerSettings server;
  private final int port;
  /** The login of each sender's mailbox; {@code null} when one login serves every sender. */
  private final Function<EmailAddress, Credentials> credentials;
  private final String folder;

  private ImapSentFolder(Builder b, ServerSettings server) {
    this.server = server;
    this.port = ImapSettings.port(server);
    this.credentials = b.credentials;
    this.folder = b.folder;
  }

  /**
   * Starts a builder; {@link Builder#host(String)} and {@link Builder#credentials(Function)} (or one
   * login for every sender) are required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Describes the server as {@code imap://host:port}, with the folder when one is configured; never
   * a secret.
   *
   * @return the description
   */
  @Override
  public String describe() {
    return "imap://" + Uris.hostPart(server.host()) + ":" + port + (folder == null ? "" : "/" + folder);
  }

  /**
   * Appends the message to the sender's Sent folder with {@code \Seen}, unless a message with the
   * email's Message-ID is already there.
   *
   * @param email the email sent, with its Message-ID recorded
   * @param message the exact bytes sent
   * @throws IllegalArgumentException if the email has no Message-ID
   * @throws TransientRouterException if the server can't be reached, the connection fails or the
   *     server refuses for now
   * @throws PermanentRouterException if the login is refused, there is no Sent folder, the server's
   *     certificate is not trusted, or the bytes can't be read
   */
  @Override
  public void keepCopy(OutgoingEmail email, ContentSource message) {
    requireNonNull(email, "email");
    requireNonNull(message, "message");
    String messageId = email.messageId();
    if (messageId == null) {
      throw new IllegalArgumentException("email " + email.activityId() + " has no Message-ID: a copy could not be "
          + "found again, so it would be appended twice on a resend");
    }
    byte[] bytes;
    try (InputStream in = message.open()) {
      bytes = in.readAllBytes();
    } catch (IOException e) {
      throw new PermanentRouterException("the sent message of activity " + email.activityId()
          + " could not be read for its copy in the Sent folder: " + e.getMessage(), e);
    }
    Copy copy = new Copy(email.from());
    ImapLogin.LoggedIn in = copy.login.login();
    String secret = in.credentials().secret();
    IMAPFolder sent = null;
    String name = null;
    try {
      name = folder != null ? folder : copy.findSentFolder(in.store());
      sent = copy.examine(in.store(), name, secret);
      if (contains(sent, messageId)) {
        log.trace("{}: {} is in '{}' already; no second copy", copy.settings.describe(), messageId, name);
        return;
      }
      append(sent, name, bytes);
      log.trace("{}: copy of {} appended to '{}'", copy.settings.describe(), messageId, name);
    } catch (MessagingException | RuntimeException e) {
      if (e instanceof RouterException r) {
        throw r;
      }
      String what = name == null ? "finding the Sent folder" : "copying " + messageId + " to '" + name + "'";
      throw Secrets.withoutSecretInCause(copy.failures.during(what, e, secret), secret);
    } finally {
      close(sent, in.store(), copy.settings.describe(), secret);
    }
  }

  /**
   * Test Access for one sender: logs in as {@link Builder#credentials(Function)} says for the
   * sender and finds the Sent folder, exactly as a copy does; nothing is appended or created.
   *
   * @param sender the sender whose Sent folder is checked
   * @return the report, with the setting to change on a failed step
   */
  public AccessReport testAccess(EmailAddress sender) {
    requireNonNull(sender, "sender");
    List<AccessStep> steps = new ArrayList<>();
    Copy copy;
    ImapLogin.LoggedIn in;
    try {
      copy = new Copy(sender);
      in = copy.login.login();
    } catch (RouterException e) {
      steps.add(AccessStep.failed(AccessStep.Check.LOGIN, String.valueOf(e.getMessage()), "credentials"));
      steps.add(AccessStep.skipped(AccessStep.Check.FOLDER, "not logged in"));
      return new AccessReport(describe() + " (Sent folder of " + sender.address() + ")", steps);
    }
    String secret = in.credentials().secret();
    IMAPFolder sent = null;
    try {
      steps.add(AccessStep.passed(AccessStep.Check.LOGIN, "logged in as " + in.credentials().username()
          + (in.credentials().authorizationId() == null ? "" : " on behalf of " + in.credentials().authorizationId())));
      String name = folder != null ? folder : copy.findSentFolder(in.store());
      sent = copy.examine(in.store(), name, secret);
      steps.add(AccessStep.passed(AccessStep.Check.FOLDER, "Sent folder '" + name + "' exists and can be examined"));
    } catch (RouterException e) {
      steps.add(AccessStep.failed(AccessStep.Check.FOLDER, String.valueOf(e.getMessage()), "folder"));
    } catch (MessagingException | RuntimeException e) {
      steps.add(AccessStep.failed(AccessStep.Check.FOLDER, "finding the Sent folder failed: "
          + ImapFailures.detail(e, secret), null));
    } finally {
      close(sent, in.store(), copy.settings.describe(), secret);
    }
    return new AccessReport(copy.settings.describe(), steps);
  }

  /** The shared settings the Sent folder was built with; for tests of the defaults. */
  ServerSettings server() {
    return server;
  }

  /** Names the server and the folder; never the credentials. */
  @Override
  public String toString() {
    return "ImapSentFolder[" + describe() + ", security=" + server.security() + "]";
  }

  /** Whether a message with this Message-ID is in the examined folder. */
  private static boolean contains(IMAPFolder sent, String messageId) throws MessagingException {
    return (Boolean) sent.doCommand(p -> {
      Argument args = new Argument().writeAtom("HEADER").writeString("Message-ID").writeString(messageId);
      Response[] responses = p.command("UID SEARCH", args);
      boolean found = false;
      for (Response r : responses) {
        if (r instanceof IMAPResponse ir && ir.keyEquals("SEARCH")) {
          found |= ir.readNumber() > 0;
        } else if (!r.isTagged()) {
          p.notifyResponseHandlers(new Response[] {r});
        }
      }
      p.handleResult(responses[responses.length - 1]);
      return found;
    });
  }

  /** Appends the bytes as they are, flagged {@code \Seen}, dated as the email's Date header says. */
  private static void append(IMAPFolder sent, String name, byte[] bytes) throws MessagingException {
    Date date = dateOf(bytes);
    Literal literal = new Literal() {
      @Override
      public int size() {
        return bytes.length;
      }

      @Override
      public void writeTo(OutputStream out) throws IOException {
        out.write(bytes);
      }
    };
    sent.doCommand(p -> {
      p.append(name, new Flags(Flags.Flag.SEEN), date, literal);
      return null;
    });
  }

  /** The message's Date header, or {@code null} (the server's time of the APPEND) when it has none. */
  static Date dateOf(byte[] bytes) {
    try {
      String value = new InternetHeaders(new ByteArrayInputStream(bytes)).getHeader("Date", null);
      return value == null ? null : new MailDateFormat().parse(value.strip());
    } catch (MessagingException | ParseException | RuntimeException e) {
      return null;
    }
  }

  private static void close(IMAPFolder sent, IMAPStore store, String mailbox, String secret) {
    try {
      if (sent != null && sent.isOpen()) {
        sent.close(false);
      }
    } catch (MessagingException | RuntimeException e) {
      log.debug("{}: closing the Sent folder failed: {}", mailbox, ImapFailures.detail(e, secret));
    }
    ImapConnection.closeQuietly(store, mailbox, secret);
  }

  /** One copy's login: the sender's settings, asked for credentials once per copy. */
  private final class Copy {
    final ImapSettings settings;
    final ImapFailures failures;
    final ImapLogin login;

    Copy(EmailAddress sender) {
      Credentials first = credentialsOf(sender);
      Supplier<Credentials> supplier;
      if (credentials == null) {
        // One login for every sender: the supplier itself, so a refused token is retried as in the reader.
        supplier = server.credentials().orElseThrow();
      } else {
        // The first answer is used for the login; a second login (a refused OAuth2 token) asks again.
        AtomicReference<Credentials> once = new AtomicReference<>(first);
        supplier = () -> {
          Credentials c = once.getAndSet(null);
          return c != null ? c : credentialsOf(sender);
        };
      }
      settings = new ImapSettings(server.toBuilder().username(first.mailboxUser()).credentials(supplier).build(), port,
          folder != null ? folder : "\\Sent", ImapMailboxReader.PostAction.LEAVE, ImapMailboxReader.PostAction.LEAVE,
          "Quarantine", null, null, Clock.systemUTC());
      failures = new ImapFailures(settings);
      login = new ImapLogin(settings, failures);
    }

    private Credentials credentialsOf(EmailAddress sender) {
      if (credentials == null) {
        return new LoginCredentials(server.credentials().orElseThrow(), describe(), null).get();
      }
      Credentials c;
      try {
        c = credentials.apply(sender);
      } catch (RouterException e) {
        throw e;
      } catch (RuntimeException e) {
        // The function's message could quote a secret (a vault's answer, say); its type says enough.
        throw new TransientRouterException("credentials for the Sent folder of " + sender.address() + " at "
            + describe() + " could not be obtained: the function failed with " + e.getClass().getName(), e);
      }
      if (c == null) {
        throw new PermanentRouterException("the credentials function of " + describe() + " returned null for sender "
            + sender.address() + "; return the credentials of the sender's mailbox");
      }
      return c;
    }

    /**
     * The folder the server marks {@code \Sent}; without SPECIAL-USE, the first of {@link
     * #FALLBACK_NAMES} that exists (also below a personal namespace prefix such as {@code INBOX.}).
     */
    String findSentFolder(IMAPStore store) throws MessagingException {
      IMAPFolder any = (IMAPFolder) store.getFolder("INBOX");
      boolean specialUse = (Boolean) any.doCommand(p -> p.hasCapability("SPECIAL-USE"));
      boolean extended = (Boolean) any.doCommand(p -> p.hasCapability("LIST-EXTENDED"));
      // Only where SPECIAL-USE is missing is the whole list read; a pattern like "*Sent*" would be
      // shorter, but not every server takes a wildcard before the end (GreenMail refuses it).
      String command = specialUse && extended ? "LIST (SPECIAL-USE) \"\" \"*\"" : "LIST \"\" \"*\"";
      List<ListInfo> found = list(any, command);
      for (ListInfo info : found) {
        if (info.canOpen && hasAttribute(info, "\\Sent")) {
          return info.name;
        }
      }
      if (specialUse) {
        throw new PermanentRouterException("IMAP server " + settings.server() + " marks no folder \\Sent (RFC 6154 "
            + "SPECIAL-USE) for user " + settings.username() + "; mark one on the server, or configure the folder "
            + "setting with the Sent folder's name (no folder is created)");
      }
      for (String wanted : FALLBACK_NAMES) {
        for (ListInfo info : found) {
          String last = info.separator == '\0' ? info.name
              : info.name.substring(info.name.lastIndexOf(info.separator) + 1);
          if (info.canOpen && last.equalsIgnoreCase(wanted)) {
            return info.name;
          }
        }
      }
      throw new PermanentRouterException("IMAP server " + settings.server() + " offers no SPECIAL-USE and user "
          + settings.username() + " has no folder named " + String.join(", ", FALLBACK_NAMES) + "; configure the "
          + "folder setting with the Sent folder's name (no folder is created)");
    }

    /** Opens the folder read-only, so a search needs no write access and changes no flag. */
    IMAPFolder examine(IMAPStore store, String name, String secret) {
      IMAPFolder sent;
      try {
        sent = (IMAPFolder) store.getFolder(name);
        sent.open(Folder.READ_ONLY);
        return sent;
      } catch (FolderNotFoundException e) {
        throw new PermanentRouterException("IMAP folder '" + name + "' does not exist for user " + settings.username()
            + " at " + settings.server() + "; check the folder setting (no folder is created)", e);
      } catch (MessagingException | RuntimeException e) {
        throw Secrets.withoutSecretInCause(failures.during("opening the Sent folder '" + name + "'", e, secret),
            secret);
      }
    }
  }

  private static boolean hasAttribute(ListInfo info, String attribute) {
    if (info.attrs == null) {
      return false;
    }
    for (String a : info.attrs) {
      if (a.equalsIgnoreCase(attribute)) {
        return true;
      }
    }
    return false;
  }

  /** Sends one LIST command on the store's connection and parses its answers. */
  @SuppressWarnings("unchecked")
  private static List<ListInfo> list(IMAPFolder any, String command) throws MessagingException {
    return (List<ListInfo>) any.doCommand(p -> {
      Response[] responses = p.command(command, null);
      List<ListInfo> found = new ArrayList<>();
      for (Response r : responses) {
        if (r instanceof IMAPResponse ir && ir.keyEquals("LIST")) {
          try {
            found.add(new ListInfo(ir));
          } catch (ProtocolException e) {
            log.debug("an unreadable LIST response was skipped: {}", e.getMessage());
          }
        } else if (!r.isTagged()) {
          p.notifyResponseHandlers(new Response[] {r});
        }
      }
      p.handleResult(responses[responses.length - 1]);
      return found;
    });
  }

  /**
   * Builds an {@link ImapSentFolder}. Every setter validates at once and names the setting and the
   * value it refuses. The server's settings (host, port 143 or 993 by default, security, trust,
   * timeouts) are the ones every mail-server adapter shares, see {@link MailServerBuilder}. The
   * shared {@code credentials(Credentials)} and {@code credentials(Supplier)} log in to one mailbox
   * and keep every sender's copy in its Sent folder (a service account that sends for all users);
   * {@link #credentials(Function)} logs in to each sender's own mailbox. One of them is required.
   *
   * <p>Not thread-safe; a builder may be reused to build several instances.
   */
  public static final class Builder extends MailServerBuilder<Builder> {
    private Function<EmailAddress, Credentials> credentials;
    private String folder;

    private Builder() {}

    /**
     * Sets the function asked for the login of each sender's mailbox at each copy; required. The
     * usual case is one administrator on behalf of every sender, {@code sender ->
     * Credentials.password(admin, secret).onBehalfOf(sender.address())} (AUTHENTICATE PLAIN with the
     * sender as authorization identity, RFC 4616; never LOGIN, which would open the administrator's
     * own mailbox), or Dovecot's master user ({@code "alice*admin"}); a host that holds each user's
     * credentials returns them from its own store. OAuth2 tokens log in as {@link ImapMailboxReader}
     * does. The function may be called from any send thread.
     *
     * @param credentials the credentials of a sender's mailbox; must not return {@code null}
     * @return this builder
     */
    public Builder credentials(Function<EmailAddress, Credentials> credentials) {
      this.credentials = requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * Sets the Sent folder's full name, the same for every sender; default: the folder the server
     * marks {@code \Sent} (RFC 6154 SPECIAL-USE), or on a server without SPECIAL-USE the first of
     * {@code Sent}, {@code Sent Items}, {@code Sent Messages} that exists. The folder is never
     * created.
     *
     * @param folder the folder's full name, e.g. {@code INBOX.Sent}
     * @return this builder
     * @throws IllegalArgumentException if blank
     */
    public Builder folder(String folder) {
      requireNonNull(folder, "folder");
      if (folder.isBlank()) {
        throw new IllegalArgumentException("folder must not be blank, was '" + folder + "'");
      }
      this.folder = folder;
      return this;
    }

    /**
     * Builds the Sent folder; connects nothing yet.
     *
     * @return the Sent folder
     * @throws IllegalStateException if {@code host} or {@code credentials} is missing
     */
    public ImapSentFolder build() {
      ServerSettings server = serverSettings();
      if (credentials == null && server.credentials().isEmpty()) {
        throw new IllegalStateException("credentials are required, e.g. credentials(sender -> Credentials.password("
            + "\"admin\", secret).onBehalfOf(sender.address()))");
      }
      if (credentials != null && server.credentials().isPresent()) {
        throw new IllegalStateException("credentials are set twice: credentials(Function) logs in to each sender's "
            + "mailbox, credentials(Credentials) or credentials(Supplier) to one mailbox for every sender; keep one");
      }
      return new ImapSentFolder(this, server);
    }
  }
}
