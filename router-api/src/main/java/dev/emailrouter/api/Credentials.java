package dev.emailrouter.api;

import java.util.Objects;

/**
 * A login for a mail server: a user name and a password, or a user name and an OAuth2 access token.
 *
 * <p>Adapters take a {@code Supplier<Credentials>} and ask it at every login, so a host can rotate
 * passwords and a token provider can hand out fresh tokens. {@link #toString()} never shows the
 * secret.
 *
 * <p>An administrator can log in on behalf of each user (the E-mail Router's one "full access"
 * credential for many mailboxes): {@code Credentials.password("admin", pw).onBehalfOf("una")} logs
 * in with SASL PLAIN as {@code admin} and asks for {@code una}'s mailbox (RFC 4616 authorization
 * identity). The server must allow it (Dovecot: a master passdb).
 *
 * @param username the login name (the authentication identity), often the mailbox's address
 * @param secret the password or the access token
 * @param kind what the secret is
 * @param authorizationId the user whose mailbox to open when {@code username} is an administrator
 *     logging in on their behalf, or {@code null} to open {@code username}'s own
 */
public record Credentials(String username, String secret, Kind kind, String authorizationId) {

  /** What a secret is, which decides the authentication mechanism. */
  public enum Kind {
    /** A password: AUTH PLAIN or LOGIN. */
    PASSWORD,
    /** An OAuth2 access token: XOAUTH2 (or OAUTHBEARER where offered). */
    OAUTH2_TOKEN
  }

  /**
   * Validates the components.
   *
   * @param username the login name, often the mailbox's address
   * @param secret the password or the access token
   * @param kind what the secret is
   * @param authorizationId the user to act for, or {@code null}
   */
  public Credentials {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(kind, "kind");
    if (username.isBlank()) {
      throw new IllegalArgumentException("username must not be blank");
    }
    if (authorizationId != null) {
      if (authorizationId.isBlank() || authorizationId.chars().anyMatch(c -> c == 0 || Character.isISOControl(c))) {
        throw new IllegalArgumentException("authorizationId must be a user name without control characters, was '"
            + authorizationId.replaceAll("\\p{Cntrl}", "?") + "'");
      }
      if (kind != Kind.PASSWORD) {
        throw new IllegalArgumentException("authorizationId (logging in on behalf of " + authorizationId
            + ") needs a password: SASL PLAIN carries it; with OAuth2 the token itself names the mailbox");
      }
    }
  }

  /**
   * Credentials for the user's own mailbox, without an authorization identity.
   *
   * @param username the login name
   * @param secret the password or the access token
   * @param kind what the secret is
   */
  public Credentials(String username, String secret, Kind kind) {
    this(username, secret, kind, null);
  }

  /**
   * The same administrator login, opening another user's mailbox: SASL PLAIN with that user as the
   * authorization identity (RFC 4616). The reader then names the mailbox after that user in {@code
   * describe()} and checkpoints.
   *
   * @param mailboxUser the user whose mailbox to open
   * @return the credentials
   * @throws IllegalArgumentException if these are not password credentials, or the name is blank
   */
  public Credentials onBehalfOf(String mailboxUser) {
    return new Credentials(username, secret, kind, Objects.requireNonNull(mailboxUser, "mailboxUser"));
  }

  /**
   * The user whose mailbox these credentials open: the authorization identity where there is one,
   * else the login name.
   *
   * @return the mailbox user
   */
  public String mailboxUser() {
    return authorizationId != null ? authorizationId : username;
  }

  /**
   * A user name and password.
   *
   * @param username the login name
   * @param password the password
   * @return the credentials
   */
  public static Credentials password(String username, String password) {
    return new Credentials(username, password, Kind.PASSWORD);
  }

  /**
   * A user name and OAuth2 access token.
   *
   * @param username the login name
   * @param accessToken the token
   * @return the credentials
   */
  public static Credentials oauth2(String username, String accessToken) {
    return new Credentials(username, accessToken, Kind.OAUTH2_TOKEN);
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + (authorizationId == null ? "" : ", onBehalfOf=" + authorizationId)
        + ", kind=" + kind + ", secret=***]";
  }
}
