package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

final class TrackingTokensTest {
  private final TrackingTokens tokens = new TrackingTokens("CRM:", 7);

  @Test
  void format_padsToTheConfiguredDigits_andGrowsWhenTheNumberNeedsMore() {
    assertThat(tokens.format(1234)).isEqualTo("CRM:0001234");
    assertThat(tokens.format(123_456_789)).isEqualTo("CRM:123456789");
    assertThat(tokens.format(0)).isEqualTo("CRM:0000000");
    assertThat(tokens.format(1_234_567)).isEqualTo("CRM:1234567");
    assertThat(tokens.format(Long.MAX_VALUE)).isEqualTo("CRM:" + Long.MAX_VALUE);
  }

  @Test
  void find_returnsTheLastTokenNormalisedToThePrefix() {
    assertThat(tokens.find("RE: Offer CRM:0000001")).hasValue("CRM:0000001");
    assertThat(tokens.find("RE: crm:0000002 and CRM:0000003")).hasValue("CRM:0000003");
    assertThat(tokens.find("[CRM:0000004]")).hasValue("CRM:0000004");
  }

  @Test
  void find_ignoresLookalikes() {
    assertThat(tokens.find("no token here")).isEmpty();
    assertThat(tokens.find("CRM:12345")).as("too few digits").isEmpty();
    assertThat(tokens.find("XCRM:0000001")).as("glued to a word").isEmpty();
    assertThat(tokens.find("CRM:0000001234567890123")).as("more than 18 digits").isEmpty();
  }

  @Test
  void apply_appendsTheToken_replacingAnyOld_soTheSubjectCarriesExactlyOne() {
    assertThat(tokens.apply("Hello", "CRM:0000009")).isEqualTo("Hello CRM:0000009");
    assertThat(tokens.apply("RE: Hello CRM:0000001", "CRM:0000009")).isEqualTo("RE: Hello CRM:0000009");
    assertThat(tokens.apply("CRM:0000001 RE:  CRM:0000002 Hello", "CRM:0000009"))
        .isEqualTo("RE: Hello CRM:0000009");
    assertThat(tokens.apply("", "CRM:0000009")).isEqualTo("CRM:0000009");
    assertThat(tokens.apply("Hello crm:0000001 ", "CRM:0000009")).isEqualTo("Hello CRM:0000009");
    assertThat(tokens.apply("  Hello  ", "CRM:0000009")).isEqualTo("Hello CRM:0000009");
    assertThat(tokens.apply("Hello CRM:0000009", "CRM:0000009")).isEqualTo("Hello CRM:0000009");
  }

  @Test
  void aCustomPrefixWithSpecialCharacters_isMatchedLiterally() {
    TrackingTokens custom = new TrackingTokens("T#-", 4);

    assertThat(custom.format(5)).isEqualTo("T#-0005");
    assertThat(custom.find("Re: T#-0005")).hasValue("T#-0005");
    assertThat(custom.find("Re: CRM:0000005")).isEmpty();
  }

  @Test
  void apply_leavesTheRestOfTheSubjectAsWritten() {
    assertThat(tokens.apply("Offer  for\tyou", "CRM:0000009")).isEqualTo("Offer  for\tyou CRM:0000009");
    assertThat(tokens.apply("Hello\r\nBcc: x@example.org", "CRM:0000009"))
        .as("CR/LF is left for the transport to refuse, not silently rewritten")
        .isEqualTo("Hello\r\nBcc: x@example.org CRM:0000009");
  }
}
