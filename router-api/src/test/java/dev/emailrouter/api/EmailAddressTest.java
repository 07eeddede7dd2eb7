package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class EmailAddressTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "alice@example.com",
      "alice+crm@example.com",
      "first.last@mail.eu.example.co.uk",
      "\"john doe\"@example.com",
      "\"a,b<c>\"@example.com",
      "user@[192.168.0.1]",
      "jörg@müller.example",
      "用户@例子.广告",
      "o'brien_x-y=z@example.org"})
  void of_whenTheAddressIsWellFormed_keepsItAsWritten(String address) {
    EmailAddress parsed = EmailAddress.of(address);

    assertThat(parsed.address()).isEqualTo(address);
    assertThat(parsed.displayName()).isEmpty();
  }

  @Test
  void of_whenTheLocalPartIsExactly64Characters_isAccepted() {
    String local = "a".repeat(64);

    assertThat(EmailAddress.of(local + "@example.com").address()).startsWith(local);
  }

  @Test
  void of_whenTheDomainIsExactly253Characters_isAccepted() {
    String domain = "d".repeat(249) + ".com";

    assertThat(EmailAddress.of("a@" + domain).domain()).hasSize(253);
  }

  @Test
  void of_stripsSurroundingSpacesFromAddressAndDisplayName() {
    EmailAddress parsed = EmailAddress.of("  alice@example.com ", "  Alice Smith  ");

    assertThat(parsed.address()).isEqualTo("alice@example.com");
    assertThat(parsed.displayName()).isEqualTo("Alice Smith");
  }

  @Test
  void domain_returnsThePartAfterTheLastAt() {
    assertThat(EmailAddress.of("\"a@b\"@Example.COM").domain()).isEqualTo("Example.COM");
  }

  @Test
  void normalized_lowerCasesTheWholeAddress() {
    EmailAddress parsed = EmailAddress.of("Alice.Smith@Example.COM", "Alice");

    assertThat(parsed.normalized()).isEqualTo("alice.smith@example.com");
    assertThat(parsed.address()).isEqualTo("Alice.Smith@Example.COM");
  }

  @Test
  void toString_withoutDisplayName_isTheBareAddress() {
    assertThat(EmailAddress.of("alice@example.com")).hasToString("alice@example.com");
  }

  @Test
  void toString_withDisplayName_putsTheAddressInAngleBrackets() {
    assertThat(EmailAddress.of("alice@example.com", "Alice Smith")).hasToString("Alice Smith <alice@example.com>");
  }

  @Test
  void equals_comparesAddressAndDisplayNameAfterStripping() {
    assertThat(EmailAddress.of(" a@example.com ", " A ")).isEqualTo(EmailAddress.of("a@example.com", "A"));
    assertThat(EmailAddress.of("a@example.com", "A")).isNotEqualTo(EmailAddress.of("a@example.com"));
  }

  // --- the header-injection guard -------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {
      "alice@example.com\r\nBcc: eve@evil.example",
      "alice\n@example.com",
      "alice@exa\rmple.com",
      "alice@example.com\r\n",
      "\r\nalice@example.com",
      "alice@example.com\n",
      "alice\t@example.com",
      "\talice@example.com",
      "alice@example.com\u0000"})
  void of_whenTheAddressContainsCrLfOrAnotherControlCharacter_isRefusedNamingTheValue(String address) {
    assertThatThrownBy(() -> EmailAddress.of(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("address must not contain control characters (CR/LF would inject a header), was \"")
        .hasMessageContaining(EmailAddress.quote(address))
        .hasMessageNotContaining("\r")
        .hasMessageNotContaining("\n");
  }

  @Test
  void of_whenTheAddressContainsCrLf_isRefusedNamingTheValueWithTheLineBreakEscaped() {
    assertThatThrownBy(() -> EmailAddress.of("alice@example.com\r\nBcc: eve@evil.example"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address must not contain control characters (CR/LF would inject a header), was "
            + "\"alice@example.com\\r\\nBcc: eve@evil.example\"");
  }

  @Test
  void of_whenAQuotedLocalPartContainsCrLf_isRefused() {
    assertThatThrownBy(() -> EmailAddress.of("\"a\r\nb\"@example.com"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("control characters")
        .hasMessageContaining("\\r\\n");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "Alice\r\nBcc: eve@evil.example",
      "Alice\n",
      "\rAlice",
      "Ali\u0007ce"})
  void of_whenTheDisplayNameContainsCrLfOrAnotherControlCharacter_isRefusedNamingTheValue(String displayName) {
    assertThatThrownBy(() -> EmailAddress.of("alice@example.com", displayName))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("displayName must not contain control characters (CR/LF would inject a header), was \"")
        .hasMessageContaining(EmailAddress.quote(displayName))
        .hasMessageNotContaining("\r")
        .hasMessageNotContaining("\n");
  }

  @Test
  void of_whenTheDisplayNameContainsCrLf_isRefusedNamingTheValueWithTheLineBreakEscaped() {
    assertThatThrownBy(() -> EmailAddress.of("alice@example.com", "Alice\r\nBcc: eve@evil.example"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("displayName must not contain control characters (CR/LF would inject a header), was "
            + "\"Alice\\r\\nBcc: eve@evil.example\"");
  }

  // --- malformed addresses ---------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(strings = {"alice.example.com", "@example.com", "alice@", "@", "", "   "})
  void of_whenTheAtIsMissingOrAPartIsEmpty_isRefusedNamingTheValue(String address) {
    assertThatThrownBy(() -> EmailAddress.of(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address must look like local@domain, was " + EmailAddress.quote(address.strip()));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "alice@bob@example.com",
      "alice smith@example.com",
      "alice@exam ple.com",
      "<alice@example.com>",
      "Alice <alice@example.com>",
      "alice@example.com>",
      "alice@example.com,bob@example.com",
      "alice@example.com;bob@example.com",
      "al\"ice@example.com",
      "alice(comment)@example.com",
      "alice@exa[mple.com"})
  void of_whenTheAddressHasSpacesBracketsSeparatorsOrASecondAt_isRefusedNamingTheValue(String address) {
    assertThatThrownBy(() -> EmailAddress.of(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address must be a single bare address without spaces, quotes, brackets or separators, was "
            + EmailAddress.quote(address));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "alice..smith@example.com",
      ".alice@example.com",
      "alice.@example.com",
      "alice@example..com",
      "alice@.example.com",
      "alice@example.com."})
  void of_whenAPartHasConsecutiveOrEdgeDots_isRefusedNamingTheValue(String address) {
    assertThatThrownBy(() -> EmailAddress.of(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address has an empty dot-separated part, was " + EmailAddress.quote(address));
  }

  @Test
  void of_whenAQuotedLocalPartHasConsecutiveDots_isAccepted() {
    assertThat(EmailAddress.of("\"a..b\"@example.com").address()).isEqualTo("\"a..b\"@example.com");
  }

  @Test
  void of_whenAQuotedLocalPartHasConsecutiveDots_stillRefusesConsecutiveDotsInTheDomain() {
    assertThatThrownBy(() -> EmailAddress.of("\"a..b\"@example..com"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("empty dot-separated part");
  }

  @Test
  void of_acceptsAndRefusesDotsExactlyAsTheRuleOnLocalPartAndDomainSays() {
    // The check reads positions instead of cutting substrings; pinned against the rule written on substrings.
    String alphabet = "a.@\"";
    java.util.Random random = new java.util.Random(15);
    for (int round = 0; round < 20_000; round++) {
      StringBuilder b = new StringBuilder();
      for (int i = 1 + random.nextInt(8); i > 0; i--) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String address = b.toString();
      boolean accepted;
      try {
        EmailAddress.of(address);
        accepted = true;
      } catch (IllegalArgumentException e) {
        accepted = false;
      }
      assertThat(accepted).as(address).isEqualTo(acceptedBySubstrings(address));
    }
  }

  /** The rule as it was written on substrings, for the alphabet above (no spaces or brackets). */
  private static boolean acceptedBySubstrings(String address) {
    int at = address.lastIndexOf('@');
    if (at <= 0 || at == address.length() - 1) {
      return false;
    }
    String local = address.substring(0, at);
    String domain = address.substring(at + 1);
    boolean quoted = local.length() >= 2 && local.startsWith("\"") && local.endsWith("\"");
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      if (i < at && quoted) {
        continue;
      }
      if (c == '"' || c == '@' && i != at) {
        return false;
      }
    }
    return !(domain.startsWith(".") || domain.endsWith(".") || domain.contains("..")
        || (!quoted && (local.startsWith(".") || local.endsWith(".") || local.contains(".."))));
  }

  @Test
  void of_whenTheLocalPartIsLongerThan64Characters_isRefusedNamingTheLengthAndValue() {
    String address = "a".repeat(65) + "@example.com";

    assertThatThrownBy(() -> EmailAddress.of(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address local part must be at most 64 characters, was 65 in " + EmailAddress.quote(address));
  }

  @Test
  void of_whenTheDomainIsLongerThan253Characters_isRefusedNamingTheLengthAndValue() {
    String address = "a@" + "d".repeat(250) + ".com";

    assertThatThrownBy(() -> EmailAddress.of(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("address domain must be at most 253 characters, was 254 in \"a@ddd")
        .hasMessageEndingWith("...\"");
  }

  @Test
  void of_whenAPartIsNull_throwsNullPointerNamingIt() {
    assertThatThrownBy(() -> EmailAddress.of(null)).isInstanceOf(NullPointerException.class).hasMessage("address");
    assertThatThrownBy(() -> EmailAddress.of("a@example.com", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("displayName");
  }

  // --- quote, the helper behind every message ------------------------------------------------------

  @Test
  void quote_showsCrLfAsEscapesAndOtherControlCharactersAsUnicodeEscapes() {
    assertThat(EmailAddress.quote("a\r\nb\tc\u0000")).isEqualTo("\"a\\r\\nb\\u0009c\\u0000\"");
  }

  @Test
  void quote_keepsNonAsciiAndShortValuesWhole() {
    assertThat(EmailAddress.quote("jörg@müller.example")).isEqualTo("\"jörg@müller.example\"");
    assertThat(EmailAddress.quote("")).isEqualTo("\"\"");
  }

  @Test
  void quote_whenTheValueIsLongerThan200Characters_truncatesItWithAnEllipsis() {
    String value = "x".repeat(200) + "TAIL";

    assertThat(EmailAddress.quote(value)).isEqualTo("\"" + "x".repeat(200) + "...\"");
  }

  @Test
  void quote_whenTheValueIsExactly200Characters_keepsItWhole() {
    String value = "y".repeat(200);

    assertThat(EmailAddress.quote(value)).isEqualTo("\"" + value + "\"");
  }

  @Test
  void of_whenAVeryLongValueIsRefused_theMessageStaysShort() {
    String address = "a b" + "c".repeat(10_000) + "@example.com";

    assertThatThrownBy(() -> EmailAddress.of(address))
        .isInstanceOf(IllegalArgumentException.class)
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(400).endsWith("...\""));
  }
}
