package dev.emailrouter.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.testfixtures.FakeTokenSource;
import dev.emailrouter.testfixtures.MutableClock;
import dev.emailrouter.testkit.MailTransportContract;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The testkit's transport contract, against the Graph emulator.
 *
 * <p>One test is replaced: the contract wants a recipient that accepted the email earlier left out
 * of the envelope but kept in the headers. Graph has no envelope: sendMail with MIME takes the
 * recipients from the To, Cc and Bcc headers. The half that matters (nobody gets the email twice)
 * is kept; the To header then names only those who get it now.
 */
final class GraphTransportContractTest extends MailTransportContract {

  @Override
  @Test
  public void send_leavesOutRecipientsThatAcceptedInAnEarlierAttempt_butNotOutOfTheHeaders() {
    OutgoingEmail email = OutgoingEmail.builder("again-1", EmailAddress.of("crm@example.test"))
        .to(EmailAddress.of("first@example.test"), EmailAddress.of("second@example.test"))
        .subject("Subject of again-1").textBody("Body of again-1.\r\n")
        .messageId("<again-1.contract@crm.example.test>")
        .acceptedRecipients(EmailAddress.of("First@Example.TEST")).build();

    SendResult result;
    try (MailTransport.Session session = fixture().transport().openSession()) {
      result = session.send(email);
    }

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    assertThat(fixture().receivedBy("first@example.test")).as("what first@ got again").isEmpty();
    List<byte[]> second = fixture().receivedBy("second@example.test");
    assertThat(second).hasSize(1);
    String head = new String(second.get(0), StandardCharsets.ISO_8859_1).split("\r\n\r\n", 2)[0];
    assertThat(head).contains("Message-ID: <again-1.contract@crm.example.test>", "To: second@example.test")
        .doesNotContain("first@example.test");
  }

  @Override
  protected Fixture newFixture() {
    GraphEmulator graph = new GraphEmulator("token-1");
    MutableClock clock = new MutableClock(Instant.parse("2030-01-07T10:00:00Z"));
    GraphTransport transport = GraphTransport.builder().baseUrl(graph.baseUrl())
        .credentials(new FakeTokenSource("app", "token-1")).clock(clock).sleeper(clock::sleep).build();
    return new Fixture() {
      @Override
      public MailTransport transport() {
        return transport;
      }

      @Override
      public List<byte[]> receivedBy(String address) {
        return graph.folder(address, "inbox");
      }

      @Override
      public void close() {
        graph.close();
      }
    };
  }
}
