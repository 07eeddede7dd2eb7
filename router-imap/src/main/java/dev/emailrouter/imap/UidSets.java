package dev.emailrouter.imap;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Writes UIDs as IMAP sequence sets ({@code 1:4,7,9:12}), a bounded number of UIDs per command. */
final class UidSets {

  private UidSets() {}

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

  private static String compress(List<Long> uids) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < uids.size()) {
      long first = uids.get(i);
      long last = first;
      while (i + 1 < uids.size() && uids.get(i + 1) == last + 1) {
        last = uids.get(++i);
      }
      if (out.length() > 0) {
        out.append(',');
      }
      out.append(first);
      if (last != first) {
        out.append(':').append(last);
      }
      i++;
    }
    return out.toString();
  }
}
