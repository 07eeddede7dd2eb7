package dev.emailrouter.pop3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class Pop3CursorTest {

  @Test
  void decode_emptyString_isTheEmptySet() {
    assertThat(Pop3Cursor.decode("")).isEmpty();
    assertThat(Pop3Cursor.decode(Pop3Cursor.encode(List.of()))).isEmpty();
  }

  @Test
  void encode_fewUidls_writesThemPlainInTheGivenOrder() {
    String cursor = Pop3Cursor.encode(List.of("00000001abc", "00000002abc", "z"));

    assertThat(cursor).isEqualTo("v1:00000001abc 00000002abc z");
    assertThat(Pop3Cursor.decode(cursor)).containsExactlyInAnyOrder("00000001abc", "00000002abc", "z");
  }

  @Test
  void encode_manyUidls_deflatesAndRoundTrips() {
    List<String> uidls = new ArrayList<>();
    for (int i = 1; i <= 10_000; i++) {
      uidls.add(String.format("%08X%08X", i, 1_700_000_000)); // Dovecot's %08Xu%08Xv
    }
    int plainLength = String.join(" ", uidls).length();

    String cursor = Pop3Cursor.encode(uidls);

    assertThat(cursor).startsWith("v1z:");
    assertThat(cursor.length()).isLessThan(plainLength / 4);
    assertThat(Pop3Cursor.decode(cursor)).isEqualTo(Set.copyOf(uidls));
  }

  @Test
  void encode_uidlsOutsideRfc1939Characters_areEscapedAndRoundTrip() {
    List<String> odd = List.of("with space", "per%cent", "caf\u00e9", "plain");

    String cursor = Pop3Cursor.encode(odd);

    assertThat(cursor).isEqualTo("v1:with%20space per%25cent caf%C3%A9 plain");
    assertThat(Pop3Cursor.decode(cursor)).containsExactlyInAnyOrderElementsOf(odd);
  }

  @Test
  void decode_foreignCursor_failsSayingWhatItExpects() {
    assertThatThrownBy(() -> Pop3Cursor.decode("12345:678"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("not a POP3 cursor (it should start with v1: or v1z:): '12345:678'");
  }

  @Test
  void decode_damagedCursor_fails() {
    assertThatThrownBy(() -> Pop3Cursor.decode("v1z:AAAA"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the compressed POP3 cursor is damaged");
    assertThatThrownBy(() -> Pop3Cursor.decode("v1:bad%2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad escape");
  }
}
