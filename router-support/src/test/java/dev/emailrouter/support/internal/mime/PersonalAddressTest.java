package dev.emailrouter.support.internal.mime;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeUtility;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The encoded display names the composer makes itself, against Jakarta Mail's for the same names. */
final class PersonalAddressTest {
  static List<String> names() {
    List<String> names = new ArrayList<>(List.of("Jörg Müller", "CRM Ü", "日本語の名前", "😀", "a😀",
        "😀".repeat(14), "Smith, Jörg (Vertrieb) <x@y> \"q\" _=?", "é".repeat(200),
        "Ünïcödé Sübjéct ".repeat(12), "x".repeat(100) + "ü", "ü" + " tail with spaces and = signs ".repeat(5),
        "mostly ASCII but one ß in the middle of a long name here"));
    Random random = new Random(7);
    String alphabet = "aZ09 _=?\"#$%&'(),.:;<>@[\\]^`{|}~üÖß日本é😀";
    for (int i = 0; i < 300; i++) {
      StringBuilder name = new StringBuilder("ä");
      for (int n = random.nextInt(120); n > 0; n--) {
        name.appendCodePoint(alphabet.codePointAt(alphabet.offsetByCodePoints(0,
            random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
      }
      names.add(name.toString());
    }
    return names;
  }

  @ParameterizedTest
  @MethodSource("names")
  void encode_isWhatJakartaMailWritesForTheName(String name) throws Exception {
    assertThat(PersonalAddress.isAscii(name)).isFalse();
    assertThat(PersonalAddress.encode(name)).isEqualTo(MimeUtility.encodeWord(name, "UTF-8", null));
    PersonalAddress ours = new PersonalAddress("a@example.test", name);
    InternetAddress jakarta = new InternetAddress("a@example.test", name, "UTF-8");
    assertThat(ours.toString()).isEqualTo(jakarta.toString());
    assertThat(ours.toUnicodeString()).isEqualTo(jakarta.toUnicodeString());
    assertThat(ours.getPersonal()).isEqualTo(name);
    assertThat(ours).isEqualTo(jakarta);
  }
}
