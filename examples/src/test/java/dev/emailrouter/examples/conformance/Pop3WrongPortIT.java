package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.pop3.Pop3MailboxReader;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A POP3 reader pointed at Dovecot's IMAP port or Postfix's SMTP port: a configuration error,
 * permanent, naming the port and what answered, not a transient "can't be reached".
 */
final class Pop3WrongPortIT {
  private final MailServers servers = MailServers.get();

  private Pop3MailboxReader readerOn(int port, Security security) {
    return Pop3MailboxReader.builder().host("127.0.0.1").port(port).security(security)
        .trustedCertificates(servers.caPem())
        .credentials(Credentials.password("user@example.test", MailServers.PASSWORD))
        .readTimeout(Duration.ofSeconds(10)).build();
  }

  @Test
  void aPop3ReaderOnDovecotsImapPort_isRefusedPermanently_namingTheImapGreeting() {
    int port = servers.imapPort();
    Pop3MailboxReader reader = readerOn(port, Security.STARTTLS);

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("pop3://user%40example.test@127.0.0.1:" + port + " answered with an IMAP greeting")
        .hasMessageContaining("Dovecot")
        .hasMessageContaining("is " + port + " the POP3 port?");
  }

  @Test
  void aPop3ReaderOnPostfixsSmtpPort_isRefusedPermanently_namingTheSmtpGreeting() {
    int port = servers.smtpPort();
    Pop3MailboxReader reader = readerOn(port, Security.PLAIN_TEXT_INSECURE);

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("answered with an SMTP greeting")
        .hasMessageContaining("ESMTP")
        .hasMessageContaining("is " + port + " the POP3 port?");
  }

  @Test
  void theEngine_reportsTheWrongPortAsAMailboxFailure_withTheReason() {
    Pop3MailboxReader reader = readerOn(servers.imapPort(), Security.STARTTLS);
    try (RouterEngine engine = RouterEngine.builder().activityStore(new InMemoryActivityStore())
        .mailbox(Mailbox.ofUser("user-1", reader)).build()) {

      TickReport report = engine.tick();

      assertThat(report.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.MailboxFailed.class,
          f -> assertThat(f.reason()).contains("answered with an IMAP greeting").contains("the POP3 port?"));
    }
  }
}
