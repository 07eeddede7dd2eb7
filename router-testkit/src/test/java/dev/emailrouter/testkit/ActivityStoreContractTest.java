package dev.emailrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.testkit.SimpleStore.Fault;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs the store contract against a correct store and against stores broken in one way each, and
 * checks that the contract fails exactly the promises broken, with a message that says what to fix.
 */
final class ActivityStoreContractTest {

  /** The two tests that move 6 MB each; runs of a fault that can't touch them leave them out, for speed. */
  private static final List<String> LARGE_CONTENT = List.of(".*#.*Large.*");

  /** Runs the whole contract against a correct SimpleStore; returns failure messages by test name. */
  private static Map<String, String> failures() {
    SimpleStoreContract.faults = EnumSet.noneOf(Fault.class);
    return ContractRuns.failures(SimpleStoreContract.class, 41);
  }

  /** Runs the contract against a SimpleStore with one fault; returns failure messages by test name. */
  private static Map<String, String> failures(Fault fault) {
    SimpleStoreContract.faults = EnumSet.of(fault);
    return fault == Fault.KEEPS_ATTACHMENT_STREAMS ? ContractRuns.failures(SimpleStoreContract.class, 41)
        : ContractRuns.failures(SimpleStoreContract.class, 39, LARGE_CONTENT);
  }

  @Test
  void aCorrectStore_keepsEveryPromise() {
    assertThat(failures()).isEmpty();
  }

  @Test
  void aClaimThatIsNotAtomic_failsTheConcurrencyPromise_askingForAConditionalUpdate() {
    Map<String, String> failed = failures(Fault.CLAIM_NOT_ATOMIC);

    assertThat(failed).containsOnlyKeys("claimPendingSend_neverHandsOneEmailToTwoClaimantsAtOnce");
    assertThat(failed.get("claimPendingSend_neverHandsOneEmailToTwoClaimantsAtOnce"))
        .containsPattern("to [2-8] claimants at once")
        .contains("two engines would both send it", "atomic conditional update", "UPDATE ... SET status = SENDING");
  }

  @Test
  void aClaimThatIgnoresLiveLeases_failsTheLeasePromises() {
    Map<String, String> failed = failures(Fault.CLAIM_IGNORES_LEASE);

    assertThat(failed).containsOnlyKeys(
        "aClaimNeverIssued_isRefused",
        "claimPendingSend_claimsAtMostMaxEmailsInAll",
        "claimPendingSend_claimsEachSendersOldestEmailsFirst",
        "claimPendingSend_neverClaimsAnEmailHeldUnderALiveLease",
        "claimPendingSend_neverHandsOneEmailToTwoClaimantsAtOnce",
        "claimPendingSend_servesSendersInAddressOrderAfterResumeAfterSender_wrappingAround",
        "markSentAll_marksEachHeldEmailSent_andReportsStaleClaimsInTheMiddle_withoutStoppingTheRest",
        "recordIdentities_recordsEachHeldEmail_andReportsAStaleClaimInTheMiddle_withoutStoppingTheRest");
    assertThat(failed.get("claimPendingSend_neverClaimsAnEmailHeldUnderALiveLease"))
        .contains("returned [held-1] although the claim made at 2030-01-07T09:00:00Z holds its lease until"
            + " 2030-01-07T09:05:00Z", "Sending rows with lease_until <= now");
    assertThat(failed.get("claimPendingSend_claimsAtMostMaxEmailsInAll"))
        .contains("must not be claimed again");
  }

  @Test
  void aClaimThatIgnoresTheNextAttemptTime_failsTheRetryPromise() {
    Map<String, String> failed = failures(Fault.CLAIM_IGNORES_NEXT_ATTEMPT);

    assertThat(failed).containsOnlyKeys("claimPendingSend_skipsAnEmailWhoseNextAttemptIsInTheFuture_untilThen",
        "markPartlySent_returnsTheEmailToPendingSend_andTheNextClaimCarriesTheAcceptedRecipients");
    assertThat(failed.get("markPartlySent_returnsTheEmailToPendingSend_andTheNextClaimCarriesTheAcceptedRecipients"))
        .contains("store nextAttemptAt as markRetry does");
    assertThat(failed.get("claimPendingSend_skipsAnEmailWhoseNextAttemptIsInTheFuture_untilThen"))
        .contains("although markRetry set the next attempt to 2030-01-07T09:10:00Z",
            "due only when next_attempt_at is null or <= request.now()");
  }

  @Test
  void aClaimTokenReusedAcrossClaims_failsTheFencingPromises() {
    Map<String, String> failed = failures(Fault.CLAIM_TOKEN_NOT_FRESH);

    assertThat(failed).containsOnlyKeys(
        "claimPendingSend_afterTheLeaseExpired_claimsTheEmailAgain_withANewTokenAndTheRecordedIdentity",
        "staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailFailed",
        "staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailPartlySent",
        "staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailSent",
        "staleClaim_whoseLeasePassedToAnother_cannotRecordAnIdentity",
        "staleClaim_whoseLeasePassedToAnother_cannotReturnTheEmailToPendingSend",
        "markSentAll_marksEachHeldEmailSent_andReportsStaleClaimsInTheMiddle_withoutStoppingTheRest",
        "recordIdentities_recordsEachHeldEmail_andReportsAStaleClaimInTheMiddle_withoutStoppingTheRest");
    assertThat(failed.get(
        "claimPendingSend_afterTheLeaseExpired_claimsTheEmailAgain_withANewTokenAndTheRecordedIdentity"))
        .contains("reuses token lapsed-1 of the expired claim", "issue a fresh token with every claim");
  }

