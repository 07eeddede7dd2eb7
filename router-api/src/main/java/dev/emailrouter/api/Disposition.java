package dev.emailrouter.api;

/**
 * What the engine concluded about a mailbox message; the reader applies the post-action configured
 * for it.
 */
public enum Disposition {
  /** An activity exists for it now (created, or created before). */
  TRACKED,
  /** The policy rejected it; by default it is left as it is. */
  REJECTED,
  /**
   * It could not be processed after the configured number of attempts; the reader moves it aside
   * where it can (an IMAP quarantine folder) and never deletes it.
   */
  QUARANTINED
}
