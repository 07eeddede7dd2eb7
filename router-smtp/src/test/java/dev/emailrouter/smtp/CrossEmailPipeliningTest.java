package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Pipelining across emails (RFC 2920 3.1): told the next email, a session writes its MAIL FROM,
 * RCPT TO and DATA behind this email's end of data. Each email must still be decided by its own
 * replies, and an email begun but then not sent must never be delivered: the server never gets its
 * end of data.
 */
final class CrossEmailPipeliningTest {
  private ScriptedSmtpServer server;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  private MailTransport.Session session() {
    return TestTransports.plain(server.port()).readTimeout(Duration.ofSeconds(2)).build().openSession();
  }

  private static OutgoingEmail email(String id, String... to) {
    return TestEmails.email(id, to).build();
  }

  /** The Message-IDs of the messages the server accepted, in order. */
  private List<String> delivered() {
    return server.messages().stream().map(m -> {
      int at = m.data().indexOf("Message-ID: ") + "Message-ID: ".length();
      return m.data().substring(at, m.data().indexOf("\r\n", at));
    }).toList();
  }

  @Test
  void send_toldTheNextEmail_sendsItsCommandsBehindThisOnesEndOfData_andEachEmailGetsItsOwnReply() throws Exception {
    server = ScriptedSmtpServer.builder().pipelining().start();
    OutgoingEmail a = email("A", "a@example.test");
    OutgoingEmail b = email("B", "b1@example.test", "b2@example.test");
    OutgoingEmail c = email("C", "c@example.test");
    try (MailTransport.Session session = session()) {
      SendResult first = session.send(a, b);
      SendResult second = session.send(b, c);
      SendResult third = session.send(c, null);

      assertThat(List.of(first, second, third)).extracting(SendResult::serverReply).containsExactly(
          "250 2.0.0 Ok: queued as Q1", "250 2.0.0 Ok: queued as Q2", "250 2.0.0 Ok: queued as Q3");
      assertThat(second.recipients()).extracting(r -> r.recipient().address())
          .containsExactly("b1@example.test", "b2@example.test");
    }
    assertThat(delivered()).containsExactly(TestEmails.messageId("A"), TestEmails.messageId("B"),
        TestEmails.messageId("C"));
    assertThat(server.messages().get(1).recipients()).containsExactly("b1@example.test", "b2@example.test");
    assertThat(server.connections()).isEqualTo(1);
    // B's and C's MAIL FROM were on the wire before A's and B's end of data were answered.
    assertThat(server.endsOfDataWithCommandsBehind()).isEqualTo(2);
    assertThat(server.commands()).filteredOn(cmd -> cmd.equals("RSET")).isEmpty();
  }

  @Test
  void close_afterTheNextEmailWasBegun_dropsTheConnectionWithoutQuit_andTheServerNeverDeliversIt() throws Exception {
    server = ScriptedSmtpServer.builder().pipelining().start();
    try (MailTransport.Session session = session()) {
      assertThat(session.send(email("A"), email("B", "b@example.test")).outcome()).isEqualTo(Outcome.ACCEPTED);
    }
    assertThat(server.awaitConnectionsEnded(1, Duration.ofSeconds(5))).isTrue();
    assertThat(delivered()).containsExactly(TestEmails.messageId("A"));
    // B's commands reached the server and it answered DATA with 354; its end of data never came.
    assertThat(server.commands()).containsSubsequence("RCPT TO:<b@example.test>", "DATA");
  }

  @Test
  void send_ofAnotherEmailThanTheOneBegun_closesThatConnection_sendsThisOneOnANewOne_andTheBegunOneIsNotDelivered()
      throws Exception {
    server = ScriptedSmtpServer.builder().pipelining().start();
    try (MailTransport.Session session = session()) {
      session.send(email("A"), email("B"));
      SendResult other = session.send(email("C"), null);
      assertThat(other.outcome()).isEqualTo(Outcome.ACCEPTED);
    }
    assertThat(delivered()).containsExactly(TestEmails.messageId("A"), TestEmails.messageId("C"));
    assertThat(server.connections()).isEqualTo(2);
  }

