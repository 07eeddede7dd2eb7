package dev.emailrouter.api;

/**
 * The status of an email activity, with the numbers Dynamics CRM uses for its {@code statuscode},
 * so a host mapping a CRM's own codes recognises them.
 */
public enum EmailStatus {
  /** Saved, not yet sent by the user. */
  DRAFT(1),
  /** Completed without being sent. */
  COMPLETED(2),
  /** Accepted by the outgoing server. */
  SENT(3),
  /** Created from an incoming message. */
  RECEIVED(4),
  /** Canceled by the user. */
  CANCELED(5),
  /** Waiting to be sent; the router claims emails in this state. */
  PENDING_SEND(6),
  /** Claimed by an engine that is sending it (under a lease). */
  SENDING(7),
  /** Refused permanently, or out of attempts. */
  FAILED(8);

  private final int code;

  EmailStatus(int code) {
    this.code = code;
  }

  /**
   * The Dynamics {@code statuscode} number.
   *
   * @return the code, 1 to 8
   */
  public int code() {
    return code;
  }

  /**
   * Returns the status with a Dynamics {@code statuscode} number.
   *
   * @param code the number, 1 to 8
   * @return the status
   * @throws IllegalArgumentException if no status has that code
   */
  public static EmailStatus ofCode(int code) {
    for (EmailStatus status : values()) {
      if (status.code == code) {
        return status;
      }
    }
    throw new IllegalArgumentException("code must be an email statuscode between 1 and 8, was " + code);
  }
}
