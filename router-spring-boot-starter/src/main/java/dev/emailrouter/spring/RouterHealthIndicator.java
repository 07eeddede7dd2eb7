package dev.emailrouter.spring;

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
 * The engine's health, built on the outcome of the last tick and each mailbox's state: it runs no
 * Test Access probe and connects to no server itself, so a mailbox's health changes only when a
 * tick reads it.
 *
 * <p>DOWN when the last tick threw, when it found the outgoing server or the store unavailable,
 * or when a mailbox is disabled or failed since its last successful pass; UNKNOWN before the first
 * tick; UP otherwise. The details hold the last tick's counts and problems and, per mailbox, its
 * state ({@code ok}, {@code failing}, {@code disabled}, {@code not read yet}), its last successful
 * pass and its last failure's reason. Thread-safe.
 */
final class RouterHealthIndicator implements HealthIndicator {
  private final RouterEngine engine;
  private final RouterTicker ticker;

  RouterHealthIndicator(RouterEngine engine, RouterTicker ticker) {
    this.engine = engine;
    this.ticker = ticker;
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
      List<String> problems = r.problems().stream().map(RouterHealthIndicator::describe).toList();
      lastTick.put("problems", problems);
      down = r.problems().stream()
          .anyMatch(e -> e instanceof RouterEvent.ServerUnavailable || e instanceof RouterEvent.StoreUnavailable);
    }
    Map<String, Object> mailboxes = new LinkedHashMap<>();
    boolean anyRead = false;
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
      boolean mailboxDown = state.equals("disabled") || state.equals("failing");
      down |= mailboxDown;
      anyRead |= !state.equals("not read yet");
      m.put("status", mailboxDown ? Status.DOWN.getCode() : state.equals("ok") ? Status.UP.getCode()
          : Status.UNKNOWN.getCode());
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
      mailboxes.put(name, m);
    }
    Status status = down ? Status.DOWN : outcome.isEmpty() && !anyRead ? Status.UNKNOWN : Status.UP;
    return Health.status(status).withDetail("lastTick", lastTick).withDetail("mailboxes", mailboxes).build();
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
    }
    return e.getClass().getSimpleName() + (reason.isEmpty() ? "" : " (" + reason + ")");
  }
}
