package dev.emailrouter.core;

import java.util.Objects;

/**
 * Receives the engine's events as they happen, so a host can count, alert and audit.
 *
 * <p>Called from the thread doing the work, several at once when the engine sends or reads in
 * parallel, and even with one send session: {@link RouterEvent.EmailSent} comes from the thread
 * that records a group as Sent while the session sends the next emails. Implementations must be
 * thread-safe and quick. An exception thrown by a listener is
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

  /**
   * A listener that hands each event to {@code first}, then to {@code second}, so a host can keep
   * its own listener beside another one (metrics, say). {@code second} is called even when {@code
   * first} throws; the first exception is rethrown afterwards (the engine logs and ignores it),
   * with a second one added as suppressed.
   *
   * @param first called first
   * @param second called second
   * @return the combined listener
   * @throws NullPointerException if either is {@code null}
   */
  static RouterListener both(RouterListener first, RouterListener second) {
    Objects.requireNonNull(first, "first");
    Objects.requireNonNull(second, "second");
    return event -> {
      RuntimeException failure = null;
      try {
        first.onEvent(event);
      } catch (RuntimeException e) {
        failure = e;
      }
      try {
        second.onEvent(event);
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
      if (failure != null) {
        throw failure;
      }
    };
  }
}
