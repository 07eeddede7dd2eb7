package dev.emailrouter.api;

/**
 * A failure that may go away by itself: a 4xx reply, a dropped connection, a timeout, a store
 * that is briefly unavailable. The engine retries later.
 */
public class TransientRouterException extends RouterException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates a transient failure.
   *
   * @param message what failed and the value involved
   */
  public TransientRouterException(String message) {
    super(message, null);
  }

  /**
   * Creates a transient failure with its cause.
   *
   * @param message what failed and the value involved
   * @param cause the underlying failure
   */
  public TransientRouterException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public final boolean isTransient() {
    return true;
  }
}
