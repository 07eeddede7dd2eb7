package dev.emailrouter.api;

/**
 * The root of every exception the router throws or expects from an SPI.
 *
 * <p>The engine acts on the branch: a {@link TransientRouterException} is retried later (with
 * backoff), a {@link PermanentRouterException} is not. Any other {@code RuntimeException} thrown by
 * an SPI is treated as transient. Messages never contain credentials.
 */
public abstract class RouterException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what failed, the value involved, and what to do
   * @param cause the underlying failure, or {@code null}
   */
  protected RouterException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Whether retrying the same operation later may succeed.
   *
   * @return {@code true} for a {@link TransientRouterException}
   */
  public abstract boolean isTransient();
}
