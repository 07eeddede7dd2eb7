package dev.emailrouter.imap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class ImapCursorTest {

  @Test
  void formatAndParse_roundTrip() {
    ImapCursor plain = new ImapCursor(1700000000L, 42, 0);
    ImapCursor filtering = new ImapCursor(4_294_967_295L, 7, 120);

    assertThat(plain.format()).isEqualTo("v1:1700000000:42");
    assertThat(filtering.format()).isEqualTo("v1:4294967295:7:120");
    assertThat(ImapCursor.parse(plain.format())).isEqualTo(plain);
    assertThat(ImapCursor.parse(filtering.format())).isEqualTo(filtering);
  }

  @Test
  void parse_ofSomethingElse_isRefused() {
    for (String bad : new String[] {"v2:1:2", "v1:1", "v1:a:2", "v1:1:2:3:4", "v1:-1:2", "uidl:abc"}) {
      assertThatThrownBy(() -> ImapCursor.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
