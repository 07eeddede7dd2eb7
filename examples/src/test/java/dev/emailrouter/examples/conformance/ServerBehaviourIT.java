package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.pop3.Pop3MailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Real servers refusing: Postfix access maps (450, 550), an untrusted certificate, wrong passwords. */
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
