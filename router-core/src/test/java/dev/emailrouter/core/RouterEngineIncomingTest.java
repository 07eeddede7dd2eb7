package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.AutoResponse;
import dev.emailrouter.api.Correlation;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingDecision.Reason;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class RouterEngineIncomingTest {
  private static final Party USER_1 = new Party(Party.Type.USER, "user-1", "Una User");
  private static final Party USER_2 = new Party(Party.Type.USER, "user-2", "Otto User");
  private static final Party CONTACT = new Party(Party.Type.CONTACT, "contact-1", "A Customer");

  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final RecordingTransport transport = new RecordingTransport();
  private final FakeMailbox inbox = new FakeMailbox("user1-inbox");

  RouterEngineIncomingTest() {
    store.addParty("user1@example.com", USER_1);
    store.addParty("user2@example.com", USER_2);
    store.addParty("customer@example.org", CONTACT);
  }

  private RouterEngine.Builder engine(TrackingPolicy policy) {
    return RouterEngine.builder()
        .activityStore(store)
        .transport(transport)
        .mailbox(Mailbox.ofUser("user-1", inbox))
        .trackingPolicy(policy)
        .clock(clock)
        .random(new Random(1));
  }

  private RouterEngine engine() {
    return engine(TrackingPolicy.responsesToCrmEmail()).build();
  }

  /** Sends one CRM email to the customer through the engine and returns it as sent. */
  private OutgoingEmail sendOne(RouterEngine engine, String subject) {
    String id = "out-" + (transport.accepted().size() + 1);
    store.add(OutgoingEmail.builder(id, EmailAddress.of("user1@example.com"))
        .to(EmailAddress.of("customer@example.org")).subject(subject).textBody("Offer attached.").build());
    assertThat(engine.tick().sent()).extracting(RouterEvent.EmailSent::activityId).contains(id);
    return transport.accepted().get(transport.accepted().size() - 1);
  }

  private static TestMail reply() {
    return TestMail.message().from("Customer <customer@example.org>").to("user1@example.com");
  }

  // --- tracking once -----------------------------------------------------------------------------

  @Test
  void tick_whenNewMailArrives_tracksItOnceAndAdvancesTheCheckpoint() {
    CheckpointStore checkpoints = CheckpointStore.inMemory();
    RouterEngine engine = engine(TrackingPolicy.allEmail()).checkpointStore(checkpoints).build();
    TestMail mail = TestMail.message().subject("Hello there").text("Body text");
    String ref = inbox.add(mail.build());

    TickReport first = engine.tick();
    TickReport second = engine.tick();

    assertThat(first.tracked()).singleElement().satisfies(t -> {
      assertThat(t.mailbox()).isEqualTo("fake://user1-inbox");
      assertThat(t.ref()).isEqualTo(ref);
      assertThat(t.messageId()).isEqualTo(mail.messageId());
      assertThat(t.created()).isTrue();
      assertThat(t.decision().reason()).isEqualTo(Reason.ACCEPT_ALL);
    });
    assertThat(second.events()).isEmpty();
    assertThat(store.received()).singleElement().satisfies(r -> {
      assertThat(r.dedupKey()).isEqualTo(mail.messageId());
      assertThat(r.messageId()).isEqualTo(mail.messageId());
      assertThat(r.owner()).isEqualTo(new Party(Party.Type.USER, "user-1", ""));
      assertThat(r.from()).isEqualTo(EmailAddress.of("customer@example.org", "Customer"));
      assertThat(r.to()).containsExactly(EmailAddress.of("sales@example.com"));
      assertThat(r.subject()).isEqualTo("Hello there");
      assertThat(r.textBody()).isEqualTo("Body text\r\n");
      assertThat(r.sentAt()).isEqualTo(Instant.parse("2024-03-01T08:00:00Z"));
      assertThat(r.receivedAt()).isEqualTo(Instant.parse("2024-03-01T08:00:00Z").plusSeconds(1));
      assertThat(store.receivedActivityId(r.dedupKey())).contains(first.tracked().get(0).activityId());
    });
    assertThat(inbox.fetchedHeaders()).containsExactly(ref);
    assertThat(inbox.downloaded()).containsExactly(ref);
    assertThat(inbox.dispositions()).containsExactlyEntriesOf(java.util.Map.of(ref, Disposition.TRACKED));
    assertThat(checkpoints.load("fake://user1-inbox")).hasValue(new MailboxCheckpoint("1:1", java.util.Map.of()));
    assertThat(inbox.openSessions()).isZero();
  }

  @Test
  void tick_whenTheReaderHandsHeadersEarly_tracksWhatItsAnswerHolds_withTheSameActivities() {
    inbox.handEarly(true); // every message of the answer early, and one stray that the answer leaves out
    RouterEngine engine = engine(TrackingPolicy.allEmail()).build();
    TestMail mail = TestMail.message().from("Customer <customer@example.org>").cc("Team: a@example.org, b@example.org;")
        .subject("=?UTF-8?B?w4RwZmVs?= and pears").references("<one@example.org> <two@example.org>");
    String ref = inbox.add(mail.build());
    String other = inbox.add(TestMail.message().build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly(ref, other);
    assertThat(report.events()).noneMatch(e -> e.toString().contains("stray"));
    assertThat(store.received()).first().satisfies(r -> {
      assertThat(r.from()).isEqualTo(EmailAddress.of("customer@example.org", "Customer"));
      assertThat(r.cc()).containsExactly(EmailAddress.of("a@example.org"), EmailAddress.of("b@example.org"));
      assertThat(r.subject()).isEqualTo("Äpfel and pears");
      assertThat(r.references()).containsExactly("<one@example.org>", "<two@example.org>");
    });
  }

  @Test
  void tick_whenMoreMailArrivesLater_tracksOnlyTheNewMessages() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).build();
    inbox.add(TestMail.message().build());
    engine.tick();
    String second = inbox.add(TestMail.message().build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::ref).containsExactly(second);
    assertThat(store.received()).hasSize(2);
    assertThat(inbox.fetchedHeaders()).containsExactly("1", "2");
  }

  // --- correlation ---------------------------------------------------------------------------------

  @Test
  void tick_whenAReplyNamesASentEmailInInReplyTo_tracksItCorrelated() {
    RouterEngine engine = engine();
    OutgoingEmail sent = sendOne(engine, "Offer");
    inbox.add(reply().subject("RE: Offer").inReplyTo(sent.messageId()).build());

    TickReport report = engine.tick();

    Correlation expected = new Correlation(sent.activityId(), Correlation.Rule.IN_REPLY_TO, sent.messageId());
    assertThat(report.tracked()).singleElement().satisfies(t -> {
      assertThat(t.correlation()).isEqualTo(expected);
      assertThat(t.decision().reason()).isEqualTo(Reason.CORRELATION_MATCH);
      assertThat(t.decision().detail()).contains(sent.activityId()).contains("IN_REPLY_TO");
    });
    assertThat(store.received()).singleElement().satisfies(r -> {
      assertThat(r.correlation()).isEqualTo(expected);
      assertThat(r.inReplyTo()).isEqualTo(sent.messageId());
    });
  }

  @Test
  void tick_whenAReplyNamesASentEmailInReferencesOnly_tracksItByReferences() {
    RouterEngine engine = engine();
    OutgoingEmail sent = sendOne(engine, "Offer");
    inbox.add(reply().subject("Re: Offer")
        .inReplyTo("<unknown-1@elsewhere.org>")
        .references("<older@elsewhere.org> " + sent.messageId() + "\r\n <unknown-1@elsewhere.org>")
        .build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).singleElement().satisfies(t -> assertThat(t.correlation())
        .isEqualTo(new Correlation(sent.activityId(), Correlation.Rule.REFERENCES, sent.messageId())));
    assertThat(store.received().get(0).references())
        .containsExactly("<older@elsewhere.org>", sent.messageId(), "<unknown-1@elsewhere.org>");
  }

  @Test
  void tick_considersOnlyTheNewest32References() {
    RouterEngine engine = engine();
    OutgoingEmail old = sendOne(engine, "Old offer");
    OutgoingEmail recent = sendOne(engine, "Recent offer");
    // The sent email is the 33rd newest reference: too old to count.
    List<String> refs = new ArrayList<>();
    refs.add(old.messageId());
    for (int i = 0; i < 32; i++) {
      refs.add("<thread-" + i + "@elsewhere.org>");
    }
    inbox.add(reply().subject("Re: long thread").references(String.join("\r\n ", refs)).build());
    // Here it is the 32nd newest: still counts.
    refs.set(1, recent.messageId());
    inbox.add(reply().subject("Re: long thread").references(String.join("\r\n ", refs)).build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.NO_CORRELATION_MATCH));
    assertThat(report.tracked()).singleElement().satisfies(t -> assertThat(t.correlation())
        .isEqualTo(new Correlation(recent.activityId(), Correlation.Rule.REFERENCES, recent.messageId())));
  }

  @Test
  void tick_whenTheSubjectCarriesASentEmailsToken_tracksItByTrackingToken() {
    RouterEngine engine = engine();
    OutgoingEmail sent = sendOne(engine, "Offer");
    assertThat(sent.subject()).isEqualTo("Offer CRM:0000001");
    inbox.add(reply().subject("AW: Offer crm:0000001").build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).singleElement().satisfies(t -> assertThat(t.correlation())
        .isEqualTo(new Correlation(sent.activityId(), Correlation.Rule.TRACKING_TOKEN, "CRM:0000001")));
    assertThat(store.received().get(0).correlation().rule()).isEqualTo(Correlation.Rule.TRACKING_TOKEN);
  }

  @Test
  void tick_whenTheTokenIsInAnEncodedSubject_stillFindsIt() {
    RouterEngine engine = engine();
    OutgoingEmail sent = sendOne(engine, "Angebot");
    String subject = "Re: Größe " + sent.trackingToken();
    String encoded = "=?UTF-8?B?" + Base64.getEncoder().encodeToString(subject.getBytes(StandardCharsets.UTF_8)) + "?=";
    inbox.add(reply().subject(encoded).build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).singleElement()
        .satisfies(t -> assertThat(t.correlation().rule()).isEqualTo(Correlation.Rule.TRACKING_TOKEN));
    assertThat(store.received().get(0).subject()).isEqualTo(subject);
  }

  @Test
  void tick_whenInReplyToAndTokenPointAtDifferentEmails_prefersInReplyTo() {
    RouterEngine engine = engine();
    OutgoingEmail first = sendOne(engine, "First");
    OutgoingEmail second = sendOne(engine, "Second");
    inbox.add(reply().subject("Re: " + second.subject()).inReplyTo(first.messageId()).build());

    TickReport report = engine.tick();

    assertThat(report.tracked().get(0).correlation().activityId()).isEqualTo(first.activityId());
  }

  // --- policies ------------------------------------------------------------------------------------

  @Test
  void tick_withTheDefaultPolicy_rejectsUnrelatedMailAndLeavesIt() {
    RouterEngine engine = engine();
    String ref = inbox.add(reply().subject("Something else").build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement().satisfies(r -> {
      assertThat(r.ref()).isEqualTo(ref);
      assertThat(r.mailbox()).isEqualTo("fake://user1-inbox");
      assertThat(r.decision().reason()).isEqualTo(Reason.NO_CORRELATION_MATCH);
    });
    assertThat(store.received()).isEmpty();
    assertThat(inbox.downloaded()).isEmpty();
    assertThat(inbox.dispositions()).containsEntry(ref, Disposition.REJECTED);
    assertThat(inbox.size()).isEqualTo(1);
  }

  @Test
  void fromLeadsContactsAndAccounts_tracksAKnownContact() {
    RouterEngine engine = engine(TrackingPolicy.fromLeadsContactsAndAccounts()).build();
    inbox.add(reply().subject("New question").build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).singleElement().satisfies(t -> {
      assertThat(t.decision().reason()).isEqualTo(Reason.SENDER_MATCH);
      assertThat(t.decision().detail()).contains("contact-1");
      assertThat(t.correlation()).isNull();
    });
  }

  @Test
  void fromLeadsContactsAndAccounts_rejectsAnUnknownSender() {
    RouterEngine engine = engine(TrackingPolicy.fromLeadsContactsAndAccounts()).build();
    inbox.add(TestMail.message().from("stranger@example.net").to("user1@example.com").build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH));
  }

  @Test
  void fromLeadsContactsAndAccounts_rejectsOtherEmailEnabledRecords_whichFromEmailEnabledRecordsTracks() {
    store.addParty("vendor@example.net", new Party(Party.Type.OTHER, "vendor-1", "Vendor"));
    String raw = TestMail.message().from("vendor@example.net").to("user1@example.com").build();
    inbox.add(raw);

    TickReport strict = engine(TrackingPolicy.fromLeadsContactsAndAccounts()).build().tick();
    FakeMailbox other = new FakeMailbox("other");
    other.add(raw);
    TickReport lenient = RouterEngine.builder().activityStore(store).clock(clock)
        .mailbox(Mailbox.ofUser("user-1", other)).trackingPolicy(TrackingPolicy.fromEmailEnabledRecords()).build()
        .tick();

    assertThat(strict.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH));
    assertThat(lenient.tracked()).singleElement()
        .satisfies(t -> assertThat(t.decision().reason()).isEqualTo(Reason.SENDER_MATCH));
  }

  @Test
  void fromEmailEnabledRecords_rejectsMailBetweenUsersAsInternal() {
    RouterEngine engine = engine(TrackingPolicy.fromEmailEnabledRecords()).build();
    inbox.add(TestMail.message().from("user2@example.com").to("user1@example.com").build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.INTERNAL_EMAIL_REJECTED));
  }

  @Test
  void fromEmailEnabledRecords_tracksMailFromAUserWhenACustomerIsCopied() {
    RouterEngine engine = engine(TrackingPolicy.fromEmailEnabledRecords()).build();
    inbox.add(TestMail.message().from("user2@example.com").to("user1@example.com").cc("customer@example.org")
        .build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).singleElement()
        .satisfies(t -> assertThat(t.decision().reason()).isEqualTo(Reason.SENDER_MATCH));
  }

  @Test
  void fromLeadsContactsAndAccounts_rejectsMailWithoutFromAsInvalidSender() {
    RouterEngine engine = engine(TrackingPolicy.fromLeadsContactsAndAccounts()).build();
    inbox.add(TestMail.message().without("From").build());
    inbox.add(TestMail.message().from("not an address").build());
    inbox.add(TestMail.message().from("Broken <@>").build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).hasSize(3)
        .allSatisfy(r -> assertThat(r.decision().reason()).isEqualTo(Reason.INVALID_SENDER));
  }

  @Test
  void allEmail_tracksEvenMailWithoutAValidSender() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).build();
    inbox.add(TestMail.message().without("From").build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).singleElement()
        .satisfies(t -> assertThat(t.decision().reason()).isEqualTo(Reason.ACCEPT_ALL));
    assertThat(store.received().get(0).from()).isNull();
  }

  @Test
  void none_rejectsEverythingEvenCorrelatedReplies() {
    RouterEngine engine = engine(TrackingPolicy.none()).build();
    OutgoingEmail sent = sendOne(engine, "Offer");
    inbox.add(reply().inReplyTo(sent.messageId()).build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.TRACKING_DISABLED));
    assertThat(store.received()).isEmpty();
  }

  @Test
  void or_tracksWhenEitherPolicyTracks_andAndOnlyWhenBothDo() {
    inbox.add(reply().subject("New question").build());
    inbox.add(TestMail.message().from("stranger@example.net").build());

    TickReport or = engine(TrackingPolicy.none().or(TrackingPolicy.fromLeadsContactsAndAccounts())).build().tick();
    FakeMailbox second = new FakeMailbox("second");
    second.add(reply().subject("Another question").build());
    second.add(TestMail.message().from("stranger@example.net").build());
    TickReport and = RouterEngine.builder().activityStore(store).clock(clock)
        .mailbox(Mailbox.ofUser("user-1", second))
        .trackingPolicy(TrackingPolicy.allEmail().and(TrackingPolicy.fromLeadsContactsAndAccounts())).build().tick();

    assertThat(or.tracked()).singleElement()
        .satisfies(t -> assertThat(t.decision().reason()).isEqualTo(Reason.SENDER_MATCH));
    assertThat(or.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.TRACKING_DISABLED));
    assertThat(and.tracked()).singleElement()
        .satisfies(t -> assertThat(t.decision().reason()).isEqualTo(Reason.ACCEPT_ALL));
    assertThat(and.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH));
  }

  @Test
  void aMailboxsOwnPolicy_overridesTheEngineDefault() {
    FakeMailbox queueBox = new FakeMailbox("queue");
    RouterEngine engine = RouterEngine.builder().activityStore(store).clock(clock)
        .mailbox(Mailbox.ofQueue("queue-1", queueBox).withPolicy(TrackingPolicy.allEmail()))
        .build();
    queueBox.add(TestMail.message().from("stranger@example.net").build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).hasSize(1);
  }

  @Test
  void aQueueMailbox_tracksMailForTheQueue() {
    FakeMailbox queueBox = new FakeMailbox("support-queue");
    RouterEngine engine = RouterEngine.builder().activityStore(store).clock(clock)
        .mailbox(Mailbox.ofQueue("queue-7", queueBox)).trackingPolicy(TrackingPolicy.allEmail()).build();
    queueBox.add(TestMail.message().build());

    engine.tick();

    assertThat(store.received()).singleElement().satisfies(r -> {
      assertThat(r.owner()).isEqualTo(new Party(Party.Type.QUEUE, "queue-7", ""));
      assertThat(r.mailbox()).isEqualTo("fake://support-queue");
    });
  }

  @Test
  void aPolicyThatThrows_failsTheMessageNotTheTick() {
    RouterEngine engine = engine((message, context) -> {
      throw new IllegalStateException("policy bug");
    }).build();
    String ref = inbox.add(TestMail.message().build());

    TickReport report = engine.tick();

    assertThat(report.messageFailures()).singleElement().satisfies(f -> {
      assertThat(f.ref()).isEqualTo(ref);
      assertThat(f.reason()).contains("policy bug");
      assertThat(f.quarantined()).isFalse();
    });
  }

  // --- duplicates and loops ------------------------------------------------------------------------

  @Test
  void theSameMessageInTwoMailboxes_makesOneActivity() {
    FakeMailbox user2 = new FakeMailbox("user2-inbox");
    RouterEngine engine = RouterEngine.builder().activityStore(store).clock(clock)
        .mailbox(Mailbox.ofUser("user-1", inbox)).mailbox(Mailbox.ofUser("user-2", user2))
        .trackingPolicy(TrackingPolicy.allEmail()).build();
    TestMail mail = TestMail.message().to("user1@example.com, user2@example.com");
    inbox.add(mail.build());
    String ref2 = user2.add(mail.build());

    TickReport report = engine.tick();

    assertThat(store.received()).hasSize(1);
    assertThat(report.tracked()).hasSize(1);
    assertThat(report.rejected()).singleElement().satisfies(r -> {
      assertThat(r.mailbox()).isEqualTo("fake://user2-inbox");
      assertThat(r.decision().reason()).isEqualTo(Reason.DUPLICATE);
      assertThat(r.decision().detail()).contains(report.tracked().get(0).activityId());
    });
    assertThat(user2.dispositions()).containsEntry(ref2, Disposition.TRACKED);
    assertThat(user2.downloaded()).isEmpty();
  }

  @Test
  void theSameMessageTwiceInOneMailbox_makesOneActivity() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).build();
    TestMail mail = TestMail.message();
    String first = inbox.add(mail.build());
    String second = inbox.add(mail.build());

    engine.tick();

    assertThat(store.received()).hasSize(1);
    assertThat(inbox.dispositions()).containsEntry(first, Disposition.TRACKED).containsEntry(second,
        Disposition.TRACKED);
  }

  @Test
  void aMessageWithoutMessageIdSeenTwice_makesOneActivityByDigest() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).build();
    String raw = TestMail.message().without("Message-ID").subject("No id").build();
    inbox.add(raw);
    inbox.add(raw);

    TickReport report = engine.tick();

    assertThat(store.received()).singleElement().satisfies(r -> {
      assertThat(r.messageId()).isNull();
      assertThat(r.dedupKey()).startsWith("sha256:");
    });
    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::created).containsExactly(true, false);
    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::activityId).containsOnly(
        store.receivedActivityId(store.received().get(0).dedupKey()).orElseThrow());
  }

  @Test
  void ourOwnSentEmailComingBack_isRejectedAsALoop() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).build();
    OutgoingEmail sent = sendOne(engine, "Offer");
    inbox.add(TestMail.message().from("user1@example.com").to("customer@example.org").subject(sent.subject())
        .messageId(sent.messageId()).build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement().satisfies(r -> {
      assertThat(r.decision().reason()).isEqualTo(Reason.LOOP);
      assertThat(r.decision().detail()).contains(sent.activityId());
    });
    assertThat(store.received()).isEmpty();
  }

  // --- automatic messages --------------------------------------------------------------------------

  @Test
  void anUncorrelatedAutoReply_isRejectedAsAutoResponse() {
    RouterEngine engine = engine();
    inbox.add(reply().subject("Out of office").header("Auto-Submitted", "auto-replied").build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement().satisfies(r -> {
      assertThat(r.decision().reason()).isEqualTo(Reason.AUTO_RESPONSE);
      assertThat(r.decision().detail()).contains("AUTO_REPLY");
    });
  }

  @Test
  void aCorrelatedOutOfOfficeReply_isTrackedByResponsesToCrmEmail() {
    RouterEngine engine = engine();
    OutgoingEmail sent = sendOne(engine, "Offer");
    inbox.add(reply().subject("Automatic reply: Offer").inReplyTo(sent.messageId())
        .header("Auto-Submitted", "auto-replied").build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).singleElement()
        .satisfies(t -> assertThat(t.decision().reason()).isEqualTo(Reason.CORRELATION_MATCH));
  }

  @Test
  void rejectingAutoResponses_rejectsEvenACorrelatedAutoReply() {
    RouterEngine engine = engine(TrackingPolicy.responsesToCrmEmail().rejectingAutoResponses()).build();
    OutgoingEmail sent = sendOne(engine, "Offer");
    inbox.add(reply().subject("Automatic reply: Offer").inReplyTo(sent.messageId())
        .header("X-Autoreply", "yes").build());
    inbox.add(reply().subject("Re: Offer").inReplyTo(sent.messageId()).build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.AUTO_RESPONSE));
    assertThat(report.tracked()).hasSize(1);
  }

  @Test
  void bulkMailAndBounces_areRejectedAsAutoResponses() {
    RouterEngine engine = engine(TrackingPolicy.fromLeadsContactsAndAccounts()).build();
    inbox.add(reply().subject("Newsletter").header("Precedence", "bulk").build());
    inbox.add(reply().subject("List mail").header("List-Id", "<news.example.org>").build());
    inbox.add(reply().from("MAILER-DAEMON@example.org").subject("Undeliverable")
        .header("Return-Path", "<>").build());
    inbox.add(reply().subject("Delivery report")
        .header("Content-Type", "multipart/report; report-type=delivery-status; boundary=x").build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).hasSize(4)
        .allSatisfy(r -> assertThat(r.decision().reason()).isEqualTo(Reason.AUTO_RESPONSE));
    assertThat(report.rejected()).extracting(r -> r.decision().detail())
        .anySatisfy(d -> assertThat(d).contains(AutoResponse.BOUNCE.name()))
        .anySatisfy(d -> assertThat(d).contains(AutoResponse.AUTO_GENERATED.name()));
  }

  // --- size and content ----------------------------------------------------------------------------

  @Test
  void aMessageOverMaxMessageSize_isRejectedWithoutBeingDownloaded() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).maxMessageSize(4096).build();
    String big = inbox.add(TestMail.message().build());
    inbox.reportSize(big, 50_000_000);
    String small = inbox.add(TestMail.message().build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement().satisfies(r -> {
      assertThat(r.ref()).isEqualTo(big);
      assertThat(r.decision().reason()).isEqualTo(Reason.TOO_LARGE);
      assertThat(r.decision().detail()).contains("50000000");
    });
    assertThat(inbox.downloaded()).containsExactly(small);
    assertThat(inbox.dispositions()).containsEntry(big, Disposition.REJECTED);
  }

  @Test
  void aTrackedMultipartMessage_keepsTextAndHtmlBodies() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).build();
    inbox.add(TestMail.message().text("Plain für dich").html("<p>Rich für dich</p>").build());

    engine.tick();

    ReceivedEmail r = store.received().get(0);
    assertThat(r.textBody()).isEqualTo("Plain für dich");
    assertThat(r.htmlBody()).isEqualTo("<p>Rich für dich</p>");
    assertThat(r.attachments()).isEmpty();
    assertThat(r.droppedAttachments()).isEmpty();
  }

  @Test
  void aTextBodyInAnUnknownCharset_fallsBackWithoutFailing() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).build();
    inbox.add(TestMail.message().text("Hello anyway", "x-no-such-charset").build());
    inbox.add(TestMail.message().text("Bonjour", "ISO-8859-1").build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).hasSize(2);
    assertThat(store.received()).extracting(ReceivedEmail::textBody).containsExactly("Hello anyway\r\n",
        "Bonjour\r\n");
  }

  @Test
  void attachments_blockedOrTooLargeAreDropped_andTheRestKeptByteForByte() throws Exception {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).maxAttachmentSize(2000).build();
    byte[] pdf = new byte[1500];
    new Random(3).nextBytes(pdf);
    byte[] big = new byte[5000];
    inbox.add(TestMail.message()
        .attach("application/pdf", "filename=\"offer.pdf\"", pdf)
        .attach("application/octet-stream", "filename=\"setup.EXE\"", new byte[] {1, 2, 3})
        .attach("application/zip", "filename=\"big.zip\"", big)
        .attach("text/plain", "filename*=UTF-8''%E2%82%AC-Rechnung.txt", "Summe: 5 €".getBytes(StandardCharsets.UTF_8))
        .attach("text/plain", "filename=\"=?UTF-8?B?" + Base64.getEncoder().encodeToString(
            "Größe.txt".getBytes(StandardCharsets.UTF_8)) + "?=\"", "x".getBytes(StandardCharsets.UTF_8))
        .build());

    TickReport report = engine.tick();

    ReceivedEmail r = store.received().get(0);
    assertThat(r.attachments()).extracting(dev.emailrouter.api.Attachment::fileName)
        .containsExactly("offer.pdf", "€-Rechnung.txt", "Größe.txt");
    assertThat(r.attachments().get(0).contentType()).isEqualTo("application/pdf");
    try (var in = r.attachments().get(0).content().open()) {
      assertThat(in.readAllBytes()).isEqualTo(pdf);
    }
    try (var in = r.attachments().get(1).content().open()) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("Summe: 5 €");
    }
    assertThat(r.droppedAttachments()).hasSize(2);
    assertThat(r.droppedAttachments().get(0)).contains("setup.EXE").contains("blocked");
    assertThat(r.droppedAttachments().get(1)).contains("big.zip").contains("2000");
    assertThat(report.tracked().get(0).droppedAttachments()).isEqualTo(r.droppedAttachments());
  }

  @Test
  void blockedAttachmentExtensions_replacesTheDefaultList() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).blockedAttachmentExtensions(java.util.Set.of(".PDF"))
        .build();
    inbox.add(TestMail.message()
        .attach("application/pdf", "offer.pdf", "%PDF")
        .attach("application/octet-stream", "tool.exe", "MZ")
        .build());

    engine.tick();

    ReceivedEmail r = store.received().get(0);
    assertThat(r.attachments()).extracting(dev.emailrouter.api.Attachment::fileName).containsExactly("tool.exe");
    assertThat(r.droppedAttachments()).singleElement().asString().contains("offer.pdf");
  }

  @Test
  void aMessageThatIsNotMime_isStillTracked() {
    RouterEngine engine = engine(TrackingPolicy.allEmail()).build();
    inbox.add("From: customer@example.org\r\nTo: user1@example.com\r\nSubject: plain\r\n"
        + "Message-ID: <plain-1@example.org>\r\n\r\nJust text, no MIME headers.\r\n");

    engine.tick();

    assertThat(store.received()).singleElement()
        .satisfies(r -> assertThat(r.textBody()).isEqualTo("Just text, no MIME headers.\r\n"));
  }

  @Test
  void anEventFromTheListener_matchesTheReport() {
    List<RouterEvent> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    RouterEngine engine = engine(TrackingPolicy.responsesToCrmEmail()).listener(heard::add).build();
    inbox.add(reply().build());

    TickReport report = engine.tick();

    assertThat(heard).containsExactlyElementsOf(report.events());
    assertThat(report.rejected()).hasSize(1);
  }

  @Test
  void theDecisionRecordedOnTheActivity_isTheOneReported() {
    RouterEngine engine = engine(TrackingPolicy.fromLeadsContactsAndAccounts()).build();
    inbox.add(reply().build());

    TickReport report = engine.tick();

    TrackingDecision onActivity = store.received().get(0).decision();
    assertThat(onActivity).isEqualTo(report.tracked().get(0).decision());
  }
}
