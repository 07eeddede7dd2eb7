package dev.emailrouter.core;

import dev.emailrouter.api.TransientRouterException;
import java.time.Instant;

/**
 * The store threw {@link TransientRouterException}: the CRM is down, not the message or email at
 * hand. Thrown by {@link StoreGuard} and caught by the flows, which stop their pass and report it;
 * deliberately not a {@code RouterException}, so no handler meant for a mail server or for one
 * message takes it for one of those.
 */
final class StoreOutage extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** When the store may be called again. */
  final Instant retryAt;
  /** Whether this failure started the backoff; later ones during the same backoff are not reported again. */
  final boolean fresh;

  StoreOutage(TransientRouterException cause, Instant retryAt, boolean fresh) {
    // No stack trace of its own: the cause has the one that matters.
    super(cause.getMessage() == null ? cause.toString() : cause.getMessage(), cause, false, false);
    this.retryAt = retryAt;
    this.fresh = fresh;
  }
}
