package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class SendResultTest {

  private static final RecipientResult OK =
      new RecipientResult(EmailAddress.of("ok@example.org"), Outcome.ACCEPTED, "250 2.1.5 Ok");
  private static final RecipientResult FULL =
      new RecipientResult(EmailAddress.of("full@example.org"), Outcome.TRANSIENT, "452 4.2.2 Mailbox full");
  private static final RecipientResult UNKNOWN =
      new RecipientResult(EmailAddress.of("unknown@example.org"), Outcome.PERMANENT, "550 5.1.1 User unknown");

  @Test
  void accepted_isAcceptedWithTheReplyAndNoRecipientResults() {
    SendResult result = SendResult.accepted("250 2.0.0 Ok: queued as 1234");

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(result.serverReply()).isEqualTo("250 2.0.0 Ok: queued as 1234");
    assertThat(result.recipients()).isEmpty();
    assertThat(result.refused()).isEmpty();
  }

  @Test
  void transientFailure_isTransientWithTheReason() {
    SendResult result = SendResult.transientFailure("connection timed out");

    assertThat(result.outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(result.serverReply()).isEqualTo("connection timed out");
    assertThat(result.recipients()).isEmpty();
  }

  @Test
  void permanentFailure_isPermanentWithTheReason() {
    SendResult result = SendResult.permanentFailure("554 5.7.1 Relay denied");

    assertThat(result.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(result.serverReply()).isEqualTo("554 5.7.1 Relay denied");
    assertThat(result.recipients()).isEmpty();
  }

  @Test
  void refused_listsTransientAndPermanentRefusalsInOrder_withoutTheAcceptedRecipients() {
    SendResult result = new SendResult(Outcome.ACCEPTED, "250 Ok", List.of(FULL, OK, UNKNOWN));

    assertThat(result.refused()).containsExactly(FULL, UNKNOWN);
    assertThat(result.recipients()).containsExactly(FULL, OK, UNKNOWN);
  }

  @Test
  void refused_whenEveryRecipientWasAccepted_isEmpty() {
    assertThat(new SendResult(Outcome.ACCEPTED, "250 Ok", List.of(OK)).refused()).isEmpty();
  }

  @Test
  void recipients_areCopiedAndUnmodifiable() {
    List<RecipientResult> source = new ArrayList<>(List.of(OK));
    SendResult result = new SendResult(Outcome.ACCEPTED, "250 Ok", source);

    source.add(UNKNOWN);

    assertThat(result.recipients()).containsExactly(OK);
    assertThatThrownBy(() -> result.recipients().add(FULL)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> result.refused().add(FULL)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void new_whenAComponentIsNull_throwsNullPointerNamingIt() {
    assertThatThrownBy(() -> new SendResult(null, "r", List.of())).hasMessage("outcome");
    assertThatThrownBy(() -> new SendResult(Outcome.ACCEPTED, null, List.of())).hasMessage("serverReply");
    assertThatThrownBy(() -> new SendResult(Outcome.ACCEPTED, "r", null)).hasMessage("recipients");
    assertThatThrownBy(() -> new RecipientResult(null, Outcome.ACCEPTED, "r")).hasMessage("recipient");
    assertThatThrownBy(() -> new RecipientResult(EmailAddress.of("a@b.c"), null, "r")).hasMessage("outcome");
    assertThatThrownBy(() -> new RecipientResult(EmailAddress.of("a@b.c"), Outcome.ACCEPTED, null))
        .hasMessage("serverReply");
  }

  @Test
  void withMessage_carriesTheBytesSent_butTheyAreNotPartOfTheValue() throws Exception {
    byte[] bytes = "Subject: hi\r\n\r\nbody\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    SendResult plain = SendResult.accepted("250 2.0.0 Ok");

    SendResult carrying = plain.withMessage(ContentSource.ofBytes(bytes));

    try (java.io.InputStream in = carrying.message().orElseThrow().open()) {
      assertThat(in.readAllBytes()).isEqualTo(bytes);
    }
    assertThat(plain.message()).isEmpty();
    assertThat(carrying).isEqualTo(plain).hasSameHashCodeAs(plain);
    assertThat(carrying.toString()).contains("message attached").doesNotContain("body");
    assertThat(carrying.withoutMessage().message()).isEmpty();
    assertThat(plain.withoutMessage()).isSameAs(plain);
  }

  @Test
  void withMessage_onARefusal_isRefused() {
    assertThatThrownBy(() -> SendResult.permanentFailure("550 no").withMessage(ContentSource.ofBytes(new byte[0])))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ACCEPTED");
  }
}
