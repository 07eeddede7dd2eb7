package dev.emailrouter.smtp;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.Security;
import dev.emailrouter.testfixtures.Loopback;
import dev.emailrouter.testkit.MailTransportContract;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** SmtpTransport keeps the transport contract, against GreenMail's SMTP server. */
final class SmtpTransportContractTest extends MailTransportContract {

  @Override
  protected Fixture newFixture() {
    GreenMail greenMail = new GreenMail(Loopback.setup(ServerSetup.PROTOCOL_SMTP));
    greenMail.start();
    MailTransport transport = SmtpTransport.builder()
        .host("127.0.0.1")
        .port(greenMail.getSmtp().getPort())
        .security(Security.PLAIN_TEXT_INSECURE)
        .connectTimeout(Duration.ofSeconds(5))
        .readTimeout(Duration.ofSeconds(10))
        .writeTimeout(Duration.ofSeconds(10))
        .build();
    return new Fixture() {
      @Override
      public MailTransport transport() {
        return transport;
      }

      @Override
      public List<byte[]> receivedBy(String address) {
        List<byte[]> messages = new ArrayList<>();
        for (MimeMessage m : greenMail.findReceivedMessages(u -> u.getEmail().equalsIgnoreCase(address), m -> true)
            .toList()) {
          try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            m.writeTo(out);
            messages.add(out.toByteArray());
          } catch (IOException | MessagingException e) {
            throw new IllegalStateException(e);
          }
        }
        return messages;
      }

      @Override
      public void close() {
        greenMail.stop();
      }
    };
  }
}
