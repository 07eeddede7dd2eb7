package dev.emailrouter.imap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.support.internal.RawHeaders;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class RawHeadersTest {

  private static Map<String, List<String>> parse(byte[] bytes) {
    return RawHeaders.parse(bytes, 0, bytes.length);
  }

  @Test
  void parse_keepsRawValuesByLowerCaseNameInMessageOrder() {
    Map<String, List<String>> headers = parse(("Subject: =?UTF-8?B?w6l0w6k=?=\r\n"
        + "Received: by a\r\nRECEIVED: by b\r\n"
        + "To: a@example.test,\r\n\tb@example.test\r\n"
        + "\r\nbody: not a header\r\n").getBytes(StandardCharsets.US_ASCII));

    assertThat(headers).containsOnlyKeys("subject", "received", "to");
    assertThat(headers.keySet()).containsExactly("subject", "received", "to");
    assertThat(headers.get("subject")).containsExactly("=?UTF-8?B?w6l0w6k=?=");
    assertThat(headers.get("received")).containsExactly("by a", "by b");
    assertThat(headers.get("to")).containsExactly("a@example.test,\tb@example.test");
  }

  @Test
  void parse_keepsThreeOrMoreValuesOfOneNameInOrder() {
    Map<String, List<String>> headers = parse(("Received: 1\r\nTo: x@y.test\r\nReceived: 2\r\nreceived: 3\r\n"
        + "Received: 4\r\n\r\n").getBytes(StandardCharsets.US_ASCII));

    assertThat(headers.keySet()).containsExactly("received", "to");
    assertThat(headers.get("received")).containsExactly("1", "2", "3", "4");
    assertThat(headers.get("to")).containsExactly("x@y.test");
  }

  @Test
  void parse_readsUtf8AndFallsBackToLatin1() {
    byte[] utf8 = "Subject: Réponse\r\n".getBytes(StandardCharsets.UTF_8);
    byte[] latin1 = "Subject: Réponse\n".getBytes(StandardCharsets.ISO_8859_1);

    assertThat(parse(utf8).get("subject")).containsExactly("Réponse");
    assertThat(parse(latin1).get("subject")).containsExactly("Réponse");
  }

  @Test
  void parse_ignoresLinesThatAreNotHeaderFields() {
    Map<String, List<String>> headers = parse(
        " orphan continuation\r\nFrom nobody Mon Jan 1\r\nX-Empty:\r\nSubject : spaced\r\n"
            .getBytes(StandardCharsets.US_ASCII));

    assertThat(headers).containsOnlyKeys("x-empty", "subject");
    assertThat(headers.get("x-empty")).containsExactly("");
    assertThat(headers.get("subject")).containsExactly("spaced");
  }

  @Test
  void parse_ofAnEmptyBlock_returnsNoHeaders() {
    assertThat(parse(new byte[0])).isEmpty();
    assertThat(parse("\r\n".getBytes(StandardCharsets.US_ASCII))).isEmpty();
  }
}
