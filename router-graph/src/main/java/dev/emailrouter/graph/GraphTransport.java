package dev.emailrouter.graph;

import static java.util.Objects.requireNonNull;

import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.support.internal.mime.MimeComposer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.function.Supplier;
import okhttp3.HttpUrl;
import okhttp3.RequestBody;

/**
 * Sends emails through Microsoft Graph: the MIME the router composes, with the Message-ID it
 * recorded, posted base64-encoded as {@code text/plain} to {@code /users/{from}/sendMail}, which
 * answers {@code 202 Accepted} and keeps a copy in the sender's Sent Items (the documented default
 * for MIME, which takes no {@code saveToSentItems}).
 *
 * <p>Each email is sent from the mailbox of its From address, unless {@link Builder#sendAs(String)}
 * names one mailbox for all. The application needs the application permission {@code Mail.Send}
 * (and, best, an application access policy or RBAC for Applications restricting it to the CRM's
 * mailboxes).
 *
 * <p><b>Size.</b> Graph takes at most 4 MB of MIME in one {@code sendMail} request, and MIME can't
 * go through an upload session; a larger email fails permanently with the reason, before anything is
 * sent. <b>Recipients.</b> Graph reads them from the MIME headers (there is no envelope), so
 * recipients that accepted the email in an earlier attempt are left out of the headers as well as
 * the delivery.
 *
 * <p><b>Failures.</b> A refusal of one email (400, 403 for its sender's mailbox, 404, 413) is
 * returned as a permanent {@link SendResult}, a 5xx as a transient one; throttling beyond the wait
 * budget and a token refused twice are thrown, so the rest of the batch waits. Thread-safe;
 * {@link #openSession()} may be called concurrently.
 *
 * <pre>{@code
 * MailTransport graph = GraphTransport.builder()
 *     .credentials(token)    // an OAuth2TokenProvider for https://graph.microsoft.com/.default
 *     .build();
 * }</pre>
 */
public final class GraphTransport implements MailTransport {
  /** Graph's limit on one sendMail request with MIME: 4 MB, counted here on the base64 text sent. */
  static final long MAX_REQUEST_BYTES = 4L * 1024 * 1024;

  private final GraphHttp http;
  private final GraphMime mime;
  private final String sendAs;
  private final String description;

  private GraphTransport(Builder b) {
    this.http = b.http();
    this.mime = new GraphMime(b.clock(), MAX_REQUEST_BYTES);
    this.sendAs = b.sendAs;
    this.description = "msgraph://" + b.authority() + "/sendMail";
  }

  /**
   * Starts a builder; {@link Builder#credentials(Supplier)} is required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Opens a session; nothing is sent until the first {@link Session#send}.
   *
   * @return the session
   */
  @Override
  public Session openSession() {
    return new GraphSendSession();
  }

  /**
   * Describes the service as {@code msgraph://graph.microsoft.com/sendMail}.
   *
   * @return the description; never a credential
   */
  @Override
  public String describe() {
    return description;
  }

  @Override
  public String toString() {
    return "GraphTransport[" + description + "]";
  }

  private final class GraphSendSession implements Session {

    @Override
    public SendResult send(OutgoingEmail email) {
      requireNonNull(email, "email");
      if (email.pendingRecipients().isEmpty()) {
        return SendResult.accepted("every recipient accepted the email in an earlier attempt; nothing sent");
      }
      GraphMime.Message message;
      try {
        message = mime.compose(email);
      } catch (MimeComposer.InvalidEmailException e) {
        return SendResult.permanentFailure(e.getMessage());
      } catch (GraphMime.TooLargeException e) {
        return tooLarge(email, e.bytes);
      } catch (IOException e) {
        return SendResult.transientFailure("an attachment of activity " + email.activityId() + " can't be read: "
            + e.getMessage());
      }
      byte[] body = Base64.getEncoder().encode(message.bytes());
      if (body.length > MAX_REQUEST_BYTES) {
        return tooLarge(email, message.bytes().length);
      }
      String mailbox = sendAs != null ? sendAs : email.from().address();
      HttpUrl url = http.url("users", mailbox, "sendMail").build();
      String what = "send the email of activity " + email.activityId() + " from mailbox " + mailbox;
      // Throttling beyond the budget, an unreachable Graph, a token refused twice: thrown, so the
      // rest of the batch waits too.
      GraphHttp.Reply reply = http.send(mailbox, "POST", url, RequestBody.create(new String(body,
          StandardCharsets.US_ASCII), GraphHttp.TEXT), what);
      // Recipients the composer could not address (a non-ASCII local part) are reported refused.
      if (reply.status() == 202 || reply.ok()) {
        return message.composed().withUnaddressable(
            SendResult.accepted(reply.status() + " Accepted by Microsoft Graph sendMail for " + mailbox));
      }
      RouterException failure = GraphHttp.failure(reply, what, "Mail.Send");
      return message.composed().withUnaddressable(failure.isTransient()
          ? SendResult.transientFailure(failure.getMessage()) : SendResult.permanentFailure(failure.getMessage()));
    }

    private SendResult tooLarge(OutgoingEmail email, long bytes) {
      return SendResult.permanentFailure("the email of activity " + email.activityId() + " is too large for"
          + " Microsoft Graph: its MIME (" + bytes + " bytes or more, base64 a third larger) exceeds the 4 MB one"
          + " sendMail request takes, and MIME can't be uploaded in parts; send it over SMTP or with smaller"
          + " attachments");
    }

    @Override
    public void close() {
      // Nothing to release: each send is one complete HTTP request.
    }
  }

  /**
   * Configures a {@link GraphTransport}. Each setter checks its argument at once; {@link #build()}
   * checks that the credentials were given. The settings it shares with {@link
   * GraphMailboxReader.Builder} come from {@link GraphClientBuilder}.
   *
   * <p>Not thread-safe; a builder may be reused.
   */
  public static final class Builder extends GraphClientBuilder<Builder> {
    private String sendAs;

    private Builder() {}

    /**
     * Sends every email from this mailbox instead of its From address's mailbox; default: none.
     *
     * @param mailbox a mailbox address or id
     * @return this builder
     * @throws IllegalArgumentException if blank or holding whitespace or a slash
     */
    public Builder sendAs(String mailbox) {
      this.sendAs = GraphMailboxReader.mailboxName("sendAs", mailbox);
      return this;
    }

    /**
     * Builds the transport.
     *
     * @return the transport
     * @throws IllegalStateException if the credentials are missing
     */
    public GraphTransport build() {
      requireCredentials();
      return new GraphTransport(this);
    }
  }
}
