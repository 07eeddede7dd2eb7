package dev.emailrouter.pop3;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TransientRouterException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A server of another protocol on the configured port is a configuration error, reported as
 * permanent with what answered; a POP3 server that refuses for now stays transient.
 */
final class Pop3WrongProtocolTest {

  private static final String DOVECOT_IMAP = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
      + "LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.";
  private static final String POSTFIX_SMTP = "220 mx.example.test ESMTP Postfix (Debian/GNU)";

  private static Pop3MailboxReader.Builder builder(int port) {
    return Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password("sales", "secret"))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5));
  }

  @Test
  void open_whenAnImapServerAnswers_throwsPermanentNamingHostPortWhatAnsweredAndTheSetting() throws Exception {
    try (ScriptedPop3Server imap = new ScriptedPop3Server(DOVECOT_IMAP, line -> null)) {
      MailboxReader reader = builder(imap.port()).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("pop3://sales@127.0.0.1:" + imap.port() + " answered with an IMAP greeting")
          .hasMessageContaining("Dovecot (Debian) ready.")
          .hasMessageContaining("is " + imap.port() + " the POP3 port?")
          .hasMessageContaining("port(...)");
    }
  }

  @Test
  void open_withStarttlsWhenAnSmtpServerAnswers_throwsPermanentNamingWhatAnswered() throws Exception {
    try (ScriptedPop3Server smtp = new ScriptedPop3Server(POSTFIX_SMTP, line -> "502 5.5.2 Error: command not recognized")) {
      MailboxReader reader = builder(smtp.port()).security(Security.STARTTLS).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("pop3://sales@127.0.0.1:" + smtp.port() + " answered with an SMTP greeting")
          .hasMessageContaining("220 mx.example.test ESMTP Postfix")
          .hasMessageContaining("is " + smtp.port() + " the POP3 port?");
    }
  }

  @Test
  void open_withAnOauth2TokenWhenAnImapServerAnswers_throwsPermanentToo() throws Exception {
    try (ScriptedPop3Server imap = new ScriptedPop3Server(DOVECOT_IMAP, line -> null)) {
      MailboxReader reader = builder(imap.port()).credentials(Credentials.oauth2("sales", "token-1")).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("answered with an IMAP greeting");
    }
  }

  @Test
  void open_whenSomethingElseAnswers_throwsPermanentQuotingIt() throws Exception {
    try (ScriptedPop3Server ssh = new ScriptedPop3Server("SSH-2.0-OpenSSH_9.2p1 Debian-2", line -> null)) {
      MailboxReader reader = builder(ssh.port()).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("answered with 'SSH-2.0-OpenSSH_9.2p1 Debian-2', which is not a POP3 greeting");
    }
  }

  @Test
  void open_whenThePop3ServerGreetsWithErr_staysTransient() throws Exception {
    try (ScriptedPop3Server busy = new ScriptedPop3Server("-ERR [SYS/TEMP] too many connections", line -> null)) {
      MailboxReader reader = builder(busy.port()).build();

      assertThatThrownBy(reader::open).isInstanceOf(TransientRouterException.class);
    }
  }
}
