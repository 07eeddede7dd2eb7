package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.DeliveryReport.Action;
import dev.emailrouter.api.DeliveryReport.Recipient;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.IncomingMessage;
import dev.emailrouter.api.MessageHeaders;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

final class DeliveryReportsTest {
  private static final String ORIGINAL = "<crm.email-1.a1b2@crm.example.test>";

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = DeliveryReportsTest.class.getResourceAsStream("/bounces/" + name)) {
      assertThat(in).as(name).isNotNull();
      return in.readAllBytes();
    }
  }

  private static DeliveryReports.Parsed parsed(String name) throws IOException {
    Optional<DeliveryReports.Parsed> p = DeliveryReports.parse(resource(name), true);
    assertThat(p).as(name).isPresent();
    return p.get();
  }

  @Test
  void parse_postfixBounce_readsTheRecipientStatusDiagnosticAndTheReturnedMessageId() throws IOException {
    DeliveryReports.Parsed p = parsed("postfix-failed.eml");

    assertThat(p.shape()).isEqualTo(DeliveryReports.Shape.RFC3464);
    assertThat(p.reportingMta()).isEqualTo("mail.example.test");
    assertThat(p.envelopeId()).isNull();
    assertThat(p.recipients()).containsExactly(new Recipient("nobody@example.test", Action.FAILED, "5.1.1",
        "550 5.1.1 <nobody@example.test>: User doesn't exist: nobody@example.test", "127.0.0.1"));
    assertThat(p.returnedIds()).containsExactly(ORIGINAL);
    assertThat(p.textIds()).doesNotContain("<older@partner.test>", "<root@partner.test>");
  }

  @Test
  void parse_postfixDelay_decodesTheXtextEnvelopeIdAndReadsADelay() throws IOException {
    DeliveryReports.Parsed p = parsed("postfix-delayed-envid.eml");

    assertThat(p.envelopeId()).isEqualTo("<crm.email+7=x@crm.example.test>");
    assertThat(p.recipients()).singleElement().satisfies(r -> {
      assertThat(r.action()).isEqualTo(Action.DELAYED);
      assertThat(r.status()).isEqualTo("4.3.0");
      assertThat(r.remoteMta()).isEqualTo("mx.partner.test");
      assertThat(r.failed()).isFalse();
    });
  }

  @Test
  void parse_deliveredAndRelayed_areReadAsSuch() throws IOException {
    DeliveryReports.Parsed p = parsed("delivered.eml");

    assertThat(p.recipients()).extracting(Recipient::recipient, Recipient::action, Recipient::status)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("ok@partner.test", Action.DELIVERED, "2.0.0"),
            org.assertj.core.groups.Tuple.tuple("list@partner.test", Action.RELAYED, "2.0.0"));
    assertThat(p.returnedIds()).isEmpty();
  }

  @Test
  void parse_exchangeOnlineReport_readsTheStatusPartAndTheReturnedMessage() throws IOException {
    DeliveryReports.Parsed p = parsed("exchange-online.eml");

    assertThat(p.shape()).isEqualTo(DeliveryReports.Shape.RFC3464);
    assertThat(p.reportingMta()).isEqualTo("CO1PR00MB0001.namprd00.prod.outlook.com");
    assertThat(p.recipients()).singleElement().satisfies(r -> {
      assertThat(r.recipient()).isEqualTo("gone@fabrikam.example");
      assertThat(r.status()).isEqualTo("5.1.10");
      assertThat(r.diagnostic()).startsWith("550 5.1.10 RESOLVER.ADR.RecipientNotFound");
    });
    assertThat(p.returnedIds()).containsExactly(ORIGINAL);
  }

  @Test
  void parse_exchangeTextReport_readsTheDiagnosticForAdministrators_andTheOriginalHeaders() throws IOException {
    DeliveryReports.Parsed p = parsed("exchange-2003-text.eml");

    assertThat(p.shape()).isEqualTo(DeliveryReports.Shape.EXCHANGE);
    assertThat(p.reportingMta()).isEqualTo("exch.fabrikam.example");
    assertThat(p.recipients()).containsExactly(new Recipient("gone@fabrikam.example", Action.FAILED, "5.1.1",
        "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", null));
    assertThat(p.textIds()).first().isEqualTo(ORIGINAL);
    assertThat(p.textIds()).doesNotContain("<older@partner.test>", "<root@partner.test>");
  }

  @Test
  void parse_qmail_readsEachAddressBlock_andTheCopysMessageId() throws IOException {
    DeliveryReports.Parsed p = parsed("qmail.eml");

    assertThat(p.shape()).isEqualTo(DeliveryReports.Shape.QMAIL);
    assertThat(p.recipients()).containsExactly(
        new Recipient("nobody@partner.test", Action.FAILED, "5.1.1",
            "550 5.1.1 <nobody@partner.test>: Recipient address rejected: User unknown in local recipient table",
            "192.0.2.30"),
        new Recipient("full@partner.test", Action.FAILED, "5.2.2", "552 5.2.2 Mailbox full", "192.0.2.31"));
    assertThat(p.textIds()).first().isEqualTo(ORIGINAL);
  }

  @Test
  void parse_gmailTextForm_readsTheListedRecipientWithTheOtherServersReply() throws IOException {
    DeliveryReports.Parsed p = parsed("gmail-text.eml");

    assertThat(p.shape()).isEqualTo(DeliveryReports.Shape.GMAIL);
    assertThat(p.recipients()).containsExactly(new Recipient("gone@partner.test", Action.FAILED, "5.1.1",
        "550 5.1.1 <gone@partner.test>... User unknown", "mx.partner.test"));
    assertThat(p.textIds()).first().isEqualTo(ORIGINAL);
  }

  @Test
  void parse_gmailNewerDelayForm_isADelay() throws IOException {
    DeliveryReports.Parsed p = parsed("gmail-new-delayed.eml");

    assertThat(p.recipients()).singleElement().satisfies(r -> {
      assertThat(r.recipient()).isEqualTo("slow@partner.test");
      assertThat(r.action()).isEqualTo(Action.DELAYED);
      assertThat(r.status()).isEqualTo("4.4.2");
    });
    assertThat(p.textIds()).first().isEqualTo(ORIGINAL);
  }

  @Test
  void parse_exim_readsTheIndentedAddressBlock() throws IOException {
    DeliveryReports.Parsed p = parsed("exim.eml");

    assertThat(p.recipients()).singleElement().satisfies(r -> {
      assertThat(r.recipient()).isEqualTo("nobody@partner.test");
      assertThat(r.status()).isEqualTo("5.1.1");
      assertThat(r.diagnostic()).isEqualTo("550 5.1.1 User unknown");
      assertThat(r.remoteMta()).isEqualTo("mx.partner.test");
    });
    assertThat(p.textIds()).first().isEqualTo(ORIGINAL);
  }

  @Test
  void parse_textShapes_onlyWhenTheHeadersMadeItACandidate() throws IOException {
    assertThat(DeliveryReports.parse(resource("qmail.eml"), false)).isEmpty();
    assertThat(DeliveryReports.parse(resource("postfix-failed.eml"), false)).isPresent();
  }

  @Test
  void parse_anOrdinaryMessage_isNoReport() {
    byte[] mail = ("From: ann@example.test\r\nSubject: hi\r\n\r\nSee <bob@example.test>:\r\nhe said 550 no.\r\n")
        .getBytes(StandardCharsets.US_ASCII);

    assertThat(DeliveryReports.parse(mail, false)).isEmpty();
  }

  @Test
  void parse_aHugeDeliveryStatusPart_isReadOnlyToItsBound_withoutThrowing() {
    StringBuilder status = new StringBuilder("Reporting-MTA: dns; x.test\r\n\r\n");
    for (int i = 0; i < 2_000; i++) {
      status.append("Final-Recipient: rfc822; r").append(i).append("@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n")
          .append("Diagnostic-Code: smtp; 550 ").append("x".repeat(3000)).append("\r\n\r\n");
    }
    byte[] mail = ("From: MAILER-DAEMON@x.test\r\nContent-Type: multipart/report; report-type=delivery-status;"
        + " boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n" + status + "--b--\r\n")
        .getBytes(StandardCharsets.US_ASCII);

    Optional<DeliveryReports.Parsed> p = DeliveryReports.parse(mail, true);

    assertThat(mail.length).isGreaterThan(5_000_000);
    assertThat(p).isPresent();
    assertThat(p.get().recipients()).hasSizeLessThanOrEqualTo(DeliveryReports.MAX_RECIPIENTS)
        .allSatisfy(r -> assertThat(r.diagnostic().length()).isLessThanOrEqualTo(1000));
  }

  @Test
  void parse_malformedReports_neverThrow() {
    List<String> bad = List.of("",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\nno parts at all",
        "Content-Type: multipart/report; boundary=\"\r\n\r\n--\r\n",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\n"
            + "Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n--r--",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n--r\r\n"
            + "Content-Type: message/delivery-status\r\n\r\n: no name\r\n\r\nAction: failed\r\nStatus: 9.9.9\r\n"
            + "Final-Recipient:\r\n\r\n   \r\nOriginal-Envelope-Id: +ZZ+\r\n--r--",
        "Content-Type: multipart/mixed; boundary=a\r\n\r\n" + "--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n"
            .repeat(5000));
    for (String b : bad) {
      byte[] bytes = b.getBytes(StandardCharsets.ISO_8859_1);
      assertThat(DeliveryReports.parse(bytes, true)).as(b.length() > 80 ? b.substring(0, 80) : b).isEmpty();
    }
  }

  @Test
  void envelopeId_decodesXtext_andPutsTheAngleBracketsBack() {
    assertThat(DeliveryReports.envelopeId("a+2Bb+3Dc@x.test")).isEqualTo("<a+b=c@x.test>");
    assertThat(DeliveryReports.envelopeId("  crm.1@x.test ")).isEqualTo("<crm.1@x.test>");
    assertThat(DeliveryReports.envelopeId("no-at-sign")).isNull();
    assertThat(DeliveryReports.envelopeId("a+20b@x.test")).isNull(); // a space is no Message-ID
    assertThat(DeliveryReports.envelopeId(null)).isNull();
  }

  @Test
  void textIds_skipReferencesAndInReplyTo_evenFolded_andPutLabelledOnesFirst() {
    String text = "In-Reply-To: <a@x.test>\nReferences: <b@x.test>\n <c@x.test>\nX-Other: <d@x.test>\n"
        + "Message-ID: <e@x.test>\n\nbody mentions <f@x.test>\n";

    assertThat(DeliveryReports.textIds(text)).containsExactly("<e@x.test>", "<d@x.test>", "<f@x.test>");
  }

  @Test
  void mayBe_recognisesBounceHeaders_senders_andSubjects() {
    assertThat(DeliveryReports.mayBe(message("MAILER-DAEMON@x.test", "hello", null))).isTrue();
    assertThat(DeliveryReports.mayBe(message("postmaster@x.test", "hello", null))).isTrue();
    assertThat(DeliveryReports.mayBe(message("ann@x.test", "Undeliverable: Proposal", null))).isTrue();
    assertThat(DeliveryReports.mayBe(message("ann@x.test", "Hello", "<>"))).isTrue();
    assertThat(DeliveryReports.mayBe(message("ann@x.test", "Re: undeliverable goods", null))).isFalse();
  }

  @Test
  void mayBe_bySubject_answersAsTheSubjectPatternAlone() {
    // mayBe skips the pattern when the subject's first letter can begin none of its words.
    java.util.regex.Pattern subject = java.util.regex.Pattern.compile("(?i)^\\s*(?:undeliverable|undelivered mail"
        + "|delivery status notification|failure notice|mail delivery failed|returned mail|delivery failure"
        + "|non-?delivery|delayed mail|warning: could not send|mail delivery system|delivery has failed"
        + "|unzustellbar|non remis|message not delivered)");
    List<String> words = List.of("Undeliverable", "undelivered mail", "DELIVERY STATUS NOTIFICATION", "Failure notice",
        "Mail delivery failed", "Returned mail", "delivery failure", "Non-delivery", "nondelivery", "Delayed Mail",
        "Warning: could not send", "Mail Delivery System", "Delivery has failed", "Unzustellbar", "Non remis",
        "Message not delivered", "Question 1", "Re: Undeliverable", "", "x", "\u00dcnzustellbar");
    for (String word : words) {
      for (String lead : List.of("", " ", "\t", " \u000b\f\r\n ", "\u00a0")) {
        String s = lead + word + ": Proposal";
        assertThat(DeliveryReports.mayBe(message("ann@x.test", s, null))).as(s)
            .isEqualTo(subject.matcher(s).find());
      }
    }
  }

  private static IncomingMessage message(String from, String subject, String returnPath) {
    Map<String, List<String>> h = new LinkedHashMap<>();
    h.put("from", List.of(from));
    h.put("subject", List.of(subject));
    if (returnPath != null) {
      h.put("return-path", List.of(returnPath));
    }
    IncomingMessage m = IncomingHeaders.parse("mb", new MessageHeaders("1", 10, null, h));
    assertThat(m.from()).isEqualTo(EmailAddress.of(from));
    return m;
  }
}
