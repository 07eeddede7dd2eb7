package dev.emailrouter.micrometer;

import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.RouterListener;
import dev.emailrouter.core.TickReport;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link RouterEngine}'s events, ticks and state as Micrometer meters, all named {@code
 * emailrouter.*}.
 *
 * <p>Three steps wire it: the metrics are the engine's {@link RouterListener} (combine them with the
 * host's own listener through {@link RouterListener#both}), {@link #watch(RouterEngine)} registers the
 * gauges on the built engine, and the host's scheduler ticks through {@link #tick(RouterEngine)} so
 * the tick is timed:
 *
 * <pre>{@code
 * RouterMetrics metrics = RouterMetrics.bindTo(meterRegistry);
 * RouterEngine engine = metrics.watch(RouterEngine.builder().activityStore(store).transport(smtp)
 *     .listener(RouterListener.both(metrics, myListener)).build());
 * scheduler.scheduleWithFixedDelay(() -> metrics.tick(engine), 0, 30, TimeUnit.SECONDS);
 * }</pre>
 *
 * <p>Tag values stay bounded: a server reply becomes a reply class ({@code 4xx}, {@code 5xx},
 * {@code connection}, {@code store}, {@code deferred}, {@code other}, {@code none}), a tracking
 * decision its reason code, and a mailbox its configured name, or {@code mailbox-N} (its position
 * in the engine's configuration, from 1) when the name holds an {@code @}, as the default names
 * taken from a reader's description do; never an address, subject, Message-ID or activity id. The
 * meters are listed in the README's "Metrics" section.
 *
 * <p>Thread-safe: the engine calls the listener from its worker threads, and gauges are read from
 * the registry's threads. Gauges hold the engine weakly, as Micrometer's gauges do: they read
 * {@code NaN} once the engine is garbage collected. To watch several engines in one registry, give
 * each its own metrics with a distinguishing common tag ({@code engine=eu-1}, say), or their
 * gauges collide.
 */
public final class RouterMetrics implements RouterListener {
  /** The prefix of every meter's name. */
  public static final String PREFIX = "emailrouter.";

  /** An SMTP reply code standing alone: not part of a longer number, a port or a version. */
  private static final Pattern REPLY_CODE = Pattern.compile("(?<![0-9.:])([245])[0-9]{2}(?![0-9.:])");

  private final MeterRegistry registry;
  private final Tags common;
  private final Clock clock;
  private final Timer tickTimer;
  private final Timer outgoingTimer;
  private final Timer incomingTimer;
  /** Mailbox name to tag value, learnt from the engines watched. */
  private final Map<String, String> mailboxTags = new ConcurrentHashMap<>();

  private RouterMetrics(MeterRegistry registry, Tags common, Clock clock) {
    this.registry = registry;
    this.common = common;
    this.clock = clock;
    this.tickTimer = Timer.builder(PREFIX + "tick")
        .description("Duration of RouterEngine.tick() (outgoing then incoming flow), as the engine measured it")
        .tags(common)
        .register(registry);
    this.outgoingTimer = flowTimer("outgoing");
    this.incomingTimer = flowTimer("incoming");
  }

  private Timer flowTimer(String flow) {
    return Timer.builder(PREFIX + "flow")
        .description("Duration of one flow within RouterEngine.tick(), as the engine measured it")
        .tags(common)
        .tag("flow", flow)
        .register(registry);
  }

  /**
   * Metrics into {@code registry}, without common tags, ageing mailbox passes by the system UTC
   * clock.
   *
   * @param registry where the meters go
   * @return the metrics, to pass to the engine as its listener
   * @throws NullPointerException if {@code registry} is {@code null}
   */
  public static RouterMetrics bindTo(MeterRegistry registry) {
    return bindTo(registry, Tags.empty(), Clock.systemUTC());
  }

  /**
   * Metrics into {@code registry}, with tags added to every meter.
   *
   * @param registry where the meters go
   * @param commonTags tags every meter carries (e.g. {@code engine=eu-1}); none for an empty list
   * @param clock the engine's clock, against which the age of a mailbox's last successful pass is
   *     measured
   * @return the metrics, to pass to the engine as its listener
   * @throws NullPointerException if an argument is {@code null}
   */
  public static RouterMetrics bindTo(MeterRegistry registry, Iterable<Tag> commonTags, Clock clock) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(commonTags, "commonTags");
    Objects.requireNonNull(clock, "clock");
    return new RouterMetrics(registry, Tags.of(commonTags), clock);
  }

  /**
   * Registers the gauges that read the engine's state: disabled mailboxes, the age of each
   * mailbox's last successful pass, and the emails claimed in flight. Call once per engine, before
   * its first tick, so events name its mailboxes by their tags.
   *
   * @param engine the engine these metrics listen to
   * @return {@code engine}, so the call can wrap {@code build()}
   * @throws NullPointerException if {@code engine} is {@code null}
   */
  public RouterEngine watch(RouterEngine engine) {
    Objects.requireNonNull(engine, "engine");
    List<String> names = engine.mailboxNames();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      mailboxTags.put(name, holdsAddress(name) ? "mailbox-" + (i + 1) : name);
    }
    Gauge.builder(PREFIX + "mailboxes.disabled", engine, e -> e.mailboxNames().stream()
            .filter(e::isMailboxDisabled).count())
        .description("Mailboxes disabled after repeated failures, until RouterEngine.enableMailbox or a restart")
        .tags(common)
        .register(registry);
    Gauge.builder(PREFIX + "emails.in.flight", engine, RouterEngine::emailsInFlight)
        .description("Emails the running tick has claimed and not yet recorded an outcome for")
        .tags(common)
        .register(registry);
    for (String name : names) {
      TimeGauge.builder(PREFIX + "mailbox.last.success.age", engine, TimeUnit.MILLISECONDS,
              e -> e.lastSuccessfulPass(name)
                  .map(at -> (double) Math.max(0, Duration.between(at, clock.instant()).toMillis()))
                  .orElse(Double.NaN))
          .description("Time since the mailbox was last read without failure; NaN before its first such read")
          .tags(common)
          .tag("mailbox", mailboxTag(name))
          .register(registry);
    }
    return engine;
  }

  /**
   * Runs one {@link RouterEngine#tick()} and records its duration in the {@code emailrouter.tick}
   * timer, and each flow's in the {@code emailrouter.flow} timer tagged {@code flow=outgoing} or
   * {@code flow=incoming} (an engine without a transport records zero for outgoing): what the
   * host's scheduler calls instead of {@code engine.tick()}.
   *
   * @param engine the engine
   * @return the tick's report
   * @throws IllegalStateException if the engine was closed (nothing is recorded)
   */
  public TickReport tick(RouterEngine engine) {
    TickReport report = engine.tick();
    tickTimer.record(report.duration());
    outgoingTimer.record(report.outgoingDuration());
    incomingTimer.record(report.incomingDuration());
    return report;
  }

  /**
   * Counts one event; called by the engine.
   *
   * @param event the event
   */
  @Override
  public void onEvent(RouterEvent event) {
    if (event instanceof RouterEvent.EmailSent) {
      email("sent", "none");
    } else if (event instanceof RouterEvent.EmailPartlySent e) {
      List<RecipientResult> pending = e.pending();
      email("partly_sent", pending.isEmpty() ? "other" : replyClass(pending.get(0).serverReply()));
    } else if (event instanceof RouterEvent.EmailRetried e) {
      email("retried", replyClass(e.reason()));
    } else if (event instanceof RouterEvent.EmailFailed e) {
      email("failed", replyClass(e.reason()));
    } else if (event instanceof RouterEvent.ClaimLost) {
      count("claims.lost", "Claims on emails that no longer held when their outcome was recorded (the lease expired "
          + "and another engine claimed the email)", Tags.empty());
    } else if (event instanceof RouterEvent.OutcomeNotRecorded e) {
      count("outcomes.not.recorded", "Emails whose Message-ID or outcome the ActivityStore failed to record; each "
          + "is claimed again when its lease ends", Tags.of("outcome", e.outcome().name().toLowerCase(Locale.ROOT)));
    } else if (event instanceof RouterEvent.ServerUnavailable) {
      count("server.unavailable", "Ticks whose outgoing server could not be used at all (unreachable, TLS, login)",
          Tags.empty());
    } else if (event instanceof RouterEvent.StoreUnavailable e) {
      count("store.unavailable", "Outages of the host's ActivityStore, once per outage", Tags.of("flow", e.flow()));
    } else if (event instanceof RouterEvent.MessageTracked e) {
      count("messages.tracked", "Incoming messages tracked as Received activities",
          Tags.of("created", Boolean.toString(e.created()), "decision", decision(e.decision())));
    } else if (event instanceof RouterEvent.MessageRejected e) {
      count("messages.rejected", "Incoming messages not tracked, by the tracking decision's reason",
          Tags.of("reason", decision(e.decision())));
    } else if (event instanceof RouterEvent.MessageFailed e) {
      count("messages.failed", "Incoming messages that could not be processed; quarantined after their last attempt",
          Tags.of("quarantined", Boolean.toString(e.quarantined())));
    } else if (event instanceof RouterEvent.MessageGone) {
      count("messages.gone", "Incoming messages deleted or moved by another client before they were downloaded",
          Tags.empty());
    } else if (event instanceof RouterEvent.MailboxFailed e) {
      count("mailbox.failures", "Passes of a mailbox that failed as a whole (unreachable, login refused)",
          Tags.of("mailbox", mailboxTag(e.mailbox())));
    } else if (event instanceof RouterEvent.MailboxDisabled e) {
      count("mailbox.disablements", "Mailboxes disabled after too many failures in a row",
          Tags.of("mailbox", mailboxTag(e.mailbox())));
    } else if (event instanceof RouterEvent.TickBudgetUsedUp) {
      count("tick.budget.used.up", "Ticks whose tickBudget ran out before their work was done", Tags.empty());
    }
    // Any other event (a later version's) is not counted until this class learns it.
  }

  /**
   * The bounded class of a server reply or failure reason, as the {@code reason} tag of {@code
   * emailrouter.emails} carries it.
   *
   * @param reason the reply or reason, or {@code null}
   * @return {@code 2xx} to {@code 5xx} for an SMTP reply code, {@code connection} when the server
   *     could not be used, {@code store} when the activity store was unavailable, {@code deferred}
   *     when the tick's time ran out, otherwise {@code other}
   */
  static String replyClass(String reason) {
    if (reason == null) {
      return "other";
    }
    // These prefixes are the engine's own wording for an email that was not tried at all.
    if (reason.startsWith("server unavailable")) {
      return "connection";
    }
    if (reason.contains("activity store is unavailable")) {
      return "store";
    }
    if (reason.startsWith("the tick's time")) {
      return "deferred";
    }
    int last = reason.indexOf("; last: ");
    String reply = reason.startsWith("gave up after") && last >= 0 ? reason.substring(last + 8) : reason;
    Matcher m = REPLY_CODE.matcher(reply);
    return m.find() ? m.group(1) + "xx" : "other";
  }

  private static String decision(TrackingDecision decision) {
    return decision == null || decision.reason() == null ? "unknown" : decision.reason().name();
  }

  private static boolean holdsAddress(String name) {
    return name.indexOf('@') >= 0 || name.toLowerCase(Locale.ROOT).contains("%40");
  }

  private String mailboxTag(String name) {
    if (name == null) {
      return "none";
    }
    String known = mailboxTags.get(name);
    if (known != null) {
      return known;
    }
    return holdsAddress(name) ? "unnamed" : name;
  }

  private void email(String outcome, String reason) {
    count("emails", "Outgoing emails by outcome (sent, partly_sent, retried, failed) and reply class",
        Tags.of("outcome", outcome, "reason", reason));
  }

  private void count(String name, String description, Tags tags) {
    Counter.builder(PREFIX + name).description(description).tags(common).tags(tags).register(registry).increment();
  }
}
