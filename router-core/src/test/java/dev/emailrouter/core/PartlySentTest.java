package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.core.InMemoryActivityStore.StoredEmail;
import dev.emailrouter.testfixtures.MutableClock;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Recipients refused only for now while others accepted: retried alone, never lost, never sent twice. */
final class PartlySentTest {
  private static final EmailAddress CUSTOMER = EmailAddress.of("customer@example.org");
  private static final EmailAddress SOFT = EmailAddress.of("soft@example.org");

  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final RecordingTransport transport = new RecordingTransport();

  private RouterEngine engine(int maxAttempts) {
    return RouterEngine.builder().activityStore(store).transport(transport).clock(clock).random(new Random(42))
        .maxAttempts(maxAttempts).build();
  }

  private void addEmailToCustomerAndSoft() {
    store.add(OutgoingEmail.builder("e1", EmailAddress.of("me@example.com")).to(CUSTOMER).cc(SOFT)
        .subject("Hello").textBody("Hi").build());
  }

  private StoredEmail stored() {
    return store.find("e1").orElseThrow();
  }

  /** Moves the clock to the email's next attempt. */
  private void untilDue() {
    clock.set(stored().nextAttemptAt());
  }

  private long attemptsTo(EmailAddress recipient) {
    return transport.attempts().stream().filter(e -> e.pendingRecipients().contains(recipient)).count();
  }

  @Test
  void tick_whenARecipientIsRefusedForNow_returnsTheEmailToPendingSend_andSendsToThatRecipientAloneLater() {
    transport.answerFor(SOFT.address(), RecordingTransport.transientFailure(), RecordingTransport.accept());
    addEmailToCustomerAndSoft();
    RouterEngine engine = engine(10);

    TickReport first = engine.tick();

    StoredEmail partly = stored();
    assertThat(partly.status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(partly.attempts()).isEqualTo(1);
    assertThat(partly.email().acceptedRecipients()).containsExactly(CUSTOMER);
    assertThat(partly.nextAttemptAt()).isAfter(clock.instant());
    assertThat(partly.recipientOutcomes()).extracting(RecipientResult::outcome)
        .containsExactly(Outcome.ACCEPTED, Outcome.TRANSIENT);
    assertThat(first.sent()).isEmpty();
    assertThat(first.events()).singleElement().isInstanceOfSatisfying(RouterEvent.EmailPartlySent.class, p -> {
      assertThat(p.attempts()).isEqualTo(1);
      assertThat(p.nextAttemptAt()).isEqualTo(partly.nextAttemptAt());
      assertThat(p.pending()).singleElement().satisfies(r -> {
        assertThat(r.recipient()).isEqualTo(SOFT);
        assertThat(r.serverReply()).isEqualTo("451 4.3.0 try again later");
      });
    });

    assertThat(engine.tick().events()).as("not due yet").isEmpty();
    untilDue();
    TickReport second = engine.tick();

    assertThat(stored().status()).isEqualTo(EmailStatus.SENT);
    assertThat(second.sent()).singleElement().satisfies(s -> assertThat(s.refusedRecipients()).isEmpty());
    assertThat(transport.attempts()).hasSize(2);
    assertThat(transport.attempts().get(1).pendingRecipients()).containsExactly(SOFT);
    assertThat(transport.attempts().get(1).messageId()).isEqualTo(transport.attempts().get(0).messageId());
    assertThat(attemptsTo(CUSTOMER)).as("the customer got it once").isEqualTo(1);
    assertThat(stored().recipientOutcomes()).extracting(RecipientResult::outcome)
        .containsExactly(Outcome.ACCEPTED, Outcome.ACCEPTED);
  }

  @Test
  void tick_whenThePendingRecipientIsRefusedForNowAgain_keepsTheAcceptedOnes_andNeverSendsToThemAgain() {
    transport.answerFor(SOFT.address(), RecordingTransport.transientFailure(), RecordingTransport.transientFailure(),
        RecordingTransport.accept());
    addEmailToCustomerAndSoft();
    RouterEngine engine = engine(10);

    engine.tick();
    untilDue();
    TickReport again = engine.tick();

    assertThat(again.events()).singleElement().isInstanceOf(RouterEvent.EmailPartlySent.class);
    assertThat(again.retried()).isEmpty();
    assertThat(stored().status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(stored().attempts()).isEqualTo(2);
    assertThat(stored().email().acceptedRecipients()).containsExactly(CUSTOMER);

    untilDue();
    engine.tick();

    assertThat(stored().status()).isEqualTo(EmailStatus.SENT);
    assertThat(attemptsTo(CUSTOMER)).isEqualTo(1);
    assertThat(attemptsTo(SOFT)).isEqualTo(3);
  }

  @Test
  void tick_whenThePendingRecipientIsRefusedForGoodLater_marksTheEmailSentWithThatRefusal_notFailed() {
    transport.answerFor(SOFT.address(), RecordingTransport.transientFailure(), RecordingTransport.permanentFailure());
    addEmailToCustomerAndSoft();
    RouterEngine engine = engine(10);

    engine.tick();
    untilDue();
    TickReport later = engine.tick();

    assertThat(stored().status()).isEqualTo(EmailStatus.SENT);
    assertThat(later.failed()).isEmpty();
    assertThat(later.sent()).singleElement().satisfies(s -> assertThat(s.refusedRecipients()).singleElement()
        .satisfies(r -> {
          assertThat(r.recipient()).isEqualTo(SOFT);
          assertThat(r.outcome()).isEqualTo(Outcome.PERMANENT);
          assertThat(r.serverReply()).startsWith("550");
        }));
  }

  @Test
  void tick_whenTheAttemptsRunOutWithARecipientPending_marksTheEmailSent_withThatRecipientGivenUp() {
    transport.answerFor(SOFT.address(), RecordingTransport.transientFailure());
    addEmailToCustomerAndSoft();
    RouterEngine engine = engine(2);

    engine.tick();
    untilDue();
    TickReport last = engine.tick();

    assertThat(stored().status()).isEqualTo(EmailStatus.SENT);
    assertThat(stored().attempts()).isEqualTo(2);
    assertThat(last.sent()).singleElement().satisfies(s -> assertThat(s.refusedRecipients()).singleElement()
        .satisfies(r -> {
          assertThat(r.recipient()).isEqualTo(SOFT);
          assertThat(r.serverReply()).isEqualTo("gave up after 2 attempts; last: 451 4.3.0 try again later");
        }));
    assertThat(attemptsTo(CUSTOMER)).isEqualTo(1);
  }

  @Test
  void tick_whenEveryRecipientIsRefusedForNow_stillRetriesTheWholeEmail() {
    transport.answerFor(CUSTOMER.address(), RecordingTransport.transientFailure());
    transport.answerFor(SOFT.address(), RecordingTransport.transientFailure());
    addEmailToCustomerAndSoft();

    TickReport report = engine(10).tick();

    assertThat(report.retried()).hasSize(1);
    assertThat(stored().status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(stored().email().acceptedRecipients()).isEmpty();
    assertThat(List.copyOf(transport.attempts())).hasSize(1);
  }
}
