package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Correlation;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.TrackingDecision.Reason;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.testfixtures.MutableClock;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class ForwardMailboxTest {
  private static final Party USER_1 = new Party(Party.Type.USER, "user-1", "Una User");

  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final RecordingTransport transport = new RecordingTransport();
  private final FakeMailbox forward = new FakeMailbox("forward");
  private final RouterEngine engine;

  ForwardMailboxTest() {
    store.addParty("user1@example.com", USER_1);
    store.addParty("customer@example.org", new Party(Party.Type.CONTACT, "contact-1", "A Customer"));
    engine = RouterEngine.builder().activityStore(store).transport(transport).clock(clock).random(new Random(5))
        .mailbox(Mailbox.forward(forward)).build();
  }

  private OutgoingEmail sendOne() {
    store.add(OutgoingEmail.builder("out-1", EmailAddress.of("user1@example.com"))
        .to(EmailAddress.of("customer@example.org")).subject("Offer").textBody("Offer attached.").build());
    engine.tick();
    return transport.accepted().get(0);
  }

  private static TestMail forwardedBy(String forwarder, String original) {
    return TestMail.message().from(forwarder).to("crm-forward@example.com").subject("FW: original")
        .text("forwarded by a server rule").attachMessage(original);
  }

  @Test
  void aForwardedReply_isTrackedAsTheOriginalForTheForwardingUser() {
    OutgoingEmail sent = sendOne();
    TestMail original = TestMail.message().from("Customer <customer@example.org>").to("user1@example.com")
        .subject("Re: Offer").inReplyTo(sent.messageId()).text("Yes please.");
    String ref = forward.add(forwardedBy("user1@example.com", original.build()).build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).singleElement().satisfies(t -> {
      assertThat(t.ref()).isEqualTo(ref);
      assertThat(t.messageId()).isEqualTo(original.messageId());
      assertThat(t.correlation())
          .isEqualTo(new Correlation(sent.activityId(), Correlation.Rule.IN_REPLY_TO, sent.messageId()));
    });
    assertThat(store.received()).singleElement().satisfies(r -> {
      assertThat(r.owner()).isEqualTo(USER_1);
      assertThat(r.messageId()).isEqualTo(original.messageId());
      assertThat(r.from()).isEqualTo(EmailAddress.of("customer@example.org", "Customer"));
      assertThat(r.subject()).isEqualTo("Re: Offer");
      assertThat(r.textBody()).isEqualTo("Yes please.\r\n");
      assertThat(r.mailbox()).isEqualTo("fake://forward");
    });
    assertThat(forward.dispositions()).containsEntry(ref, Disposition.TRACKED);
  }

  @Test
  void aForwardOfSeveralEmailsAtOnce_tracksEachOfThem_andTheForwardCountsAsTracked() {
    OutgoingEmail sent = sendOne();
    TestMail reply = TestMail.message().from("Customer <customer@example.org>").to("user1@example.com")
        .subject("Re: Offer").inReplyTo(sent.messageId()).text("Yes please.");
    TestMail unrelated = TestMail.message().from("someone@else.example").to("user1@example.com")
        .subject("Lunch?").text("Noon?");
    TestMail second = TestMail.message().from("Customer <customer@example.org>").to("user1@example.com")
        .subject("Re: Offer (again)").inReplyTo(sent.messageId()).text("And the invoice?");
    String ref = forward.add(forwardedBy("user1@example.com", reply.build()).attachMessage(unrelated.build())
        .attachMessage(second.build()).build());

    TickReport report = engine.tick();

    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly(reply.messageId(), second.messageId());
    assertThat(report.rejected()).extracting(RouterEvent.MessageRejected::messageId)
        .containsExactly(unrelated.messageId());
    assertThat(store.received()).extracting(r -> r.owner()).containsOnly(USER_1);
    assertThat(forward.dispositions()).containsEntry(ref, Disposition.TRACKED);
    assertThat(engine.tick().tracked()).isEmpty();
  }

  @Test
  void aForwardFromSomeoneWhoIsNotACrmUser_isRejected() {
    String original = TestMail.message().from("customer@example.org").build();
    String ref = forward.add(forwardedBy("stranger@example.net", original).build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement().satisfies(r -> {
      assertThat(r.decision().reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH);
      assertThat(r.decision().detail()).contains("stranger@example.net");
    });
    assertThat(store.received()).isEmpty();
    assertThat(forward.dispositions()).containsEntry(ref, Disposition.REJECTED);
  }

  @Test
  void aForwardFromAContactRatherThanAUser_isRejected() {
    String original = TestMail.message().from("someone@example.net").build();
    forward.add(forwardedBy("customer@example.org", original).build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH));
  }

  @Test
  void aMessageWithoutAnAttachedOriginal_isRejected() {
    forward.add(TestMail.message().from("user1@example.com").subject("just a note").build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement().satisfies(r -> {
      assertThat(r.decision().reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH);
      assertThat(r.decision().detail()).contains("message/rfc822");
    });
  }

  @Test
  void anUncorrelatedForwardedOriginal_isJudgedByThePolicyOnItsOwnHeaders() {
    String original = TestMail.message().from("customer@example.org").to("user1@example.com")
        .subject("Unrelated").build();
    forward.add(forwardedBy("user1@example.com", original).build());

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.NO_CORRELATION_MATCH));
  }

  @Test
  void theSameOriginalForwardedTwice_makesOneActivity() {
    OutgoingEmail sent = sendOne();
    String original = TestMail.message().from("customer@example.org").inReplyTo(sent.messageId()).build();
    String first = forward.add(forwardedBy("user1@example.com", original).build());
    String second = forward.add(forwardedBy("user1@example.com", original).build());

    TickReport report = engine.tick();

    assertThat(store.received()).hasSize(1);
    assertThat(report.tracked()).hasSize(1);
    assertThat(report.rejected()).singleElement()
        .satisfies(r -> assertThat(r.decision().reason()).isEqualTo(Reason.DUPLICATE));
    assertThat(forward.dispositions()).containsEntry(first, Disposition.TRACKED)
        .containsEntry(second, Disposition.TRACKED);
  }

  @Test
  void aForwardMailboxWithItsOwnPolicy_appliesItToTheOriginal() {
    FakeMailbox box = new FakeMailbox("forward-all");
    RouterEngine all = RouterEngine.builder().activityStore(store).clock(clock)
        .mailbox(Mailbox.forward(box).withPolicy(TrackingPolicy.allEmail())).build();
    box.add(forwardedBy("user1@example.com", TestMail.message().from("x@example.net").build()).build());

    TickReport report = all.tick();

    assertThat(report.tracked()).singleElement()
        .satisfies(t -> assertThat(t.decision().reason()).isEqualTo(Reason.ACCEPT_ALL));
    assertThat(store.received().get(0).owner()).isEqualTo(USER_1);
  }
}
