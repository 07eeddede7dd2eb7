package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.DeliveryReport;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A bounce written by the real Postfix: the engine sends to gone@example.test, which Postfix
 * accepts and Dovecot's LMTP then refuses, so Postfix returns an RFC 3464 report to the sender's
 * Dovecot mailbox; the engine reads it over IMAP and records it on the email it sent.
 */
final class DeliveryReportIT {
  private final MailServers servers = MailServers.get();
  private final InMemoryActivityStore crm = new InMemoryActivityStore();

  DeliveryReportIT() {
    crm.addParty("user@example.test", new Party(Party.Type.USER, "user-1", "Una User"));
  }

  @Test
  void anEmailPostfixBounces_isReportedOnItsActivity_withPostfixsStatus_andTheReportIsNotAReply() {
    String tag = UUID.randomUUID().toString().substring(0, 8);
    String activityId = "email-" + tag;
    SmtpTransport smtp = SmtpTransport.builder().host("127.0.0.1").port(servers.smtpPort())
        .security(Security.STARTTLS).trustedCertificates(servers.caPem()).ehloName("router.example.test").build();
    ImapMailboxReader imap = ImapMailboxReader.builder().host("127.0.0.1").port(servers.imapPort())
        .security(Security.STARTTLS).trustedCertificates(servers.caPem())
        .credentials(Credentials.password("user@example.test", MailServers.PASSWORD))
        .afterTracked(ImapMailboxReader.PostAction.MARK_SEEN).build();
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm).transport(smtp)
        .mailbox(Mailbox.ofUser("user-1", imap)).trackingPolicy(TrackingPolicy.responsesToCrmEmail()).build()) {
      engine.tick(); // the mailbox may hold mail of earlier tests: only new mail counts below
      crm.add(OutgoingEmail.builder(activityId, EmailAddress.of("user@example.test", "Una User"))
          .to(EmailAddress.of("gone@example.test")).subject("Proposal " + tag).textBody("Hello,\nour proposal.")
          .build());

      TickReport sending = engine.tick();

      assertThat(sending.sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly(activityId);
      assertThat(crm.status(activityId)).isEqualTo(EmailStatus.SENT); // Postfix accepted it: 250
      String messageId = crm.find(activityId).orElseThrow().email().messageId();

      // Postfix bounces within milliseconds: the sending tick's own incoming pass may read the bounce already.
      List<RouterEvent.DeliveryReported> reports = new ArrayList<>(sending.deliveryReports());
      List<RouterEvent.MessageTracked> tracked = new ArrayList<>(sending.tracked());
      MailServers.await("Postfix's bounce to be read and recorded", () -> {
        TickReport t = engine.tick();
        reports.addAll(t.deliveryReports());
        tracked.addAll(t.tracked());
        return !reports.isEmpty();
      });

      assertThat(reports).singleElement().satisfies(e -> {
        assertThat(e.activityId()).isEqualTo(activityId);
        assertThat(e.bounced()).isTrue();
        DeliveryReport r = e.report();
        assertThat(r.originalMessageId()).isEqualTo(messageId);
        // Today through the returned message's headers; by the envelope id once the transport sends ENVID.
        assertThat(r.match()).isIn(DeliveryReport.Match.RETURNED_HEADERS, DeliveryReport.Match.ENVELOPE_ID);
        assertThat(r.reportingMta()).isEqualTo("mail.example.test");
        assertThat(r.recipients()).singleElement().satisfies(p -> {
          assertThat(p.recipient()).isEqualTo("gone@example.test");
          assertThat(p.action()).isEqualTo(DeliveryReport.Action.FAILED);
          assertThat(p.status()).isEqualTo("5.1.1");
          assertThat(p.diagnostic()).startsWith("550 5.1.1").contains("gone@example.test");
          assertThat(p.remoteMta()).isEqualTo("127.0.0.1");
        });
      });
      assertThat(crm.deliveryReports(activityId)).hasSize(1);
      assertThat(tracked).as("the bounce is no Received activity").isEmpty();
      assertThat(crm.received()).isEmpty();
      assertThat(crm.status(activityId)).isEqualTo(EmailStatus.SENT);
      assertThat(engine.tick().deliveryReports()).as("read once").isEmpty();
    }
  }
}
