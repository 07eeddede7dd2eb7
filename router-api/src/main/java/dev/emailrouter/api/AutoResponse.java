package dev.emailrouter.api;

/** What kind of automatic message an incoming message is, judged from its headers. */
public enum AutoResponse {
  /** Written by a person, as far as the headers tell. */
  NONE,
  /** An automatic reply: {@code Auto-Submitted: auto-replied} (RFC 3834), an out-of-office. */
  AUTO_REPLY,
  /**
   * Generated mail: {@code Auto-Submitted: auto-generated}, {@code Precedence: bulk/junk/list}, a
   * mailing list, {@code X-Auto-Response-Suppress}.
   */
  AUTO_GENERATED,
  /** A delivery status notification: a null return path ({@code Return-Path: <>}) or a DSN report. */
  BOUNCE,
  /** A message this router sent coming back, or one that already went round a loop. */
  LOOP
}
