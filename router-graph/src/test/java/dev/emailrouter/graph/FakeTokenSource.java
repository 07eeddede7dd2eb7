package dev.emailrouter.graph;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.TokenSource;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A token source handing out the given tokens one after another, each after the previous was invalidated. */
final class FakeTokenSource implements TokenSource {
  private final Deque<String> next;
  private String current;
  final List<String> invalidated = new CopyOnWriteArrayList<>();

  FakeTokenSource(String first, String... later) {
    this.current = first;
    this.next = new ArrayDeque<>(List.of(later));
  }

  @Override
  public synchronized Credentials get() {
    return Credentials.oauth2("app", current);
  }

  @Override
  public synchronized void invalidate(String rejectedToken) {
    invalidated.add(rejectedToken);
    if (rejectedToken.equals(current) && !next.isEmpty()) {
      current = next.poll();
    }
  }
}
