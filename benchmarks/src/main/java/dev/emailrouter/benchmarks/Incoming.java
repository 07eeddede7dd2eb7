package dev.emailrouter.benchmarks;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.support.internal.MailConnections;
import jakarta.mail.Folder;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import java.time.Duration;
import java.util.Properties;

/** Shared pieces of the incoming scenarios: readers, engines, plain Jakarta Mail stores. */
final class Incoming {

  /** Decides from the headers alone (the subject), asking the store nothing: rejects all test mail. */
  static final TrackingPolicy HEADERS_ONLY = (message, context) -> message.subject().startsWith("URGENT")
      ? TrackingDecision.track(TrackingDecision.Reason.ACCEPT_ALL, "urgent")
      : TrackingDecision.reject(TrackingDecision.Reason.NO_CORRELATION_MATCH, "not urgent");

  private Incoming() {}

  static ImapMailboxReader imap(int port, String local) {
    return ImapMailboxReader.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password(Lab.address(local), Lab.PASSWORD))
        .build();
  }

  /** The same reader keeping its connection between ticks (idle timeout 5 minutes). */
  static ImapMailboxReader imapKeepingConnection(int port, String local) {
    return ImapMailboxReader.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password(Lab.address(local), Lab.PASSWORD))
        .keepConnection(Duration.ofMinutes(5))
        .build();
  }

  /** An engine reading one queue mailbox, all of it in one tick. */
  static RouterEngine engine(ActivityStore store, dev.emailrouter.api.MailboxReader reader, TrackingPolicy policy,
      int maxPerTick) {
    return RouterEngine.builder()
        .activityStore(store)
        .mailbox(Mailbox.ofQueue("queue-1", reader))
        .trackingPolicy(policy)
        .maxMessagesPerMailbox(maxPerTick)
        .build();
  }

  /** Plain Jakarta Mail with the router's session properties (timeouts, TCP_NODELAY), logged in. */
  static Store jakartaStore(String protocol, int port, String local) throws MessagingException {
    Properties props = MailConnections.properties(protocol, "127.0.0.1", port, Security.PLAIN_TEXT_INSECURE, null,
        Duration.ofSeconds(10), Duration.ofSeconds(120), Duration.ofSeconds(60));
    Store store = Session.getInstance(props).getStore(protocol);
    store.connect("127.0.0.1", port, Lab.address(local), Lab.PASSWORD);
    return store;
  }

  static Folder inbox(Store store) throws MessagingException {
    Folder f = store.getFolder("INBOX");
    f.open(Folder.READ_ONLY);
    return f;
  }
}
