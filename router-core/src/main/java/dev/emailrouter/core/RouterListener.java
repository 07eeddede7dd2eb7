package dev.emailrouter.core;

/**
 * Receives the engine's events as they happen, so a host can count, alert and audit.
 *
 * <p>Called from the thread doing the work (several at once when the engine sends or reads in
 * parallel): implementations must be thread-safe and quick. An exception thrown by a listener is
 * logged and ignored.
 */
@FunctionalInterface
public interface RouterListener {

  /**
   * Called for each event.
   *
   * @param event the event
   */
  void onEvent(RouterEvent event);
}
