package dev.emailrouter.api;

/**
 * How a mail connection is protected. The default of every router adapter is {@link #STARTTLS};
 * plain text takes an explicit {@link #PLAIN_TEXT_INSECURE}.
 */
public enum Security {
  /** Connect in plain text, then upgrade with STARTTLS; refuse to go on if the server can't. */
  STARTTLS,
  /** TLS from the first byte (SMTPS 465, IMAPS 993, POP3S 995). */
  IMPLICIT_TLS,
  /** No encryption: credentials and mail cross the network readable. Only for tests and loopback. */
  PLAIN_TEXT_INSECURE
}
