package dev.emailrouter.support.internal;

/**
 * The parts of a reader's or transport's description URI ({@code imap://user%40example.com@host:993/INBOX}),
 * written the same way by every adapter: the description is also the default checkpoint key, so two
 * spellings of one mailbox would be two mailboxes. Stateless; internal, unsupported.
 */
public final class Uris {
  private Uris() {}

  /**
   * The user part with its {@code @} separator; {@code %}, {@code @}, {@code :} and {@code /} are
   * percent-encoded, since an unencoded {@code @} would read as the start of the host.
   *
   * @param user the login name
   * @return e.g. {@code sales%40example.com@}
   */
  public static String userPart(String user) {
    StringBuilder out = new StringBuilder(user.length() + 8);
    for (char c : user.toCharArray()) {
      switch (c) {
        case '%' -> out.append("%25");
        case '@' -> out.append("%40");
        case ':' -> out.append("%3A");
        case '/' -> out.append("%2F");
        default -> out.append(c);
      }
    }
    return out.append('@').toString();
  }

  /**
   * The host, in brackets when it is an IPv6 literal not bracketed yet.
   *
   * @param host the host name or address
   * @return e.g. {@code [::1]}
   */
  public static String hostPart(String host) {
    return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
  }
}
