package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.imap.ImapMailboxReader;
import org.junit.jupiter.api.Test;

/**
 * The IMAP reader pointed at the port of another protocol's real server (Dovecot's POP3, Postfix's
 * SMTP): a configuration error, permanent, naming the port and what answered, not a server that
 * "can't be reached" and is retried forever.
 */
final class ImapWrongPortIT {
  private final MailServers servers = MailServers.get();

  private ImapMailboxReader reader(int port) {
    return ImapMailboxReader.builder().host("127.0.0.1").port(port).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem())
        .credentials(Credentials.password("user@example.test", MailServers.PASSWORD)).build();
  }

  @Test
  void open_onDovecotsPop3Port_isAPermanentFailureNamingThePop3Greeting() {
    int port = servers.pop3Port();

    assertThatThrownBy(reader(port)::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("imap://127.0.0.1:" + port + " answered with a POP3 greeting (+OK")
        .hasMessageContaining("is port " + port + " the IMAP port? Check the setting port");
  }

  @Test
  void open_onPostfixsSmtpPort_isAPermanentFailureNamingTheSmtpGreeting() {
    int port = servers.smtpPort();

    assertThatThrownBy(reader(port)::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("imap://127.0.0.1:" + port + " answered with an SMTP greeting (220 ")
        .hasMessageContaining("is port " + port + " the IMAP port? Check the setting port");
  }
}
