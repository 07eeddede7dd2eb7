package dev.emailrouter.support.internal.mime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The 7bit test of a text body, read eight bytes at a time, against a plain loop over its characters. */
final class MimeWireSevenBitTest {

  /** The rule as a loop over the characters: the length with CRLF line ends, or -1 when not 7bit. */
  private static int expected(String text) {
    int n = text.length();
    int length = n;
    int line = 0;
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      if (c == '\r') {
        line = 0;
        if (i + 1 >= n || text.charAt(i + 1) != '\n') {
          length++;
        }
      } else if (c == '\n') {
        line = 0;
        if (i == 0 || text.charAt(i - 1) != '\r') {
          length++;
        }
      } else if (c >= 0x7f || (c < ' ' && c != '\t') || ++line > 998) {
        return -1;
      }
    }
    return length;
  }

  @Test
  void sevenBitLength_atEveryPositionInAWord_agreesWithALoopOverTheCharacters() {
    List<String> texts = new ArrayList<>();
    String[] odd = {"?", "\r", "\n", "\r\n", "\t", "\u007f", "\u0000", "\u001f", "\u0080", "\u00bf", "\u00e9", "\u0100",
        "\u013f", "\u20ac", "\ud83d\ude00", "\ud83d", "\ude00", "\u3f3f", "\uff3f"};
    for (String o : odd) {
      for (int at = 0; at < 17; at++) {
        texts.add("a".repeat(at) + o + "b".repeat(16 - at));
        texts.add("a".repeat(at) + o);
        texts.add(o + "a".repeat(at));
      }
    }
    for (String text : texts) {
      assertThat(MimeWire.sevenBitLength(text)).as("%s", text.codePoints().boxed().toList()).isEqualTo(expected(text));
    }
  }

  @Test
  void sevenBitLength_ofLinesAroundTheLimit_agreesWithALoopOverTheCharacters() {
    for (int length = 990; length <= 1_010; length++) {
      for (String end : new String[] {"", "\n", "\r", "\r\n", "\n\n", "\r\r"}) {
        String line = "x".repeat(length);
        for (String text : List.of(line + end, end + line, "ab\n" + line + end + "cd", "?" + line + end + "?\r\n",
            line + end + line)) {
          assertThat(MimeWire.sevenBitLength(text)).as("line of %d, end %s", length, end.length())
              .isEqualTo(expected(text));
        }
      }
    }
  }

  @Test
  void sevenBitLength_ofRandomText_agreesWithALoopOverTheCharacters() {
    Random random = new Random(15);
    char[] alphabet = "ab ?.\t\r\n\u007f\u0001\u00e9\u0100\u20ac\ud83d\ude00".toCharArray();
    for (int t = 0; t < 20_000; t++) {
      char[] text = new char[random.nextInt(40)];
      for (int i = 0; i < text.length; i++) {
        // Mostly printable ASCII, so many texts are 7bit and the rest differ in one place.
        text[i] = random.nextInt(8) == 0 ? alphabet[random.nextInt(alphabet.length)]
            : (char) (' ' + random.nextInt(0x7f - ' '));
      }
      String s = new String(text);
      assertThat(MimeWire.sevenBitLength(s)).as("%s", s.chars().boxed().toList()).isEqualTo(expected(s));
    }
  }
}
