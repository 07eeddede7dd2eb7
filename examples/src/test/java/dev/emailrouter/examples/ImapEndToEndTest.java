package dev.emailrouter.examples;

import static dev.emailrouter.examples.TestMessages.forward;
import static dev.emailrouter.examples.TestMessages.large;
import static dev.emailrouter.examples.TestMessages.message;
import static dev.emailrouter.examples.TestMessages.withHeader;
import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.store.MailFolder;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Correlation;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingDecision.Reason;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.CheckpointStore;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader.PostAction;
import dev.emailrouter.testfixtures.MutableClock;
import jakarta.mail.Flags;
import jakarta.mail.internet.MimeMessage;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The incoming flow end to end over IMAP: GreenMail → ImapMailboxReader → engine → in-memory CRM. */
final class ImapEndToEndTest {
  private static final String USER = "user@example.test";
  private static final String CONTACT = "contact@example.test";
  private static final String PARTNER = "dora@partner.test"; // not in the CRM
  private static final String STRANGER = "spam@stranger.test";
  private static final Party UNA = new Party(Party.Type.USER, "user-1", "Una User");

  private TestMailServer server;
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final MutableClock clock = new MutableClock();
  private final List<RouterEngine> engines = new ArrayList<>();

  @BeforeEach
  void setUp() {
    server = new TestMailServer();
    server.user(USER);
    store.addParty(USER, UNA);
    store.addParty(CONTACT, new Party(Party.Type.CONTACT, "contact-1", "Carl Contact"));
  }

  @AfterEach
  void tearDown() {
    engines.forEach(RouterEngine::close);
    server.close();
  }

