package dev.emailrouter.examples;

import static dev.emailrouter.examples.TestMessages.large;
import static dev.emailrouter.examples.TestMessages.message;
import static dev.emailrouter.examples.TestMessages.withHeader;
import static org.assertj.core.api.Assertions.assertThat;

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
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The incoming flow end to end over POP3: GreenMail → Pop3MailboxReader → engine → in-memory CRM. */
final class Pop3EndToEndTest {
  private static final String USER = "user@example.test";
  private static final String CONTACT = "contact@example.test";
  private static final String PARTNER = "dora@partner.test"; // not in the CRM
  private static final String STRANGER = "spam@stranger.test";

  private TestMailServer server;
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final MutableClock clock = new MutableClock();
  private final List<RouterEngine> engines = new ArrayList<>();

  @BeforeEach
  void setUp() {
    server = new TestMailServer();
    server.user(USER);
    store.addParty(USER, new Party(Party.Type.USER, "user-1", "Una User"));
    store.addParty(CONTACT, new Party(Party.Type.CONTACT, "contact-1", "Carl Contact"));
  }

  @AfterEach
  void tearDown() {
    engines.forEach(RouterEngine::close);
    server.close();
  }

  @Test
  void tick_whenNewMailArrives_tracksItOnce_andTheNextTickCreatesNothing() {
    Mailbox inbox = userMailbox(server.pop3(USER).build());
    RouterEngine engine = engine(b -> b.mailbox(inbox));
    server.send(message("<c1@example.test>", CONTACT, USER, "Question", "Hi Una, a question."));
    server.send(message("<c2@example.test>", CONTACT, USER, "Another one", "Hi again."));

    TickReport first = engine.tick();
    TickReport second = engine.tick();

    assertThat(first.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly("<c1@example.test>", "<c2@example.test>");
    assertThat(first.tracked()).allSatisfy(e -> {
      assertThat(e.created()).isTrue();
      assertThat(e.mailbox()).isEqualTo(inbox.name()).startsWith("pop3://user%40example.test@127.0.0.1:");
      assertThat(e.decision().reason()).isEqualTo(Reason.SENDER_MATCH);
    });
    assertThat(second.events()).isEmpty();
    ReceivedEmail r = store.received().get(0);
    assertThat(store.received()).hasSize(2);
    assertThat(r.owner()).isEqualTo(new Party(Party.Type.USER, "user-1", ""));
    assertThat(r.from()).isEqualTo(EmailAddress.of(CONTACT));
    assertThat(r.subject()).isEqualTo("Question");
    assertThat(r.textBody()).isEqualToIgnoringNewLines("Hi Una, a question.");
    assertThat(server.messageIds(USER, "INBOX")).hasSize(2); // not deleting: the mail stays on the server
  }

  @Test
  void tick_withRepliesToAnEmailTheEngineSent_correlatesByInReplyToReferencesAndTrackingToken() {
    RouterEngine engine = engine(b -> b.mailbox(userMailbox(server.pop3(USER).build())
        .withPolicy(TrackingPolicy.responsesToCrmEmail())));
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
    assertThat(report.rejected()).singleElement().satisfies(e -> {
      assertThat(e.messageId()).isEqualTo("<s1@stranger.test>");
      assertThat(e.decision().reason()).isEqualTo(Reason.NO_CORRELATION_MATCH);
    });
    assertThat(store.received()).extracting(r -> r.correlation().activityId()).containsOnly("email-1");
  }

  @Test
  void tick_withMailFromAStranger_reportsTheRejectionAndLeavesTheMessageOnTheServer() {
    RouterEngine engine = engine(b -> b.mailbox(userMailbox(server.pop3(USER).deleteAfterProcessing(true).build())));
    server.send(message("<s1@stranger.test>", STRANGER, USER, "Cheap watches", "Buy now!"));

    TickReport report = engine.tick();

    assertThat(report.tracked()).isEmpty();
    assertThat(report.rejected()).singleElement().satisfies(e -> {
      assertThat(e.messageId()).isEqualTo("<s1@stranger.test>");
      assertThat(e.decision().reason()).isEqualTo(Reason.NO_RECIPIENT_MATCH);
    });
    assertThat(store.received()).isEmpty();
    assertThat(server.messageIds(USER, "INBOX")).containsExactly("<s1@stranger.test>");
    assertThat(engine.tick().events()).isEmpty();
  }

  @Test
  void tick_withDeleteAfterProcessing_deletesTrackedMailOnly() {
    RouterEngine engine = engine(b -> b.mailbox(userMailbox(server.pop3(USER).deleteAfterProcessing(true).build())));
    server.send(message("<c1@example.test>", CONTACT, USER, "Question", "Hi"));
    server.send(message("<s1@stranger.test>", STRANGER, USER, "Cheap watches", "Buy now!"));
    server.send(message("<c2@example.test>", CONTACT, USER, "Second question", "Hi again"));

    TickReport report = engine.tick();

    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly("<c1@example.test>", "<c2@example.test>");
    assertThat(server.awaitMessageIds(USER, "INBOX", "<s1@stranger.test>")).containsExactly("<s1@stranger.test>");
    assertThat(store.received()).hasSize(2);

    server.send(message("<c3@example.test>", CONTACT, USER, "Third", "Hi"));
    assertThat(engine.tick().tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly("<c3@example.test>");
    assertThat(server.awaitMessageIds(USER, "INBOX", "<s1@stranger.test>")).containsExactly("<s1@stranger.test>");
  }

  @Test
  void tick_withAMessageOverMaxMessageSize_rejectsItTooLargeWithoutDownloadingIt() {
    RecordingReader reader = new RecordingReader(server.pop3(USER).deleteAfterProcessing(true).build());
    RouterEngine engine = engine(b -> b.mailbox(userMailbox(reader)).maxMessageSize(10 * 1024));
    server.send(large("<big@example.test>", CONTACT, USER, 50 * 1024));
    server.send(message("<small@example.test>", CONTACT, USER, "Small", "Short."));

    TickReport report = engine.tick();

    assertThat(report.rejected()).singleElement().satisfies(e -> {
      assertThat(e.messageId()).isEqualTo("<big@example.test>");
      assertThat(e.decision().reason()).isEqualTo(Reason.TOO_LARGE);
    });
    assertThat(report.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly("<small@example.test>");
    assertThat(reader.downloaded()).containsExactly(report.tracked().get(0).ref());
    assertThat(store.received()).extracting(ReceivedEmail::messageId).containsExactly("<small@example.test>");
    assertThat(server.awaitMessageIds(USER, "INBOX", "<big@example.test>")).containsExactly("<big@example.test>");
  }

  @Test
  void tick_afterARestartOnTheSameCheckpointDirectory_tracksOnlyNewMail(@TempDir Path checkpoints) {
    RouterEngine first = engine(b -> b.mailbox(userMailbox(server.pop3(USER).build()))
        .checkpointStore(CheckpointStore.directory(checkpoints)));
    server.send(message("<c1@example.test>", CONTACT, USER, "One", "1"));
    server.send(message("<c2@example.test>", CONTACT, USER, "Two", "2"));
    assertThat(first.tick().tracked()).hasSize(2);
    first.close();

    server.send(message("<c3@example.test>", CONTACT, USER, "Three", "3"));
    RouterEngine second = engine(b -> b.mailbox(userMailbox(server.pop3(USER).build()))
        .checkpointStore(CheckpointStore.directory(checkpoints)));
    TickReport afterRestart = second.tick();

    assertThat(afterRestart.tracked()).extracting(RouterEvent.MessageTracked::messageId)
        .containsExactly("<c3@example.test>");
    assertThat(afterRestart.tracked().get(0).created()).isTrue();
    assertThat(afterRestart.rejected()).isEmpty();
    assertThat(store.received()).extracting(ReceivedEmail::messageId)
        .containsExactly("<c1@example.test>", "<c2@example.test>", "<c3@example.test>");
  }

  private static Mailbox userMailbox(MailboxReader reader) {
    return Mailbox.ofUser("user-1", reader);
  }

  private RouterEngine engine(Consumer<RouterEngine.Builder> configure) {
    RouterEngine.Builder b = RouterEngine.builder()
        .activityStore(store)
        .transport(server.smtp().build())
        .trackingPolicy(TrackingPolicy.fromLeadsContactsAndAccounts())
        .clock(clock)
        .random(new Random(13));
    configure.accept(b);
    RouterEngine engine = b.build();
    engines.add(engine);
    return engine;
  }
}
