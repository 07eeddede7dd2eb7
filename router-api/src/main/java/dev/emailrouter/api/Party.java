package dev.emailrouter.api;

import java.util.Objects;

/**
 * A CRM record an email address belongs to.
 *
 * @param type what kind of record
 * @param id the CRM's id for it
 * @param name a display name, or the empty string
 */
public record Party(Type type, String id, String name) {

  /** Kinds of CRM records that have email addresses. */
  public enum Type {
    /** A CRM user (Dynamics systemuser). */
    USER,
    /** A queue. */
    QUEUE,
    /** A contact. */
    CONTACT,
    /** A lead. */
    LEAD,
    /** An account. */
    ACCOUNT,
    /** Any other email-enabled record. */
    OTHER
  }

  /**
   * Validates the components.
   *
   * @param type what kind of record
   * @param id the CRM's id for it
   * @param name a display name, or the empty string
   */
  public Party {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(name, "name");
  }

  /**
   * Whether this party is internal to the organisation (a user or a queue).
   *
   * @return {@code true} for {@link Type#USER} and {@link Type#QUEUE}
   */
  public boolean isInternal() {
    return type == Type.USER || type == Type.QUEUE;
  }
}
