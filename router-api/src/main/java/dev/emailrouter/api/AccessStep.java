package dev.emailrouter.api;

import java.util.Objects;

/**
 * One step of a {@linkplain AccessReport Test Access} check, in the order it was taken.
 *
 * @param check what was checked
 * @param outcome how it went
 * @param detail what was seen, for an administrator: the address connected to, the TLS protocol,
 *     the server's own words when it refused; never a credential
 * @param setting the setting to change when the step failed ({@code host}, {@code port}, {@code
 *     security}, {@code trustedCertificates}, {@code credentials}, {@code folder}, ...), or {@code
 *     null} when it passed or no single setting is to blame
 */
public record AccessStep(Check check, Outcome outcome, String detail, String setting) {

  /** What a step checks. */
  public enum Check {
    /** The host name resolves to an address. */
    RESOLVE,
    /** A TCP connection to the host and port opens. */
    CONNECT,
    /** TLS: the server's certificate is trusted and names the host; the protocol version agreed. */
    TLS,
    /** The server greets as the protocol the adapter speaks (not another service on that port). */
    GREETING,
    /** The server accepts the credentials (and, where it says, which mechanism was used). */
    LOGIN,
    /** A folder the settings name exists and can be selected. */
    FOLDER,
    /** SMTP: the server offers AUTH where credentials are set. */
    AUTH,
    /** SMTP: the server accepts the configured sender in MAIL FROM (nothing is sent). */
    SENDER,
    /** SMTP: the largest message the server accepts (its SIZE extension). */
    SIZE_LIMIT
  }

  /** How a step went. */
  public enum Outcome {
    /** The check passed. */
    PASSED,
    /** The check failed; {@link AccessStep#setting()} names what to change where one setting is to blame. */
    FAILED,
    /** The check was not made: an earlier step failed, or it does not apply to these settings. */
    SKIPPED
  }

  /**
   * Validates the components.
   *
   * @param check what was checked
   * @param outcome how it went
   * @param detail what was seen, for an administrator: the address connected to, the TLS protocol, the
   *     server's own words when it refused; never a credential
   * @param setting the setting to change when the step failed ({@code host}, {@code port}, {@code security},
   *     {@code trustedCertificates}, {@code credentials}, {@code folder}, ...), or {@code null} when it passed or
   *     no single setting is to blame
   */
  public AccessStep {
    Objects.requireNonNull(check, "check");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(detail, "detail");
  }

  /**
   * A step that passed.
   *
   * @param check what was checked
   * @param detail what was seen
   * @return the step
   */
  public static AccessStep passed(Check check, String detail) {
    return new AccessStep(check, Outcome.PASSED, detail, null);
  }

  /**
   * A step that failed.
   *
   * @param check what was checked
   * @param detail what went wrong, in the server's words where it gave any
   * @param setting the setting to change, or {@code null} when no single setting is to blame
   * @return the step
   */
  public static AccessStep failed(Check check, String detail, String setting) {
    return new AccessStep(check, Outcome.FAILED, detail, setting);
  }

  /**
   * A step that was not taken.
   *
   * @param check what would have been checked
   * @param why why it was not
   * @return the step
   */
  public static AccessStep skipped(Check check, String why) {
    return new AccessStep(check, Outcome.SKIPPED, why, null);
  }

  /**
   * One line for a log or a console: {@code "LOGIN FAILED: ... (change: credentials)"}.
   *
   * @return the line
   */
  @Override
  public String toString() {
    return check + " " + outcome + ": " + detail + (setting == null ? "" : " (change: " + setting + ")");
  }
}
