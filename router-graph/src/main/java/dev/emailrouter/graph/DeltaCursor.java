package dev.emailrouter.graph;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The reader's cursor: the delta query link to ask next ({@code @odata.nextLink} in the middle of a
 * round, {@code @odata.deltaLink} after it), and the ids already returned from that link's page when
 * Graph sent a bigger page than {@code max} (it may ignore {@code odata.maxpagesize}).
 *
 * <p>Written as {@code graph1 <link>} or {@code graph1 <link> <id>,<id>}: links are URL-encoded and
 * Graph's ids hold no spaces or commas. The empty string is the first sync.
 */
record DeltaCursor(String link, Set<String> done) {
  private static final String VERSION = "graph1";

  DeltaCursor {
    done = Set.copyOf(new LinkedHashSet<>(done));
  }

  static DeltaCursor first() {
    return new DeltaCursor(null, Set.of());
  }

  boolean isFirst() {
    return link == null;
  }

  /**
   * Reads a stored cursor.
   *
   * @throws IllegalArgumentException if it is not one this reader wrote
   */
  static DeltaCursor parse(String value) {
    if (value.isEmpty()) {
      return first();
    }
    String[] parts = value.split(" ");
    if (parts.length < 2 || parts.length > 3 || !parts[0].equals(VERSION) || parts[1].isEmpty()) {
      throw new IllegalArgumentException("not a Graph delta cursor: it must start with '" + VERSION + " ' and a link");
    }
    Set<String> ids = parts.length == 3 ? new LinkedHashSet<>(List.of(parts[2].split(","))) : Set.of();
    return new DeltaCursor(parts[1], ids);
  }

  String format() {
    if (link == null) {
      return "";
    }
    return done.isEmpty() ? VERSION + " " + link : VERSION + " " + link + " " + String.join(",", done);
  }
}
