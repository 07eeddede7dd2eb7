package dev.emailrouter.spring;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The engine's health, built on the latest Test Access (run in the background by {@link
 * TestAccessRunner}, never by a health request) and on the outcome of the last tick.
 *
 * <p>DOWN when the latest Test Access of the transport or of a mailbox failed, when the last tick
 * threw or found the outgoing server or the store unavailable, or when a mailbox is disabled or
 * failed since its last successful pass; UNKNOWN while neither a Test Access nor a tick has ended;
 * UP otherwise. The details hold the Test Access schedule and, for the transport, its latest
 * outcome; the last tick's counts (among them {@code outcomesNotRecorded}: emails whose outcome the store
 * failed to record, each claimed again after its lease) and problems; and per mailbox its state from the ticks ({@code
 * ok}, {@code failing}, {@code disabled}, {@code not read yet}), its last successful pass, its last
 * failure's reason, and its latest Test Access: {@code UP} or {@code DOWN}, when it was checked and,
 * when it failed, the first failed step's check, detail and the setting to change (never a
 * credential). Thread-safe.
 */
final class RouterHealthIndicator implements HealthIndicator {
  private final RouterEngine engine;
  private final RouterTicker ticker;
  private final TestAccessRunner testAccess;

  RouterHealthIndicator(RouterEngine engine, RouterTicker ticker, TestAccessRunner testAccess) {
    this.engine = engine;
    this.ticker = ticker;
    this.testAccess = testAccess;
  }

  @Override
  public Health health() {
    Optional<RouterTicker.Outcome> outcome = ticker.lastOutcome();
    boolean down = false;
    Map<String, Object> lastTick = new LinkedHashMap<>();
    if (outcome.isEmpty()) {
      lastTick.put("state", "none yet");
    } else if (outcome.get().failure() != null) {
      down = true;
      lastTick.put("finishedAt", outcome.get().finishedAt().toString());
      lastTick.put("error", outcome.get().failure().toString());
    } else {
      TickReport r = outcome.get().report();
      lastTick.put("startedAt", r.startedAt().toString());
      lastTick.put("duration", r.duration().toString());
      lastTick.put("outgoingDuration", r.outgoingDuration().toString());
      lastTick.put("incomingDuration", r.incomingDuration().toString());
      lastTick.put("sent", r.sent().size());
      lastTick.put("retried", r.retried().size());
      lastTick.put("failed", r.failed().size());
      lastTick.put("tracked", r.tracked().size());
      lastTick.put("rejected", r.rejected().size());
      lastTick.put("messageFailures", r.messageFailures().size());
      // Not DOWN by itself: each such email is claimed again after its lease; an outage of the
      // store is DOWN through its StoreUnavailable.
      lastTick.put("outcomesNotRecorded", r.outcomesNotRecorded().size());
      List<String> problems = r.problems().stream().map(RouterHealthIndicator::describe).toList();
      lastTick.put("problems", problems);
      down = r.problems().stream()
          .anyMatch(e -> e instanceof RouterEvent.ServerUnavailable || e instanceof RouterEvent.StoreUnavailable);
    }
    Optional<TestAccessRunner.Result> access = testAccess.latest();
    Map<String, Object> accessSchedule = new LinkedHashMap<>();
    if (!testAccess.enabled()) {
      accessSchedule.put("state", "off");
    } else {
      accessSchedule.put("interval", testAccess.interval().toString());
      accessSchedule.put("lastRun", access.map(a -> a.checkedAt().toString()).orElse("none yet"));
    }
    Map<String, Object> transport = null;
    Optional<AccessReport> transportReport = access.flatMap(a -> a.report("transport"));
    if (transportReport.isPresent()) {
      transport = new LinkedHashMap<>();
      Map<String, Object> t = accessDetail(access.get(), transportReport.get());
      down |= !transportReport.get().ok();
      transport.put("status", t.get("status"));
      transport.put("testAccess", t);
    }
    Map<String, Object> mailboxes = new LinkedHashMap<>();
    boolean anyKnown = false;
    for (String name : engine.mailboxNames()) {
      Map<String, Object> m = new LinkedHashMap<>();
      Optional<RouterEvent> failure = ticker.failure(name);
      String state;
      if (engine.isMailboxDisabled(name)) {
        state = "disabled";
      } else if (failure.isPresent()) {
        state = "failing";
      } else if (engine.lastSuccessfulPass(name).isPresent()) {
        state = "ok";
      } else {
        state = "not read yet";
      }
      Optional<AccessReport> report = access.flatMap(a -> a.report(name));
      boolean mailboxDown = state.equals("disabled") || state.equals("failing")
          || report.map(r -> !r.ok()).orElse(false);
      boolean known = !state.equals("not read yet") || report.isPresent();
      down |= mailboxDown;
      anyKnown |= known;
      m.put("status", mailboxDown ? Status.DOWN.getCode() : known ? Status.UP.getCode() : Status.UNKNOWN.getCode());
      m.put("state", state);
      engine.lastSuccessfulPass(name).ifPresent(t -> m.put("lastSuccessfulPass", t.toString()));
      failure.ifPresent(f -> {
        if (f instanceof RouterEvent.MailboxFailed mf) {
          m.put("consecutiveFailures", mf.consecutiveFailures());
          m.put("reason", mf.reason());
          m.put("retryAt", String.valueOf(mf.retryAt()));
        } else if (f instanceof RouterEvent.MailboxDisabled md) {
          m.put("consecutiveFailures", md.consecutiveFailures());
          m.put("reason", md.reason());
        }
      });
      report.ifPresent(r -> m.put("testAccess", accessDetail(access.get(), r)));
      mailboxes.put(name, m);
    }
    boolean anyResult = outcome.isPresent() || anyKnown || transportReport.isPresent();
    Status status = down ? Status.DOWN : anyResult ? Status.UP : Status.UNKNOWN;
    Health.Builder health = Health.status(status).withDetail("testAccess", accessSchedule);
    if (transport != null) {
      health.withDetail("transport", transport);
    }
    return health.withDetail("lastTick", lastTick).withDetail("mailboxes", mailboxes).build();
  }

  /** One target's latest Test Access: the setting to change comes from the report, which holds no credential. */
  private static Map<String, Object> accessDetail(TestAccessRunner.Result result, AccessReport report) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("status", report.ok() ? Status.UP.getCode() : Status.DOWN.getCode());
    d.put("checkedAt", result.checkedAt().toString());
    report.firstFailure().ifPresent(step -> {
      d.put("check", step.check().name());
      d.put("detail", step.detail());
      if (step.setting() != null) {
        d.put("setting", step.setting());
      }
    });
    return d;
  }

  private static String describe(RouterEvent e) {
    String reason = "";
    if (e instanceof RouterEvent.ServerUnavailable s) {
      reason = s.reason();
    } else if (e instanceof RouterEvent.StoreUnavailable s) {
      reason = s.flow() + ": " + s.reason();
    } else if (e instanceof RouterEvent.MailboxFailed f) {
      reason = f.mailbox() + ": " + f.reason();
    } else if (e instanceof RouterEvent.MailboxDisabled d) {
      reason = d.mailbox() + ": " + d.reason();
    } else if (e instanceof RouterEvent.ClaimLost c) {
      reason = c.reason();
    } else if (e instanceof RouterEvent.OutcomeNotRecorded n) {
      reason = n.outcome() + " not recorded, claimable again at " + n.claimableAt() + ": " + n.reason();
    }
    return e.getClass().getSimpleName() + (reason.isEmpty() ? "" : " (" + reason + ")");
  }
}
