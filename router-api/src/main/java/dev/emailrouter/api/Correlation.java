package dev.emailrouter.api;

import java.util.Objects;

/**
 * The CRM email an incoming message answers, and how that was found.
 *
 * @param activityId the email activity it answers
 * @param rule the rule that matched
 * @param matchedValue the Message-ID or tracking token that matched
 */
public record Correlation(String activityId, Rule rule, String matchedValue) {

  /** Correlation rules, in the order they are tried. */
  public enum Rule {
    /** The In-Reply-To header names a CRM email's Message-ID. */
    IN_REPLY_TO,
    /** One of the newest References names a CRM email's Message-ID. */
    REFERENCES,
    /** The subject carries a CRM email's tracking token. */
    TRACKING_TOKEN
  }

  /**
   * Validates the components.
   *
   * @param activityId the email activity it answers
   * @param rule the rule that matched
   * @param matchedValue the Message-ID or tracking token that matched
   */
  public Correlation {
    Objects.requireNonNull(activityId, "activityId");
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(matchedValue, "matchedValue");
  }
}
