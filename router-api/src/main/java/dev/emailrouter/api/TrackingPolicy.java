package dev.emailrouter.api;

import java.util.Objects;

/**
 * Decides whether an incoming message becomes a CRM email activity.
 *
 * <p>The engine asks after it has ruled out duplicates and mail loops, and before it downloads the
 * message's body, so a policy sees headers only ({@link IncomingMessage}) plus what the {@link
 * PolicyContext} looks up on demand. The ready-made policies are the E-mail Router's options, each
 * including the one before: {@link #none()}, {@link #responsesToCrmEmail()} (the default), {@link
 * #fromLeadsContactsAndAccounts()}, {@link #fromEmailEnabledRecords()}, {@link #allEmail()}. The
 * built-in policies other than {@code allEmail()} reject automatic messages (auto-replies, bulk
 * mail, bounces) unless they answer a CRM email; {@link #rejectingAutoResponses()} rejects them
 * even then.
 *
 * <p>Implementations must be thread-safe: the engine may read several mailboxes at once.
 */
@FunctionalInterface
public interface TrackingPolicy {

  /**
   * Decides about one message.
   *
   * @param message the message's decoded headers
   * @param context the correlation and the CRM parties involved, looked up on demand
   * @return the decision with its reason; never {@code null}
   */
  TrackingDecision decide(IncomingMessage message, PolicyContext context);

  /**
   * A policy that tracks when this one or {@code other} does. The decision reported is this
   * policy's, unless only {@code other} tracks.
   *
   * @param other the other policy
   * @return the combined policy
   */
  default TrackingPolicy or(TrackingPolicy other) {
    Objects.requireNonNull(other, "other");
    return (message, context) -> {
      TrackingDecision first = decide(message, context);
      if (first.track()) {
        return first;
      }
      TrackingDecision second = other.decide(message, context);
      return second.track() ? second : first;
    };
  }

  /**
   * A policy that tracks only when both this one and {@code other} do. The decision reported is
   * the first rejection, or this policy's decision when both track.
   *
   * @param other the other policy
   * @return the combined policy
   */
  default TrackingPolicy and(TrackingPolicy other) {
    Objects.requireNonNull(other, "other");
    return (message, context) -> {
      TrackingDecision first = decide(message, context);
      if (!first.track()) {
        return first;
      }
      TrackingDecision second = other.decide(message, context);
      return second.track() ? first : second;
    };
  }

  /**
   * This policy, except that every automatic message (auto-reply, bulk, bounce) is rejected, even
   * one that answers a CRM email.
   *
   * @return the stricter policy
   */
  default TrackingPolicy rejectingAutoResponses() {
    return (message, context) -> message.autoResponse() != AutoResponse.NONE
        ? TrackingDecision.reject(TrackingDecision.Reason.AUTO_RESPONSE, "automatic message: " + message.autoResponse())
        : decide(message, context);
  }

  /**
   * Tracks no email (E-mail Router: "No e-mail messages").
   *
   * @return the policy
   */
  static TrackingPolicy none() {
    return BuiltInPolicies.NONE;
  }

  /**
   * Tracks every message (E-mail Router: "All e-mail messages").
   *
   * @return the policy
   */
  static TrackingPolicy allEmail() {
    return BuiltInPolicies.ALL;
  }

  /**
   * Tracks messages that answer a CRM email, by In-Reply-To, References or tracking token
   * (E-mail Router: "E-mail messages in response to CRM e-mail"). The default.
   *
   * @return the policy
   */
  static TrackingPolicy responsesToCrmEmail() {
    return BuiltInPolicies.RESPONSES;
  }

  /**
   * Tracks responses to CRM email and messages from a CRM lead, contact or account (E-mail
   * Router: "E-mail messages from CRM Leads, Contacts and Accounts").
   *
   * @return the policy
   */
  static TrackingPolicy fromLeadsContactsAndAccounts() {
    return BuiltInPolicies.LEADS_CONTACTS_ACCOUNTS;
  }

  /**
   * Tracks responses to CRM email and messages from any email-enabled CRM record (E-mail Router:
   * "E-mail messages from CRM records that are e-mail enabled"). Mail between CRM users and queues
   * only is rejected as internal.
   *
   * @return the policy
   */
  static TrackingPolicy fromEmailEnabledRecords() {
    return BuiltInPolicies.EMAIL_ENABLED;
  }
}
