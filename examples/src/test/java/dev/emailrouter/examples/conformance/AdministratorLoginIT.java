package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.pop3.Pop3MailboxReader;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * One administrator credential for many mailboxes, on Dovecot with a master passdb
 * (scripts/mail-servers.sh: admin@example.test may open any user's mailbox).
 */
final class AdministratorLoginIT {
  private static final String ADMIN = "admin@example.test";
  private static final String ADMIN_PASSWORD = "admin-secret";

  private final MailServers servers = MailServers.get();

  private Pop3MailboxReader pop3(Credentials credentials) {
    return Pop3MailboxReader.builder().host("127.0.0.1").port(servers.pop3Port()).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem()).credentials(credentials).readTimeout(Duration.ofSeconds(10)).build();
  }

  private static NewMessages read(MailboxReader reader) {
    try (MailboxReader.Session session = reader.open()) {
      return session.fetchNew("", Set.of(), 100_000); // every message: other tests fill these mailboxes too
    }
  }

  private static boolean holds(NewMessages found, String subject) {
    return found.messages().stream().anyMatch(m -> m.first("subject").orElse("").equals(subject));
  }

  @Test
  void pop3_saslPlainOnBehalfOf_opensTheUsersOwnMaildrop() {
    String forContact = "for contact " + UUID.randomUUID();
    String forOther = "for other " + UUID.randomUUID();
    servers.deliver("contact", message(forContact));
    servers.deliver("other", message(forOther));

    NewMessages contact = read(pop3(Credentials.password(ADMIN, ADMIN_PASSWORD).onBehalfOf("contact@example.test")));
    NewMessages other = read(pop3(Credentials.password(ADMIN, ADMIN_PASSWORD).onBehalfOf("other@example.test")));

    assertThat(holds(contact, forContact)).isTrue();
    assertThat(holds(contact, forOther)).isFalse();
    assertThat(holds(other, forOther)).isTrue();
  }

  @Test
  void pop3_dovecotMasterUserLoginName_opensTheUsersMaildrop() {
    String subject = "master form " + UUID.randomUUID();
    servers.deliver("contact", message(subject));

    Pop3MailboxReader reader = Pop3MailboxReader.builder().host("127.0.0.1").port(servers.pop3Port())
        .security(Security.STARTTLS).trustedCertificates(servers.caPem())
        .username("contact@example.test")
        .credentials(() -> Credentials.password("contact@example.test*" + ADMIN, ADMIN_PASSWORD))
        .build();

    assertThat(holds(read(reader), subject)).isTrue();
    assertThat(reader.describe()).contains("contact%40example.test@");
  }

  @Test
  void pop3_onBehalfOfWithAWrongAdministratorPassword_isRefusedNamingTheAdministrator() {
    Pop3MailboxReader reader = pop3(Credentials.password(ADMIN, "wrong").onBehalfOf("contact@example.test"));

    assertThatThrownBy(reader::open).isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("user " + ADMIN);
    assertThat(reader.testAccess().firstFailure().orElseThrow().setting()).isEqualTo("credentials");
  }

  @Test
  void pop3_anOrdinaryUserCannotOpenAnotherUsersMaildrop() {
    Pop3MailboxReader reader = pop3(Credentials.password("user@example.test", MailServers.PASSWORD)
        .onBehalfOf("contact@example.test"));

    assertThatThrownBy(reader::open).isInstanceOf(PermanentRouterException.class);
  }

  private ImapMailboxReader imap(Credentials credentials) {
    return ImapMailboxReader.builder().host("127.0.0.1").port(servers.imapPort()).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem()).credentials(credentials).build();
  }

  @Test
  void imap_authenticatePlainOnBehalfOf_opensTheUsersOwnMailbox() {
    String forContact = "imap for contact " + UUID.randomUUID();
    String forOther = "imap for other " + UUID.randomUUID();
    servers.deliver("contact", message(forContact));
    servers.deliver("other", message(forOther));

    ImapMailboxReader reader = imap(Credentials.password(ADMIN, ADMIN_PASSWORD).onBehalfOf("contact@example.test"));
    NewMessages contact = read(reader);

    assertThat(holds(contact, forContact)).isTrue();
    assertThat(holds(contact, forOther)).isFalse();
    assertThat(reader.describe()).contains("contact%40example.test@").doesNotContain("admin");
  }

  @Test
  void imap_dovecotMasterUserLoginName_opensTheUsersMailbox() {
    String subject = "imap master form " + UUID.randomUUID();
    servers.deliver("other", message(subject));

    NewMessages found = read(imap(Credentials.password("other@example.test*" + ADMIN, ADMIN_PASSWORD)));

    assertThat(holds(found, subject)).isTrue();
  }

  @Test
  void imap_anOrdinaryUserCannotOpenAnotherUsersMailbox() {
    ImapMailboxReader reader = imap(Credentials.password("user@example.test", MailServers.PASSWORD)
        .onBehalfOf("contact@example.test"));

    assertThatThrownBy(reader::open).isInstanceOf(PermanentRouterException.class);
  }

  private static String message(String subject) {
    return "From: sender@example.org\r\nSubject: " + subject + "\r\nMessage-ID: <" + UUID.randomUUID()
        + "@example.org>\r\nDate: Mon, 7 Dec 2026 09:00:00 +0000\r\n\r\nbody\r\n";
  }
}