  @Test
  void send_whenTheEndOfDataIsRefused_failsThatEmailAlone_andTheBegunNextOneGoesOutOnTheSameConnectionWithoutRset()
      throws Exception {
    server = ScriptedSmtpServer.builder().pipelining()
        .replyToFirstEndOfData("550 5.7.1 Message content rejected").start();
    OutgoingEmail b = email("B");
    try (MailTransport.Session session = session()) {
      SendResult refused = session.send(email("A"), b);
      SendResult next = session.send(b, null);

      assertThat(refused.outcome()).isEqualTo(Outcome.PERMANENT);
      assertThat(refused.serverReply()).contains("550 5.7.1 Message content rejected");
      assertThat(next.outcome()).isEqualTo(Outcome.ACCEPTED);
    }
    assertThat(delivered()).containsExactly(TestEmails.messageId("B"));
    assertThat(server.connections()).isEqualTo(1);
    assertThat(server.commands()).doesNotContain("RSET");
  }

  @Test
  void send_whenTheServerClosesAtTheEndOfData_resendsThisEmailOnANewConnection_thenTheBegunOneThere()
      throws Exception {
    server = ScriptedSmtpServer.builder().pipelining()
        .replyToFirstEndOfData("421 4.3.2 Shutting down").start();
    OutgoingEmail b = email("B");
    try (MailTransport.Session session = session()) {
      assertThat(session.send(email("A"), b).outcome()).isEqualTo(Outcome.ACCEPTED);
      assertThat(session.send(b, null).outcome()).isEqualTo(Outcome.ACCEPTED);
    }
    assertThat(delivered()).containsExactly(TestEmails.messageId("A"), TestEmails.messageId("B"));
    assertThat(server.connections()).isEqualTo(2);
  }

  @Test
  void send_whenOneRecipientOfTheBegunEmailIsGreylisted_thatEmailGoesToTheOthers_andNamesThatOneAsPending()
      throws Exception {
    server = ScriptedSmtpServer.builder().pipelining()
        .replyToRcpt("soft@example.test", "450 4.2.0 <soft@example.test>: Recipient address rejected: greylisted")
        .start();
    OutgoingEmail b = email("B", "b@example.test", "soft@example.test");
    try (MailTransport.Session session = session()) {
      assertThat(session.send(email("A"), b).outcome()).isEqualTo(Outcome.ACCEPTED);
      SendResult partly = session.send(b, null);

      assertThat(partly.outcome()).isEqualTo(Outcome.ACCEPTED);
      assertThat(partly.recipients()).extracting(r -> r.recipient().address() + " " + r.outcome())
          .containsExactly("b@example.test ACCEPTED", "soft@example.test TRANSIENT");
      assertThat(partly.recipients().get(1).serverReply()).startsWith("450 4.2.0");
    }
    assertThat(server.messages().get(1).recipients()).containsExactly("b@example.test");
    assertThat(server.endsOfDataWithCommandsBehind()).isEqualTo(1);
    assertThat(server.connections()).isEqualTo(1);
  }

  @Test
  void send_whenA452LeavesRecipientsForASecondTransaction_sendsThatOneBeforeTheNextEmailIsBegun() throws Exception {
    server = ScriptedSmtpServer.builder().pipelining().maxRecipientsPerTransaction(2).start();
    OutgoingEmail a = email("A", "a1@example.test", "a2@example.test", "a3@example.test");
    OutgoingEmail b = email("B", "b@example.test");
    try (MailTransport.Session session = session()) {
      SendResult first = session.send(a, b);
      assertThat(first.outcome()).isEqualTo(Outcome.ACCEPTED);
      assertThat(first.recipients()).extracting(r -> r.outcome()).containsOnly(Outcome.ACCEPTED);
      assertThat(session.send(b, null).outcome()).isEqualTo(Outcome.ACCEPTED);
    }
    assertThat(server.messages()).extracting(ScriptedSmtpServer.Received::recipients).containsExactly(
        List.of("a1@example.test", "a2@example.test"), List.of("a3@example.test"), List.of("b@example.test"));
    assertThat(server.connections()).isEqualTo(1);
    // Only A's second transaction had B behind it: the first one's end of data had nothing behind.
    assertThat(server.endsOfDataWithCommandsBehind()).isEqualTo(1);
  }

