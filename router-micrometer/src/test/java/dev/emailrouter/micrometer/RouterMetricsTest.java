package dev.emailrouter.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.RouterListener;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.testfixtures.MutableClock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class RouterMetricsTest {
  private static final Instant T0 = Instant.parse("2026-12-01T09:00:00Z");

  private final MutableClock clock = new MutableClock(T0);
  private final MeterRegistry registry = new SimpleMeterRegistry();
  private final SwitchableStore store = new SwitchableStore();
  private final ScriptedTransport smtp = new ScriptedTransport();
  /** Named by configuration, with the CRM's default policy (responses to CRM email). */
  private final ScriptedMailbox sales = new ScriptedMailbox("imap://sales%40example.com@imap.example.test:993/INBOX");
  /** Named after its reader (the default), which holds the login: its tag must not. */
  private final ScriptedMailbox alice = new ScriptedMailbox("imap://alice%40example.com@imap.example.test:993/INBOX");
  private final ScriptedMailbox broken = new ScriptedMailbox("pop3://bob@example.com@pop.example.test:995");
  private final List<RouterEvent> seen = new CopyOnWriteArrayList<>();
  private final RouterMetrics metrics = RouterMetrics.bindTo(registry, Tags.of("engine", "test"), clock);

  private RouterEngine engine() {
    return metrics.watch(RouterEngine.builder()
        .activityStore(store)
        .transport(smtp)
        .mailbox(Mailbox.ofQueue("queue-1", sales).withName("sales"))
        .mailbox(Mailbox.ofUser("user-1", alice).withPolicy(TrackingPolicy.allEmail()))
        .mailbox(Mailbox.ofUser("user-2", broken).withName("support@example.com"))
        .clock(clock)
        .retryDelay(Duration.ofSeconds(1))
        .maxRetryDelay(Duration.ofSeconds(1))
        .mailboxRetryDelay(Duration.ofSeconds(1))
        .mailboxFailuresBeforeDisable(2)
        .maxMessageAttempts(2)
        .maxMessageSize(4096)
        .listener(RouterListener.both(metrics, seen::add))
        .build());
  }

  /**
   * Three ticks that raise every kind of event but the tick budget's: every outgoing outcome, the
   * server down, the store down, tracked (new and known), rejected, failed, quarantined and gone
   * messages, a mailbox failing until it is disabled.
   */
  private RouterEngine variedRun() {
    RouterEngine engine = engine();
    store.delegate.add(email("e-sent", "Quote for <order 17>", "carol@example.org"));
    store.delegate.add(email("e-part", "Agenda", "dave@example.org", "erin@example.org"));
    store.delegate.add(email("e-retry", "Invoice 42", "frank@example.org"));
    store.delegate.add(email("e-fail", "Welcome", "nobody@example.org"));
    store.delegate.add(email("e-lost", "Reminder", "grace@example.org"));
    smtp.answer("e-part", new SendResult(Outcome.ACCEPTED, "250 2.0.0 Ok", List.of(
        new RecipientResult(EmailAddress.of("dave@example.org"), Outcome.ACCEPTED, "250 2.1.5 Ok"),
        new RecipientResult(EmailAddress.of("erin@example.org"), Outcome.TRANSIENT,
            "450 4.2.0 <erin@example.org>: Recipient address rejected: Greylisted"))));
    smtp.answer("e-retry", SendResult.transientFailure("DATA refused: 451 4.3.0 Error: queue file write error"));
    smtp.answer("e-fail", SendResult.permanentFailure("RCPT TO refused: 550 5.1.1 <nobody@example.org>: "
        + "Recipient address rejected: User unknown in virtual mailbox table"));
    store.loseClaimWhenSent("e-lost");

    sales.add(mail("<unsolicited-1@example.org>", "Hello there", null));
    alice.add(mail("<tracked-1@example.org>", "Lunch?", null));
    String twice = mail("<twice-1@example.org>", "Same message, delivered twice", null);
    alice.add(twice);
    alice.add(twice);
    alice.gone(alice.add(mail("<gone-1@example.org>", "Moved away", null)));
    alice.unreadable(alice.add(mail("<broken-1@example.org>", "Cannot be read", null)));
    alice.reportSize(alice.add(mail("<huge-1@example.org>", "Huge attachment", null)), 50_000_000);
    broken.refuse(true);

    metrics.tick(engine);

    String sentMessageId = store.delegate.find("e-sent").orElseThrow().email().messageId();
    sales.add(mail("<reply-1@example.org>", "RE: Quote for <order 17>", sentMessageId));
    smtp.down(true);
    clock.advance(Duration.ofMinutes(2));
    metrics.tick(engine);

    smtp.down(false);
    store.down(true);
    clock.advance(Duration.ofMinutes(2));
    metrics.tick(engine);
    store.down(false);
    return engine;
  }

  @Test
  void variedRun_countsEveryOutgoingOutcomeByReplyClass() {
    variedRun();

    assertThat(count("emailrouter.emails", "outcome", "sent", "reason", "none")).isEqualTo(1);
    assertThat(count("emailrouter.emails", "outcome", "partly_sent", "reason", "4xx")).isEqualTo(1);
    assertThat(count("emailrouter.emails", "outcome", "retried", "reason", "4xx")).isEqualTo(1);
    assertThat(count("emailrouter.emails", "outcome", "failed", "reason", "5xx")).isEqualTo(1);
    // Second tick: the server is down; the partly sent and the retried email go back without an attempt.
    assertThat(count("emailrouter.emails", "outcome", "retried", "reason", "connection")).isEqualTo(2);
    assertThat(count("emailrouter.claims.lost")).isEqualTo(1);
    assertThat(count("emailrouter.server.unavailable")).isEqualTo(1);
    assertThat(count("emailrouter.store.unavailable", "flow", "outgoing")).isEqualTo(1);
  }

  @Test
  void variedRun_countsIncomingMessagesByDecisionAndReason() {
    variedRun();

    assertThat(count("emailrouter.messages.tracked", "created", "true", "decision", "ACCEPT_ALL")).isEqualTo(2);
    assertThat(count("emailrouter.messages.tracked", "created", "false", "decision", "ACCEPT_ALL")).isEqualTo(1);
    assertThat(count("emailrouter.messages.tracked", "created", "true", "decision", "CORRELATION_MATCH"))
        .isEqualTo(1);
    assertThat(count("emailrouter.messages.rejected", "reason", "NO_CORRELATION_MATCH")).isEqualTo(1);
    assertThat(count("emailrouter.messages.rejected", "reason", "TOO_LARGE")).isEqualTo(1);
    assertThat(count("emailrouter.messages.failed", "quarantined", "false")).isEqualTo(1);
    assertThat(count("emailrouter.messages.failed", "quarantined", "true")).isEqualTo(1);
    assertThat(count("emailrouter.messages.gone")).isEqualTo(1);
    // Each counter agrees with the events the engine reported.
    assertThat(sum("emailrouter.messages.tracked")).isEqualTo(events(RouterEvent.MessageTracked.class));
    assertThat(sum("emailrouter.messages.rejected")).isEqualTo(events(RouterEvent.MessageRejected.class));
    assertThat(sum("emailrouter.messages.failed")).isEqualTo(events(RouterEvent.MessageFailed.class));
  }

  @Test
  void variedRun_countsMailboxFailuresAndGaugesDisabledMailboxes() {
    RouterEngine engine = variedRun();

    assertThat(count("emailrouter.mailbox.failures", "mailbox", "mailbox-3")).isEqualTo(1);
    assertThat(count("emailrouter.mailbox.disablements", "mailbox", "mailbox-3")).isEqualTo(1);
    assertThat(gauge("emailrouter.mailboxes.disabled")).isEqualTo(1);

    engine.enableMailbox("support@example.com");
    assertThat(gauge("emailrouter.mailboxes.disabled")).isZero();
  }

  @Test
  void watch_gaugesAgeOfEachMailboxsLastSuccessfulPass() {
    RouterEngine engine = engine();
    broken.refuse(true);
    assertThat(age("sales")).isNaN();

    metrics.tick(engine);
    clock.advance(Duration.ofSeconds(90));

    assertThat(age("sales")).isEqualTo(90, within(0.001));
    assertThat(age("mailbox-2")).isEqualTo(90, within(0.001));
    assertThat(age("mailbox-3")).as("never read successfully").isNaN();

    metrics.tick(engine);
    assertThat(age("sales")).isZero();
  }

  @Test
  void watch_gaugesEmailsClaimedInFlightDuringTheTickAndNoneAfter() {
    RouterEngine engine = engine();
    store.delegate.add(email("e-1", "One", "carol@example.org"));
    store.delegate.add(email("e-2", "Two", "dave@example.org"));
    store.delegate.add(email("e-3", "Three", "erin@example.org"));
    List<Double> duringSends = new ArrayList<>();
    smtp.beforeSend(() -> duringSends.add(gauge("emailrouter.emails.in.flight")));

    metrics.tick(engine);

    // Accepted emails stay in flight until their group is recorded as Sent (groups of 8, half the
    // default sentBatchSize, so all three here); the gauge is 0 once the tick is over.
    assertThat(duringSends).containsExactly(3.0, 3.0, 3.0);
    assertThat(gauge("emailrouter.emails.in.flight")).isZero();
  }

  @Test
  void tick_recordsEachTickInTheTickTimer() {
    RouterEngine engine = engine();
    smtp.beforeSend(() -> clock.advance(Duration.ofMillis(250)));
    store.delegate.add(email("e-1", "One", "carol@example.org"));

    TickReport first = metrics.tick(engine);
    metrics.tick(engine);

    assertThat(first.sent()).hasSize(1);
    assertThat(registry.get("emailrouter.tick").tag("engine", "test").timer().count()).isEqualTo(2);
    assertThat(registry.get("emailrouter.tick").timer().totalTime(TimeUnit.MILLISECONDS)).isEqualTo(250);
  }

  @Test
  void tick_recordsEachFlowsDurationInTheFlowTimer() {
    RouterEngine engine = engine();
    smtp.beforeSend(() -> clock.advance(Duration.ofMillis(250)));
    sales.onOpen(() -> clock.advance(Duration.ofMillis(40)));
    store.delegate.add(email("e-1", "One", "carol@example.org"));

    TickReport report = metrics.tick(engine);

    assertThat(report.outgoingDuration()).isEqualTo(Duration.ofMillis(250));
    assertThat(report.incomingDuration()).isEqualTo(Duration.ofMillis(40));
    assertThat(report.duration()).isEqualTo(Duration.ofMillis(290));
    assertThat(registry.get("emailrouter.flow").tags("engine", "test", "flow", "outgoing").timer()
        .totalTime(TimeUnit.MILLISECONDS)).isEqualTo(250);
    assertThat(registry.get("emailrouter.flow").tags("flow", "incoming").timer().totalTime(TimeUnit.MILLISECONDS))
        .isEqualTo(40);
    assertThat(registry.get("emailrouter.flow").tags("flow", "incoming").timer().count()).isEqualTo(1);
  }

  @Test
  void tickBudgetUsedUp_isCountedAndDeferredEmailsAreClassedDeferred() {
    RouterEngine engine = metrics.watch(RouterEngine.builder()
        .activityStore(store).transport(smtp).clock(clock).tickBudget(Duration.ofSeconds(10))
        .listener(metrics).build());
    store.delegate.add(email("e-1", "One", "carol@example.org"));
    store.delegate.add(email("e-2", "Two", "carol@example.org"));
    smtp.beforeSend(() -> clock.advance(Duration.ofSeconds(11)));

    metrics.tick(engine);

    assertThat(count("emailrouter.tick.budget.used.up")).isEqualTo(1);
    assertThat(count("emailrouter.emails", "outcome", "retried", "reason", "deferred")).isEqualTo(1);
  }

  @Test
  void outcomeNotRecorded_isCountedByOutcome_apartFromLostClaims() {
    RouterEngine engine = metrics.watch(RouterEngine.builder()
        .activityStore(store).transport(smtp).clock(clock).listener(metrics).build());
    store.delegate.add(email("e-1", "One", "carol@example.org"));
    // The CRM goes away while the server takes the email: its Sent can't be recorded; the claim holds.
    smtp.beforeSend(() -> store.down(true));

    metrics.tick(engine);

    assertThat(count("emailrouter.outcomes.not.recorded", "outcome", "sent")).isEqualTo(1);
    assertThat(registry.find("emailrouter.claims.lost").counter()).isNull();
    assertThat(count("emailrouter.store.unavailable", "flow", "outgoing")).isEqualTo(1);
  }

  @Test
  void everyMeter_afterAVariedRun_hasOnlyBoundedTagValues() {
    variedRun();
    Set<String> forbidden = new HashSet<>(List.of("e-sent", "e-part", "e-retry", "e-fail", "e-lost", "Quote",
        "Agenda", "Invoice", "Lunch", "queue-1", "user-1", "user-2"));
    for (RouterEvent e : seen) {
      if (e instanceof RouterEvent.MessageTracked t) {
        forbidden.add(t.activityId());
        forbidden.add(t.ref());
        forbidden.add(t.messageId());
      } else if (e instanceof RouterEvent.EmailSent t) {
        forbidden.add(t.messageId());
      }
    }
    Map<String, Set<String>> allowedKeys = Map.ofEntries(
        Map.entry("emailrouter.emails", Set.of("engine", "outcome", "reason")),
        Map.entry("emailrouter.store.unavailable", Set.of("engine", "flow")),
        Map.entry("emailrouter.flow", Set.of("engine", "flow")),
        Map.entry("emailrouter.messages.tracked", Set.of("engine", "created", "decision")),
        Map.entry("emailrouter.messages.rejected", Set.of("engine", "reason")),
        Map.entry("emailrouter.messages.failed", Set.of("engine", "quarantined")),
        Map.entry("emailrouter.mailbox.failures", Set.of("engine", "mailbox")),
        Map.entry("emailrouter.mailbox.disablements", Set.of("engine", "mailbox")),
        Map.entry("emailrouter.mailbox.last.success.age", Set.of("engine", "mailbox")));

    List<Meter> meters = registry.getMeters();
    assertThat(meters).extracting(m -> m.getId().getName()).contains("emailrouter.emails",
        "emailrouter.claims.lost", "emailrouter.server.unavailable", "emailrouter.store.unavailable",
        "emailrouter.messages.tracked", "emailrouter.messages.rejected", "emailrouter.messages.failed",
        "emailrouter.messages.gone", "emailrouter.mailbox.failures", "emailrouter.mailbox.disablements",
        "emailrouter.tick", "emailrouter.flow", "emailrouter.mailboxes.disabled", "emailrouter.emails.in.flight",
        "emailrouter.mailbox.last.success.age");
    for (Meter meter : meters) {
      String name = meter.getId().getName();
      assertThat(name).startsWith("emailrouter.");
      for (Tag tag : meter.getId().getTags()) {
        assertThat(tag.getKey()).as(name).isIn(allowedKeys.getOrDefault(name, Set.of("engine")));
        assertThat(tag.getValue()).as(name + " " + tag.getKey())
            .matches("[A-Za-z0-9_-]{1,40}")
            .doesNotContain("@", "<", "example");
        for (String f : forbidden) {
          // Refs are short numbers here: compared whole, longer values anywhere in the tag.
          if (f.length() < 4) {
            assertThat(tag.getValue()).as(name + " " + tag.getKey()).isNotEqualTo(f);
          } else {
            assertThat(tag.getValue()).as(name + " " + tag.getKey()).doesNotContain(f);
          }
        }
      }
    }
  }

  @Test
  void replyClass_takesTheReplyCodeNotNumbersAroundIt() {
    assertThat(RouterMetrics.replyClass("RCPT TO refused: 550 5.1.1 <a@example.org>: unknown")).isEqualTo("5xx");
    assertThat(RouterMetrics.replyClass("451 4.3.0 try again")).isEqualTo("4xx");
    assertThat(RouterMetrics.replyClass("gave up after 10 attempts; last: 421 4.4.2 timeout")).isEqualTo("4xx");
    assertThat(RouterMetrics.replyClass("sending failed before and after reconnecting to smtp.example.test:587"))
        .isEqualTo("other");
    assertThat(RouterMetrics.replyClass("server unavailable: connect refused")).isEqualTo("connection");
    assertThat(RouterMetrics.replyClass("not sent: the activity store is unavailable")).isEqualTo("store");
    assertThat(RouterMetrics.replyClass("unexpected failure: java.lang.IllegalStateException")).isEqualTo("other");
    assertThat(RouterMetrics.replyClass(null)).isEqualTo("other");
  }

  @Test
  void readmeWiring_registersGaugesAndTicksThroughTheMetrics() throws InterruptedException {
    MeterRegistry meterRegistry = registry;
    RouterListener myListener = seen::add;
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try {
      // The README's lines, as written there.
      RouterMetrics metrics = RouterMetrics.bindTo(meterRegistry);
      RouterEngine engine = metrics.watch(RouterEngine.builder().activityStore(store).transport(smtp)
          .listener(RouterListener.both(metrics, myListener)).build());
      scheduler.scheduleWithFixedDelay(() -> metrics.tick(engine), 0, 30, TimeUnit.SECONDS);
    } finally {
      scheduler.shutdown();
      assertThat(scheduler.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(meterRegistry.find("emailrouter.emails.in.flight").gauge()).isNotNull();
    assertThat(meterRegistry.find("emailrouter.tick").timer()).isNotNull();
  }

  private double count(String name, String... tags) {
    return registry.get(name).tags(tags).counter().count();
  }

  private double sum(String name) {
    return registry.find(name).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  private double gauge(String name) {
    return registry.get(name).tag("engine", "test").gauge().value();
  }

  private double age(String mailboxTag) {
    return registry.get("emailrouter.mailbox.last.success.age").tag("mailbox", mailboxTag).timeGauge()
        .value(TimeUnit.SECONDS);
  }

  private long events(Class<? extends RouterEvent> type) {
    return seen.stream().filter(type::isInstance).count();
  }

  private static OutgoingEmail email(String activityId, String subject, String... to) {
    return new OutgoingEmail(activityId, EmailAddress.of("sales@example.com"),
        List.of(to).stream().map(EmailAddress::of).toList(), List.of(), List.of(), subject, "Hello.", null, List.of(),
        null, List.of(), null, null, 0);
  }

  private static String mail(String messageId, String subject, String inReplyTo) {
    return "From: Customer <customer@example.org>\r\n"
        + "To: sales@example.com\r\n"
        + "Subject: " + subject + "\r\n"
        + "Date: Tue, 1 Dec 2026 08:00:00 +0000\r\n"
        + "Message-ID: " + messageId + "\r\n"
        + (inReplyTo == null ? "" : "In-Reply-To: " + inReplyTo + "\r\n")
        + "Content-Type: text/plain; charset=UTF-8\r\n"
        + "\r\n"
        + "Hello.\r\n";
  }
}
