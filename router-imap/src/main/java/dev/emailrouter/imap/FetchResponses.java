package dev.emailrouter.imap;

import dev.emailrouter.api.TransientRouterException;
import jakarta.mail.MessagingException;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.eclipse.angus.mail.iap.Response;
import org.eclipse.angus.mail.imap.protocol.BODY;
import org.eclipse.angus.mail.imap.protocol.FetchResponse;
import org.eclipse.angus.mail.imap.protocol.INTERNALDATE;
import org.eclipse.angus.mail.imap.protocol.RFC822SIZE;
import org.eclipse.angus.mail.imap.protocol.UID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the answers to a {@code UID FETCH} by UID, never by message sequence number: RFC 3501
 * (7.4.1) lets a server send EXPUNGE in the middle of a UID command, which shifts the sequence
 * numbers of the responses after it, and other clients' flag changes arrive as unsolicited FETCH
 * responses among the answers. A message asked for that got no answer is taken for gone only once
 * {@code UID SEARCH} confirms it no longer exists ({@link #requireGone}).
 */
final class FetchResponses {

  private static final Logger log = LoggerFactory.getLogger(FetchResponses.class);

  private FetchResponses() {}

  /**
   * The items of the FETCH responses among {@code responses} that name a UID in {@code asked}, by
   * UID. A message's sequence number is no key: an EXPUNGE amid the answer renumbers the messages
   * after it, so two messages would share one. A response without a UID can't be attributed: an
   * unsolicited flag change is ignored, data we asked for is left out (and logged), so the message it
   * belongs to counts as unanswered rather than taking another's place.
   *
   * @param mailbox the mailbox's description, for the log
   * @return the messages answered, by UID in ascending order
   */
  static Map<Long, Fetched> byUid(Response[] responses, Set<Long> asked, String mailbox) {
    Map<Long, Fetched> messages = new TreeMap<>();
    int unattributed = 0;
    String example = null;
    for (Response r : responses) {
      if (!(r instanceof FetchResponse f)) {
        continue;
      }
      UID uid = f.getItem(UID.class);
      if (uid == null || !asked.contains(uid.uid)) {
        // e.g. "* 7 FETCH (FLAGS (\\Seen))": another client changed flags meanwhile, nothing to take
        if (carriesData(f) && unattributed++ == 0) {
          example = "message " + f.getNumber() + (uid == null ? " without its UID" : " as UID " + uid.uid);
        }
        continue;
      }
      Fetched m = messages.computeIfAbsent(uid.uid, Fetched::new);
      for (int i = 0; i < f.getItemCount(); i++) {
        Object item = f.getItem(i);
        if (item instanceof RFC822SIZE s) {
          m.size = s.size;
        } else if (item instanceof INTERNALDATE d && d.getDate() != null) {
          m.receivedAt = d.getDate().toInstant();
        } else if (item instanceof BODY b) {
          if (b.isHeader()) {
            m.header = b;
          } else {
            m.body = b;
          }
        }
      }
    }
    if (unattributed > 0) {
      log.warn("{}: {} FETCH responses with data came for messages not asked for or without their UID "
          + "(first: {}); not attributed", mailbox, unattributed, example);
    }
    return messages;
  }

  private static boolean carriesData(FetchResponse f) {
    return f.getItem(BODY.class) != null || f.getItem(RFC822SIZE.class) != null;
  }

  /**
   * Makes sure the messages among {@code asked} that got no answer are gone (expunged or moved by
   * another client), by one {@code UID SEARCH}: the reader skips them, so a live one among them would
   * be lost. A server that leaves a live message's answer out, or sends it without its UID, fails
   * the operation instead; nothing is skipped and the next tick asks again.
   *
   * @param what what was asked for, e.g. {@code headers}
   * @throws TransientRouterException if a message without an answer still exists
   */
  static void requireGone(ImapConnection connection, ImapSettings settings, Set<Long> asked, Set<Long> answered,
      String what) throws MessagingException {
    TreeSet<Long> unanswered = new TreeSet<>(asked);
    unanswered.removeAll(answered);
    if (unanswered.isEmpty()) {
      return;
    }
    TreeSet<Long> live = new TreeSet<>();
    for (String set : UidSets.of(unanswered, UidSets.PER_COMMAND)) {
      for (long uid : connection.searchUids("UID SEARCH UID " + set)) {
        if (unanswered.contains(uid)) {
          live.add(uid);
        }
      }
    }
    String mailbox = settings.describe();
    log.debug("{}: no {} for UIDs {}: {} gone", mailbox, what, unanswered, unanswered.size() - live.size());
    if (!live.isEmpty()) {
      throw new TransientRouterException("IMAP server " + settings.server() + " left out the " + what + " of UIDs "
          + UidSets.of(live, UidSets.PER_COMMAND).get(0) + " of " + mailbox + " in its answer to UID FETCH "
          + "(or sent them without the UID), although the messages exist; nothing was skipped, the next tick "
          + "asks again");
    }
  }

  /** The items of one message's FETCH responses (a server may split them over several). */
  static final class Fetched {
    final long uid;
    long size = -1;
    Instant receivedAt;
    BODY header;
    BODY body;

    private Fetched(long uid) {
      this.uid = uid;
    }
  }
}
