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
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The IMAP reader keeping its connection between ticks against Dovecot: new mail shows on the kept
 * connection's NOOP, an idle tick is that NOOP alone, and a UIDVALIDITY change while the connection
 * is kept (Dovecot answers the next command with BYE) resyncs without duplicates. Commands are
 * recorded by a plain-text proxy.
 */
final class DovecotKeepConnectionIT {
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

  private static ImapMailboxReader.Builder reader(int port, String user) {
    return ImapMailboxReader.builder().host("127.0.0.1").port(port).security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password(user, MailServers.PASSWORD)).keepConnection(Duration.ofMinutes(5));
  }

  /** The commands sent since {@code from}, without their tags. */
  private static List<String> commandsSince(CapabilityFilter proxy, int from) {
    List<String> all = proxy.commands();
    return all.subList(from, all.size()).stream().map(c -> c.substring(c.indexOf(' ') + 1)).toList();
  }

  @Test
  void keptConnection_seesNewMailOnItsNoop_andAnIdleTickIsOneNoop() throws Exception {
    String user = "other@example.test"; // a mailbox no other test reads; tracked mail leaves its INBOX
    String tag = UUID.randomUUID().toString().substring(0, 8);
    try (CapabilityFilter proxy = new CapabilityFilter(servers.imapPort());
        ImapMailboxReader reader = reader(proxy.port(), user)
            .afterTracked(ImapMailboxReader.PostAction.moveTo("Kept-" + tag)).build();
        RouterEngine engine = RouterEngine.builder().activityStore(crm).mailbox(Mailbox.ofQueue("queue-k", reader))
            .trackingPolicy(TrackingPolicy.allEmail()).build()) {
      engine.tick(); // whatever an earlier run left there
      servers.deliver(user, message("kept " + tag));
      int before = proxy.commands().size();

      TickReport next = engine.tick();

      assertThat(next.tracked()).hasSize(1);
      assertThat(crm.received()).extracting(r -> r.subject()).contains("kept " + tag);
      List<String> sent = commandsSince(proxy, before);
      assertThat(sent.get(0)).isEqualTo("NOOP");
      assertThat(sent).noneMatch(c -> c.startsWith("AUTHENTICATE") || c.startsWith("LOGIN")
          || c.startsWith("SELECT") || c.startsWith("LOGOUT"));
      before = proxy.commands().size();

      assertThat(engine.tick().events()).as("an idle tick finds nothing").isEmpty();
      assertThat(commandsSince(proxy, before)).containsExactly("NOOP");
    }
  }

  @Test
  void aUidValidityReset_whileTheConnectionIsKept_resyncsWithoutDuplicateActivities() throws Exception {
    String user = "forward@example.test";
    String tag = UUID.randomUUID().toString().substring(0, 8);
    servers.deliver(user, message("before reset " + tag));
    try (CapabilityFilter proxy = new CapabilityFilter(servers.imapPort());
        ImapMailboxReader reader = reader(proxy.port(), user).build();
        RouterEngine engine = RouterEngine.builder().activityStore(crm).mailbox(Mailbox.ofUser("user-k", reader))
            .trackingPolicy(TrackingPolicy.allEmail()).build()) {
      assertThat(engine.tick().tracked()).isNotEmpty();
      int activities = crm.received().size();

      servers.resetUidValidity(user, 1000 + (System.nanoTime() & 0xffff));
      servers.deliver(user, message("after reset " + tag));
      TickReport afterReset = engine.tick();

      assertThat(afterReset.tracked()).extracting(RouterEvent.MessageTracked::messageId).hasSize(1);
      assertThat(afterReset.rejected()).isNotEmpty()
          .allSatisfy(r -> assertThat(r.decision().reason()).isEqualTo(TrackingDecision.Reason.DUPLICATE));
      assertThat(crm.received()).hasSize(activities + 1);
      assertThat(crm.received()).extracting(r -> r.subject()).contains("after reset " + tag);
    }
  }
}
