package dev.emailrouter.micrometer;

import dev.emailrouter.api.Claim;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.testfixtures.StoreOutage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An {@link InMemoryActivityStore} that can go down as a whole (every call throws {@link
 * TransientRouterException}) and can lose the claim on chosen emails when they are marked Sent.
 */
final class SwitchableStore extends StoreOutage {
  final InMemoryActivityStore delegate;
  private final Set<String> staleOnSent = ConcurrentHashMap.newKeySet();

  SwitchableStore() {
    this(new InMemoryActivityStore());
  }

  private SwitchableStore(InMemoryActivityStore delegate) {
    super(delegate);
    this.delegate = delegate;
  }

  void down(boolean value) {
    if (value) {
      start(Mode.ALL);
    } else {
      stop();
    }
  }

  void loseClaimWhenSent(String activityId) {
    staleOnSent.add(activityId);
  }

  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    if (!on() && staleOnSent.contains(claim.activityId())) {
      throw new StaleClaimException(claim);
    }
    super.markSent(claim, sentAt, result);
  }

  @Override
  public List<String> markSentAll(List<SentOutcome> outcomes) {
    if (on()) {
      return super.markSentAll(outcomes); // fails as a whole
    }
    List<String> stale = new ArrayList<>();
    List<SentOutcome> kept = new ArrayList<>();
    for (SentOutcome o : outcomes) {
      if (staleOnSent.contains(o.claim().activityId())) {
        stale.add(o.claim().activityId());
      } else {
        kept.add(o);
      }
    }
    stale.addAll(super.markSentAll(kept));
    return stale;
  }
}
