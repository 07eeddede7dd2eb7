package dev.emailrouter.api;

/**
 * A failure that retrying will not fix: a 5xx reply, an invalid address, bad credentials, a
 * refused state change. The engine does not retry the same operation.
 */
public class PermanentRouterException extends RouterException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates a permanent failure.
   *
   * @param message what failed, the value involved, and what to do
   */
  public PermanentRouterException(String message) {
    super(message, null);
  }

  /**
   * Creates a permanent failure with its cause.
   *
   * @param message what failed, the value involved, and what to do
   * @param cause the underlying failure
   */
  public PermanentRouterException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public final boolean isTransient() {
    return false;
  }
}
