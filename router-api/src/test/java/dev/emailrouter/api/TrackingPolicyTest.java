package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.TrackingDecision.Reason;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

final class TrackingPolicyTest {

  private static final EmailAddress CUSTOMER = EmailAddress.of("customer@example.org", "Customer");
  private static final Party CONTACT = new Party(Party.Type.CONTACT, "contact-1", "Customer");
  private static final Party OTHER = new Party(Party.Type.OTHER, "other-1", "");
  private static final Party USER = new Party(Party.Type.USER, "user-1", "Sales Rep");

  private final FakePolicyContext context = new FakePolicyContext();

  private static IncomingMessage message(EmailAddress from, AutoResponse autoResponse) {
    return new IncomingMessage("sales@example.com", "7", "<m7@example.org>", from,
        List.of(EmailAddress.of("sales@example.com")), List.of(), "Re: Offer", null, null, List.of(), 1000,
        autoResponse, new MessageHeaders("7", 1000, null, Map.of()));
  }

  private static IncomingMessage fromCustomer() {
    return message(CUSTOMER, AutoResponse.NONE);
  }

  private static IncomingMessage autoReplyFromCustomer() {
    return message(CUSTOMER, AutoResponse.AUTO_REPLY);
  }

  // --- none and allEmail ----------------------------------------------------------------------

