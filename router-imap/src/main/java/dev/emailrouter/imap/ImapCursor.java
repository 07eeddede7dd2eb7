package dev.emailrouter.imap;

/**
 * The reader's position in a folder, stored by the engine as {@code v1:<uidvalidity>:<last uid>},
 * or {@code v1:<uidvalidity>:<last uid>:<filter end>} while a first sync limited by
 * {@code processReceivedAfter} still has pages to go (UIDs below the filter end are still subject
 * to the receive-date filter).
 *
 * @param uidValidity the folder's UIDVALIDITY the UIDs belong to
 * @param lastUid every message up to this UID has been returned (or skipped on purpose)
 * @param filterEnd 0, or the UIDNEXT of the first sync while its receive-date filter still applies
 */
record ImapCursor(long uidValidity, long lastUid, long filterEnd) {

  private static final String VERSION = "v1";

  ImapCursor {
    if (uidValidity < 0 || lastUid < 0 || filterEnd < 0) {
      throw new IllegalArgumentException("cursor values must not be negative: " + uidValidity + ", " + lastUid
          + ", " + filterEnd);
    }
  }

  /**
   * Reads a cursor this reader wrote.
   *
   * @param text a non-empty cursor
   * @return the cursor
   * @throws IllegalArgumentException if {@code text} is not one
   */
  static ImapCursor parse(String text) {
    String[] parts = text.split(":", -1);
    if ((parts.length != 3 && parts.length != 4) || !parts[0].equals(VERSION)) {
      throw new IllegalArgumentException("not an IMAP cursor of this reader: '" + text + "'");
    }
    try {
      return new ImapCursor(Long.parseLong(parts[1]), Long.parseLong(parts[2]),
          parts.length == 4 ? Long.parseLong(parts[3]) : 0);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not an IMAP cursor of this reader: '" + text + "'", e);
    }
  }

  String format() {
    return VERSION + ":" + uidValidity + ":" + lastUid + (filterEnd > 0 ? ":" + filterEnd : "");
  }
}
