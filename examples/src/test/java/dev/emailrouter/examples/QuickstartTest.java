package dev.emailrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The quick start a newcomer runs first: it must keep working end to end. */
final class QuickstartTest {

  @Test
  void run_sendsTracksAndRejects_andPrintsThreeOkLines() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    boolean ok;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      ok = Quickstart.run(out);
    }

    String printed = bytes.toString(StandardCharsets.UTF_8);
    assertThat(ok).as(printed).isTrue();
    assertThat(printed.lines().filter(l -> l.startsWith("[ok]")))
        .containsExactly(
            "[ok]   Test Access passed for the transport and the mailbox",
            "[ok]   the user's email was sent",
            "[ok]   the contact's reply was tracked and correlated to it",
            "[ok]   the unrelated email was rejected (NO_CORRELATION_MATCH)");
    assertThat(printed).doesNotContain("[FAIL]").doesNotContain("secret");
    assertThat(printed).contains("email-1 is PENDING_SEND").contains("email-1 is SENT")
        .contains("correlated to email-1 by IN_REPLY_TO");
  }
}
