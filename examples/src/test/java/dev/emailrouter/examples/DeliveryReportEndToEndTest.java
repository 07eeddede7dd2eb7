package dev.emailrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.DeliveryReport;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader.PostAction;
import dev.emailrouter.testfixtures.MutableClock;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bounces end to end over GreenMail: an email sent through the engine, its bounce read back over IMAP. */
final class DeliveryReportEndToEndTest {
  private static final String USER = "user@example.test";
  private static final String PARTNER = "dora@partner.test";

  private final TestMailServer server = new TestMailServer();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final MutableClock clock = new MutableClock();

  DeliveryReportEndToEndTest() {
    server.user(USER);
    store.addParty(USER, new Party(Party.Type.USER, "user-1", "Una User"));
  }

  @AfterEach
  void tearDown() {
    server.close();
  }

  private RouterEngine engine() {
    return RouterEngine.builder().activityStore(store).transport(server.smtp().build())
        .mailbox(Mailbox.ofUser("user-1", server.imap(USER).afterTracked(PostAction.MARK_SEEN).build()))
        .trackingPolicy(TrackingPolicy.responsesToCrmEmail()).clock(clock).random(new Random(5)).build();
  }

  private String send(RouterEngine engine, String activityId, String to) {
    store.add(OutgoingEmail.builder(activityId, EmailAddress.of(USER, "Una User")).to(EmailAddress.of(to))
        .subject("Proposal").textBody("Dear Dora, our proposal.").build());
    assertThat(engine.tick().sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly(activityId);
    return store.find(activityId).orElseThrow().email().messageId();
  }

  @Test
  void tick_withTheBounceOfAnEmailItSent_recordsItOnTheEmail_andMarksTheBounceSeen() throws Exception {
    try (RouterEngine engine = engine()) {
      String messageId = send(engine, "email-1", PARTNER);
      server.deliver(USER, postfixBounce("<dsn-1@mail.example.test>", PARTNER, messageId));

      TickReport report = engine.tick();

      assertThat(report.deliveryReports()).singleElement().satisfies(e -> {
        assertThat(e.activityId()).isEqualTo("email-1");
        assertThat(e.report().match()).isEqualTo(DeliveryReport.Match.RETURNED_HEADERS);
      });
      assertThat(store.deliveryReports("email-1")).singleElement().satisfies(r -> {
        assertThat(r.originalMessageId()).isEqualTo(messageId);
        assertThat(r.recipients()).singleElement().satisfies(p -> {
          assertThat(p.recipient()).isEqualTo(PARTNER);
          assertThat(p.action()).isEqualTo(DeliveryReport.Action.FAILED);
          assertThat(p.status()).isEqualTo("5.1.1");
          assertThat(p.diagnostic()).isEqualTo("550 5.1.1 <dora@partner.test>: Recipient address rejected");
          assertThat(p.remoteMta()).isEqualTo("mx.partner.test");
        });
      });
      assertThat(store.received()).isEmpty();
      assertThat(store.status("email-1")).isEqualTo(EmailStatus.SENT);
      assertThat(server.seenMessageIds(USER, "INBOX")).containsExactly("<dsn-1@mail.example.test>");
      assertThat(engine.tick().deliveryReports()).isEmpty();
    }
  }

  @Test
  void tick_withABounceOfAnotherSystemsEmail_rejectsIt_andLeavesItUnseen() throws Exception {
    try (RouterEngine engine = engine()) {
      server.deliver(USER, postfixBounce("<dsn-2@mail.example.test>", PARTNER, "<someone-else@elsewhere.test>"));

      TickReport report = engine.tick();

      assertThat(report.deliveryReports()).isEmpty();
      assertThat(report.messageFailures()).isEmpty();
      assertThat(report.rejected()).singleElement()
          .satisfies(r -> assertThat(r.decision().detail()).contains("a delivery report about no email the CRM sent"));
      assertThat(server.seenMessageIds(USER, "INBOX")).isEmpty();
    }
  }

  /** A bounce in the shape Postfix writes (RFC 3464, the returned message's headers attached). */
  private static MimeMessage postfixBounce(String id, String recipient, String originalMessageId) throws Exception {
    String raw = String.join("\r\n",
        "Return-Path: <>",
        "From: MAILER-DAEMON@mail.example.test (Mail Delivery System)",
        "To: " + USER,
        "Subject: Undelivered Mail Returned to Sender",
        "Message-Id: " + id,
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"",
        "",
        "--B",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "<" + recipient + ">: host mx.partner.test[192.0.2.25] said: 550 5.1.1",
        "    <" + recipient + ">: Recipient address rejected (in reply to RCPT TO command)",
        "",
        "--B",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mail.example.test",
        "",
        "Final-Recipient: rfc822; " + recipient,
        "Action: failed",
        "Status: 5.1.1",
        "Remote-MTA: dns; mx.partner.test",
        "Diagnostic-Code: smtp; 550 5.1.1 <" + recipient + ">: Recipient address rejected",
        "",
        "--B",
        "Content-Type: text/rfc822-headers",
        "",
        "Message-ID: " + originalMessageId,
        "From: Una User <" + USER + ">",
        "To: " + recipient,
        "Subject: Proposal",
        "",
        "--B--",
        "");
    return new MimeMessage(Session.getInstance(new Properties()),
        new ByteArrayInputStream(raw.getBytes(StandardCharsets.US_ASCII)));
  }
}
