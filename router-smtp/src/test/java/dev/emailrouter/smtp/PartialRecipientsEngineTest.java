package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.InMemoryActivityStore.StoredEmail;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine, the in-memory store and SmtpTransport against a scripted server that greylists one
 * recipient (450) and takes two recipients per transaction (452 for the next): everybody gets the
 * email once, with one Message-ID, lock-step and pipelined.
 */
final class PartialRecipientsEngineTest {
  private static final String SOFT = "soft@example.test";

  private final MutableClock clock = new MutableClock(Instant.parse("2026-03-14T09:00:00Z"));
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private ScriptedSmtpServer server;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
  }

  private RouterEngine engine() {
    return RouterEngine.builder()
        .activityStore(store)
        .transport(TestTransports.plain(server.port()).clock(clock).build())
        .clock(clock)
        .random(new Random(7))
        .build();
  }

  private StoredEmail stored() {
    return store.find("e1").orElseThrow();
  }

  private List<String> deliveredTo(String address) {
    return server.messages().stream().filter(m -> m.recipients().contains(address)).map(m -> messageIdOf(m.data()))
        .toList();
  }

  private static String messageIdOf(String data) {
    int at = data.indexOf("Message-ID: ");
    return data.substring(at + "Message-ID: ".length(), data.indexOf("\r\n", at));
  }

  @ParameterizedTest(name = "pipelining {0}")
  @ValueSource(booleans = {false, true})
  void tick_when450ForOneRecipientAnd452ForAnother_the452OneGetsItInASecondTransaction_andThe450OneOnALaterTick(
      boolean pipelining) throws IOException {
    ScriptedSmtpServer.Builder script = ScriptedSmtpServer.builder()
        .maxRecipientsPerTransaction(2)
        .replyToRcpt(SOFT, "450 4.2.0 <soft@example.test>: Recipient address rejected: greylisted");
    server = (pipelining ? script.pipelining() : script).start();
    store.add(OutgoingEmail.builder("e1", EmailAddress.of("crm@example.test"))
        .to(EmailAddress.of("a@example.test"), EmailAddress.of(SOFT))
        .cc(EmailAddress.of("b@example.test"), EmailAddress.of("c@example.test"))
        .subject("Quarterly figures").textBody("Attached soon.\r\n").build());
    RouterEngine engine = engine();

    TickReport first = engine.tick();

    assertThat(server.connections()).isEqualTo(1);
    assertThat(server.messages()).extracting(ScriptedSmtpServer.Received::recipients).containsExactly(
        List.of("a@example.test", "b@example.test"), List.of("c@example.test"));
    assertThat(stored().status()).as("not final while soft@ is pending").isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(stored().email().acceptedRecipients()).extracting(EmailAddress::address)
        .containsExactlyInAnyOrder("a@example.test", "b@example.test", "c@example.test");
    assertThat(first.events()).singleElement().isInstanceOfSatisfying(RouterEvent.EmailPartlySent.class,
        p -> assertThat(p.pending()).singleElement().satisfies(r -> {
          assertThat(r.recipient().address()).isEqualTo(SOFT);
          assertThat(r.serverReply()).startsWith("450 4.2.0");
        }));

    server.replyToRcpt(SOFT, "250 2.1.5 Ok");
    clock.set(stored().nextAttemptAt());
    TickReport second = engine.tick();

    assertThat(second.sent()).singleElement().satisfies(s -> assertThat(s.refusedRecipients()).isEmpty());
    assertThat(stored().status()).isEqualTo(EmailStatus.SENT);
    assertThat(server.messages()).hasSize(3);
    assertThat(server.messages().get(2).recipients()).containsExactly(SOFT);
    String messageId = stored().email().messageId();
    for (String address : List.of("a@example.test", "b@example.test", "c@example.test", SOFT)) {
      assertThat(deliveredTo(address)).as("what %s got", address).containsExactly(messageId);
    }
    assertThat(server.messages().get(2).data()).contains("To: a@example.test, soft@example.test");
    assertThat(stored().recipientOutcomes()).extracting(RecipientResult::outcome).containsOnly(Outcome.ACCEPTED)
        .hasSize(4);
  }
}
