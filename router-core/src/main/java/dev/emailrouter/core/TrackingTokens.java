package dev.emailrouter.core;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Formats tracking tokens ({@code CRM:0001234}), finds them in subjects, and puts one on a subject. */
final class TrackingTokens {
  private final String prefix;
  private final int digits;
  private final Pattern token;
  /** A token with the blanks around it, which {@link #apply} replaces by one space. */
  private final Pattern tokenWithBlanks;

  TrackingTokens(String prefix, int digits) {
    this.prefix = prefix;
    this.digits = digits;
    // Word boundary before the prefix so "XCRM:12" is no token; digits not followed by another digit.
    this.token = Pattern.compile("(?<![A-Za-z0-9])" + Pattern.quote(prefix) + "(\\d{" + digits + ",18})(?!\\d)",
        Pattern.CASE_INSENSITIVE);
    this.tokenWithBlanks = Pattern.compile("[ \\t]*" + token.pattern() + "[ \\t]*", Pattern.CASE_INSENSITIVE);
  }

  String format(long number) {
    if (number < 0) {
      return prefix + String.format("%0" + digits + "d", number); // never in practice; kept as it always was
    }
    String n = Long.toString(number);
    if (n.length() >= digits) {
      return prefix + n;
    }
    StringBuilder b = new StringBuilder(prefix.length() + digits).append(prefix);
    for (int i = n.length(); i < digits; i++) {
      b.append('0');
    }
    return b.append(n).toString();
  }

  /** The last token in a subject (replies prepend "RE:", never append), or empty. */
  Optional<String> find(String subject) {
    Matcher m = token.matcher(subject);
    String found = null;
    while (m.find()) {
      found = prefix + m.group(1);
    }
    return Optional.ofNullable(found);
  }

  /** The subject with every token removed and {@code newToken} appended, so it carries exactly one. */
  String apply(String subject, String newToken) {
    // Only the tokens go: the rest of the subject stays as written (a CR/LF in it is the
    // transport's to refuse, not ours to hide).
    // Most subjects hold no token yet: no regular expression for them (one per email sent).
    String bare = (mayHoldPrefix(subject) ? tokenWithBlanks.matcher(subject).replaceAll(" ") : subject).strip();
    return bare.isEmpty() ? newToken : bare + " " + newToken;
  }

  /** Whether the prefix occurs in the text, ignoring case (as loosely as the pattern, or more). */
  private boolean mayHoldPrefix(String text) {
    int last = text.length() - prefix.length();
    for (int i = 0; i <= last; i++) {
      if (text.regionMatches(true, i, prefix, 0, prefix.length())) {
        return true;
      }
    }
    return false;
  }
}
