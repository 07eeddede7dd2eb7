package dev.emailrouter.api;

import dev.emailrouter.api.TrackingDecision.Reason;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The ready-made policies behind {@link TrackingPolicy}'s factories. */
final class BuiltInPolicies {

  static final TrackingPolicy NONE =
      (message, context) -> TrackingDecision.reject(Reason.TRACKING_DISABLED, "the mailbox tracks no email");

  static final TrackingPolicy ALL = (message, context) -> TrackingDecision.track(Reason.ACCEPT_ALL, "");

  static final TrackingPolicy RESPONSES = (message, context) -> {
    Optional<Correlation> correlation = context.correlation();
    if (correlation.isPresent()) {
      return correlated(correlation.get());
    }
    if (message.autoResponse() != AutoResponse.NONE) {
      return autoResponse(message);
    }
    return TrackingDecision.reject(Reason.NO_CORRELATION_MATCH, "answers no CRM email");
  };

  static final TrackingPolicy LEADS_CONTACTS_ACCOUNTS =
      fromParties(EnumSet.of(Party.Type.CONTACT, Party.Type.LEAD, Party.Type.ACCOUNT), "a lead, contact or account");

  static final TrackingPolicy EMAIL_ENABLED = fromParties(EnumSet.allOf(Party.Type.class), "an email-enabled record");

  private BuiltInPolicies() {}

  private static TrackingPolicy fromParties(Set<Party.Type> accepted, String what) {
    return (message, context) -> {
      Optional<Correlation> correlation = context.correlation();
      if (correlation.isPresent()) {
        return correlated(correlation.get());
      }
      if (message.autoResponse() != AutoResponse.NONE) {
        return autoResponse(message);
      }
      if (message.from() == null) {
        return TrackingDecision.reject(Reason.INVALID_SENDER, "no valid From address");
      }
      if (context.isInternal()) {
        return TrackingDecision.reject(Reason.INTERNAL_EMAIL_REJECTED, "sent between CRM users or queues only");
      }
      List<Party> senders = context.senderParties();
      for (Party party : senders) {
        if (accepted.contains(party.type())) {
          return TrackingDecision.track(Reason.SENDER_MATCH,
              "sender is " + party.type().name().toLowerCase(java.util.Locale.ROOT) + " " + party.id());
        }
      }
      return TrackingDecision.reject(Reason.NO_RECIPIENT_MATCH, "sender is not " + what);
    };
  }

  private static TrackingDecision correlated(Correlation correlation) {
    return TrackingDecision.track(Reason.CORRELATION_MATCH,
        "answers activity " + correlation.activityId() + " (" + correlation.rule() + ")");
  }

  private static TrackingDecision autoResponse(IncomingMessage message) {
    return TrackingDecision.reject(Reason.AUTO_RESPONSE,
        "automatic message (" + message.autoResponse() + ") that answers no CRM email");
  }
}
