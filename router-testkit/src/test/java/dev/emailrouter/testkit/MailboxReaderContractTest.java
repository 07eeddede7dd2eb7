package dev.emailrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.testkit.FakeMailbox.Fault;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Runs the reader contract against a correct fake reader and against broken ones. */
final class MailboxReaderContractTest {

  private static Map<String, String> failures(Fault... faults) {
    FakeMailboxContract.faults = faults.length == 0 ? EnumSet.noneOf(Fault.class) : EnumSet.of(faults[0], faults);
    return ContractRuns.failures(FakeMailboxContract.class, 13);
  }

  @Test
  void aCorrectReader_keepsEveryPromise() {
    assertThat(failures()).isEmpty();
  }

  @Test
  void aCursorThatJumpsToTheNewestMessage_failsThePagingPromise_namingTheSkippedMessages() {
    Map<String, String> failed = failures(Fault.CURSOR_JUMPS_TO_NEWEST);

    assertThat(failed).containsOnlyKeys("fetchNew_returnsAtMostMax_andSaysWhenMoreWait_withoutSkippingAny");
    assertThat(failed.values()).singleElement().asString()
        .contains("with max = 2 (second page) returned []", "Missing [<reader-3.contract@example.test>,"
            + " <reader-4.contract@example.test>]: a message after the cursor must never be skipped");
  }

  @Test
  void aReaderThatIgnoresRetry_failsTheRetryPromise() {
    Map<String, String> failed = failures(Fault.IGNORES_RETRY);

    assertThat(failed).containsOnlyKeys("fetchNew_returnsTheRetryRefsAgain_besideTheNewMessages",
        "fetchNew_leavesOutARetryRefWhoseMessageWasRemoved");
    assertThat(failed.get("fetchNew_returnsTheRetryRefsAgain_besideTheNewMessages"))
        .contains("must come again until the engine is done with them");
  }

  @Test
  void refsThatArePositions_failWhenAMessageIsRemoved() {
    Map<String, String> failed = failures(Fault.POSITION_REFS);

    assertThat(failed).containsKey("fetchMessages_leavesOutAMessageRemovedMeanwhile");
    assertThat(failed.get("fetchMessages_leavesOutAMessageRemovedMeanwhile"))
        .contains("a message deleted meanwhile is simply absent");
  }

  @Test
  void anEmptyMessageForARemovedRef_failsTheRemovedMessagePromise() {
    Map<String, String> failed = failures(Fault.EMPTY_MESSAGE_FOR_REMOVED);

    assertThat(failed).containsOnlyKeys("fetchMessages_leavesOutAMessageRemovedMeanwhile");
    assertThat(failed.values()).singleElement().asString().contains("not an error and not an empty message");
  }
}
