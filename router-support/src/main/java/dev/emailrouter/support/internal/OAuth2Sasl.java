package dev.emailrouter.support.internal;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Unsupported. The client side of the two SASL mechanisms that carry an OAuth2 access token, shared
 * by the SMTP, IMAP and POP3 adapters, which run the exchange on their own connections (Angus Mail
 * has no OAUTHBEARER, never answers an SMTP error challenge, and on POP3 takes an error challenge
 * for success).
 *
 * <ul>
 *   <li><b>OAUTHBEARER</b> (RFC 7628): initial response {@code n,a=USER,^Ahost=HOST^Aport=PORT^A
 *       auth=Bearer TOKEN^A^A}; a refused token comes back as a challenge holding JSON ({@code
 *       {"status":"invalid_token",...}}), which the client must answer with the single byte
 *       {@code 0x01} ({@code AQ==} in base64) before the server sends its failure.
 *   <li><b>XOAUTH2</b> (Google, Microsoft): initial response {@code user=USER^Aauth=Bearer
 *       TOKEN^A^A}; a refused token comes back as a challenge holding JSON ({@code {"status":"401",
 *       ...}}), which the client answers with an empty line.
 * </ul>
 *
 * <p>Stateless; thread-safe.
 */
public final class OAuth2Sasl {
  private static final Pattern STATUS = Pattern.compile("\"status\"\\s*:\\s*\"([A-Za-z0-9_ .-]{1,40})\"");

  private OAuth2Sasl() {}

  /** The two mechanisms, in the order they are preferred. */
  public enum Mechanism {
    /** RFC 7628, the standard one; preferred where a server offers it. */
    OAUTHBEARER,
    /** The older Google/Microsoft mechanism, which every OAuth2 mail service offers. */
    XOAUTH2;

    /**
     * The initial client response, base64-encoded.
     *
     * @param user the login name
     * @param token the access token
     * @param host the server's host name (OAUTHBEARER only)
     * @param port the server's port (OAUTHBEARER only)
     * @return the base64 text to send
     */
    public String initialResponse(String user, String token, String host, int port) {
      String raw = this == OAUTHBEARER
          ? "n,a=" + saslName(user) + ",\u0001host=" + host + "\u0001port=" + port + "\u0001auth=Bearer " + token
              + "\u0001\u0001"
          : "user=" + user + "\u0001auth=Bearer " + token + "\u0001\u0001";
      return Base64.getEncoder().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * What the client sends back when the server answers the initial response with a challenge
     * (which, for both mechanisms, carries the server's error): {@code AQ==} for OAUTHBEARER, an
     * empty line for XOAUTH2. The server then sends its failure reply.
     *
     * @return the base64 text (possibly empty) to send as one line
     */
    public String errorChallengeAnswer() {
      return this == OAUTHBEARER ? "AQ==" : "";
    }
  }

  /**
   * Picks the mechanism for a server from the ones it advertises (IMAP {@code AUTH=}, SMTP EHLO
   * {@code AUTH}, POP3 CAPA {@code SASL}): OAUTHBEARER where offered, else XOAUTH2.
   *
   * @param offered the advertised mechanism names, any case
   * @return the mechanism, or {@code null} if the server offers neither
   */
  public static Mechanism choose(Collection<String> offered) {
    boolean xoauth2 = false;
    for (String name : offered) {
      String upper = name.strip().toUpperCase(Locale.ROOT);
      if (upper.equals("OAUTHBEARER")) {
        return Mechanism.OAUTHBEARER;
      }
      xoauth2 |= upper.equals("XOAUTH2");
    }
    return xoauth2 ? Mechanism.XOAUTH2 : null;
  }

  /**
   * Reads the {@code status} of a server's error challenge, for a failure message. Only a short
   * word made of safe characters is returned, never anything else the server put in it.
   *
   * @param base64 the challenge as the server sent it (base64), may be {@code null}
   * @return e.g. {@code invalid_token} or {@code 401}, or {@code null} if there is none
   */
  public static String challengeStatus(String base64) {
    if (base64 == null || base64.isBlank()) {
      return null;
    }
    String json;
    try {
      json = new String(Base64.getMimeDecoder().decode(base64.strip()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    Matcher m = STATUS.matcher(json);
    return m.find() ? m.group(1) : null;
  }

  /** RFC 5801 saslname: '=' and ',' escaped. */
  private static String saslName(String user) {
    return user.replace("=", "=3D").replace(",", "=2C");
  }
}
