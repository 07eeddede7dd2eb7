package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

final class HeaderTextTest {

  private static String b64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  @Test
  void unstructured_replacesControlCharactersOfADecodedWord_soNoHeaderCanBeInjected() {
    String word = "=?UTF-8?B?" + b64("Hello\r\nBcc: x@evil.example".getBytes(StandardCharsets.UTF_8)) + "?=";

    assertThat(HeaderText.unstructured(word)).isEqualTo("Hello Bcc: x@evil.example");
  }

  @Test
  void clean_replacesEachRunOfC0DelC1TabAndUnicodeSeparatorsWithOneSpace() {
    assertThat(HeaderText.clean("a\tb\u0000c\u007fd\u0085e\u009bf\u2028g\u2029h\r\n\r\ni"))
        .isEqualTo("a b c d e f g h i");
    assertThat(HeaderText.clean("plain text, ümlaut")).isEqualTo("plain text, ümlaut");
  }

  @Test
  void unstructured_replacesARawLineSeparatorAndABareCarriageReturn() {
    assertThat(HeaderText.unstructured("one\u2028two\rthree")).isEqualTo("one two three");
  }

  @Test
  void decodeWords_joinsTheBytesOfAdjacentWords_soACharacterSplitBetweenThemSurvives() {
    byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // three bytes, split 1 + 2
    String first = "=?UTF-8?B?" + b64(new byte[] {euro[0]}) + "?=";
    String second = "=?utf-8?b?" + b64(new byte[] {euro[1], euro[2], 'x'}) + "?=";

    assertThat(HeaderText.unstructured(first + " " + second)).isEqualTo("€x");
    assertThat(HeaderText.unstructured("=?UTF-8?Q?=E2=82?=\r\n =?UTF-8?Q?=AC_5?=")).isEqualTo("€ 5");
  }

  @Test
  void decodeWords_dropsWhitespaceBetweenWords_butKeepsItBetweenAWordAndText() {
    assertThat(HeaderText.unstructured("=?UTF-8?Q?a?= =?ISO-8859-1?Q?b?=  =?UTF-8?B?Yw==?= d =?UTF-8?Q?e?="))
        .isEqualTo("abc d e");
  }

  @Test
  void decodeWords_decodesUtf7_inQAndBWords() {
    assertThat(HeaderText.unstructured("=?UTF-7?Q?Gr+APwA3w-e_+AKM-5?=")).isEqualTo("Grüße £5");
    assertThat(HeaderText.unstructured("=?utf-7?B?" + b64("Hi Mom -+Jjo--!".getBytes(StandardCharsets.US_ASCII))
        + "?=")).isEqualTo("Hi Mom -\u263a-!");
  }

  @Test
  void decodeWords_decodesBrokenBase64Leniently() {
    assertThat(HeaderText.unstructured("=?UTF-8?B?R3LDvMOfZQ?=")).as("padding missing").isEqualTo("Grüße");
    assertThat(HeaderText.unstructured("=?UTF-8?B?R3LD*vMO fZQ=?=")).as("stray characters").isEqualTo("Grüße");
    assertThat(HeaderText.unstructured("=?UTF-8?B?R3I=w7w=?=")).as("padding in the middle").isEqualTo("Grü");
  }

  @Test
  void decodeWords_keepsAWordRaw_whenNothingDecodesOrTheCharsetIsUnknown() {
    assertThat(HeaderText.unstructured("=?UTF-8?B?!!!?= x")).isEqualTo("=?UTF-8?B?!!!?= x");
    assertThat(HeaderText.unstructured("=?UTF-8?B?w6Q=?= =?UTF-8?B?!!!?= =?UTF-8?B?w7Y=?="))
        .as("only the word that decodes to nothing stays raw").isEqualTo("ä =?UTF-8?B?!!!?= ö");
    assertThat(HeaderText.unstructured("=?x-unknown?Q?abc?= tail")).isEqualTo("=?x-unknown?Q?abc?= tail");
  }

  @Test
  void decodeWords_takesTheCharsetWithoutAnRfc2231LanguageTag() {
    assertThat(HeaderText.unstructured("=?ISO-8859-1*de?Q?M=FCller?=")).isEqualTo("Müller");
  }

  @Test
  void utf7_decodesRfc2152Examples() {
    assertThat(Utf7.decode("A+ImIDkQ.".getBytes(StandardCharsets.US_ASCII))).isEqualTo("A\u2262\u0391.");
    assertThat(Utf7.decode("+ZeVnLIqe-".getBytes(StandardCharsets.US_ASCII))).isEqualTo("\u65e5\u672c\u8a9e");
    assertThat(Utf7.decode("1 +- 1".getBytes(StandardCharsets.US_ASCII))).isEqualTo("1 + 1");
    assertThat(Utf7.decode("+2D3eAQ-".getBytes(StandardCharsets.US_ASCII))).isEqualTo("\uD83D\uDE01");
    assertThat(Utf7.decode("+2D0-x".getBytes(StandardCharsets.US_ASCII))).isEqualTo("\uFFFDx");
  }
}
