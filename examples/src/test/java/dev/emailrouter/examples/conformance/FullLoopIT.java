package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Correlation;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.pop3.Pop3MailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The whole loop against real servers, with nothing of ours on the server side: the engine sends
 * through Postfix (STARTTLS, a self-signed certificate trusted explicitly) to the contact's Dovecot
 * mailbox; the contact answers with swaks; the engine reads the user's mailbox over IMAP and over
 * POP3 and correlates the answer to the email it sent.
 */
final class FullLoopIT {
  private final MailServers servers = MailServers.get();
  private final InMemoryActivityStore crm = new InMemoryActivityStore();

  FullLoopIT() {
    crm.addParty("user@example.test", new Party(Party.Type.USER, "user-1", "Una User"));
    crm.addParty("contact@example.test", new Party(Party.Type.CONTACT, "contact-1", "Carl Contact"));
  }

  private SmtpTransport smtp() {
    return SmtpTransport.builder().host("127.0.0.1").port(servers.smtpPort()).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem()).ehloName("router.example.test").build();
  }

  private MailboxReader imap(String user, String password) {
    return ImapMailboxReader.builder().host("127.0.0.1").port(servers.imapPort()).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem()).credentials(Credentials.password(user, password))
        .afterTracked(ImapMailboxReader.PostAction.MARK_SEEN).build();
  }

  private MailboxReader pop3(String user, String password) {
    return Pop3MailboxReader.builder().host("127.0.0.1").port(servers.pop3Port()).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem()).credentials(Credentials.password(user, password)).build();
  }

  @Test
  void anEmailSentThroughPostfix_reachesTheContact_andTheirReplyIsCorrelatedOverImap() throws Exception {
    loop(imap("user@example.test", MailServers.PASSWORD));
  }

  @Test
  void anEmailSentThroughPostfix_reachesTheContact_andTheirReplyIsCorrelatedOverPop3() throws Exception {
    loop(pop3("user@example.test", MailServers.PASSWORD));
  }

  private void loop(MailboxReader userMailbox) throws Exception {
    String tag = UUID.randomUUID().toString().substring(0, 8);
    String activityId = "email-" + tag;
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm).transport(smtp())
        .mailbox(Mailbox.ofUser("user-1", userMailbox)).build()) {
      // The user's mailbox may hold mail of earlier tests: read it once so only new mail counts below.
      engine.tick();
      crm.add(OutgoingEmail.builder(activityId, EmailAddress.of("user@example.test", "Una User"))
          .to(EmailAddress.of("contact@example.test", "Carl Contact"))
          .subject("Proposal " + tag + " — Grüße").textBody("Hello Carl,\nour proposal.\nUna").build());

      TickReport sending = engine.tick();

      assertThat(sending.sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly(activityId);
      assertThat(sending.sent().get(0).serverReply()).startsWith("250");
      InMemoryActivityStore.StoredEmail sent = crm.find(activityId).orElseThrow();
      assertThat(sent.status()).isEqualTo(EmailStatus.SENT);

      // Postfix delivered it over LMTP to Dovecot: the contact's own IMAP client sees it, as sent.
      MailServers.await("the email in contact@example.test's INBOX", () -> subjects("contact@example.test")
          .contains(sent.email().subject()));
      assertThat(messageIds("contact@example.test")).contains(sent.email().messageId());

      // The contact answers with an ordinary SMTP client.
      servers.swaks("contact@example.test", "user@example.test", "RE: " + sent.email().subject(),
          "Thanks, we accept.", "In-Reply-To: " + sent.email().messageId(),
          "References: " + sent.email().messageId());

      List<RouterEvent.MessageTracked> tracked = new ArrayList<>();
      MailServers.await("the reply to be tracked", () -> {
        tracked.addAll(engine.tick().tracked());
        return !tracked.isEmpty();
      });
      assertThat(tracked).singleElement().satisfies(t -> {
        assertThat(t.decision().reason()).isEqualTo(TrackingDecision.Reason.CORRELATION_MATCH);
        assertThat(t.correlation().activityId()).isEqualTo(activityId);
        assertThat(t.correlation().rule()).isEqualTo(Correlation.Rule.IN_REPLY_TO);
      });
      ReceivedEmail received = crm.received().stream()
          .filter(r -> r.correlation() != null && r.correlation().activityId().equals(activityId))
          .findFirst().orElseThrow();
      assertThat(received.from().address()).isEqualTo("contact@example.test");
      assertThat(received.owner().id()).isEqualTo("user-1");
      assertThat(received.textBody()).contains("Thanks, we accept.");
      assertThat(engine.tick().tracked()).as("the reply is tracked once").isEmpty();
    }
  }

  private static List<String> subjects(String user) {
    return read(user, m -> m.getSubject());
  }

  private static List<String> messageIds(String user) {
    return read(user, m -> m.getHeader("Message-ID")[0]);
  }

  private interface Field {
    String of(Message m) throws MessagingException;
  }

  /** What the contact's own mail client sees: plain Jakarta Mail IMAP, not our reader. */
  private static List<String> read(String user, Field field) {
    Properties p = new Properties();
    p.put("mail.imap.host", "127.0.0.1");
    p.put("mail.imap.port", Integer.toString(MailServers.get().imapPort()));
    p.put("mail.imap.connectiontimeout", "10000");
    p.put("mail.imap.timeout", "10000");
    try {
      Store store = Session.getInstance(p).getStore("imap");
      store.connect(user, MailServers.PASSWORD);
      try {
        Folder inbox = store.getFolder("INBOX");
        inbox.open(Folder.READ_ONLY);
        List<String> values = new ArrayList<>();
        for (Message m : inbox.getMessages()) {
          values.add(field.of(m));
        }
        inbox.close(false);
        return values;
      } finally {
        store.close();
      }
    } catch (MessagingException e) {
      throw new IllegalStateException("reading " + user + "'s INBOX failed: " + e, e);
    }
  }
}
