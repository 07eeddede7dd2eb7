package dev.emailrouter.core;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Correlation;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.IncomingMessage;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.PolicyContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The policy's view of one message; each store lookup runs at most once, and only when asked. A
 * lookup the store fails transiently throws {@link StoreOutage} through the policy.
 */
final class IncomingContext implements PolicyContext {
  private final ActivityStore store;
  private final StoreHealth health;
  private final TrackingTokens tokens;
  private final IncomingMessage message;
  private final Party owner;
  private Optional<Correlation> correlation;
  private List<Party> senders;
  private List<Party> recipients;
  private Boolean internal;

  IncomingContext(ActivityStore store, StoreHealth health, TrackingTokens tokens, IncomingMessage message,
      Party owner) {
    this.store = store;
    this.health = health;
    this.tokens = tokens;
    this.message = message;
    this.owner = owner;
  }

  @Override
  public Optional<Correlation> correlation() {
    if (correlation == null) {
      correlation = correlate();
    }
    return correlation;
  }

  private Optional<Correlation> correlate() {
    if (message.inReplyTo() != null) {
      Optional<ActivityRef> ref = health.call(() -> store.findByMessageId(message.inReplyTo()));
      if (ref.isPresent()) {
        return Optional.of(new Correlation(ref.get().activityId(), Correlation.Rule.IN_REPLY_TO, message.inReplyTo()));
      }
    }
    List<String> refs = message.references();
    for (int i = refs.size() - 1; i >= Math.max(0, refs.size() - IncomingHeaders.MAX_REFERENCES); i--) {
      String id = refs.get(i);
      if (id.equals(message.inReplyTo())) {
        continue;
      }
      Optional<ActivityRef> ref = health.call(() -> store.findByMessageId(id));
      if (ref.isPresent()) {
        return Optional.of(new Correlation(ref.get().activityId(), Correlation.Rule.REFERENCES, id));
      }
    }
    Optional<String> token = tokens.find(message.subject());
    if (token.isPresent()) {
      Optional<ActivityRef> ref = health.call(() -> store.findByTrackingToken(token.get()));
      if (ref.isPresent()) {
        return Optional.of(new Correlation(ref.get().activityId(), Correlation.Rule.TRACKING_TOKEN, token.get()));
      }
    }
    return Optional.empty();
  }

  @Override
  public List<Party> senderParties() {
    if (senders == null) {
      senders = message.from() == null ? List.of() : health.call(() -> store.resolve(message.from()));
    }
    return senders;
  }

  @Override
  public List<Party> recipientParties() {
    if (recipients == null) {
      List<Party> all = new ArrayList<>();
      for (EmailAddress a : all(message)) {
        all.addAll(health.call(() -> store.resolve(a)));
      }
      recipients = List.copyOf(all);
    }
    return recipients;
  }

  @Override
  public boolean isInternal() {
    if (internal == null) {
      internal = computeInternal();
    }
    return internal;
  }

  private boolean computeInternal() {
    List<Party> from = senderParties();
    if (from.isEmpty() || !from.stream().allMatch(Party::isInternal)) {
      return false;
    }
    List<EmailAddress> addresses = all(message);
    if (addresses.isEmpty()) {
      return false;
    }
    for (EmailAddress a : addresses) {
      List<Party> parties = health.call(() -> store.resolve(a));
      if (parties.isEmpty() || !parties.stream().allMatch(Party::isInternal)) {
        return false;
      }
    }
    return true;
  }

  private static List<EmailAddress> all(IncomingMessage m) {
    List<EmailAddress> all = new ArrayList<>(m.to());
    all.addAll(m.cc());
    return all;
  }

  @Override
  public Party owner() {
    return owner;
  }
}
