package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class MessageHeadersTest {

  private static MessageHeaders headers(Map<String, List<String>> map) {
    return new MessageHeaders("42", 1234, Instant.parse("2024-03-01T08:00:00Z"), map);
  }

  @Test
  void new_lowerCasesHeaderNames() {
    MessageHeaders h = headers(Map.of("Message-ID", List.of("<a@x>"), "X-Auto-Response-Suppress", List.of("All")));

    assertThat(h.headers()).containsOnlyKeys("message-id", "x-auto-response-suppress");
  }

  @Test
  void new_whenTheSameNameAppearsInDifferentCases_mergesTheValuesInOrder() {
    Map<String, List<String>> map = new LinkedHashMap<>();
    map.put("Subject", List.of("first"));
    map.put("subject", List.of("second", "third"));
    map.put("SUBJECT", List.of("fourth"));

    MessageHeaders h = headers(map);

    assertThat(h.headers()).containsOnlyKeys("subject");
    assertThat(h.all("subject")).containsExactly("first", "second", "third", "fourth");
    assertThat(h.first("Subject")).contains("first");
  }

  @Test
  void new_keepsTheOrderOfNamesAsGiven() {
    Map<String, List<String>> map = new LinkedHashMap<>();
    map.put("Received", List.of("r1", "r2"));
    map.put("From", List.of("a@x"));
    map.put("To", List.of("b@x"));

    assertThat(headers(map).headers().keySet()).containsExactly("received", "from", "to");
  }

  @Test
  void first_andAll_lookUpNamesInAnyCase() {
    MessageHeaders h = headers(Map.of("Received", List.of("hop 1", "hop 2")));

    assertThat(h.first("RECEIVED")).contains("hop 1");
    assertThat(h.first("received")).contains("hop 1");
    assertThat(h.all("ReCeIvEd")).containsExactly("hop 1", "hop 2");
  }

  @Test
  void first_andAll_whenTheHeaderIsAbsent_returnEmpty() {
    MessageHeaders h = headers(Map.of("Subject", List.of("s")));

    assertThat(h.first("From")).isEmpty();
    assertThat(h.all("From")).isEmpty();
  }

  @Test
  void first_whenTheHeaderHasNoValues_returnsEmpty() {
    MessageHeaders h = headers(Map.of("X-Empty", List.of()));

    assertThat(h.first("x-empty")).isEmpty();
    assertThat(h.all("x-empty")).isEmpty();
  }

  @Test
  void new_copiesTheMapAndItsLists_andTheCopyIsUnmodifiable() {
    List<String> values = new ArrayList<>(List.of("one"));
    Map<String, List<String>> map = new LinkedHashMap<>();
    map.put("Subject", values);
    MessageHeaders h = headers(map);

    values.add("two");
    map.put("From", List.of("a@x"));

    assertThat(h.all("subject")).containsExactly("one");
    assertThat(h.headers()).containsOnlyKeys("subject");
    assertThatThrownBy(() -> h.headers().put("to", List.of())).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> h.all("subject").add("x")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void new_whenTheSizeIsBelowMinusOne_isRefusedNamingTheValue() {
    assertThatThrownBy(() -> new MessageHeaders("1", -2, null, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("size must be -1 (unknown) or at least 0, was -2");
  }

  @Test
  void new_whenSizeAndReceivedAtAreUnknown_isAccepted() {
    MessageHeaders h = new MessageHeaders("1", -1, null, Map.of());

    assertThat(h.size()).isEqualTo(-1);
    assertThat(h.receivedAt()).isNull();
    assertThat(h.headers()).isEmpty();
  }

  @Test
  void new_whenAComponentIsNull_throwsNullPointerNamingIt() {
    assertThatThrownBy(() -> new MessageHeaders(null, 0, null, Map.of())).hasMessage("ref");
    assertThatThrownBy(() -> new MessageHeaders("1", 0, null, null)).hasMessage("headers");
  }

  @Test
  void wanted_isLowerCaseAndIncludesWhatCorrelationAndAutoReplyDetectionRead() {
    assertThat(MessageHeaders.WANTED).allSatisfy(name -> assertThat(name).isLowerCase())
        .contains("message-id", "from", "in-reply-to", "references", "subject", "auto-submitted", "return-path")
        .doesNotHaveDuplicates();
  }
}
