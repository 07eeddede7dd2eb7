package dev.emailrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Runs the Sent folder contract against a correct in-memory folder and against one that appends twice. */
final class SentFolderContractTest {

  @AfterEach
  void reset() {
    FakeSentFolderContract.appendsTwice = false;
  }

  @Test
  void aCorrectSentFolder_keepsEveryPromise() {
    assertThat(ContractRuns.failures(FakeSentFolderContract.class, 4)).isEmpty();
  }

  @Test
  void aSentFolderThatDoesNotLookForTheMessageId_failsTheIdempotencyPromise() {
    FakeSentFolderContract.appendsTwice = true;

    Map<String, String> failed = ContractRuns.failures(FakeSentFolderContract.class, 4);

    assertThat(failed).containsOnlyKeys("keepCopy_ofTheSameEmailAgain_leavesOneCopy");
    assertThat(failed.values()).singleElement().asString().contains("copies of the same Message-ID");
  }
}
