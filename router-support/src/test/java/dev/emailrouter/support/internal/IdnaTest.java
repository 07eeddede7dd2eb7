package dev.emailrouter.support.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class IdnaTest {

  /** Many more names were compared with Python's idna package (UTS #46, non-transitional) while this was written. */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      // UTS #46 non-transitional: the deviation characters are kept, not mapped to ss / σ.
      "bücher.example, xn--bcher-kva.example",
      "straße.de, xn--strae-oqa.de",
      "faß.de, xn--fa-hia.de",
      "βόλος.com, xn--nxasmm1c.com",
      "日本語.jp, xn--wgv71a119e.jp",
      "ς.gr, xn--3xa.gr",
      "españa.com, xn--espaa-rta.com",
      // Mapping: case, width and compatibility forms, the three other dots.
      "Bücher.Example, xn--bcher-kva.example",
      "BÜCHER.EXAMPLE, xn--bcher-kva.example",
      // UTS #46 maps a capital sigma to σ wherever it stands (not to the final ς).
      "ΒΌΛΟΣ.com, xn--nxasmq6b.com",
      "ｂüｃｈｅｒ．example, xn--bcher-kva.example",
      "bücher。example, xn--bcher-kva.example",
      "bücher｡example, xn--bcher-kva.example",
      "bu\u0308cher.example, xn--bcher-kva.example",
      // Cross-checked with the UTS #46 implementation of Python's idna package (non-transitional).
      "İstanbul.tr, xn--istanbul-o0e.tr",
      "ẞ.de, xn--zca.de",
      "Ⅻ.com, xii.com",
      "①.com, 1.com",
      "München.DE, xn--mnchen-3ya.de",
      "ÖBB.at, xn--bb-eka.at",
      "ǅx.com, xn--dx-2va.com",
      "ﬁnance.com, finance.com",
      "ꓚ.com, xn--em8a.com",
      "ｸﾞ.jp, xn--qck.jp",
      "Ⓐⓑ.com, ab.com",
      "a\u00adb.de, ab.de",
      "a\u200bb.de, ab.de",
      "a\u2060b.de, ab.de",
      "x\ufe0fy.de, xy.de",
      "ĳssel.nl, ijssel.nl",
      "ǰ.com, xn--ska.com",
      "ŉ.com, xn--n-y6a.com",
      "ϐ.gr, xn--nxa.gr",
      "ᏸ.com, xn--gce.com",
      "Ꭰ.com, xn--58d.com",
      "ꭰ.com, xn--58d.com",
      // ASCII passes through lower-cased; a valid xn-- label is kept.
      "Mail.Example.COM, mail.example.com",
      "XN--BCHER-KVA.example, xn--bcher-kva.example",
      "a-b.c-d.example, a-b.c-d.example",
      "localhost, localhost",
  })
  void toAscii_convertsByUts46NonTransitional(String unicode, String ascii) {
    assertThat(Idna.toAscii(unicode)).isEqualTo(ascii);
  }

  @Test
  void toAscii_keepsJoinersWhereIdna2008AllowsThem() {
    // ZWJ after a virama (Devanagari), ZWNJ between joining letters (Persian); values from Python's idna.
    assertThat(Idna.toAscii("क्\u200dष.example")).isEqualTo("xn--11b2ezcw70k.example");
    assertThat(Idna.toAscii("می\u200cخواهم.example")).isEqualTo("xn--mgbn2ecje63gr19l.example");
  }

  @Test
  void toAscii_passesAnAddressLiteral() {
    assertThat(Idna.toAscii("[192.0.2.1]")).isEqualTo("[192.0.2.1]");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      // RFC 3492 section 7.1 sample strings (lower-cased where the sample has upper case).
      "ليهمابتكلموشعربي؟ | egbpdaj6bu4bxfgehfvwxn",
      "他们为什么不说中文 | ihqwcrb4cv8a8dqg056pqjye",
      "почемужеонинеговорятпорусски | b1abfaaepdrnnbgefbadotcwatmq2g4l",
      "3年B組金八先生 | 3B-ww4c5e180e575a65lsy2b",
      "安室奈美恵-with-SUPER-MONKEYS | -with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n",
      "bücher | bcher-kva",
  })
  void punycode_matchesRfc3492Samples(String unicode, String encoded) {
    assertThat(Idna.encode(unicode)).isEqualTo(encoded);
    assertThat(Idna.decode(encoded)).isEqualTo(unicode);
  }

  @Test
  void punycode_roundTripsSupplementaryCharacters() {
    String label = "\uD83D\uDE00x\uD840\uDC00";
    assertThat(Idna.decode(Idna.encode(label))).isEqualTo(label);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @CsvSource(delimiter = '|', value = {
      "'' | it is empty",
      "a..example | empty label",
      ".example | empty label",
      "example. | empty label",
      "-bücher.example | starts or ends with a hyphen",
      "bücher-.example | starts or ends with a hyphen",
      "-mail.example | starts or ends with a hyphen",
      "ab--cd.example | third and fourth places",
      "bü--x.example | third and fourth places",
      "under_score.example | holds '_'",
      "sp ace.example | holds ' '",
      "bü cher.example | holds ' '",
      "bücher!.example | holds '!'",
      "b☃.example | holds U+2603",
      "\u0308bc.example | starts with a combining mark",
      "\u200dab.example | holds U+200D where IDNA2008 does not allow it",
      "a\u200db.example | holds U+200D where IDNA2008 does not allow it",
      "ς\u200cα.example | holds U+200C where IDNA2008 does not allow it",
      "l·x.example | holds U+00B7 where",
      "ـ.example | holds U+0640",
      "٣۳.example | holds U+0663 where",
      "ח2.6w.example | the Bidi rule",
      "שלום-abc.example | the Bidi rule",
      "⒒.example | stands for a dot",
      "xn--zzzzzzzzzzzzzzz.example | no valid Punycode",
      "xn--abc.example | holds U+0082",
      "xn--a-1xp.example | holds U+2603",
      "xn--bcher-kva-.example | starts or ends with a hyphen",
      "xn--bcher-kva!.example | holds '!'",
  })
  void toAscii_refusesInvalidNames(String domain, String because) {
    assertThatThrownBy(() -> Idna.toAscii(domain)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a valid domain name").hasMessageContaining(because);
  }

  @Test
  void toAscii_refusesALabelOver63OctetsAndANameOver253() {
    String label63 = "a".repeat(63);
    assertThat(Idna.toAscii(label63 + ".example")).startsWith(label63);
    assertThatThrownBy(() -> Idna.toAscii("a".repeat(64) + ".example")).hasMessageContaining("more than the 63");
    assertThatThrownBy(() -> Idna.toAscii("ü".repeat(60) + ".example")).hasMessageContaining("more than the 63");
    String name = String.join(".", label63, label63, label63, "a".repeat(61));
    assertThat(Idna.toAscii(name)).hasSize(253);
    assertThatThrownBy(() -> Idna.toAscii(name + "a")).hasMessageContaining("more than the 253");
  }

  @Test
  void toAscii_givesAnAsciiNameLowerCased_asTheGeneralPathDoes() {
    assertThat(Idna.toAscii("crm.example.test")).isEqualTo("crm.example.test");
    assertThat(Idna.toAscii("mail-1.a0.example")).isEqualTo("mail-1.a0.example");
    assertThat(Idna.toAscii("CRM.Example.TEST")).isEqualTo("crm.example.test");
    assertThat(Idna.toAscii("192.0.2.1")).isEqualTo("192.0.2.1");
    assertThat(Idna.toAscii("xn--bcher-kva.example")).isEqualTo("xn--bcher-kva.example");
    assertThat(Idna.toAscii("a")).isEqualTo("a");
  }

  @Test
  void toAsciiOrElse_givesTheFallbackForAnInvalidName() {
    assertThat(Idna.toAsciiOrElse("bücher.example", "x.invalid")).isEqualTo("xn--bcher-kva.example");
    assertThat(Idna.toAsciiOrElse("a..b", "x.invalid")).isEqualTo("x.invalid");
  }
}
