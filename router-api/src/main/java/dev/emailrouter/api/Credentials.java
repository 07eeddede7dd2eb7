package dev.emailrouter.api;

import java.util.Objects;

/**
 * A login for a mail server: a user name and a password, or a user name and an OAuth2 access token.
 *
 * <p>Adapters take a {@code Supplier<Credentials>} and ask it at every login, so a host can rotate
 * passwords and a token provider can hand out fresh tokens. {@link #toString()} never shows the
 * secret.
 *
 * @param username the login name, often the mailbox's address
 * @param secret the password or the access token
 * @param kind what the secret is
 */
public record Credentials(String username, String secret, Kind kind) {

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
   */
  public Credentials {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(kind, "kind");
    if (username.isBlank()) {
      throw new IllegalArgumentException("username must not be blank");
    }
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
    return "Credentials[username=" + username + ", kind=" + kind + ", secret=***]";
  }
}
