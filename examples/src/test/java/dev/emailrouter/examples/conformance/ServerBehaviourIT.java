package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.pop3.Pop3MailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Real servers refusing: Postfix access maps (450, 550, 450 for one recipient of two), an untrusted certificate, wrong passwords. */
final class ServerBehaviourIT {
  private final MailServers servers = MailServers.get();
  private final InMemoryActivityStore crm = new InMemoryActivityStore();

  private SmtpTransport.Builder smtp() {
    return SmtpTransport.builder().host("127.0.0.1").port(servers.smtpPort()).security(Security.STARTTLS)
        .ehloName("router.example.test");
  }

  private String addEmailTo(String recipient) {
    String id = "email-" + UUID.randomUUID();
    crm.add(OutgoingEmail.builder(id, EmailAddress.of("user@example.test")).to(EmailAddress.of(recipient))
        .subject("Test " + id).textBody("Hello").build());
    return id;
  }

  @Test
  void a450AtRcpt_returnsTheEmailToPendingSend_withPostfixsReply() {
    String id = addEmailTo("soft@example.test");
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .transport(smtp().trustedCertificates(servers.caPem()).build()).build()) {

      TickReport report = engine.tick();

      assertThat(report.retried()).singleElement().satisfies(r -> {
        assertThat(r.activityId()).isEqualTo(id);
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(r.reason()).contains("450").contains("try later");
      });
      assertThat(crm.status(id)).isEqualTo(EmailStatus.PENDING_SEND);
    }
  }

  @Test
  void a550AtRcpt_failsTheEmail_withPostfixsReply() {
    String id = addEmailTo("hard@example.test");
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .transport(smtp().trustedCertificates(servers.caPem()).build()).build()) {

      TickReport report = engine.tick();

      assertThat(report.failed()).singleElement().satisfies(f -> {
        assertThat(f.activityId()).isEqualTo(id);
        assertThat(f.reason()).contains("550").contains("no such user");
      });
      assertThat(crm.status(id)).isEqualTo(EmailStatus.FAILED);
    }
  }

  @Test
  void aMixOfAcceptedAndRefusedRecipients_isSent_andReportsTheRefusedOnes() {
    String id = "email-" + UUID.randomUUID();
    crm.add(OutgoingEmail.builder(id, EmailAddress.of("user@example.test"))
        .to(EmailAddress.of("contact@example.test"), EmailAddress.of("hard@example.test"))
        .subject("Partial " + id).textBody("Hello").build());
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .transport(smtp().trustedCertificates(servers.caPem()).build()).build()) {

      TickReport report = engine.tick();

      assertThat(report.sent()).singleElement().satisfies(s -> assertThat(s.refusedRecipients())
          .singleElement().satisfies(r -> {
            assertThat(r.recipient().address()).isEqualTo("hard@example.test");
            assertThat(r.serverReply()).contains("550");
          }));
      assertThat(crm.status(id)).isEqualTo(EmailStatus.SENT);
    }
  }

  @Test
  void postfixOffersDsn_andTakesTheDsnRequest_withTheMessageIdAsEnvid() throws IOException {
    String id = addEmailTo("contact@example.test");
    // Plain text through a recording proxy (Postfix takes mail without TLS here: security level "may").
    try (CapabilityFilter wire = new CapabilityFilter(servers.smtpPort());
         RouterEngine engine = RouterEngine.builder().activityStore(crm)
             .transport(smtp().port(wire.port()).security(Security.PLAIN_TEXT_INSECURE).build()).build()) {

      TickReport report = engine.tick();

      assertThat(report.sent()).singleElement().satisfies(s -> assertThat(s.activityId()).isEqualTo(id));
      String messageId = crm.find(id).orElseThrow().email().messageId();
      String envid = messageId.substring(1, messageId.length() - 1);
      assertThat(wire.commands()).contains("MAIL FROM:<user@example.test> SIZE=" + wire.commands().stream()
              .filter(c -> c.startsWith("MAIL FROM")).findFirst().orElseThrow().replaceAll(".* SIZE=(\\d+) .*", "$1")
              + " RET=HDRS ENVID=" + envid,
          "RCPT TO:<contact@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;contact@example.test");
    }
  }

  @Test
  void postfixTakesTheNextEmailPipelinedBehindTheEndOfData_andDeliversEachOnce_butNeverOneBegunAndNotSent() {
    List<String> ids = List.of(addEmailTo("user@example.test"), addEmailTo("user@example.test"),
        addEmailTo("user@example.test"));
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .transport(smtp().trustedCertificates(servers.caPem()).build()).build()) {

      TickReport report = engine.tick();

      assertThat(report.sent()).hasSize(3);
    }
    for (String id : ids) {
      String messageId = crm.find(id).orElseThrow().email().messageId();
      MailServers.await("user@example.test gets " + messageId, () -> copiesIn("user@example.test", messageId) == 1);
    }

    // Begun behind the first email's end of data, then the session closes: Postfix has its envelope
    // and has answered its DATA, but never gets an end of data.
    SmtpTransport transport = smtp().trustedCertificates(servers.caPem()).build();
    OutgoingEmail sent = OutgoingEmail.builder("sent-1", EmailAddress.of("user@example.test"))
        .to(EmailAddress.of("user@example.test")).subject("Sent").textBody("Hello").messageId("<sent-"
            + UUID.randomUUID() + "@crm.example.test>").build();
    OutgoingEmail begun = OutgoingEmail.builder("begun-1", EmailAddress.of("user@example.test"))
        .to(EmailAddress.of("user@example.test")).subject("Begun").textBody("Hello").messageId("<begun-"
            + UUID.randomUUID() + "@crm.example.test>").build();
    OutgoingEmail after = OutgoingEmail.builder("after-1", EmailAddress.of("user@example.test"))
        .to(EmailAddress.of("user@example.test")).subject("After").textBody("Hello").messageId("<after-"
            + UUID.randomUUID() + "@crm.example.test>").build();
    try (var session = transport.openSession()) {
      assertThat(session.send(sent, begun).outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    }
    try (var session = transport.openSession()) {
      assertThat(session.send(after).outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    }
    MailServers.await("user@example.test gets the emails sent before and after the dropped one",
        () -> copiesIn("user@example.test", sent.messageId()) == 1
            && copiesIn("user@example.test", after.messageId()) == 1);
    assertThat(copiesIn("user@example.test", begun.messageId())).isZero();
  }

  /** Files in a user's maildir holding this Message-ID: the copies Postfix delivered to that user. */
  private long copiesIn(String user, String messageId) {
    Path maildir = Path.of(servers.env("MAIL_DIR"), user, "Maildir");
    long copies = 0;
    for (String folder : List.of("new", "cur")) {
      try (Stream<Path> files = Files.list(maildir.resolve(folder))) {
        for (Path f : (Iterable<Path>) files::iterator) {
          if (Files.readString(f, StandardCharsets.ISO_8859_1).contains("Message-ID: " + messageId)) {
            copies++;
          }
        }
      } catch (IOException e) {
        // a file Dovecot moved from new to cur meanwhile: counted on the next poll
      }
    }
    return copies;
  }

  @Test
  void a450ForOneRecipient_sendsToTheOthersOnce_andKeepsThatOnePendingWithPostfixsReply() {
    String id = "email-" + UUID.randomUUID();
    crm.add(OutgoingEmail.builder(id, EmailAddress.of("user@example.test"))
        .to(EmailAddress.of("user@example.test"), EmailAddress.of("soft@example.test"))
        .subject("Partly " + id).textBody("Hello").build());
    MutableClock clock = new MutableClock(Instant.now());
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm).clock(clock)
        .transport(smtp().trustedCertificates(servers.caPem()).build()).build()) {

      TickReport first = engine.tick();

      assertThat(first.events()).singleElement().isInstanceOfSatisfying(RouterEvent.EmailPartlySent.class,
          p -> assertThat(p.pending()).singleElement().satisfies(r -> {
            assertThat(r.recipient().address()).isEqualTo("soft@example.test");
            assertThat(r.serverReply()).contains("450").contains("try later");
          }));
      assertThat(crm.status(id)).as("not Sent while soft@ is pending").isEqualTo(EmailStatus.PENDING_SEND);
      String messageId = crm.find(id).orElseThrow().email().messageId();
      MailServers.await("user@example.test gets " + messageId, () -> copiesIn("user@example.test", messageId) == 1);

      clock.set(crm.find(id).orElseThrow().nextAttemptAt());
      TickReport second = engine.tick();

      assertThat(second.events()).singleElement().isInstanceOfSatisfying(RouterEvent.EmailPartlySent.class,
          p -> assertThat(p.attempts()).isEqualTo(2));
      assertThat(crm.status(id)).isEqualTo(EmailStatus.PENDING_SEND);
      assertThat(crm.find(id).orElseThrow().email().acceptedRecipients()).extracting(EmailAddress::address)
          .containsExactly("user@example.test");
      assertThat(crm.find(id).orElseThrow().recipientOutcomes()).anySatisfy(r -> {
        assertThat(r.recipient().address()).isEqualTo("soft@example.test");
        assertThat(r.outcome()).isEqualTo(SendResult.Outcome.TRANSIENT);
        assertThat(r.serverReply()).contains("450 4.2.0");
      });
      // The second attempt went to soft@ alone (refused again, so nothing was queued): still one copy.
      assertThat(copiesIn("user@example.test", messageId)).isEqualTo(1);
    }
  }

  @Test
  void starttlsWithACertificateNobodyTrusts_isRefused_andTheEmailWaitsWithoutCountingAnAttempt() {
    String id = addEmailTo("contact@example.test");
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm).transport(smtp().build()).build()) {

      TickReport report = engine.tick();

      assertThat(report.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.ServerUnavailable.class,
          u -> assertThat(u.reason()).containsIgnoringCase("trusted"));
      assertThat(crm.find(id).orElseThrow().attempts()).isZero();
      assertThat(crm.status(id)).isEqualTo(EmailStatus.PENDING_SEND);
    }
  }

  @Test
  void aWrongImapPassword_isAClearMailboxFailure_namingTheMailbox_withoutThePassword() {
    ImapMailboxReader reader = ImapMailboxReader.builder().host("127.0.0.1").port(servers.imapPort())
        .security(Security.STARTTLS).trustedCertificates(servers.caPem())
        .credentials(Credentials.password("user@example.test", "wrong-Pa55word")).build();
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .mailbox(Mailbox.ofUser("user-1", reader)).build()) {

      TickReport report = engine.tick();

      assertThat(report.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.MailboxFailed.class, f -> {
        assertThat(f.mailbox()).isEqualTo(reader.describe());
        assertThat(f.reason()).contains("user@example.test").doesNotContain("wrong-Pa55word");
      });
    }
  }

  @Test
  void aWrongPop3Password_isAClearMailboxFailure_namingTheMailbox_withoutThePassword() {
    Pop3MailboxReader reader = Pop3MailboxReader.builder().host("127.0.0.1").port(servers.pop3Port())
        .security(Security.STARTTLS).trustedCertificates(servers.caPem())
        .credentials(Credentials.password("user@example.test", "wrong-Pa55word")).build();
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .mailbox(Mailbox.ofUser("user-1", reader)).build()) {

      TickReport report = engine.tick();

      assertThat(report.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.MailboxFailed.class, f -> {
        assertThat(f.mailbox()).isEqualTo(reader.describe());
        assertThat(f.reason()).contains("user@example.test").doesNotContain("wrong-Pa55word");
      });
    }
  }
}