  @Test
  void stateChangesThatIgnoreTheClaim_failEveryFencingPromise_askingForAConditionalUpdate() {
    Map<String, String> failed = failures(Fault.UNFENCED);

    assertThat(failed).containsOnlyKeys(
        "aClaimNeverIssued_isRefused",
        "afterMarkFailed_theSameClaimIsRefusedEveryFurtherChange",
        "afterMarkRetry_theSameClaimIsRefusedEveryFurtherChange",
        "afterMarkSent_theSameClaimIsRefusedEveryFurtherChange",
        "markPartlySent_returnsTheEmailToPendingSend_andTheNextClaimCarriesTheAcceptedRecipients",
        "markSentAll_marksEachHeldEmailSent_andReportsStaleClaimsInTheMiddle_withoutStoppingTheRest",
        "recordIdentities_recordsEachHeldEmail_andReportsAStaleClaimInTheMiddle_withoutStoppingTheRest",
        "staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailFailed",
        "staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailPartlySent",
        "staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailSent",
        "staleClaim_whoseLeasePassedToAnother_cannotRecordAnIdentity",
        "staleClaim_whoseLeasePassedToAnother_cannotReturnTheEmailToPendingSend");
    assertThat(failed.get("staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailSent"))
        .contains("markSent with a claim whose lease had passed to another claimant was accepted",
            "activity stale-sent went from SENDING to SENT",
            "WHERE id = ? AND status = SENDING AND claim_token = ?", "throw StaleClaimException");
    assertThat(failed.get("afterMarkFailed_theSameClaimIsRefusedEveryFurtherChange"))
        .contains("activity lost-1 went from FAILED to SENT");
  }

  @Test
  void aStoreLeavingMarkPartlySentToTheDefault_failsTheAcceptedRecipientsPromises() {
    Map<String, String> failed = failures(Fault.FORGETS_ACCEPTED_RECIPIENTS);

    assertThat(failed).containsOnlyKeys(
        "markPartlySent_returnsTheEmailToPendingSend_andTheNextClaimCarriesTheAcceptedRecipients",
        "markPartlySent_twice_theNextClaimsCarryTheUnionOfTheAcceptedRecipients_alsoAfterAMarkRetry");
    assertThat(failed.get("markPartlySent_returnsTheEmailToPendingSend_andTheNextClaimCarriesTheAcceptedRecipients"))
        .contains("returned acceptedRecipients []", "hand them back in OutgoingEmail.acceptedRecipients()");
  }

  @Test
  void aStoreLeavingTheBatchFormsToTheDefaults_keepsEveryPromise() {
    assertThat(failures(Fault.DEFAULT_BATCH_FORMS)).isEmpty();
  }

  @Test
  void batchFormsThatStopAtAStaleClaim_failTheBatchPromises_askingToReportIt() {
    Map<String, String> failed = failures(Fault.BATCH_STOPS_AT_STALE);

    assertThat(failed).containsOnlyKeys(
        "markSentAll_marksEachHeldEmailSent_andReportsStaleClaimsInTheMiddle_withoutStoppingTheRest",
        "recordIdentities_recordsEachHeldEmail_andReportsAStaleClaimInTheMiddle_withoutStoppingTheRest");
    assertThat(failed.values()).allSatisfy(m -> assertThat(m).contains("threw StaleClaimException",
        "return the activity ids of the claims that no longer hold instead"));
  }

  @Test
  void createReceivedWithoutADedupCheck_failsEveryIdempotencyPromise() {
    Map<String, String> failed = failures(Fault.CREATE_NOT_IDEMPOTENT);

    assertThat(failed).containsOnlyKeys("createReceived_sameMessageTwice_yieldsOneActivity",
        "createReceived_sameMessageConcurrently_yieldsOneActivity",
        "createReceived_sameMessageIdWithOtherContent_returnsTheExistingActivityAndItsDigestOrNone");
    assertThat(failed.get("createReceived_sameMessageTwice_yieldsOneActivity"))
        .contains("twice created two activities (received-1 and received-2)", "return it with created = false");
  }

  @Test
  void createReceivedThatChecksThenInserts_failsTheConcurrentIdempotencyPromise_askingForAUniqueKey() {
    Map<String, String> failed = failures(Fault.CREATE_RACES);

    assertThat(failed).containsOnlyKeys("createReceived_sameMessageConcurrently_yieldsOneActivity");
    assertThat(failed.values()).singleElement().asString()
        .contains("8 concurrent createReceived calls with dedupKey", "a look-up followed by an insert races",
            "unique constraint on the dedup key");
  }

  @Test
  void createReceivedThatKeepsAttachmentStreams_failsTheStreamPromise() {
    Map<String, String> failed = failures(Fault.KEEPS_ATTACHMENT_STREAMS);

    assertThat(failed).containsOnlyKeys("createReceived_readsAttachmentStreamsBeforeItReturns");
    assertThat(failed.values()).singleElement().asString()
        .contains("can't be read once createReceived returned", "read (store) the bytes before it returns");
  }

  @Test
  void resolveThatComparesAddressesAsWritten_failsTheCaseInsensitivityPromise() {
    Map<String, String> failed = failures(Fault.RESOLVE_CASE_SENSITIVE);

    assertThat(failed).containsOnlyKeys("resolve_matchesAddressesCaseInsensitively");
    assertThat(failed.values()).singleElement().asString().contains("compare addresses case-insensitively");
  }

  @Test
  void resolveThatKeepsOnePartyPerAddress_failsTheSeveralRecordsPromise() {
    Map<String, String> failed = failures(Fault.RESOLVE_ONE_PARTY_PER_ADDRESS);

    assertThat(failed).containsOnlyKeys("resolve_whenOneAddressBelongsToSeveralRecords_returnsEachOfThem");
    assertThat(failed.values()).singleElement().asString().contains("one address may belong to several CRM records");
  }
}
