package dev.emailrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.testkit.FakeTransport.Fault;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Runs the transport contract against a correct fake transport and against broken ones. */
final class MailTransportContractTest {

  private static Map<String, String> failures(Fault... faults) {
    FakeTransportContract.faults = faults.length == 0 ? EnumSet.noneOf(Fault.class) : EnumSet.of(faults[0], faults);
    return ContractRuns.failures(FakeTransportContract.class, 7);
  }

  @Test
  void aCorrectTransport_keepsEveryPromise() {
    assertThat(failures()).isEmpty();
  }

  @Test
  void aTransportThatWritesHeaderValuesUnchecked_failsTheInjectionPromise() {
    Map<String, String> failed = failures(Fault.NO_HEADER_CHECK);

    assertThat(failed).containsOnlyKeys(
        "send_whenAHeaderValueHasCrOrLf_refusesItPermanently_nothingArrives_andTheSessionGoesOn");
    assertThat(failed.values()).singleElement().asString()
        .contains("whose subject contains CR/LF returned", "expected PERMANENT", "header injection");
  }

  @Test
  void aTransportThatWritesABccHeader_failsTheRecipientsPromise() {
    Map<String, String> failed = failures(Fault.BCC_IN_HEADER);

    assertThat(failed).containsOnlyKeys(
        "send_whenTheServerAccepts_returnsAccepted_andTheEmailArrivesWithItsMessageIdSubjectAndRecipients");
    assertThat(failed.values()).singleElement().asString()
        .contains("names the Bcc recipient hidden@example.test", "never into a header");
  }

  @Test
  void aTransportThatMakesUpItsOwnMessageId_failsTheMessageIdPromise() {
    Map<String, String> failed = failures(Fault.OWN_MESSAGE_ID);

    assertThat(failed).containsKeys(
        "send_whenTheServerAccepts_returnsAccepted_andTheEmailArrivesWithItsMessageIdSubjectAndRecipients",
        "aSession_sendsSeveralEmailsOneAfterAnother");
    assertThat(failed.get(
        "send_whenTheServerAccepts_returnsAccepted_andTheEmailArrivesWithItsMessageIdSubjectAndRecipients"))
        .contains("send it exactly as given");
  }

  @Test
  void aTransportThatSendsToRecipientsWhoAcceptedEarlier_failsTheAcceptedRecipientsPromise() {
    Map<String, String> failed = failures(Fault.RESENDS_TO_ACCEPTED);

    assertThat(failed).containsOnlyKeys("send_leavesOutRecipientsThatAcceptedInAnEarlierAttempt_butNotOutOfTheHeaders");
    assertThat(failed.values()).singleElement().asString()
        .contains("received it 1 more times", "email.pendingRecipients() only");
  }
}
