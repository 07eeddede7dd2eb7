package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an SMTP server does to single recipients and to the end of the data, judged by what the
 * people on an email received: greylisting (450 to some recipients for their first attempts), a
 * limit on recipients per transaction (452), a reply to the final "." that comes after the client's
 * read timeout (a server scanning the content), and international domain names. Once the quiet
 * phase is over, every recipient of every email has received it exactly once, under the Message-ID
 * the CRM recorded.
 */
@ExtendWith(Figures.Watcher.class)
final class SmtpRecipientFaultTest {
  private static final String SENDER = "seller@crm.example.test";
  private static final int QUIET_TICKS = 12;

  @TempDir
  Path dir;

  private World world;

  @AfterEach
  void stop() {
    if (world != null) {
      world.close();
    }
  }

  @Test
  void tick_whenSomeRecipientsAreGreylisted_deliversToThemOnALaterAttemptAndToEveryoneExactlyOnce() {
    world = new World(dir).withSink(SmtpSink.builder()
        .greylist(Set.of("bea@example.test", "dan@example.test"), 2, to -> "250 2.1.5 Ok").start());
    for (int i = 1; i <= 3; i++) {
      world.crm.add(Mail.outgoingTo("grey-" + i, SENDER, "ann@example.test", "bea@example.test", "cy@example.test",
          "dan@example.test"));
    }
    World.Node node = world.node("node");

    settle(node);

    assertThat(world.sink.temporaryRefusals()).as("the greylisting happened").containsKeys("bea@example.test",
        "dan@example.test");
    assertEveryRecipientReceivedEachEmailOnce();
  }

  @Test
  void tick_whenTheServerTakesAtMostTwoRecipientsPerTransaction_sendsTheRestInMoreTransactionsAndEachGetsItOnce() {
    world = new World(dir).withSink(SmtpSink.builder().maxRecipientsPerTransaction(2).start());
    world.crm.add(Mail.outgoingTo("many-1", SENDER, "p1@example.test", "p2@example.test", "p3@example.test",
        "p4@example.test", "p5@example.test"));
    world.crm.add(Mail.outgoingTo("many-2", SENDER, "q1@example.test", "q2@example.test", "q3@example.test"));
    World.Node node = world.node("node");

    settle(node);

    assertThat(world.sink.temporaryRefusals()).as("the server did say 452").isNotEmpty();
    assertEveryRecipientReceivedEachEmailOnce();
  }

  @Test
  void tick_whenTheReplyToTheFinalDotComesAfterTheReadTimeout_waitsForItAndDeliversEachEmailOnce() {
    // RFC 5321 section 4.5.3.2.6: the client waits 10 minutes for the reply to the end of the data;
    // the read timeout (here 400 ms, the server takes 1.5 s) is for the other replies.
    world = new World(dir).withSink(SmtpSink.builder().endOfDataDelay(1_500).start());
    world.crm.add(Mail.outgoingTo("slow-1", SENDER, "ann@example.test"));
    world.crm.add(Mail.outgoingTo("slow-2", SENDER, "bea@example.test", "cy@example.test"));
    World.Node node = world.node("node", new World.Options().timeouts(Duration.ofMillis(400))
        .dataEndTimeout(Duration.ofSeconds(10)));

    settle(node);

    assertThat(world.sink.counts()).as("copies the server accepted, by Message-ID (none is a documented repeat:"
        + " no engine died)").hasSize(2).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    assertEveryRecipientReceivedEachEmailOnce();
  }

  @Test
  void tick_whenARecipientHasAnInternationalDomainName_sendsToItsUts46ALabelNotToAnotherDomain() {
    // IDNA2003 (java.net.IDN) maps "straße.de" to "strasse.de", another domain; UTS #46
    // non-transitional processing keeps the sharp s: xn--strae-oqa.de.
    world = new World(dir).withSink(SmtpSink.builder().recordCommands().start());
    world.crm.add(Mail.outgoingTo("idn-1", SENDER, "kunde@stra\u00dfe.de", "leser@b\u00fccher.example"));
    World.Node node = world.node("node");

    settle(node);

    assertThat(world.sink.commands()).filteredOn(c -> c.startsWith("RCPT")).as("RCPT commands")
        .noneMatch(c -> c.contains("strasse.de"));
    assertEveryRecipientReceivedEachEmailOnce();
  }

  /**
   * Ticks, the clock past every backoff each time, until every email is Sent or Failed and no
   * recipient of a Sent one still waits for it (an email may be Sent with recipients pending).
   */
  private void settle(World.Node node) {
    for (int i = 0; i < QUIET_TICKS && !(settled() && world.undeliveredRecipients().isEmpty()); i++) {
      node.tick();
      world.clock.advance(Duration.ofMinutes(11));
    }
  }

  private boolean settled() {
    return world.crm.outgoing().values().stream()
        .allMatch(r -> r.status() == EmailStatus.SENT || r.status() == EmailStatus.FAILED);
  }

  private void assertEveryRecipientReceivedEachEmailOnce() {
    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    Map<String, List<String>> recipients = world.crm.outgoingRecipients();
    Map<String, Map<String, Integer>> deliveries = world.sink.deliveries();
    List<String> wrong = new ArrayList<>();
    rows.forEach((id, row) -> {
      if (row.status() != EmailStatus.SENT) {
        wrong.add(id + " is " + row.status() + " (" + row.lastReason() + ")");
        return;
      }
      Map<String, Integer> got = deliveries.getOrDefault(row.messageId(), Map.of());
      for (String to : recipients.get(id)) {
        int n = got.getOrDefault(World.aLabel(to), 0);
        if (n != 1) {
          wrong.add(id + " " + row.messageId() + " reached " + to + " " + n + " times");
        }
      }
    });
    assertThat(world.undeliveredRecipients()).as("recipients never delivered").isEmpty();
    assertThat(wrong).as("every recipient of every email receives it exactly once; deliveries: %s", deliveries)
        .isEmpty();
  }
}
