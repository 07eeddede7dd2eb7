package dev.emailrouter.reliability;

import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.RouterListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects the final outcome of every incoming message from the engine's events: tracked, rejected
 * (with the reason), or quarantined after its last failed attempt. Failed attempts before the last
 * are not outcomes. Thread-safe.
 */
final class Outcomes implements RouterListener {

  /** A message's final outcome, as the report gave it. */
  record Outcome(String ref, Disposition disposition, String detail) {}

  private final Map<String, List<Outcome>> byRef = new TreeMap<>();
  private int attempts;

  @Override
  public synchronized void onEvent(RouterEvent event) {
    if (event instanceof RouterEvent.MessageTracked t) {
      add(new Outcome(t.ref(), Disposition.TRACKED, t.created() ? "created" : "existed"));
    } else if (event instanceof RouterEvent.MessageRejected r) {
      // A duplicate counts as tracked: its activity exists, and its post-action runs.
      add(new Outcome(r.ref(), r.decision().reason() == TrackingDecision.Reason.DUPLICATE ? Disposition.TRACKED
          : Disposition.REJECTED, r.decision().reason().name()));
    } else if (event instanceof RouterEvent.MessageFailed f) {
      attempts++;
      if (f.quarantined()) {
        add(new Outcome(f.ref(), Disposition.QUARANTINED, f.reason()));
      }
    }
  }

  private void add(Outcome o) {
    byRef.computeIfAbsent(o.ref(), k -> new ArrayList<>()).add(o);
  }

  /** Every outcome by message reference. */
  synchronized Map<String, List<Outcome>> byRef() {
    Map<String, List<Outcome>> copy = new TreeMap<>();
    byRef.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    return copy;
  }

  synchronized boolean has(String ref) {
    return byRef.containsKey(ref);
  }

  /** Failed attempts reported, the last ones included. */
  synchronized int failedAttempts() {
    return attempts;
  }

  synchronized long count(Disposition d) {
    return byRef.values().stream().flatMap(List::stream).filter(o -> o.disposition() == d).count();
  }
}
