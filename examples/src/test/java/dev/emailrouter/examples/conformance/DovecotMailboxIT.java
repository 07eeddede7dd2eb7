package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import jakarta.mail.Folder;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The IMAP reader against Dovecot: MOVE post-action, UIDVALIDITY reset, idempotent resync. */
final class DovecotMailboxIT {
  private final MailServers servers = MailServers.get();
  private final InMemoryActivityStore crm = new InMemoryActivityStore();

  private static String message(String subject) {
    return "From: Someone <someone@example.org>\n"
        + "To: queue@example.test\n"
        + "Subject: " + subject + "\n"
        + "Message-ID: <" + UUID.randomUUID() + "@example.org>\n"
        + "Date: Sat, 28 Nov 2026 10:00:00 +0000\n"
        + "\n"
        + "Body of " + subject + "\n";
  }

  private ImapMailboxReader.Builder reader(String user) {
    return ImapMailboxReader.builder().host("127.0.0.1").port(servers.imapPort()).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem()).credentials(Credentials.password(user, MailServers.PASSWORD));
  }

  @Test
  void trackedMail_isMovedToAFolder_withDovecotsMove() throws Exception {
    String user = "queue@example.test";
    String tag = UUID.randomUUID().toString().substring(0, 8);
    servers.deliver(user, message("first " + tag));
    servers.deliver(user, message("second " + tag));
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .mailbox(Mailbox.ofQueue("queue-1", reader(user)
            .afterTracked(ImapMailboxReader.PostAction.moveTo("Processed-" + tag)).build()))
        .trackingPolicy(TrackingPolicy.allEmail()).build()) {

      TickReport report = engine.tick();

      assertThat(report.tracked()).hasSizeGreaterThanOrEqualTo(2);
      assertThat(crm.received()).extracting(r -> r.subject()).contains("first " + tag, "second " + tag);
      assertThat(count(user, "INBOX")).isZero();
      assertThat(count(user, "Processed-" + tag)).isEqualTo(2);
      assertThat(engine.tick().events()).as("an idle tick finds nothing").isEmpty();
    }
  }

  @Test
  void aUidValidityReset_resyncsTheMailbox_withoutDuplicateActivities() {
    String user = "forward@example.test";
    String tag = UUID.randomUUID().toString().substring(0, 8);
    servers.deliver(user, message("before reset " + tag));
    // A user mailbox (not a forward one) over forward@'s INBOX: only the reader matters here.
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .mailbox(Mailbox.ofUser("user-9", reader(user).build()))
        .trackingPolicy(TrackingPolicy.allEmail()).build()) {
      int before = engine.tick().tracked().size();
      assertThat(before).isGreaterThanOrEqualTo(1);
      int activities = crm.received().size();

      servers.resetUidValidity(user, 1000 + (System.nanoTime() & 0xffff));
      servers.deliver(user, message("after reset " + tag));
      TickReport afterReset = engine.tick();

      assertThat(afterReset.tracked()).extracting(RouterEvent.MessageTracked::messageId).hasSize(1);
      assertThat(afterReset.rejected()).isNotEmpty()
          .allSatisfy(r -> assertThat(r.decision().reason()).isEqualTo(TrackingDecision.Reason.DUPLICATE));
      assertThat(crm.received()).hasSize(activities + 1);
    }
  }

  private int count(String user, String folder) throws MessagingException {
    Properties p = new Properties();
    p.put("mail.imap.host", "127.0.0.1");
    p.put("mail.imap.port", Integer.toString(servers.imapPort()));
    Store store = Session.getInstance(p).getStore("imap");
    store.connect(user, MailServers.PASSWORD);
    try {
      Folder f = store.getFolder(folder);
      if (!f.exists()) {
        return 0;
      }
      f.open(Folder.READ_ONLY);
      int n = f.getMessageCount();
      f.close(false);
      return n;
    } finally {
      store.close();
    }
  }
}
