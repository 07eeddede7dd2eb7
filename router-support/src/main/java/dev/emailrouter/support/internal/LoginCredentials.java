package dev.emailrouter.support.internal;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.TokenSource;
import dev.emailrouter.api.TransientRouterException;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Unsupported. An adapter's credentials supplier and the one way every mail-server adapter logs in
 * with it: ask the supplier (its failures turned into router exceptions without the secret), log in,
 * and when the server refused an OAuth2 token, tell the {@link TokenSource} and log in once more with
 * the fresh token it hands out. SMTP, IMAP (reader and Sent folder) and POP3 use it, so a refused
 * token is retried exactly once in all of them.
 *
 * <p>Immutable and thread-safe when the supplier is.
 */
public final class LoginCredentials {

  private final Supplier<Credentials> supplier;
  private final String description;
  private final String expectedUser;

  /**
   * Wraps a supplier.
   *
   * @param supplier the adapter's credentials supplier
   * @param description names the server or mailbox in messages, never a secret
   * @param expectedUser the mailbox user every credentials must be for (a reader is built for one
   *     mailbox), or {@code null} to take whatever the supplier returns
   */
  public LoginCredentials(Supplier<Credentials> supplier, String description, String expectedUser) {
    this.supplier = Objects.requireNonNull(supplier, "supplier");
    this.description = Objects.requireNonNull(description, "description");
    this.expectedUser = expectedUser;
  }

  /**
   * One login, as an adapter runs it on its own connection.
   *
   * @param <T> what a successful login gives, e.g. the logged-in connection
   */
  @FunctionalInterface
  public interface Attempt<T> {
    /**
     * Logs in once; on failure leaves nothing open.
     *
     * @param credentials the credentials to log in with
     * @param retry whether this is the second login, with a token fetched after the first was refused
     *     (the adapter logs that at DEBUG: this module has no logging)
     * @return what the login gives
     * @throws TokenRefused when the server refused an OAuth2 token (not when it could not check it now)
     * @throws RouterException on any other failure, which is not retried
     */
    T logIn(Credentials credentials, boolean retry) throws TokenRefused;
  }

  /**
   * Thrown by an {@link Attempt} when the server refused an OAuth2 token: carries the failure to
   * throw when the login is not tried again. Never leaves {@link #logIn(Attempt)}.
   */
  public static final class TokenRefused extends Exception {
    private static final long serialVersionUID = 1L;

    /** The failure reported when the login is not (or no more) retried. */
    private final RouterException failure;

    /**
     * The refusal.
     *
     * @param failure the permanent failure naming the server and user, without the secret
     */
    public TokenRefused(RouterException failure) {
      super(failure.getMessage(), null, false, false);
      this.failure = failure;
    }
  }

  /**
   * Logs in with the supplier's credentials; where the server refuses an OAuth2 token and the
   * supplier is a {@link TokenSource}, invalidates that token and logs in once more with a fresh one.
   *
   * @param <T> what a successful login gives
   * @param attempt one login
   * @return what the successful login gave
   * @throws RouterException the attempt's failure, the last refusal, or the supplier's failure
   */
  public <T> T logIn(Attempt<T> attempt) {
    Credentials first = get();
    try {
      return attempt.logIn(first, false);
    } catch (TokenRefused refused) {
      if (first.kind() != Credentials.Kind.OAUTH2_TOKEN || !(supplier instanceof TokenSource source)) {
        throw refused.failure;
      }
      source.invalidate(first.secret());
    }
    try {
      return attempt.logIn(get(), true);
    } catch (TokenRefused refusedAgain) {
      throw refusedAgain.failure;
    }
  }

  /**
   * Asks the supplier for the credentials of one login and checks them.
   *
   * @return the credentials
   * @throws TransientRouterException if the supplier failed with anything but a {@link RouterException}
   *     (its message is left out: it could quote a secret)
   * @throws PermanentRouterException if it returned {@code null}, or credentials for another mailbox
   *     user than expected
   */
  public Credentials get() {
    Credentials c;
    try {
      c = supplier.get();
    } catch (RouterException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new TransientRouterException("credentials for " + description + " could not be obtained: the "
          + "credentials supplier failed with " + e.getClass().getName() + "; retrying later", e);
    }
    if (c == null) {
      throw new PermanentRouterException("the credentials supplier of " + description + " returned null; it must "
          + "return Credentials for every login");
    }
    if (expectedUser != null && !c.mailboxUser().equals(expectedUser)) {
      throw new PermanentRouterException("the credentials supplier of " + description + " returned user "
          + c.mailboxUser() + " but the reader was built for user " + expectedUser + "; build one reader per mailbox");
    }
    return c;
  }
}