  @Test
  void tick_whenNewMailArrives_tracksItOnce_andTheNextTickCreatesNothing() {
    Mailbox inbox = userMailbox(server.imap(USER).build());
    RouterEngine engine = engine(store, b -> b.mailbox(inbox));
    server.send(message("<c1@example.test>", CONTACT, USER, "Question", "Hi Una, a question."));
    server.send(message("<c2@example.test>", "Carl Contact <" + CONTACT + ">", USER, "Another one", "Hi again."));

    TickReport first = engine.tick();
    TickReport second = engine.tick();

    assertThat(first.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly("<c1@example.test>", "<c2@example.test>");
    assertThat(first.tracked()).allSatisfy(e -> {
      assertThat(e.created()).isTrue();
      assertThat(e.mailbox()).isEqualTo(inbox.name());
      assertThat(e.decision().reason()).isEqualTo(Reason.SENDER_MATCH);
    });
    assertThat(second.events()).isEmpty();
    assertThat(store.received()).hasSize(2);
    ReceivedEmail r = store.received().get(0);
    assertThat(r.owner()).isEqualTo(new Party(Party.Type.USER, "user-1", ""));
    assertThat(r.from()).isEqualTo(EmailAddress.of(CONTACT));
    assertThat(r.to()).containsExactly(EmailAddress.of(USER));
    assertThat(r.subject()).isEqualTo("Question");
    assertThat(r.textBody()).isEqualToIgnoringNewLines("Hi Una, a question.");
    assertThat(r.mailbox()).isEqualTo(inbox.name()).startsWith("imap://user%40example.test@127.0.0.1:");
    assertThat(store.received().get(1).from()).isEqualTo(EmailAddress.of(CONTACT, "Carl Contact"));
    assertThat(server.messageIds(USER, "INBOX")).hasSize(2); // LEAVE: the mailbox is untouched
    assertThat(server.seenMessageIds(USER, "INBOX")).isEmpty();
  }

  @Test
  void tick_withRepliesToAnEmailTheEngineSent_correlatesByInReplyToReferencesAndTrackingToken() {
    Mailbox inbox = userMailbox(server.imap(USER).build()).withPolicy(TrackingPolicy.responsesToCrmEmail());
    RouterEngine engine = engine(store, b -> b.mailbox(inbox));
    store.add(OutgoingEmail.builder("email-1", EmailAddress.of(USER, "Una User"))
        .to(EmailAddress.of(PARTNER))
        .subject("Proposal")
        .textBody("Dear Dora, here is our proposal.")
        .build());
    assertThat(engine.tick().sent()).hasSize(1);
    OutgoingEmail sent = store.find("email-1").orElseThrow().email();
    String token = sent.trackingToken();
    assertThat(server.messageIds(PARTNER, "INBOX")).containsExactly(sent.messageId());

    server.send(withHeader(message("<r1@partner.test>", PARTNER, USER, "RE: Proposal " + token, "Yes."),
        "In-Reply-To", sent.messageId()));
    server.send(withHeader(message("<r2@partner.test>", PARTNER, USER, "RE: Proposal " + token, "Also yes."),
        "References", "<older@partner.test> " + sent.messageId()));
    server.send(message("<r3@partner.test>", PARTNER, USER, "AW: Proposal " + token, "My client drops headers."));
    server.send(message("<s1@stranger.test>", STRANGER, USER, "Cheap watches", "Buy now!"));
    TickReport report = engine.tick();

    Map<String, Correlation> correlations = report.tracked().stream()
        .collect(Collectors.toMap(RouterEvent.MessageTracked::messageId, RouterEvent.MessageTracked::correlation));
    assertThat(correlations).containsOnlyKeys("<r1@partner.test>", "<r2@partner.test>", "<r3@partner.test>");
    assertThat(correlations.get("<r1@partner.test>"))
        .isEqualTo(new Correlation("email-1", Correlation.Rule.IN_REPLY_TO, sent.messageId()));
    assertThat(correlations.get("<r2@partner.test>"))
        .isEqualTo(new Correlation("email-1", Correlation.Rule.REFERENCES, sent.messageId()));
    assertThat(correlations.get("<r3@partner.test>"))
        .isEqualTo(new Correlation("email-1", Correlation.Rule.TRACKING_TOKEN, token));
    assertThat(report.tracked()).allSatisfy(e -> assertThat(e.decision().reason()).isEqualTo(Reason.CORRELATION_MATCH));
    assertThat(report.rejected()).singleElement().satisfies(e -> {
      assertThat(e.messageId()).isEqualTo("<s1@stranger.test>");
      assertThat(e.decision().reason()).isEqualTo(Reason.NO_CORRELATION_MATCH);
    });
    assertThat(store.received()).extracting(r -> r.correlation().activityId()).containsOnly("email-1");
    assertThat(store.received().get(0).inReplyTo()).isEqualTo(sent.messageId());
    assertThat(server.messageIds(USER, "INBOX")).contains("<s1@stranger.test>");
  }

  @Test
  void tick_withATrackedMessageOverOneMegabyte_keepsItsAttachmentByteForByte() throws Exception {
    byte[] drawing = new byte[1536 * 1024]; // over the 1 MiB the IMAP reader spools to a file
    new Random(17).nextBytes(drawing);
    RouterEngine engine = engine(store, b -> b.mailbox(userMailbox(server.imap(USER).build())));
    server.send(TestMessages.withAttachment("<big-attachment@example.test>", CONTACT, USER, "Drawings",
        "The drawings, as promised.", "plan – Erdgeschoß.dwg", "application/octet-stream", drawing));

    TickReport report = engine.tick();

    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly("<big-attachment@example.test>");
    ReceivedEmail r = store.received().get(0);
    assertThat(r.textBody()).isEqualToIgnoringNewLines("The drawings, as promised.");
    assertThat(r.attachments()).singleElement().satisfies(a -> {
      assertThat(a.fileName()).isEqualTo("plan – Erdgeschoß.dwg");
      assertThat(a.size()).isEqualTo(drawing.length);
      try (java.io.InputStream in = a.content().open()) {
        assertThat(in.readAllBytes()).isEqualTo(drawing);
      }
    });
  }

  @Test
  void tick_whenAnEmailTheEngineSentArrivesInTheSendersMailbox_rejectsItAsALoop() {
    RouterEngine engine = engine(store, b -> b.mailbox(userMailbox(server.imap(USER).build())
        .withPolicy(TrackingPolicy.allEmail())));
    store.add(OutgoingEmail.builder("email-1", EmailAddress.of(USER, "Una User"))
        .to(EmailAddress.of(CONTACT))
        .cc(EmailAddress.of(USER))
        .subject("Minutes")
        .textBody("Minutes of our meeting.")
        .build());

    TickReport report = engine.tick(); // sends, then reads the inbox where the copy to Una landed

    String messageId = store.find("email-1").orElseThrow().email().messageId();
    assertThat(report.sent()).hasSize(1);
    assertThat(report.tracked()).isEmpty();
    assertThat(report.rejected()).singleElement().satisfies(e -> {
      assertThat(e.messageId()).isEqualTo(messageId);
      assertThat(e.decision().reason()).isEqualTo(Reason.LOOP);
      assertThat(e.decision().detail()).contains("email-1");
    });
    assertThat(store.received()).isEmpty();
  }

  @Test
  void tick_withMailFromAStranger_reportsTheRejectionAndLeavesTheMessageUnseenInPlace() {
    Mailbox inbox = userMailbox(server.imap(USER).afterTracked(PostAction.MARK_SEEN).build());
    RouterEngine engine = engine(store, b -> b.mailbox(inbox));
    server.send(message("<s1@stranger.test>", STRANGER, USER, "Cheap watches", "Buy now!"));

    TickReport report = engine.tick();

    assertThat(report.tracked()).isEmpty();
    assertThat(report.rejected()).singleElement().satisfies(e -> {
      assertThat(e.mailbox()).isEqualTo(inbox.name());
      assertThat(e.messageId()).isEqualTo("<s1@stranger.test>");
      assertThat(e.decision().track()).isFalse();
      assertThat(e.decision().reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH);
      assertThat(e.decision().detail()).contains("sender is not a lead, contact or account");
    });
    assertThat(store.received()).isEmpty();
    assertThat(server.messageIds(USER, "INBOX")).containsExactly("<s1@stranger.test>");
    assertThat(server.seenMessageIds(USER, "INBOX")).isEmpty();
    assertThat(engine.tick().events()).isEmpty(); // decided once: the checkpoint moved past it
  }

  @Test
  void tick_withAfterTrackedMarkSeen_setsSeenOnTrackedMailOnly() {
    RouterEngine engine = engine(store,
        b -> b.mailbox(userMailbox(server.imap(USER).afterTracked(PostAction.MARK_SEEN).build())));
    server.send(message("<c1@example.test>", CONTACT, USER, "Question", "Hi"));
    server.send(message("<s1@stranger.test>", STRANGER, USER, "Cheap watches", "Buy now!"));

    TickReport report = engine.tick();

    assertThat(report.tracked()).hasSize(1);
    assertThat(report.rejected()).hasSize(1);
    assertThat(server.messageIds(USER, "INBOX")).containsExactly("<c1@example.test>", "<s1@stranger.test>");
    assertThat(server.seenMessageIds(USER, "INBOX")).containsExactly("<c1@example.test>");
  }

  @Test
  void tick_withAfterTrackedMoveTo_movesTrackedMailToTheFolderAndLeavesRejectedMail() {
    RouterEngine engine = engine(store,
        b -> b.mailbox(userMailbox(server.imap(USER).afterTracked(PostAction.moveTo("Processed")).build())));
    server.send(message("<c1@example.test>", CONTACT, USER, "Question", "Hi"));
    server.send(message("<s1@stranger.test>", STRANGER, USER, "Cheap watches", "Buy now!"));
    server.send(message("<c2@example.test>", CONTACT, USER, "Second question", "Hi again"));

    TickReport report = engine.tick();

    assertThat(report.tracked()).hasSize(2);
    assertThat(server.messageIds(USER, "Processed")).containsExactly("<c1@example.test>", "<c2@example.test>");
    assertThat(server.messageIds(USER, "INBOX")).containsExactly("<s1@stranger.test>");
    assertThat(server.seenMessageIds(USER, "INBOX")).isEmpty();
    assertThat(engine.tick().events()).isEmpty();
  }

  @Test
  void tick_withAfterTrackedDelete_removesTrackedMailOnly() {
    RouterEngine engine = engine(store,
        b -> b.mailbox(userMailbox(server.imap(USER).afterTracked(PostAction.DELETE).build())));
    server.send(message("<c1@example.test>", CONTACT, USER, "Question", "Hi"));
    server.send(message("<s1@stranger.test>", STRANGER, USER, "Cheap watches", "Buy now!"));

    TickReport report = engine.tick();

    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly("<c1@example.test>");
    assertThat(server.messageIds(USER, "INBOX")).containsExactly("<s1@stranger.test>");
    assertThat(server.deletedMessageIds(USER, "INBOX")).isEmpty();
    assertThat(store.received()).hasSize(1);
  }

  @Test
  void tick_withAMessageOverMaxMessageSize_rejectsItTooLargeWithoutDownloadingIt() {
    RecordingReader reader = new RecordingReader(server.imap(USER).afterTracked(PostAction.MARK_SEEN).build());
    RouterEngine engine = engine(store, b -> b.mailbox(userMailbox(reader)).maxMessageSize(10 * 1024));
    server.send(large("<big@example.test>", CONTACT, USER, 50 * 1024));
    server.send(message("<small@example.test>", CONTACT, USER, "Small", "Short."));

    TickReport report = engine.tick();

    RouterEvent.MessageRejected rejected = report.rejected().get(0);
    assertThat(report.rejected()).hasSize(1);
    assertThat(rejected.messageId()).isEqualTo("<big@example.test>");
    assertThat(rejected.decision().reason()).isEqualTo(Reason.TOO_LARGE);
    assertThat(rejected.decision().detail()).contains("over maxMessageSize 10240");
    RouterEvent.MessageTracked tracked = report.tracked().get(0);
    assertThat(report.tracked()).hasSize(1);
    assertThat(tracked.messageId()).isEqualTo("<small@example.test>");
    assertThat(reader.downloaded()).containsExactly(tracked.ref()).doesNotContain(rejected.ref());
    assertThat(store.received()).extracting(ReceivedEmail::messageId).containsExactly("<small@example.test>");
    assertThat(server.messageIds(USER, "INBOX")).containsExactly("<big@example.test>", "<small@example.test>");
    assertThat(server.seenMessageIds(USER, "INBOX")).containsExactly("<small@example.test>");
  }

  @Test
  void tick_onAForwardMailbox_tracksTheForwardedOriginalForTheUserWhoForwardedIt() {
    String forwardAddress = "forward@example.test";
    server.user(forwardAddress);
    Mailbox forwardMailbox = Mailbox.forward(server.imap(forwardAddress).build());
    RouterEngine engine = engine(store, b -> b.mailbox(forwardMailbox));
    MimeMessage original = message("<orig@example.test>", "Carl Contact <" + CONTACT + ">", USER,
        "Contract question", "Hi Una, about the contract.");
    server.send(forward("<fwd-1@example.test>", USER, forwardAddress, original));
    MimeMessage other = message("<orig-2@example.test>", CONTACT, STRANGER, "For the stranger", "Hello.");
    server.send(forward("<fwd-2@stranger.test>", STRANGER, forwardAddress, other));

    TickReport report = engine.tick();

    assertThat(report.tracked()).singleElement().satisfies(e -> {
      assertThat(e.messageId()).isEqualTo("<orig@example.test>");
      assertThat(e.created()).isTrue();
      assertThat(e.decision().reason()).isEqualTo(Reason.SENDER_MATCH);
    });
    ReceivedEmail r = store.received().get(0);
    assertThat(store.received()).hasSize(1);
    assertThat(r.owner()).isEqualTo(UNA);
    assertThat(r.messageId()).isEqualTo("<orig@example.test>");
    assertThat(r.from()).isEqualTo(EmailAddress.of(CONTACT, "Carl Contact"));
    assertThat(r.to()).containsExactly(EmailAddress.of(USER));
    assertThat(r.subject()).isEqualTo("Contract question");
    assertThat(r.textBody()).isEqualToIgnoringNewLines("Hi Una, about the contract.");
    assertThat(r.mailbox()).isEqualTo(forwardMailbox.name());
    assertThat(report.rejected()).singleElement().satisfies(e -> {
      assertThat(e.messageId()).isEqualTo("<fwd-2@stranger.test>");
      assertThat(e.decision().reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH);
      assertThat(e.decision().detail()).contains("is not a CRM user");
    });
  }

  @Test
  void tick_afterARestartOnTheSameCheckpointDirectory_tracksOnlyNewMail(@TempDir Path checkpoints) {
    RouterEngine first = engine(store, b -> b.mailbox(userMailbox(server.imap(USER).build()))
        .checkpointStore(CheckpointStore.directory(checkpoints)));
    server.send(message("<c1@example.test>", CONTACT, USER, "One", "1"));
    server.send(message("<c2@example.test>", CONTACT, USER, "Two", "2"));
    assertThat(first.tick().tracked()).hasSize(2);
    first.close();

    server.send(message("<c3@example.test>", CONTACT, USER, "Three", "3"));
    RouterEngine second = engine(store, b -> b.mailbox(userMailbox(server.imap(USER).build()))
        .checkpointStore(CheckpointStore.directory(checkpoints)));
    TickReport afterRestart = second.tick();

    assertThat(afterRestart.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly("<c3@example.test>");
    assertThat(afterRestart.tracked().get(0).created()).isTrue();
    assertThat(afterRestart.rejected()).isEmpty();
    assertThat(store.received()).extracting(ReceivedEmail::messageId)
        .containsExactly("<c1@example.test>", "<c2@example.test>", "<c3@example.test>");

    // Without the checkpoint every message comes again, and the store's idempotence absorbs them.
    RouterEngine forgetful = engine(store, b -> b.mailbox(userMailbox(server.imap(USER).build())));
    TickReport fromScratch = forgetful.tick();
    assertThat(fromScratch.tracked()).isEmpty();
    assertThat(fromScratch.rejected()).extracting(e -> e.decision().reason()).containsOnly(Reason.DUPLICATE).hasSize(3);
    assertThat(store.received()).hasSize(3);
  }

  @Test
  void tick_withAWrongPasswordOnOneMailbox_reportsItBacksOffAndDisablesIt_whileTheOtherKeepsWorking() {
    server.user("queue@example.test");
    Mailbox bad = Mailbox.ofQueue("queue-1", server.imap("queue@example.test", "wrong-s3cret").build());
    Mailbox good = userMailbox(server.imap(USER).build());
    RouterEngine engine = engine(store, b -> b.mailbox(bad).mailbox(good).mailboxFailuresBeforeDisable(3));

    for (int failure = 1; failure <= 3; failure++) {
      String id = "<c" + failure + "@example.test>";
      server.send(message(id, CONTACT, USER, "Message " + failure, "Hi"));

      TickReport report = engine.tick();

      assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly(id);
      assertThat(report.problems()).hasSize(1);
      if (failure < 3) {
        RouterEvent.MailboxFailed failed = (RouterEvent.MailboxFailed) report.problems().get(0);
        assertThat(failed.mailbox()).isEqualTo(bad.name()).contains("queue%40example.test");
        assertThat(failed.consecutiveFailures()).isEqualTo(failure);
        assertThat(failed.reason()).contains("queue@example.test").doesNotContain("wrong-s3cret");
        assertThat(failed.retryAt()).isAfter(clock.instant());
        // Backed off: a tick before retryAt leaves the failing mailbox alone.
        assertThat(engine.tick().events()).isEmpty();
        clock.set(failed.retryAt());
      } else {
        RouterEvent.MailboxDisabled disabled = (RouterEvent.MailboxDisabled) report.problems().get(0);
        assertThat(disabled.mailbox()).isEqualTo(bad.name());
        assertThat(disabled.consecutiveFailures()).isEqualTo(3);
        assertThat(disabled.reason()).doesNotContain("wrong-s3cret");
      }
    }

    assertThat(engine.isMailboxDisabled(bad.name())).isTrue();
    assertThat(engine.isMailboxDisabled(good.name())).isFalse();
    clock.advance(Duration.ofDays(1));
    server.send(message("<c4@example.test>", CONTACT, USER, "Still working", "Hi"));
    TickReport later = engine.tick();
    assertThat(later.problems()).isEmpty();
    assertThat(later.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly("<c4@example.test>");
  }

  @Test
  void tick_whenTheStoreKeepsFailingForOneMessage_retriesItThenMovesItToQuarantine_andLaterMailIsTracked() {
    FailingStore failing = new FailingStore(store, "<poison@example.test>");
    RouterEngine engine = engine(failing, b -> b.mailbox(userMailbox(server.imap(USER).build())).maxMessageAttempts(2));
    server.send(message("<poison@example.test>", CONTACT, USER, "Poison", "The CRM chokes on this one."));
    server.send(message("<c1@example.test>", CONTACT, USER, "Fine", "Hi"));

    TickReport first = engine.tick();

    assertThat(first.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly("<c1@example.test>");
    assertThat(first.messageFailures()).singleElement().satisfies(e -> {
      assertThat(e.messageId()).isEqualTo("<poison@example.test>");
      assertThat(e.attempts()).isEqualTo(1);
      assertThat(e.quarantined()).isFalse();
      assertThat(e.reason()).contains("field too long");
    });
    assertThat(server.messageIds(USER, "INBOX")).contains("<poison@example.test>");

    server.send(message("<c2@example.test>", CONTACT, USER, "Also fine", "Hi"));
    TickReport second = engine.tick();

    assertThat(second.messageFailures()).singleElement().satisfies(e -> {
      assertThat(e.messageId()).isEqualTo("<poison@example.test>");
      assertThat(e.attempts()).isEqualTo(2);
      assertThat(e.quarantined()).isTrue();
    });
    assertThat(second.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly("<c2@example.test>");
    assertThat(server.messageIds(USER, "Quarantine")).containsExactly("<poison@example.test>");
    assertThat(server.messageIds(USER, "INBOX")).containsExactly("<c1@example.test>", "<c2@example.test>");

    server.send(message("<c3@example.test>", CONTACT, USER, "Later", "Hi"));
    TickReport third = engine.tick();

    assertThat(third.messageFailures()).isEmpty();
    assertThat(third.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly("<c3@example.test>");
    assertThat(failing.failures()).isEqualTo(2);
    assertThat(store.received()).extracting(ReceivedEmail::messageId)
        .containsExactly("<c1@example.test>", "<c2@example.test>", "<c3@example.test>");
  }

  @Test
  void tick_afterUidValidityChanged_startsOverAndCreatesNoDuplicates() throws Exception {
    MailFolder sales = server.createFolder(USER, "Sales");
    RouterEngine engine = engine(store, b -> b.mailbox(userMailbox(server.imap(USER).folder("Sales").build())));
    sales.appendMessage(message("<c1@example.test>", CONTACT, USER, "One", "1"), new Flags(), new Date());
    sales.appendMessage(message("<c2@example.test>", CONTACT, USER, "Two", "2"), new Flags(), new Date());
    assertThat(engine.tick().tracked()).hasSize(2);

    // The folder is rebuilt (a server migration): its UIDs start over under a new UIDVALIDITY. GreenMail
    // takes UIDVALIDITY from the clock in seconds, so the test sets it rather than waiting a second.
    long oldValidity = sales.getUidValidity();
    server.deleteFolder(USER, "Sales");
    MailFolder rebuilt = server.createFolder(USER, "Sales");
    setUidValidity(rebuilt, oldValidity + 1);
    // The new message first: a reader that missed the change would ask for UID 3 and get <c2> only.
    rebuilt.appendMessage(message("<c3@example.test>", CONTACT, USER, "Three", "3"), new Flags(), new Date());
    rebuilt.appendMessage(message("<c1@example.test>", CONTACT, USER, "One", "1"), new Flags(), new Date());
    rebuilt.appendMessage(message("<c2@example.test>", CONTACT, USER, "Two", "2"), new Flags(), new Date());
    TickReport report = engine.tick();

    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::messageId).containsExactly("<c3@example.test>");
    assertThat(report.rejected()).extracting(RouterEvent.MessageRejected::messageId)
        .containsExactly("<c1@example.test>", "<c2@example.test>");
    assertThat(report.rejected()).extracting(e -> e.decision().reason()).containsOnly(Reason.DUPLICATE);
    assertThat(store.received()).hasSize(3);
    assertThat(engine.tick().events()).isEmpty();
  }

  private static void setUidValidity(MailFolder folder, long value) throws ReflectiveOperationException {
    Field field = folder.getClass().getDeclaredField("uidValidity");
    field.setAccessible(true);
    field.setLong(folder, value);
  }

  private static Mailbox userMailbox(MailboxReader reader) {
    return Mailbox.ofUser("user-1", reader);
  }

  private RouterEngine engine(ActivityStore activityStore, Consumer<RouterEngine.Builder> configure) {
    RouterEngine.Builder b = RouterEngine.builder()
        .activityStore(activityStore)
        .transport(server.smtp().build())
        .trackingPolicy(TrackingPolicy.fromLeadsContactsAndAccounts())
        .clock(clock)
        .random(new Random(11));
    configure.accept(b);
    RouterEngine engine = b.build();
    engines.add(engine);
    return engine;
  }
}
