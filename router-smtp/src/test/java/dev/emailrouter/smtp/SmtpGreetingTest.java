package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.TransientRouterException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** What the transport makes of a server that is not an SMTP server, on the configured port. */
final class SmtpGreetingTest {

  private static void send(SmtpTransport transport) {
    try (MailTransport.Session session = transport.openSession()) {
      session.send(TestEmails.email("G-1").build());
    }
  }

  @ParameterizedTest(name = "{0} with credentials: {2}")
  @CsvSource(delimiter = '|', value = {
      "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE AUTH=PLAIN] Dovecot ready. | an IMAP | none",
      "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE AUTH=PLAIN] Dovecot ready. | an IMAP | token",
      "* PREAUTH IMAP4rev1 server logged in as crm | an IMAP | password",
      "+OK Dovecot ready. | a POP3 | none",
      "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us> | a POP3 | token",
      "SSH-2.0-OpenSSH_9.2p1 Debian-2 | an SSH | none",
  })
  void send_whenAnotherProtocolGreetsOnTheSmtpPort_throwsPermanentNamingHostPortWhatAnsweredAndTheSetting(
      String greeting, String protocol, String credentials) throws Exception {
    try (ScriptedSmtpServer server = ScriptedSmtpServer.builder().greeting(greeting).start()) {
      SmtpTransport.Builder builder = TestTransports.plain(server.port());
      if (!credentials.equals("none")) {
        Supplier<Credentials> login = credentials.equals("token") ? () -> Credentials.oauth2("crm", "t0ken")
            : () -> Credentials.password("crm", "s3cret");
        builder.credentials(login);
      }

      assertThatThrownBy(() -> send(builder.build()))
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("smtp://127.0.0.1:" + server.port())
          .hasMessageContaining("answered with " + protocol + " greeting")
          .hasMessageContaining(greeting.substring(0, 10))
          .hasMessageContaining("port " + server.port() + " on host 127.0.0.1 is not an SMTP port")
          .hasMessageContaining("port(...)")
          .hasMessageNotContaining("s3cret").hasMessageNotContaining("t0ken");
    }
  }

  @Test
  void send_whenTheServerOnThePortSaysNothing_staysTransient() throws Exception {
    try (ServerSocket mute = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
      SmtpTransport transport = TestTransports.plain(mute.getLocalPort()).readTimeout(Duration.ofMillis(300)).build();

      assertThatThrownBy(() -> send(transport))
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining("did not answer in time");
    }
  }

  @Test
  void send_whenTheServerClosesWithoutAGreeting_staysTransient() throws Exception {
    try (ServerSocket closing = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
      Thread acceptor = new Thread(() -> {
        try {
          closing.accept().close();
        } catch (java.io.IOException ignored) {
          // the test ends
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();

      assertThatThrownBy(() -> send(TestTransports.plain(closing.getLocalPort()).build()))
          .isInstanceOf(TransientRouterException.class);
    }
  }
}
