package dev.emailrouter.testfixtures;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.TokenSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An OAuth2 {@link TokenSource} that hands out the given access tokens one after another: the first
 * until it is {@linkplain #invalidate(String) invalidated}, then the next, and so on; the last one
 * stays once the list is used up. It records every invalidation, so a test asserts which token the
 * adapter said the server refused.
 *
 * <p>Thread-safe: an adapter may ask for and invalidate tokens from several sessions at once.
 */
public final class FakeTokenSource implements TokenSource {
  private final String user;
  private final Deque<String> next;
  private final List<String> invalidated = new CopyOnWriteArrayList<>();
  private String current;

  /**
   * A source of tokens for one user.
   *
   * @param user the user name the credentials carry, not null
   * @param first the token handed out first, not null
   * @param later the tokens handed out after each invalidation of the current one, in order
   */
  public FakeTokenSource(String user, String first, String... later) {
    this.user = Objects.requireNonNull(user, "user");
    this.current = Objects.requireNonNull(first, "first");
    this.next = new ArrayDeque<>(List.of(later));
  }

  /**
   * The current token as OAuth2 credentials for the user.
   *
   * @return {@code Credentials.oauth2(user, currentToken)}
   */
  @Override
  public synchronized Credentials get() {
    return Credentials.oauth2(user, current);
  }

  /**
   * Records the refused token and, when it is the current one and another is left, moves to the next.
   *
   * @param rejectedToken the token the server refused, not null
   */
  @Override
  public synchronized void invalidate(String rejectedToken) {
    invalidated.add(rejectedToken);
    if (rejectedToken.equals(current) && !next.isEmpty()) {
      current = next.poll();
    }
  }

  /**
   * The tokens invalidated so far, in order.
   *
   * @return an unmodifiable snapshot
   */
  public List<String> invalidated() {
    return List.copyOf(invalidated);
  }
}
