package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.support.internal.mime.MimeComposer;
import dev.emailrouter.testfixtures.Loopback;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Properties;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every email of {@link MimeWireTest} sent to GreenMail, lock-step and pipelined: what arrives is
 * what Jakarta Mail's own writer would have delivered.
 */
final class MimeWireDeliveryTest {
  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(Loopback.setup(ServerSetup.PROTOCOL_SMTP));

  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-14T15:09:26Z"), ZoneOffset.UTC);

  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> emails() {
    return MimeWireTest.emails();
  }

  private SmtpTransport transport(int port) {
    return TestTransports.plain(port).clock(CLOCK).build();
  }

  private void sendAndCompare(int port, OutgoingEmail email) throws Exception {
    SendResult result;
    try (MailTransport.Session session = transport(port).openSession()) {
      result = session.send(email);
    }
    assertThat(result.outcome()).as(result.serverReply()).isEqualTo(SendResult.Outcome.ACCEPTED);

    MimeMessage received = greenMail.getReceivedMessages()[0];
    MimeMessage jakarta = new MimeComposer(Session.getInstance(new Properties()), CLOCK)
        .composeWithJakarta(email).message();
    MimeWireTest.assertSameMessage(received, MimeWireTest.parse(MimeWireTest.jakartaWire(jakarta)), email, true);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("emails")
  void send_lockStep_deliversWhatJakartaWould(String name, OutgoingEmail.Builder builder) throws Exception {
    sendAndCompare(greenMail.getSmtp().getPort(), builder.build());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("emails")
  void send_pipelined_deliversWhatJakartaWould(String name, OutgoingEmail.Builder builder) throws Exception {
    try (CountingProxy proxy = CountingProxy.to("127.0.0.1", greenMail.getSmtp().getPort())) {
      proxy.offerPipelining();

      sendAndCompare(proxy.port(), builder.build());

      assertThat(proxy.sawPipelinedGroup()).as("the client pipelined").isTrue();
    }
  }
}
