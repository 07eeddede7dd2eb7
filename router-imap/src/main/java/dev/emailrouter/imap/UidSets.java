package dev.emailrouter.imap;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes UIDs as IMAP sequence sets ({@code 1:4,7,9:12}), a bounded number of UIDs per command, and
 * reads back the message references the reader handed out, which are UIDs.
 */
final class UidSets {

  private static final Logger log = LoggerFactory.getLogger(UidSets.class);

  /** The most UIDs named in one command, which keeps command lines short. */
  static final int PER_COMMAND = 1000;
  /**
   * The most ranges or single UIDs named in one header {@code UID FETCH}: about as long a command
   * line as {@link #PER_COMMAND} single UIDs, but a run of consecutive UIDs (a first sync, most new
   * mail) is one range, so ten thousand new messages take one command and one stream of answers
   * instead of ten commands, each waiting for the last.
   */
  static final int RANGES_PER_COMMAND = 1000;
  /** The highest UID there can be (RFC 3501: a 32-bit unsigned number). */
  static final long MAX_UID = 0xFFFF_FFFFL;

  private UidSets() {}

  /**
   * The UID a message reference names; logs and ignores anything this reader did not hand out.
   *
   * @param ref a reference from {@link dev.emailrouter.api.MessageHeaders#ref()}
   * @param mailbox the mailbox's description, for the log
   * @return the UID, or -1 if {@code ref} is not one
   */
  static long parseRef(String ref, String mailbox) {
    try {
      long uid = Long.parseLong(ref);
      if (uid > 0 && uid <= MAX_UID) {
        return uid;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    log.warn("{}: '{}' is not an IMAP UID this reader returned; ignored", mailbox, ref);
    return -1;
  }

  /**
   * Splits UIDs into sets of at most {@code perSet} UIDs each, consecutive UIDs written as ranges.
   *
   * @param uids distinct UIDs in ascending order
   * @param perSet the most UIDs in one set, at least 1
   * @return the sets, empty when {@code uids} is
   */
  static List<String> of(Collection<Long> uids, int perSet) {
    List<String> sets = new ArrayList<>();
    List<Long> chunk = new ArrayList<>(Math.min(perSet, uids.size()));
    for (long uid : uids) {
      chunk.add(uid);
      if (chunk.size() == perSet) {
        sets.add(compress(chunk));
        chunk.clear();
      }
    }
    if (!chunk.isEmpty()) {
      sets.add(compress(chunk));
    }
    return sets;
  }

  /**
   * Splits UIDs into sets of at most {@code perSet} ranges or single UIDs each, consecutive UIDs
   * written as ranges: the command line is bounded, not the number of messages it names.
   *
   * @param uids distinct UIDs in ascending order
   * @param perSet the most ranges and single UIDs in one set, at least 1
   * @return the sets, empty when {@code uids} is
   */
  static List<String> ofRanges(Collection<Long> uids, int perSet) {
    List<String> sets = new ArrayList<>();
    StringBuilder out = new StringBuilder();
    int ranges = 0;
    long first = -1;
    long last = -1;
    for (long uid : uids) {
      if (first >= 0 && uid == last + 1) {
        last = uid;
        continue;
      }
      if (first >= 0) {
        ranges = appendRange(out, first, last, ranges);
        if (ranges == perSet) {
          sets.add(out.toString());
          out.setLength(0);
          ranges = 0;
        }
      }
      first = uid;
      last = uid;
    }
    if (first >= 0) {
      appendRange(out, first, last, ranges);
      sets.add(out.toString());
    }
    return sets;
  }

  private static int appendRange(StringBuilder out, long first, long last, int ranges) {
    if (ranges > 0) {
      out.append(',');
    }
    out.append(first);
    if (last != first) {
      out.append(':').append(last);
    }
    return ranges + 1;
  }

  private static String compress(List<Long> uids) {
    StringBuilder out = new StringBuilder();
    int ranges = 0;
    int i = 0;
    while (i < uids.size()) {
      long first = uids.get(i);
      long last = first;
      while (i + 1 < uids.size() && uids.get(i + 1) == last + 1) {
        last = uids.get(++i);
      }
      ranges = appendRange(out, first, last, ranges);
      i++;
    }
    return out.toString();
  }
}
