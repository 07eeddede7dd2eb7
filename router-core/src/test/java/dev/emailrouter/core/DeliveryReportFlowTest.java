package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.DeliveryReport;
import dev.emailrouter.api.DeliveryReport.Action;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.TrackingDecision.Reason;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Delivery status notifications in the incoming flow: recorded on the email they are about. */
final class DeliveryReportFlowTest {
  private static final String PLACEHOLDER = "<crm.email-1.a1b2@crm.example.test>";

  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final RecordingTransport transport = new RecordingTransport();
  private final FakeMailbox inbox = new FakeMailbox("inbox");

  private RouterEngine engine(TrackingPolicy policy) {
    return RouterEngine.builder().activityStore(store).transport(transport).mailbox(Mailbox.ofUser("user-1", inbox))
        .trackingPolicy(policy).clock(clock).random(new Random(3)).build();
  }

  /** Sends one email through the engine; returns its recorded Message-ID. */
  private String send(RouterEngine engine, String activityId) {
    store.add(OutgoingEmail.builder(activityId, EmailAddress.of("una@example.test"))
        .to(EmailAddress.of("nobody@example.test")).subject("Proposal").textBody("Dear customer.").build());
    assertThat(engine.tick().sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly(activityId);
    return store.find(activityId).orElseThrow().email().messageId();
  }

  private static String bounce(String resource, String originalMessageId) throws IOException {
    try (InputStream in = DeliveryReportFlowTest.class.getResourceAsStream("/bounces/" + resource)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace(PLACEHOLDER, originalMessageId)
          .replace("\r\n", "\n").replace("\n", "\r\n"); // as on the wire
    }
  }

  @Test
  void tick_withAPostfixBounceOfASentEmail_recordsTheReportOnIt_andAppliesTheTrackedPostAction() throws IOException {
    RouterEngine engine = engine(TrackingPolicy.responsesToCrmEmail());
    String messageId = send(engine, "email-1");
    String ref = inbox.add(bounce("postfix-failed.eml", messageId));

    TickReport report = engine.tick();

    assertThat(report.deliveryReports()).singleElement().satisfies(e -> {
      assertThat(e.activityId()).isEqualTo("email-1");
      assertThat(e.ref()).isEqualTo(ref);
      assertThat(e.bounced()).isTrue();
      assertThat(e.report().match()).isEqualTo(DeliveryReport.Match.RETURNED_HEADERS);
    });
    assertThat(store.deliveryReports("email-1")).singleElement().satisfies(r -> {
      assertThat(r.originalMessageId()).isEqualTo(messageId);
      assertThat(r.reportMessageId()).isEqualTo("<20261207025110.4F1B21C0A2@mail.example.test>");
      assertThat(r.reportingMta()).isEqualTo("mail.example.test");
      assertThat(r.recipients()).singleElement().satisfies(p -> {
        assertThat(p.recipient()).isEqualTo("nobody@example.test");
        assertThat(p.action()).isEqualTo(Action.FAILED);
        assertThat(p.status()).isEqualTo("5.1.1");
        assertThat(p.diagnostic()).startsWith("550 5.1.1");
      });
    });
    assertThat(store.received()).isEmpty();
    assertThat(report.tracked()).isEmpty();
    assertThat(inbox.dispositions()).containsEntry(ref, Disposition.TRACKED);
    assertThat(report.messageFailures()).isEmpty();
  }

  @Test
  void tick_withAnExchangeReportAnsweringTheEmail_recordsIt_andDoesNotTrackItAsAReply() throws IOException {
    RouterEngine engine = engine(TrackingPolicy.responsesToCrmEmail());
    String messageId = send(engine, "email-1");
    String token = store.find("email-1").orElseThrow().email().trackingToken();
    // In-Reply-To and a tracking token in "Undeliverable: ..." correlate it as a reply.
    inbox.add(bounce("exchange-online.eml", messageId).replace("[CRM:0001001]", token));

    TickReport report = engine.tick();

    assertThat(store.received()).isEmpty();
    assertThat(store.deliveryReports("email-1")).singleElement()
        .satisfies(r -> assertThat(r.recipients().get(0).status()).isEqualTo("5.1.10"));
    assertThat(report.rejected()).singleElement().satisfies(r -> {
      assertThat(r.decision().reason()).isEqualTo(Reason.AUTO_RESPONSE);
      assertThat(r.decision().detail()).contains("delivery report on activity email-1");
    });
  }

  @Test
  void tick_withADelayCarryingTheEnvelopeId_correlatesByIt_andReportsADelay() throws IOException {
    RouterEngine engine = engine(TrackingPolicy.responsesToCrmEmail());
    String messageId = send(engine, "email-1");
    String inner = messageId.substring(1, messageId.length() - 1);
    StringBuilder xtext = new StringBuilder();
    for (char c : inner.toCharArray()) {
      xtext.append(c == '+' || c == '=' || c < '!' || c > '~' ? String.format("+%02X", (int) c) : String.valueOf(c));
    }
    inbox.add(bounce("postfix-delayed-envid.eml", "<unknown@elsewhere.test>")
        .replace("crm.email+2B7+3Dx@crm.example.test", xtext.toString())
        .replace("<crm.email+7=x@crm.example.test>", "<unknown@elsewhere.test>"));

    TickReport report = engine.tick();

    assertThat(report.deliveryReports()).singleElement().satisfies(e -> {
      assertThat(e.activityId()).isEqualTo("email-1");
      assertThat(e.bounced()).isFalse();
      assertThat(e.report().match()).isEqualTo(DeliveryReport.Match.ENVELOPE_ID);
      assertThat(e.report().envelopeId()).isEqualTo(messageId);
      assertThat(e.report().recipients().get(0).action()).isEqualTo(Action.DELAYED);
      assertThat(e.report().recipients().get(0).status()).isEqualTo("4.3.0");
    });
  }

  @Test
  void tick_withTextBounces_qmailExchangeGmail_correlatesByTheMessageIdInTheReturnedText() throws IOException {
    RouterEngine engine = engine(TrackingPolicy.responsesToCrmEmail());
    List<String> ids = new ArrayList<>();
    String[] shapes = {"qmail.eml", "exchange-2003-text.eml", "gmail-text.eml", "gmail-new-delayed.eml", "exim.eml"};
    for (int i = 0; i < shapes.length; i++) {
      ids.add(send(engine, "email-" + i));
    }
    for (int i = 0; i < shapes.length; i++) {
      inbox.add(bounce(shapes[i], ids.get(i)));
    }

    TickReport report = engine.tick();

    assertThat(report.deliveryReports()).extracting(RouterEvent.DeliveryReported::activityId)
        .containsExactly("email-0", "email-1", "email-2", "email-3", "email-4");
    assertThat(report.deliveryReports()).allSatisfy(
        e -> assertThat(e.report().match()).isEqualTo(DeliveryReport.Match.RETURNED_TEXT));
    assertThat(store.deliveryReports("email-0").get(0).recipients()).hasSize(2);
    assertThat(store.deliveryReports("email-3").get(0).recipients().get(0).action()).isEqualTo(Action.DELAYED);
    assertThat(store.received()).isEmpty();
  }

  @Test
  void tick_whenThePolicyTracksAllEmail_recordsTheReport_andCreatesAReceivedActivityToo() throws IOException {
    RouterEngine engine = engine(TrackingPolicy.allEmail());
    String messageId = send(engine, "email-1");
    inbox.add(bounce("postfix-failed.eml", messageId));

    TickReport report = engine.tick();

    assertThat(report.deliveryReports()).hasSize(1);
    assertThat(report.tracked()).singleElement()
        .satisfies(t -> assertThat(t.decision().reason()).isEqualTo(Reason.ACCEPT_ALL));
    assertThat(store.received()).hasSize(1);
  }

  @Test
  void tick_withABounceAboutNoCrmEmail_rejectsItWithTheReason_andTheMailboxGoesOn() throws IOException {
    RouterEngine engine = engine(TrackingPolicy.responsesToCrmEmail());
    String bounced = inbox.add(bounce("postfix-failed.eml", "<not-ours@elsewhere.test>"));
    String next = inbox.add(TestMail.message().build());

    TickReport report = engine.tick();

    assertThat(report.deliveryReports()).isEmpty();
    assertThat(report.messageFailures()).isEmpty();
    assertThat(report.problems()).isEmpty();
    assertThat(report.rejected()).filteredOn(r -> r.ref().equals(bounced)).singleElement()
        .satisfies(r -> assertThat(r.decision().detail()).contains("a delivery report about no email the CRM sent"));
    assertThat(inbox.dispositions()).containsEntry(bounced, Disposition.REJECTED).containsKey(next);
  }

  @Test
  void tick_whenTheStoreKeepsNoReports_theDefaultMethodLetsTheFlowGoOn() throws IOException {
    ForwardingActivityStore plain = new ForwardingActivityStore(store) {
      @Override
      public void recordDeliveryReport(ActivityRef email, DeliveryReport report) {
        // A store written before the method existed: it keeps the SPI's default, which does nothing.
      }
    };
    RouterEngine engine = RouterEngine.builder().activityStore(plain).transport(transport)
        .mailbox(Mailbox.ofUser("user-1", inbox)).trackingPolicy(TrackingPolicy.responsesToCrmEmail()).clock(clock)
        .random(new Random(3)).build();
    String messageId = send(engine, "email-1");
    String ref = inbox.add(bounce("postfix-failed.eml", messageId));

    TickReport report = engine.tick();

    assertThat(report.deliveryReports()).hasSize(1);
    assertThat(store.deliveryReports("email-1")).isEmpty(); // the delegate's default did nothing
    assertThat(inbox.dispositions()).containsEntry(ref, Disposition.TRACKED);
    assertThat(plain.findByMessageId(messageId)).map(ActivityRef::activityId).contains("email-1");
  }

  @Test
  void tick_whenTheStoreIsDownWhileRecordingAReport_stopsThePass_andTheReportIsReadAgainLater() throws IOException {
    boolean[] down = {true};
    ForwardingActivityStore flaky = new ForwardingActivityStore(store) {
      @Override
      public void recordDeliveryReport(ActivityRef email, DeliveryReport report) {
        if (down[0]) {
          throw new dev.emailrouter.api.TransientRouterException("database unreachable");
        }
        store.recordDeliveryReport(email, report);
      }
    };
    RouterEngine engine = RouterEngine.builder().activityStore(flaky).transport(transport)
        .mailbox(Mailbox.ofUser("user-1", inbox)).trackingPolicy(TrackingPolicy.responsesToCrmEmail()).clock(clock)
        .random(new Random(3)).build();
    String messageId = send(engine, "email-1");
    String ref = inbox.add(bounce("postfix-failed.eml", messageId));

    TickReport outage = engine.tick();
    down[0] = false;
    clock.advance(java.time.Duration.ofHours(1));
    TickReport after = engine.tick();

    assertThat(outage.problems()).singleElement().isInstanceOf(RouterEvent.StoreUnavailable.class);
    assertThat(outage.messageFailures()).isEmpty();
    assertThat(outage.deliveryReports()).isEmpty();
    assertThat(after.deliveryReports()).extracting(RouterEvent.DeliveryReported::ref).containsExactly(ref);
    assertThat(store.deliveryReports("email-1")).hasSize(1);
    assertThat(inbox.dispositions()).containsEntry(ref, Disposition.TRACKED);
  }

  @Test
  void tick_withAHugeReport_readsOnlyItsStart_andNeitherFailsNorStopsTheMailbox() throws IOException {
    RouterEngine engine = engine(TrackingPolicy.responsesToCrmEmail());
    String messageId = send(engine, "email-1");
    StringBuilder status = new StringBuilder("Reporting-MTA: dns; x.test\r\n\r\n");
    while (status.length() < 3_000_000) {
      status.append("Final-Recipient: rfc822; r@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n");
    }
    // The returned headers come after 3 MB of status fields: past what is read, so no email is found.
    String huge = "Return-Path: <>\r\nFrom: MAILER-DAEMON@x.test\r\nMessage-ID: <huge@x.test>\r\n"
        + "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n"
        + "Content-Type: message/delivery-status\r\n\r\n" + status + "--b\r\nContent-Type: text/rfc822-headers"
        + "\r\n\r\nMessage-ID: " + messageId + "\r\n\r\n--b--\r\n";
    String ref = inbox.add(huge);
    String next = inbox.add(TestMail.message().build());

    TickReport report = engine.tick();

    assertThat(report.messageFailures()).isEmpty();
    assertThat(report.problems()).isEmpty();
    assertThat(report.deliveryReports()).isEmpty();
    assertThat(inbox.dispositions()).containsEntry(ref, Disposition.REJECTED).containsKey(next);
  }

  @Test
  void tick_whenTheMailboxTracksNothing_leavesABounceAlone() throws IOException {
    RouterEngine engine = engine(TrackingPolicy.none());
    String messageId = send(engine, "email-1");
    String ref = inbox.add(bounce("postfix-failed.eml", messageId));

    TickReport report = engine.tick();

    assertThat(report.deliveryReports()).isEmpty();
    assertThat(inbox.downloaded()).doesNotContain(ref);
    assertThat(inbox.dispositions()).containsEntry(ref, Disposition.REJECTED);
  }
}