  @Test
  void send_whenSendAsIsRefusedAtTheEndOfData_dropsTheBegunEmailWithTheConnection_andFallsBackOnBehalfOnANewOne()
      throws Exception {
    // Exchange refuses a send-as only once it has the content.
    server = ScriptedSmtpServer.builder().pipelining()
        .replyToFirstEndOfData("550 5.7.60 SMTP; Client does not have permissions to send as this sender").start();
    EmailAddress una = EmailAddress.of("una@example.test", "Una User");
    OutgoingEmail a = OutgoingEmail.builder("A", una).to(EmailAddress.of("carl@example.test")).subject("Offer")
        .textBody("Hello\r\n").messageId(TestEmails.messageId("A")).build();
    OutgoingEmail b = email("B", "b@example.test");
    try (MailTransport.Session session = TestTransports.plain(server.port())
        .serviceAccount(EmailAddress.of("router@example.test")).fallbackToOnBehalf(true).build().openSession()) {
      SendResult first = session.send(a, b);
      assertThat(first.outcome()).as(first.serverReply()).isEqualTo(Outcome.ACCEPTED);
      assertThat(session.send(b, null).outcome()).isEqualTo(Outcome.ACCEPTED);
    }
    assertThat(server.messages()).extracting(ScriptedSmtpServer.Received::from)
        .containsExactly("router@example.test", "crm@example.test");
    assertThat(delivered()).containsExactly(TestEmails.messageId("A"), TestEmails.messageId("B"));
    // The first connection had B begun behind A's refused content; it was closed, never continued.
    assertThat(server.connections()).isEqualTo(2);
  }

  @Test
  void send_whenTheNextEmailCannotBeComposed_sendsThisOneAsUsual_andTheNextFailsAlone() throws Exception {
    server = ScriptedSmtpServer.builder().pipelining().start();
    OutgoingEmail noMessageId = OutgoingEmail.builder("N", TestEmails.FROM).to(EmailAddress.of("n@example.test"))
        .subject("No identity").textBody("x\r\n").build();
    try (MailTransport.Session session = session()) {
      assertThat(session.send(email("A"), noMessageId).outcome()).isEqualTo(Outcome.ACCEPTED);
      SendResult failed = session.send(noMessageId, null);
      assertThat(failed.outcome()).isEqualTo(Outcome.PERMANENT);
      assertThat(failed.serverReply()).contains("no Message-ID recorded for activity N");
    }
    assertThat(delivered()).containsExactly(TestEmails.messageId("A"));
    assertThat(server.endsOfDataWithCommandsBehind()).isZero();
  }

  @Test
  void send_whenTheServerDoesNotOfferPipelining_sendsEachEmailLockStep() throws Exception {
    server = ScriptedSmtpServer.builder().start();
    OutgoingEmail b = email("B");
    try (MailTransport.Session session = session()) {
      session.send(email("A"), b);
      session.send(b, null);
    }
    assertThat(delivered()).containsExactly(TestEmails.messageId("A"), TestEmails.messageId("B"));
    assertThat(server.commandsSentWithoutWaiting()).isZero();
    assertThat(server.endsOfDataWithCommandsBehind()).isZero();
  }

  @Test
  void tick_whenTheStoreGoesDownRecordingAnEmailAsSent_theEmailBegunBehindItIsNotDelivered_andGoesOutOnceLater()
      throws Exception {
    server = ScriptedSmtpServer.builder().pipelining().start();
    MutableClock clock = new MutableClock(Instant.parse("2026-03-14T09:00:00Z"));
    InMemoryActivityStore store = new InMemoryActivityStore();
    AtomicBoolean down = new AtomicBoolean(true);
    ForwardingActivityStore crm = new ForwardingActivityStore(store) {
      @Override
      public List<String> markSentAll(List<SentOutcome> outcomes) {
        if (down.get()) {
          throw new TransientRouterException("the CRM database is restarting");
        }
        return super.markSentAll(outcomes);
      }
    };
    for (String id : List.of("e1", "e2", "e3")) {
      store.add(OutgoingEmail.builder(id, EmailAddress.of("crm@example.test"))
          .to(EmailAddress.of(id + "@example.test")).subject("Invoice " + id).textBody("Due.\r\n").build());
    }
    RouterEngine engine = RouterEngine.builder()
        .activityStore(crm)
        .transport(TestTransports.plain(server.port()).clock(clock).build())
        .clock(clock)
        .random(new Random(7))
        .sentBatchSize(1)
        .build();

    engine.tick();

    // e1 went out and could not be recorded; e2 was begun behind it and dropped with the connection.
    assertThat(server.messages()).extracting(m -> m.recipients()).containsExactly(List.of("e1@example.test"));
    assertThat(server.commands()).filteredOn(cmd -> cmd.equals("RCPT TO:<e2@example.test>")).hasSize(1);

    down.set(false);
    clock.advance(Duration.ofHours(1)); // past the store's backoff and e1's lease
    engine.tick();

    assertThat(server.messages()).extracting(m -> m.recipients().get(0)).filteredOn(r -> !r.equals("e1@example.test"))
        .containsExactly("e2@example.test", "e3@example.test");
    assertThat(List.of("e1", "e2", "e3")).allSatisfy(id ->
        assertThat(store.find(id).orElseThrow().status()).isEqualTo(EmailStatus.SENT));
  }
}
