package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.api.TransientRouterException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How the server's replies become SendResults and exceptions, against a scripted SMTP server. */
class SmtpRepliesTest {

  private ScriptedSmtpServer server;

  /** The server's script; {@link PipelinedSmtpRepliesTest} runs every case again with PIPELINING. */
  ScriptedSmtpServer.Builder script() {
    return ScriptedSmtpServer.builder();
  }

  /** Whether the script offers PIPELINING (DATA then goes out before the RCPT replies are known). */
  boolean pipelining() {
    return false;
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  private SmtpTransport.Builder transportTo(ScriptedSmtpServer s, Security security) {
    return SmtpTransport.builder()
        .host(s.host())
        .port(s.port())
        .security(security)
        .ehloName("router.example.test")
        .connectTimeout(Duration.ofSeconds(5))
        .readTimeout(Duration.ofSeconds(10));
  }

  private SendResult sendOne(ScriptedSmtpServer.Builder script, OutgoingEmail email) throws IOException {
    server = script.start();
    try (MailTransport.Session session = transportTo(server, Security.PLAIN_TEXT_INSECURE).build().openSession()) {
      return session.send(email);
    }
  }

  private static OutgoingEmail toThree() {
    return TestEmails.email("R-1", "ok@example.test", "soft@example.test", "hard@example.test").build();
  }

  @Test
  void send_whenAccepted_answersTheServersReplyAndEachRecipient() throws IOException {
    SendResult result = sendOne(script(), TestEmails.email("A-1", "ok@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(result.serverReply()).isEqualTo("250 2.0.0 Ok: queued as Q1");
    assertThat(result.recipients()).containsExactly(
        new RecipientResult(EmailAddress.of("ok@example.test"), Outcome.ACCEPTED, "250 2.1.5 Ok"));
    assertThat(result.refused()).isEmpty();
    assertThat(server.messages()).singleElement().satisfies(m -> {
      assertThat(m.from()).isEqualTo("crm@example.test");
      assertThat(m.recipients()).containsExactly("ok@example.test");
      assertThat(m.data()).contains("Message-ID: " + TestEmails.messageId("A-1"));
    });
  }

  @Test
  void send_whenSomeRecipientsRefused_isAcceptedWithEachRefusalListed() throws IOException {
    SendResult result = sendOne(script()
            .replyToRcpt("soft@example.test", "450 4.2.0 <soft@example.test>: mailbox busy")
            .replyToRcpt("hard@example.test", "550 5.1.1 <hard@example.test>: no such user"),
        toThree());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(result.serverReply()).isEqualTo("250 2.0.0 Ok: queued as Q1");
    assertThat(result.recipients()).containsExactlyInAnyOrder(
        new RecipientResult(EmailAddress.of("ok@example.test"), Outcome.ACCEPTED, "250 2.1.5 Ok"),
        new RecipientResult(EmailAddress.of("soft@example.test"), Outcome.TRANSIENT,
            "450 4.2.0 <soft@example.test>: mailbox busy"),
        new RecipientResult(EmailAddress.of("hard@example.test"), Outcome.PERMANENT,
            "550 5.1.1 <hard@example.test>: no such user"));
    assertThat(result.refused()).extracting(r -> r.recipient().address())
        .containsExactlyInAnyOrder("soft@example.test", "hard@example.test");
    assertThat(server.messages()).singleElement()
        .satisfies(m -> assertThat(m.recipients()).containsExactly("ok@example.test"));
  }

  @Test
  void send_whenEveryRecipientRefusedAndOneOnlyForNow_isTransient() throws IOException {
    SendResult result = sendOne(script()
            .replyToRcpt("soft@example.test", "450 4.2.0 mailbox busy")
            .replyToRcpt("hard@example.test", "550 5.1.1 no such user"),
        TestEmails.email("R-2", "soft@example.test", "hard@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(result.serverReply()).startsWith("every recipient was refused")
        .contains("soft@example.test: 450 4.2.0 mailbox busy").contains("hard@example.test: 550 5.1.1 no such user");
    assertThat(result.refused()).hasSize(2);
    assertThat(server.messages()).isEmpty();
    if (!pipelining()) {
      assertThat(server.commands()).doesNotContain("DATA");
    }
    assertThat(server.commands()).contains("RSET");
  }

  @Test
  void send_whenEveryRecipientRefusedForGood_isPermanent() throws IOException {
    SendResult result = sendOne(script()
            .replyToRcpt("hard@example.test", "550 5.1.1 no such user")
            .replyToRcpt("gone@example.test", "553 5.1.3 bad address"),
        TestEmails.email("R-3", "hard@example.test", "gone@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(result.recipients()).extracting(RecipientResult::outcome).containsOnly(Outcome.PERMANENT);
    assertThat(server.messages()).isEmpty();
  }

  @Test
  void send_when451AtData_isTransientAndTheTransactionIsResetOnTheSameConnection() throws IOException {
    server = script().replyToData("451 4.3.0 try again later").start();
    List<SendResult> results = new ArrayList<>();

    try (MailTransport.Session session = transportTo(server, Security.PLAIN_TEXT_INSECURE).build().openSession()) {
      results.add(session.send(TestEmails.email("D-1").build()));
      results.add(session.send(TestEmails.email("D-2").build()));
    }

    assertThat(results.get(0).outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(results.get(0).serverReply()).isEqualTo("DATA refused: 451 4.3.0 try again later");
    assertThat(results.get(1).outcome()).isEqualTo(Outcome.TRANSIENT);
    // The half-open transaction was reset before the next MAIL FROM, on the same connection.
    assertThat(server.commands()).containsSubsequence("DATA", "RSET", "MAIL FROM:<crm@example.test>");
    assertThat(server.connections()).isEqualTo(1);
  }

  @Test
  void send_when451AfterTheData_isTransient() throws IOException {
    SendResult result = sendOne(script().replyToEndOfData("451 4.3.0 queue full"),
        TestEmails.email("E-1").build());

    assertThat(result.outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(result.serverReply()).isEqualTo("end of data refused: 451 4.3.0 queue full");
  }

  @Test
  void send_when554AfterTheData_isPermanent() throws IOException {
    SendResult result = sendOne(script().replyToEndOfData("554 5.7.1 message looks like spam"),
        TestEmails.email("E-2").build());

    assertThat(result.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(result.serverReply()).isEqualTo("end of data refused: 554 5.7.1 message looks like spam");
    assertThat(result.recipients()).isEmpty();
  }

  @Test
  void send_whenMailFromRefused_is4xxTransientAnd5xxPermanent() throws IOException {
    SendResult soft = sendOne(script().replyToMail("452 4.3.1 insufficient storage"),
        TestEmails.email("F-1").build());
    server.close();
    SendResult hard = sendOne(script().replyToMail("553 5.7.1 sender not allowed"),
        TestEmails.email("F-2").build());

    assertThat(soft.outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(soft.serverReply()).isEqualTo("MAIL FROM refused: 452 4.3.1 insufficient storage");
    assertThat(hard.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(hard.serverReply()).isEqualTo("MAIL FROM refused: 553 5.7.1 sender not allowed");
  }

  @Test
  void send_when421AtTheGreeting_throwsTransient() throws IOException {
    server = script().greeting("421 4.3.2 too busy, try later").start();

    try (MailTransport.Session session = transportTo(server, Security.PLAIN_TEXT_INSECURE).build().openSession()) {
      assertThatThrownBy(() -> session.send(TestEmails.email("G-1").build()))
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining("smtp://127.0.0.1:" + server.port())
          .hasMessageContaining("421 4.3.2 too busy");
    }
  }

  @Test
  void send_when554AtTheGreeting_throwsPermanent() throws IOException {
    server = script().greeting("554 5.7.1 no service for you").start();

    try (MailTransport.Session session = transportTo(server, Security.PLAIN_TEXT_INSECURE).build().openSession()) {
      assertThatThrownBy(() -> session.send(TestEmails.email("G-2").build()))
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("refused the session: 554 5.7.1 no service for you");
    }
  }

  @Test
  void send_whenStartTlsIsRequiredButNotOffered_throwsPermanentAndSendsNothing() throws IOException {
    server = script().start();

    try (MailTransport.Session session = transportTo(server, Security.STARTTLS).build().openSession()) {
      assertThatThrownBy(() -> session.send(TestEmails.email("S-1").build()))
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("smtp://127.0.0.1:" + server.port() + " (STARTTLS) does not offer STARTTLS")
          .hasMessageContaining("nothing was sent");
    }
    assertThat(server.commands()).noneMatch(c -> c.startsWith("MAIL") || c.startsWith("AUTH"));
    assertThat(server.messages()).isEmpty();
  }

  @Test
  void send_withCredentialsWhenTheServerOffersNoAuth_throwsPermanentRatherThanSendWithoutLogin() throws IOException {
    server = script().start();
    SmtpTransport transport = transportTo(server, Security.PLAIN_TEXT_INSECURE)
        .credentials(() -> Credentials.password("crm-user", "s3cret"))
        .build();

    try (MailTransport.Session session = transport.openSession()) {
      assertThatThrownBy(() -> session.send(TestEmails.email("U-1").build()))
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("does not offer AUTH, so user crm-user can't log in")
          .hasMessageNotContaining("s3cret");
    }
    assertThat(server.commands()).noneMatch(c -> c.startsWith("MAIL"));
  }

  @Test
  void send_fiftyKilobyteEmailsOnOneSession_allGoThrough() throws IOException {
    server = script().start();
    String body = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n".repeat(700);

    try (MailTransport.Session session = transportTo(server, Security.PLAIN_TEXT_INSECURE).build().openSession()) {
      for (int i = 0; i < 20; i++) {
        assertThat(session.send(TestEmails.email("K-" + i).textBody(body).build()).outcome())
            .isEqualTo(Outcome.ACCEPTED);
      }
    }

    assertThat(body.length()).isGreaterThan(50_000);
    assertThat(server.messages()).hasSize(20);
    assertThat(server.connections()).isEqualTo(1);
  }

  @Test
  void close_sendsQuitAndFreesTheSessionsPlace() throws Exception {
    server = script().start();
    SmtpTransport transport = transportTo(server, Security.PLAIN_TEXT_INSECURE)
        .maxSessions(1)
        .connectTimeout(Duration.ofMillis(200))
        .build();

    MailTransport.Session first = transport.openSession();
    first.send(TestEmails.email("Q-1").build());
    assertThatThrownBy(transport::openSession)
        .isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("all 1 sessions to smtp://127.0.0.1:" + server.port());
    first.close();
    first.close(); // twice is harmless

    assertThat(server.awaitCommand("QUIT", Duration.ofSeconds(5))).isTrue();
    try (MailTransport.Session second = transport.openSession()) {
      assertThat(second.send(TestEmails.email("Q-2").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
    }
    assertThatThrownBy(() -> first.send(TestEmails.email("Q-3").build()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void send_dotsAtLineStartsAndBareLineFeeds_arriveIntact() throws IOException {
    SendResult result = sendOne(script(),
        TestEmails.email("L-1").textBody("first\n.\n..two dots\r\n.last").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(server.messages().get(0).data()).contains("\r\n\r\nfirst\r\n.\r\n..two dots\r\n.last\r\n");
  }

  @Test
  void send_aDotStartingTheBodyOrALineAfterABareCr_isDoubled() throws IOException {
    SendResult result = sendOne(script(), TestEmails.email("L-2").textBody(".starts\r.after CR\n").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(server.messages().get(0).data()).contains("\r\n\r\n.starts\r\n.after CR\r\n");
  }

  @Test
  void send_aBodyWithoutLeadingDots_arrivesAsComposed() throws IOException {
    SendResult result = sendOne(script(), TestEmails.email("L-3").textBody("a.b\n c.\n\tdot.\nend").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(server.messages().get(0).data()).contains("\r\n\r\na.b\r\n c.\r\n\tdot.\r\nend\r\n");
  }

  @Test
  void send_whenTheServerNeverGreets_throwsTransientAfterTheReadTimeout() throws Exception {
    // The kernel completes the TCP handshake from the backlog; nobody ever answers.
    try (ServerSocket mute = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
      SmtpTransport transport = SmtpTransport.builder()
          .host("127.0.0.1")
          .port(mute.getLocalPort())
          .security(Security.PLAIN_TEXT_INSECURE)
          .readTimeout(Duration.ofMillis(300))
          .build();

      try (MailTransport.Session session = transport.openSession()) {
        assertThatThrownBy(() -> session.send(TestEmails.email("T-1").build()))
            .isInstanceOf(TransientRouterException.class)
            .hasMessageContaining("smtp://127.0.0.1:" + mute.getLocalPort() + " (PLAIN_TEXT_INSECURE) did not answer in time");
      }
    }
  }

  @Test
  void send_whenTheServerHangsAfterTheDataTwice_retriesOnceThenAnswersTransient() throws IOException {
    server = script().silentAtEndOfData().start();
    SmtpTransport transport = transportTo(server, Security.PLAIN_TEXT_INSECURE).readTimeout(Duration.ofMillis(300))
        .dataEndTimeout(Duration.ofMillis(300)).build();

    SendResult result;
    try (MailTransport.Session session = transport.openSession()) {
      result = session.send(TestEmails.email("T-2").build());
    }

    assertThat(result.outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(result.serverReply())
        .startsWith("sending failed before and after reconnecting to smtp://127.0.0.1:" + server.port())
        .contains("did not answer in time");
    assertThat(server.connections()).isEqualTo(2);
  }

  @Test
  void send_when421ClosesTheConnection_reconnectsOnceAndSends() throws IOException {
    SendResult result = sendOne(script().replyToFirstMail("421 4.4.2 timeout exceeded"),
        TestEmails.email("C-1").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(server.connections()).isEqualTo(2);
    assertThat(server.messages()).hasSize(1);
  }

  @Test
  void send_when421EveryTime_answersTransientAfterOneReconnect() throws IOException {
    SendResult result = sendOne(script().replyToMail("421 4.3.2 shutting down"),
        TestEmails.email("C-2").build());

    assertThat(result.outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(result.serverReply()).contains("421 4.3.2 shutting down");
    assertThat(server.connections()).isEqualTo(2);
  }

  @Test
  void send_when530AtMailFrom_throwsPermanentAboutTheMissingLogin() throws IOException {
    server = script().replyToMail("530 5.7.0 Authentication required").start();

    try (MailTransport.Session session = transportTo(server, Security.PLAIN_TEXT_INSECURE).build().openSession()) {
      assertThatThrownBy(() -> session.send(TestEmails.email("L-1").build()))
          .isInstanceOf(PermanentRouterException.class)
          .hasMessage("SMTP server smtp://127.0.0.1:" + server.port() + " (PLAIN_TEXT_INSECURE) requires a login before"
              + " it sends anything (MAIL FROM refused: 530 5.7.0 Authentication required); configure credentials(...)");
    }
  }

  private static long mailFromCount(ScriptedSmtpServer s) {
    return s.commands().stream().filter(c -> c.startsWith("MAIL FROM")).count();
  }

  @Test
  void send_when452TooManyRecipients_sendsToTheRestInFurtherTransactionsOnTheSameConnection() throws IOException {
    SendResult result = sendOne(script().maxRecipientsPerTransaction(2),
        TestEmails.email("M-1", "a@example.test", "b@example.test", "c@example.test", "d@example.test",
            "e@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(result.recipients()).extracting(r -> r.recipient().address()).containsExactly("a@example.test",
        "b@example.test", "c@example.test", "d@example.test", "e@example.test");
    assertThat(result.recipients()).extracting(RecipientResult::outcome).containsOnly(Outcome.ACCEPTED);
    assertThat(result.serverReply())
        .isEqualTo("250 2.0.0 Ok: queued as Q1; 250 2.0.0 Ok: queued as Q2; 250 2.0.0 Ok: queued as Q3");
    assertThat(server.connections()).isEqualTo(1);
    assertThat(server.messages()).extracting(ScriptedSmtpServer.Received::recipients).containsExactly(
        List.of("a@example.test", "b@example.test"), List.of("c@example.test", "d@example.test"),
        List.of("e@example.test"));
    assertThat(server.messages()).allSatisfy(m -> assertThat(m.data())
        .contains("Message-ID: " + TestEmails.messageId("M-1"))
        .contains("e@example.test")); // the headers name everybody in every transaction
  }

  @Test
  void send_when450AndThen452_sendsThe452OnesAgainAndLeavesThe450OnePending() throws IOException {
    SendResult result = sendOne(script().maxRecipientsPerTransaction(2)
            .replyToRcpt("soft@example.test", "450 4.2.0 <soft@example.test>: greylisted"),
        TestEmails.email("M-2", "a@example.test", "soft@example.test", "b@example.test", "c@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(result.recipients()).containsExactly(
        new RecipientResult(EmailAddress.of("a@example.test"), Outcome.ACCEPTED, "250 2.1.5 Ok"),
        new RecipientResult(EmailAddress.of("soft@example.test"), Outcome.TRANSIENT,
            "450 4.2.0 <soft@example.test>: greylisted"),
        new RecipientResult(EmailAddress.of("b@example.test"), Outcome.ACCEPTED, "250 2.1.5 Ok"),
        new RecipientResult(EmailAddress.of("c@example.test"), Outcome.ACCEPTED, "250 2.1.5 Ok"));
    assertThat(server.messages()).extracting(ScriptedSmtpServer.Received::recipients)
        .containsExactly(List.of("a@example.test", "b@example.test"), List.of("c@example.test"));
    assertThat(server.connections()).isEqualTo(1);
  }

  @Test
  void send_when452AgainWithoutProgress_stopsAndReportsThatRecipientAsPending() throws IOException {
    SendResult result = sendOne(script().replyToRcpt("full@example.test", "452 4.2.2 mailbox full"),
        TestEmails.email("M-3", "a@example.test", "full@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(result.recipients()).containsExactly(
        new RecipientResult(EmailAddress.of("a@example.test"), Outcome.ACCEPTED, "250 2.1.5 Ok"),
        new RecipientResult(EmailAddress.of("full@example.test"), Outcome.TRANSIENT, "452 4.2.2 mailbox full"));
    assertThat(server.messages()).extracting(ScriptedSmtpServer.Received::recipients)
        .containsExactly(List.of("a@example.test"));
    assertThat(mailFromCount(server)).as("one transaction more, then no progress").isEqualTo(2);
    assertThat(server.connections()).isEqualTo(1);
  }

  @Test
  void send_leavesRecipientsThatAcceptedInAnEarlierAttemptOutOfTheEnvelope_butNotOutOfTheHeaders() throws IOException {
    SendResult result = sendOne(script(), TestEmails.email("M-4", "a@example.test", "b@example.test")
        .cc(EmailAddress.of("C@Example.test")).bcc(EmailAddress.of("hidden@example.test"))
        .acceptedRecipients(EmailAddress.of("A@example.TEST"), EmailAddress.of("hidden@example.test")).build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(result.recipients()).extracting(r -> r.recipient().address())
        .containsExactly("b@example.test", "C@Example.test");
    assertThat(server.messages()).singleElement().satisfies(m -> {
      // The envelope carries the domain as its (lower-case) A-label.
      assertThat(m.recipients()).containsExactly("b@example.test", "C@example.test");
      assertThat(m.data()).contains("a@example.test").doesNotContain("hidden@example.test");
    });
  }

  @Test
  void send_whenEveryRecipientAcceptedInAnEarlierAttempt_sendsNothing() throws IOException {
    SendResult result = sendOne(script(), TestEmails.email("M-5", "a@example.test")
        .acceptedRecipients(EmailAddress.of("a@example.test")).build());

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(result.serverReply()).contains("every recipient accepted this email in an earlier attempt");
    assertThat(server.connections()).isZero();
  }

  @Test
  void send_whenTheReplyToTheEndOfDataTakesLongerThanTheReadTimeout_waitsForIt_andTheServerGetsItOnce()
      throws IOException {
    server = script().delayEndOfDataReply(Duration.ofSeconds(2)).start();
    SmtpTransport transport = transportTo(server, Security.PLAIN_TEXT_INSECURE).readTimeout(Duration.ofSeconds(1))
        .build();

    List<SendResult> results = new ArrayList<>();
    try (MailTransport.Session session = transport.openSession()) {
      results.add(session.send(TestEmails.email("W-1").build()));
      results.add(session.send(TestEmails.email("W-2").build())); // the read timeout is back for the next email
    }

    assertThat(results).extracting(SendResult::outcome).containsExactly(Outcome.ACCEPTED, Outcome.ACCEPTED);
    assertThat(server.messages()).extracting(m -> m.data().contains(TestEmails.messageId("W-1")))
        .containsExactly(true, false);
    assertThat(server.connections()).isEqualTo(1);
  }

  @Test
  void send_whenTheReplyToTheEndOfDataTakesLongerThanDataEndTimeout_isTransient() throws IOException {
    server = script().delayEndOfDataReply(Duration.ofSeconds(2)).start();
    SmtpTransport transport = transportTo(server, Security.PLAIN_TEXT_INSECURE)
        .dataEndTimeout(Duration.ofMillis(300)).build();

    SendResult result;
    try (MailTransport.Session session = transport.openSession()) {
      result = session.send(TestEmails.email("W-3").build());
    }

    assertThat(result.outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(result.serverReply()).contains("did not answer in time");
  }
}
