package dev.emailrouter.api;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * A credentials supplier that hands out OAuth2 access tokens and can be told that a server
 * rejected one, so the next {@link #get()} returns a fresh token instead of the cached one.
 *
 * <p>Adapters take any {@code Supplier<Credentials>}; when it is also a {@code TokenSource} and a
 * server refuses the login of {@link Credentials.Kind#OAUTH2_TOKEN} credentials, the adapter calls
 * {@link #invalidate(String)} with the refused token and logs in once more with what {@link #get()}
 * returns then. A second refusal is reported as an authentication failure; the adapter never loops.
 *
 * <p>Implementations must be thread-safe: sessions of several mailboxes and the outgoing transport
 * may share one source and call it concurrently. The router's implementation is
 * {@code OAuth2TokenProvider} (module router-oauth2).
 */
public interface TokenSource extends Supplier<Credentials> {

  /**
   * Says that a server refused this access token. The source forgets it if it is still the
   * current one, so the next {@link #get()} fetches a new token; if another caller has replaced it
   * meanwhile, nothing happens (many sessions refused with the same token cause one refresh).
   *
   * @param rejectedToken the token the server refused, as {@link Credentials#secret()} returned it
   */
  void invalidate(String rejectedToken);

  /**
   * The user whose mailbox every credentials this source hands out log in to, where the source
   * knows it before the first {@link #get()}: an adapter's builder then takes it as the user name
   * and refuses a different one at build time instead of at the first login. Never fetches a token.
   *
   * @return the user; empty by default (the source does not say)
   */
  default Optional<String> mailboxUser() {
    return Optional.empty();
  }
}
