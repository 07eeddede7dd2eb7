package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.testfixtures.MutableClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class RouterListenerTest {
  private static final RouterEvent EVENT = new RouterEvent.ClaimLost("a-1", "lease expired");

  @Test
  void both_handsEachEventToFirstThenSecond() {
    List<String> calls = new ArrayList<>();
    RouterListener both = RouterListener.both(e -> calls.add("first"), e -> calls.add("second"));

    both.onEvent(EVENT);

    assertThat(calls).containsExactly("first", "second");
  }

  @Test
  void both_whenFirstThrows_stillCallsSecondAndRethrowsWithSecondsFailureSuppressed() {
    List<RouterEvent> second = new ArrayList<>();
    IllegalStateException boom = new IllegalStateException("first failed");
    RouterListener both = RouterListener.both(e -> {
      throw boom;
    }, e -> {
      second.add(e);
      throw new IllegalArgumentException("second failed");
    });

    assertThatThrownBy(() -> both.onEvent(EVENT)).isSameAs(boom);
    assertThat(second).containsExactly(EVENT);
    assertThat(boom.getSuppressed()).singleElement().isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void both_refusesNull() {
    assertThatThrownBy(() -> RouterListener.both(null, e -> {})).isInstanceOf(NullPointerException.class)
        .hasMessage("first");
  }

  @Test
  void engine_withBothListeners_deliversEveryEventToEach() {
    InMemoryActivityStore store = new InMemoryActivityStore();
    List<RouterEvent> a = new ArrayList<>();
    List<RouterEvent> b = new ArrayList<>();
    MutableClock clock = new MutableClock(Instant.parse("2026-12-01T09:00:00Z"));
    FakeMailbox mailbox = new FakeMailbox("box");
    mailbox.add(TestMail.message().build());
    try (RouterEngine engine = RouterEngine.builder().activityStore(store).clock(clock)
        .mailbox(Mailbox.ofUser("user-1", mailbox)).listener(RouterListener.both(a::add, b::add)).build()) {
      TickReport report = engine.tick();

      assertThat(report.events()).isNotEmpty();
      assertThat(a).isEqualTo(report.events());
      assertThat(b).isEqualTo(report.events());
    }
  }
}
