package dev.emailrouter.core;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Collects a tick's events and passes each to the host's listener; thread-safe. */
final class EventSink {
  private static final Logger LOG = LoggerFactory.getLogger(EventSink.class);
  private final RouterListener listener;
  private final List<RouterEvent> events = new ArrayList<>();

  EventSink(RouterListener listener) {
    this.listener = listener;
  }

  void accept(RouterEvent event) {
    synchronized (events) {
      events.add(event);
    }
    try {
      listener.onEvent(event);
    } catch (RuntimeException e) {
      LOG.warn("the RouterListener threw on {}; ignored", event.getClass().getSimpleName(), e);
    }
  }

  List<RouterEvent> events() {
    synchronized (events) {
      return List.copyOf(events);
    }
  }
}