  @Test
  void none_rejectsEvenACorrelatedMessage_asTrackingDisabled() {
    TrackingDecision decision = TrackingPolicy.none().decide(fromCustomer(), context.correlatedTo("email-1"));

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.TRACKING_DISABLED);
    assertThat(context.lookups()).isZero();
  }

  @Test
  void allEmail_tracksEveryMessage_asAcceptAll_withoutAskingTheContext() {
    TrackingDecision person = TrackingPolicy.allEmail().decide(fromCustomer(), context);
    TrackingDecision bounce = TrackingPolicy.allEmail().decide(message(null, AutoResponse.BOUNCE), context);

    assertThat(person.track()).isTrue();
    assertThat(person.reason()).isEqualTo(Reason.ACCEPT_ALL);
    assertThat(bounce.track()).isTrue();
    assertThat(bounce.reason()).isEqualTo(Reason.ACCEPT_ALL);
    assertThat(context.lookups()).isZero();
  }

  // --- responsesToCrmEmail --------------------------------------------------------------------

  @Test
  void responsesToCrmEmail_whenCorrelated_tracksAsCorrelationMatchNamingTheActivityAndRule() {
    TrackingDecision decision = TrackingPolicy.responsesToCrmEmail().decide(fromCustomer(),
        context.correlatedTo("email-1"));

    assertThat(decision.track()).isTrue();
    assertThat(decision.reason()).isEqualTo(Reason.CORRELATION_MATCH);
    assertThat(decision.detail()).contains("email-1").contains("IN_REPLY_TO");
  }

  @Test
  void responsesToCrmEmail_whenNotCorrelated_rejectsAsNoCorrelationMatch_evenFromAContact() {
    TrackingDecision decision = TrackingPolicy.responsesToCrmEmail().decide(fromCustomer(), context.sender(CONTACT));

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.NO_CORRELATION_MATCH);
  }

  @ParameterizedTest
  @EnumSource(value = AutoResponse.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
  void responsesToCrmEmail_whenAnUncorrelatedAutomaticMessage_rejectsAsAutoResponse(AutoResponse kind) {
    TrackingDecision decision = TrackingPolicy.responsesToCrmEmail().decide(message(CUSTOMER, kind), context);

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.AUTO_RESPONSE);
    assertThat(decision.detail()).contains(kind.name());
  }

  @Test
  void responsesToCrmEmail_whenACorrelatedAutoReply_tracksAsCorrelationMatch() {
    TrackingDecision decision = TrackingPolicy.responsesToCrmEmail().decide(autoReplyFromCustomer(),
        context.correlatedTo("email-1"));

    assertThat(decision.track()).isTrue();
    assertThat(decision.reason()).isEqualTo(Reason.CORRELATION_MATCH);
  }

  @Test
  void responsesToCrmEmail_asksOnlyForTheCorrelation_once() {
    TrackingPolicy.responsesToCrmEmail().decide(fromCustomer(), context);

    assertThat(context.correlationCalls).isEqualTo(1);
    assertThat(context.lookups()).isEqualTo(1);
  }

  // --- fromLeadsContactsAndAccounts -----------------------------------------------------------

  @ParameterizedTest
  @EnumSource(value = Party.Type.class, names = {"CONTACT", "LEAD", "ACCOUNT"})
  void fromLeadsContactsAndAccounts_whenTheSenderIsSuchARecord_tracksAsSenderMatch(Party.Type type) {
    Party sender = new Party(type, "rec-9", "");

    TrackingDecision decision = TrackingPolicy.fromLeadsContactsAndAccounts().decide(fromCustomer(),
        context.sender(sender));

    assertThat(decision.track()).isTrue();
    assertThat(decision.reason()).isEqualTo(Reason.SENDER_MATCH);
    assertThat(decision.detail()).isEqualTo("sender is " + type.name().toLowerCase(java.util.Locale.ROOT) + " rec-9");
  }

  @ParameterizedTest
  @EnumSource(value = Party.Type.class, names = {"OTHER", "USER", "QUEUE"})
  void fromLeadsContactsAndAccounts_whenTheSenderIsAnotherKindOfRecord_rejectsAsNoRecipientMatch(Party.Type type) {
    TrackingDecision decision = TrackingPolicy.fromLeadsContactsAndAccounts().decide(fromCustomer(),
        context.sender(new Party(type, "rec-9", "")));

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH);
  }

  @Test
  void fromLeadsContactsAndAccounts_whenTheSenderIsUnknown_rejectsAsNoRecipientMatch() {
    TrackingDecision decision = TrackingPolicy.fromLeadsContactsAndAccounts().decide(fromCustomer(), context);

    assertThat(decision.reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH);
    assertThat(decision.track()).isFalse();
  }

  @Test
  void fromLeadsContactsAndAccounts_whenOneOfTheSendersRecordsMatches_tracksNamingThatRecord() {
    TrackingDecision decision = TrackingPolicy.fromLeadsContactsAndAccounts().decide(fromCustomer(),
        context.sender(OTHER, CONTACT));

    assertThat(decision.track()).isTrue();
    assertThat(decision.detail()).isEqualTo("sender is contact contact-1");
  }

  @Test
  void fromLeadsContactsAndAccounts_whenThereIsNoFrom_rejectsAsInvalidSender_withoutLookingUpParties() {
    TrackingDecision decision = TrackingPolicy.fromLeadsContactsAndAccounts().decide(message(null, AutoResponse.NONE),
        context.sender(CONTACT));

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.INVALID_SENDER);
    assertThat(context.senderPartiesCalls).isZero();
    assertThat(context.isInternalCalls).isZero();
  }

  @Test
  void fromLeadsContactsAndAccounts_whenTheMailIsInternal_rejectsAsInternalEmail_withoutLookingUpTheSender() {
    TrackingDecision decision = TrackingPolicy.fromLeadsContactsAndAccounts().decide(fromCustomer(),
        context.internal().sender(USER));

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.INTERNAL_EMAIL_REJECTED);
    assertThat(context.senderPartiesCalls).isZero();
  }

  @Test
  void fromLeadsContactsAndAccounts_whenCorrelated_tracksAsCorrelationMatch_evenFromAnUnknownSender() {
    TrackingDecision decision = TrackingPolicy.fromLeadsContactsAndAccounts().decide(fromCustomer(),
        context.correlatedTo("email-5"));

    assertThat(decision.track()).isTrue();
    assertThat(decision.reason()).isEqualTo(Reason.CORRELATION_MATCH);
  }

  @Test
  void fromLeadsContactsAndAccounts_whenAnUncorrelatedAutoReplyFromAContact_rejectsAsAutoResponse() {
    TrackingDecision decision = TrackingPolicy.fromLeadsContactsAndAccounts().decide(autoReplyFromCustomer(),
        context.sender(CONTACT));

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.AUTO_RESPONSE);
    assertThat(context.senderPartiesCalls).isZero();
  }

  @Test
  void fromLeadsContactsAndAccounts_whenCorrelated_neverAsksForTheSenderOrWhetherItIsInternal() {
    TrackingPolicy.fromLeadsContactsAndAccounts().decide(fromCustomer(), context.correlatedTo("email-1").sender(CONTACT));

    assertThat(context.correlationCalls).isEqualTo(1);
    assertThat(context.senderPartiesCalls).isZero();
    assertThat(context.isInternalCalls).isZero();
    assertThat(context.recipientPartiesCalls).isZero();
    assertThat(context.ownerCalls).isZero();
  }

  @Test
  void fromLeadsContactsAndAccounts_whenUncorrelated_asksEachLookupAtMostOnce() {
    TrackingPolicy.fromLeadsContactsAndAccounts().decide(fromCustomer(), context.sender(OTHER, CONTACT));

    assertThat(context.correlationCalls).isEqualTo(1);
    assertThat(context.isInternalCalls).isEqualTo(1);
    assertThat(context.senderPartiesCalls).isEqualTo(1);
  }

  // --- fromEmailEnabledRecords ----------------------------------------------------------------

  @ParameterizedTest
  @EnumSource(Party.Type.class)
  void fromEmailEnabledRecords_whenTheSenderIsAnyRecordAndTheMailIsNotInternal_tracksAsSenderMatch(Party.Type type) {
    TrackingDecision decision = TrackingPolicy.fromEmailEnabledRecords().decide(fromCustomer(),
        context.sender(new Party(type, "rec-1", "")));

    assertThat(decision.track()).isTrue();
    assertThat(decision.reason()).isEqualTo(Reason.SENDER_MATCH);
  }

  @Test
  void fromEmailEnabledRecords_whenTheSenderIsUnknown_rejectsAsNoRecipientMatch() {
    TrackingDecision decision = TrackingPolicy.fromEmailEnabledRecords().decide(fromCustomer(), context);

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH);
  }

  @Test
  void fromEmailEnabledRecords_whenTheMailIsInternal_rejectsAsInternalEmail() {
    TrackingDecision decision = TrackingPolicy.fromEmailEnabledRecords().decide(fromCustomer(),
        context.internal().sender(USER));

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.INTERNAL_EMAIL_REJECTED);
  }

  @Test
  void fromEmailEnabledRecords_whenAnUncorrelatedAutoReply_rejectsAsAutoResponse() {
    TrackingDecision decision = TrackingPolicy.fromEmailEnabledRecords().decide(autoReplyFromCustomer(),
        context.sender(OTHER));

    assertThat(decision.reason()).isEqualTo(Reason.AUTO_RESPONSE);
  }

  // --- combinators ----------------------------------------------------------------------------

  private static final TrackingDecision TRACK_A = TrackingDecision.track(Reason.SENDER_MATCH, "a");
  private static final TrackingDecision TRACK_B = TrackingDecision.track(Reason.ACCEPT_ALL, "b");
  private static final TrackingDecision REJECT_A = TrackingDecision.reject(Reason.NO_RECIPIENT_MATCH, "a");
  private static final TrackingDecision REJECT_B = TrackingDecision.reject(Reason.TRACKING_DISABLED, "b");

  /** A policy with a fixed answer that counts how often it was asked. */
  private static final class Fixed implements TrackingPolicy {
    private final TrackingDecision decision;
    int calls;

    Fixed(TrackingDecision decision) {
      this.decision = decision;
    }

    @Override
    public TrackingDecision decide(IncomingMessage message, PolicyContext context) {
      calls++;
      return decision;
    }
  }

  @Test
  void or_whenThisTracks_reportsThisDecision_withoutAskingTheOther() {
    Fixed other = new Fixed(TRACK_B);

    assertThat(new Fixed(TRACK_A).or(other).decide(fromCustomer(), context)).isEqualTo(TRACK_A);
    assertThat(other.calls).isZero();
  }

  @Test
  void or_whenOnlyTheOtherTracks_reportsTheOthersDecision() {
    assertThat(new Fixed(REJECT_A).or(new Fixed(TRACK_B)).decide(fromCustomer(), context)).isEqualTo(TRACK_B);
  }

  @Test
  void or_whenBothReject_reportsThisRejection() {
    assertThat(new Fixed(REJECT_A).or(new Fixed(REJECT_B)).decide(fromCustomer(), context)).isEqualTo(REJECT_A);
  }

  @Test
  void and_whenThisRejects_reportsThisRejection_withoutAskingTheOther() {
    Fixed other = new Fixed(REJECT_B);

    assertThat(new Fixed(REJECT_A).and(other).decide(fromCustomer(), context)).isEqualTo(REJECT_A);
    assertThat(other.calls).isZero();
  }

  @Test
  void and_whenOnlyTheOtherRejects_reportsTheOthersRejection() {
    assertThat(new Fixed(TRACK_A).and(new Fixed(REJECT_B)).decide(fromCustomer(), context)).isEqualTo(REJECT_B);
  }

  @Test
  void and_whenBothTrack_reportsThisDecision() {
    assertThat(new Fixed(TRACK_A).and(new Fixed(TRACK_B)).decide(fromCustomer(), context)).isEqualTo(TRACK_A);
  }

  @Test
  void or_andAnd_whenTheOtherIsNull_throwNullPointerNamingIt() {
    assertThatThrownBy(() -> TrackingPolicy.allEmail().or(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("other");
    assertThatThrownBy(() -> TrackingPolicy.allEmail().and(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("other");
  }

  @Test
  void or_combinesBuiltIns_responsesOrFromLeads_tracksAContactsUncorrelatedMail() {
    TrackingPolicy policy = TrackingPolicy.responsesToCrmEmail().or(TrackingPolicy.fromLeadsContactsAndAccounts());

    TrackingDecision decision = policy.decide(fromCustomer(), context.sender(CONTACT));

    assertThat(decision.track()).isTrue();
    assertThat(decision.reason()).isEqualTo(Reason.SENDER_MATCH);
  }

  @Test
  void rejectingAutoResponses_rejectsEvenACorrelatedAutoReply_withoutAskingTheContext() {
    TrackingDecision decision = TrackingPolicy.responsesToCrmEmail().rejectingAutoResponses()
        .decide(autoReplyFromCustomer(), context.correlatedTo("email-1"));

    assertThat(decision.track()).isFalse();
    assertThat(decision.reason()).isEqualTo(Reason.AUTO_RESPONSE);
    assertThat(decision.detail()).contains("AUTO_REPLY");
    assertThat(context.lookups()).isZero();
  }

  @Test
  void rejectingAutoResponses_rejectsAutomaticMessagesEvenUnderAllEmail() {
    TrackingDecision decision = TrackingPolicy.allEmail().rejectingAutoResponses()
        .decide(message(CUSTOMER, AutoResponse.BOUNCE), context);

    assertThat(decision.reason()).isEqualTo(Reason.AUTO_RESPONSE);
  }

  @Test
  void rejectingAutoResponses_whenAPersonWrote_decidesAsTheWrappedPolicy() {
    Fixed wrapped = new Fixed(TRACK_A);

    assertThat(wrapped.rejectingAutoResponses().decide(fromCustomer(), context)).isEqualTo(TRACK_A);
    assertThat(wrapped.calls).isEqualTo(1);
  }
}
