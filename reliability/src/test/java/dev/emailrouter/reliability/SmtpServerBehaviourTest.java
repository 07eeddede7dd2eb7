package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an SMTP server may answer, end to end through the engine and the durable store: 421 at the
 * greeting and mid-session, 451/452, 550/552/553 per recipient, a refused login, no STARTTLS, an
 * untrusted certificate. Every email ends Sent or Failed with the server's reason; refusals of the
 * server as a whole cost no attempt.
 */
@ExtendWith(Figures.Watcher.class)
final class SmtpServerBehaviourTest {

  @TempDir
  Path dir;

  private World world;

  @AfterEach
  void stop() {
    if (world != null) {
      world.close();
    }
  }

  private World.Node start(SmtpSink.Builder sink, int emails) {
    return start(sink, emails, new World.Options());
  }

  private World.Node start(SmtpSink.Builder sink, int emails, World.Options options) {
    world = new World(dir).withSink(sink.start());
    for (int i = 1; i <= emails; i++) {
      world.crm.add(Mail.outgoing("email-" + i, "seller@crm.example.test"));
    }
    return world.node("node", options);
  }

  @Test
  void tick_whenTheServerGreetsWith421_waitsWithoutCountingAnAttemptAndSendsLater() {
    World.Node node = start(SmtpSink.builder().greeting(n -> n == 1 ? "421 4.3.2 too busy, try later"
        : "220 sink.test ESMTP"), 3);

    TickReport first = node.tick();
    assertThat(first.events()).filteredOn(RouterEvent.ServerUnavailable.class::isInstance).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.ServerUnavailable) e).reason()).contains("421"));
    assertThat(world.crm.outgoing().values()).allSatisfy(r -> {
      assertThat(r.status()).isEqualTo(EmailStatus.PENDING_SEND);
      assertThat(r.attempts()).isZero();
    });

    world.clock.advance(Duration.ofMinutes(2));
    assertThat(node.tick().sent()).hasSize(3);
    assertSentOnce(3);
  }

  @Test
  void tick_whenTheServerSays421ClosingMidSession_reconnectsAndSendsEachOnce() {
    AtomicInteger mails = new AtomicInteger();
    World.Node node = start(SmtpSink.builder().mail(from -> mails.incrementAndGet() == 2
        ? "421 4.4.2 sink.test closing connection" : "250 2.1.0 Ok"), 3);

    TickReport report = node.tick();

    assertThat(report.sent()).hasSize(3);
    assertThat(world.sink.connections()).isEqualTo(2);
    assertSentOnce(3);
  }

  @Test
  void tick_whenEveryRecipientGets451_retriesWithBackoffAndSendsOnceTheServerTakesThem() {
    AtomicBoolean busy = new AtomicBoolean(true);
    World.Node node = start(SmtpSink.builder().rcpt(to -> busy.get() ? "451 4.3.0 temporary failure, try later"
        : "250 2.1.5 Ok"), 3);

    TickReport first = node.tick();
    assertThat(first.retried()).hasSize(3).allSatisfy(r -> {
      assertThat(r.attempts()).isEqualTo(1);
      assertThat(r.reason()).contains("451");
      assertThat(r.nextAttemptAt()).isAfter(world.clock.instant());
    });

    busy.set(false);
    assertThat(node.tick().sent()).as("not due before the backoff").isEmpty();
    world.clock.advance(Duration.ofMinutes(2));
    assertThat(node.tick().sent()).hasSize(3);
    assertSentOnce(3);
    assertThat(world.crm.outgoing().values()).allSatisfy(r -> assertThat(r.attempts()).isEqualTo(2));
  }

  @Test
  void tick_whenTheServerAnswers452ToTheData_retriesThatEmailLater() {
    AtomicInteger ends = new AtomicInteger();
    World.Node node = start(SmtpSink.builder().endOfData(r -> ends.incrementAndGet() == 1
        ? "452 4.3.1 insufficient system storage" : "250 2.0.0 Ok: queued as %d"), 3);

    TickReport first = node.tick();
    assertThat(first.retried()).singleElement().satisfies(r -> assertThat(r.reason()).contains("452"));
    assertThat(first.sent()).hasSize(2);

    world.clock.advance(Duration.ofMinutes(2));
    assertThat(node.tick().sent()).hasSize(1);
    assertSentOnce(3);
  }

  @Test
  void tick_whenSomeRecipientsAreRefused550_552_553_sendsToTheOthersAndReportsEachRefusal() {
    world = new World(dir).withSink(SmtpSink.builder().rcpt(to -> switch (to) {
      case "missing@example.test" -> "550 5.1.1 no such user";
      case "full@example.test" -> "552 5.2.2 mailbox full";
      case "bad@example.test" -> "553 5.1.3 mailbox name not allowed";
      default -> "250 2.1.5 Ok";
    }).start());
    world.crm.add(OutgoingEmail.builder("email-1", EmailAddress.of("seller@crm.example.test"))
        .to(EmailAddress.of("ok@example.test"), EmailAddress.of("missing@example.test"))
        .cc(EmailAddress.of("full@example.test"))
        .bcc(EmailAddress.of("bad@example.test"))
        .subject("Partial").textBody("Hi").build());
    World.Node node = world.node("node");

    TickReport report = node.tick();

    assertThat(report.sent()).singleElement().satisfies(sent -> assertThat(sent.refusedRecipients())
        .extracting(r -> r.recipient().address() + " " + r.outcome() + " " + r.serverReply().substring(0, 3))
        .containsExactlyInAnyOrder("missing@example.test PERMANENT 550", "full@example.test PERMANENT 552",
            "bad@example.test PERMANENT 553"));
    assertThat(world.sink.received()).singleElement()
        .satisfies(r -> assertThat(r.recipients()).containsExactly("ok@example.test"));
    assertThat(world.crm.outgoing("email-1").status()).isEqualTo(EmailStatus.SENT);
  }

  @Test
  void tick_whenEveryRecipientIsRefusedPermanently_failsTheEmailWithTheServersReply() {
    world = new World(dir).withSink(SmtpSink.builder().rcpt(to -> "550 5.1.1 <" + to + ">: user unknown").start());
    world.crm.add(Mail.outgoing("email-1", "seller@crm.example.test"));
    World.Node node = world.node("node");

    TickReport report = node.tick();

    assertThat(report.failed()).singleElement().satisfies(f -> {
      assertThat(f.attempts()).isEqualTo(1);
      assertThat(f.reason()).contains("550").contains("contact@example.test");
    });
    Crm.Outgoing row = world.crm.outgoing("email-1");
    assertThat(row.status()).isEqualTo(EmailStatus.FAILED);
    assertThat(row.lastReason()).contains("550 5.1.1");
    assertThat(world.sink.acceptedCount()).isZero();
  }

  @Test
  void tick_whenTheLoginIsRefused_keepsTheEmailsPendingWithoutAnAttemptUntilTheCredentialsAreFixed() {
    AtomicReference<String> password = new AtomicReference<>("wrong-password");
    World.Node node = start(SmtpSink.builder().auth("crm", "right-password"), 2, new World.Options()
        .smtpBuilder(b -> b.credentials(() -> Credentials.password("crm", password.get()))));

    TickReport first = node.tick();
    assertThat(first.events()).filteredOn(RouterEvent.ServerUnavailable.class::isInstance).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.ServerUnavailable) e).reason()).contains("refused the login")
            .contains("crm").doesNotContain("wrong-password"));
    assertThat(world.crm.outgoing().values()).allSatisfy(r -> {
      assertThat(r.status()).isEqualTo(EmailStatus.PENDING_SEND);
      assertThat(r.attempts()).isZero();
    });

    password.set("right-password"); // a host rotating the secret: the supplier is asked at every login
    world.clock.advance(Duration.ofMinutes(2));
    assertThat(node.tick().sent()).hasSize(2);
    assertSentOnce(2);
  }

  @Test
  void tick_whenStartTlsIsRequiredButNotOffered_neverSendsAnythingInPlainText() {
    World.Node node = start(SmtpSink.builder().recordCommands().auth("crm", "right-password"), 1, new World.Options()
        .smtpBuilder(b -> b.security(Security.STARTTLS).credentials(() -> Credentials.password("crm",
            "right-password"))));
    node.smtpProxy.captureUpstream();

    TickReport report = node.tick();

    assertThat(report.events()).filteredOn(RouterEvent.ServerUnavailable.class::isInstance).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.ServerUnavailable) e).reason()).contains("STARTTLS"));
    assertThat(node.smtpProxy.upstreamText()).as("what the client sent").startsWith("EHLO")
        .doesNotContain("AUTH").doesNotContain("MAIL FROM").doesNotContain("right-password");
    assertThat(world.crm.outgoing("email-1").status()).isEqualTo(EmailStatus.PENDING_SEND);
  }

  @Test
  void tick_whenTheServersCertificateIsNotTrusted_refusesUntilItIsConfiguredAsTrusted() {
    World.Node untrusting = start(SmtpSink.builder().startTls(Tls.get().serverContext()), 1, new World.Options()
        .smtpBuilder(b -> b.security(Security.STARTTLS)));

    TickReport first = untrusting.tick();
    assertThat(first.events()).filteredOn(RouterEvent.ServerUnavailable.class::isInstance).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.ServerUnavailable) e).reason()).contains("not trusted")
            .contains("trustedCertificates"));
    assertThat(world.sink.acceptedCount()).isZero();
    untrusting.close();

    World.Node trusting = world.node("trusting", new World.Options()
        .smtpBuilder(b -> b.security(Security.STARTTLS).trustedCertificates(Tls.get().pem)));
    world.clock.advance(Duration.ofMinutes(2));
    assertThat(trusting.tick().sent()).hasSize(1);
    assertSentOnce(1);
  }

  private void assertSentOnce(int emails) {
    assertThat(world.crm.outgoing().values()).hasSize(emails).allSatisfy(r -> {
      assertThat(r.status()).isEqualTo(EmailStatus.SENT);
      assertThat(world.sink.count(r.messageId())).as("copies of %s", r.id()).isEqualTo(1);
    });
  }

  static String outcome(SendResult.RecipientResult r) {
    return r.outcome().name();
  }
}
