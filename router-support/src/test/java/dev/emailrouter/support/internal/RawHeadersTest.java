package dev.emailrouter.support.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class RawHeadersTest {

  @Test
  void parse_unfoldsTrimsAndKeepsOrderAndRepeats() {
    byte[] block = ("Subject:  Hello\r\n  world \r\nTO: a@b\r\nto: c@d\r\nX-Odd:\r\n\r\nBody: no\r\n")
        .getBytes(StandardCharsets.US_ASCII);

    Map<String, List<String>> headers = RawHeaders.parse(block, 0, block.length);

    assertThat(headers).containsExactly(Map.entry("subject", List.of("Hello  world")),
        Map.entry("to", List.of("a@b", "c@d")), Map.entry("x-odd", List.of("")));
  }

  @Test
  void parse_readsUtf8PerLineAndFallsBackToLatin1ForBytesThatAreNotUtf8() {
    byte[] utf8 = "Subject: caf\u00e9\r\n".getBytes(StandardCharsets.UTF_8);
    byte[] latin1 = "\t\u00e9t\u00e9\r\nFrom: x@y\r\n".getBytes(StandardCharsets.ISO_8859_1);
    byte[] block = new byte[utf8.length + latin1.length];
    System.arraycopy(utf8, 0, block, 0, utf8.length);
    System.arraycopy(latin1, 0, block, utf8.length, latin1.length);

    Map<String, List<String>> headers = RawHeaders.parse(block, 0, block.length);

    assertThat(headers).containsExactly(Map.entry("subject", List.of("caf\u00e9\t\u00e9t\u00e9")),
        Map.entry("from", List.of("x@y")));
  }

  /** The byte-level reading gives what reading line by line as strings gave, for any bytes. */
  @Test
  void parse_givesWhatTheStringReadingGave_forTrickyAndRandomBlocks() {
    List<String> tricky = List.of("", "\r\n", "From x Mon\r\nSubject: a\r\n", " lead: in\r\nA: b\r\n",
        ": no name\r\n  cont\r\nB: c", "Name : v \r\r\n", "A:b\nB:  \n\tc\n d\n\nE: f", "\u000bX\u001c: \u001fv\u000b\r\n",
        "MESSAGE-ID: <a@b>\r\nReceived: x\r\n\tY\r\nreceived: z\r\n", "A: \u00a0v\u00a0\r\n", "\u00c9: e\r\n",
        "Subject: \r\n\r\n", "X:\r\n \r\n", "no colon\r\n cont: x\r\nY: z\r\n");
    for (String s : tricky) {
      for (var cs : List.of(StandardCharsets.UTF_8, StandardCharsets.ISO_8859_1)) {
        byte[] b = s.getBytes(cs);
        assertThat(RawHeaders.parse(b, 0, b.length)).as(s).isEqualTo(reference(b, 0, b.length));
      }
    }
    Random random = new Random(15);
    byte[] alphabet = "aA:zZ \t\r\n-\u000b\u001c<>@.".getBytes(StandardCharsets.ISO_8859_1);
    for (int round = 0; round < 20_000; round++) {
      byte[] b = new byte[random.nextInt(60)];
      for (int i = 0; i < b.length; i++) {
        int pick = random.nextInt(alphabet.length + 3);
        b[i] = pick < alphabet.length ? alphabet[pick] : pick == alphabet.length ? (byte) 0xc3 : (byte) 0xa9;
      }
      int offset = b.length == 0 ? 0 : random.nextInt(b.length);
      int length = b.length - offset == 0 ? 0 : random.nextInt(b.length - offset + 1);
      assertThat(RawHeaders.parse(b, offset, length)).as("round %d", round)
          .isEqualTo(reference(b, offset, length));
    }
  }

  /** The reading as it was before the byte-level one: each line decoded, then split as a string. */
  private static Map<String, List<String>> reference(byte[] bytes, int offset, int length) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    int end = offset + length;
    int pos = offset;
    String name = null;
    StringBuilder value = new StringBuilder();
    while (pos < end) {
      int lf = pos;
      while (lf < end && bytes[lf] != '\n') {
        lf++;
      }
      int lineEnd = lf;
      while (lineEnd > pos && bytes[lineEnd - 1] == '\r') {
        lineEnd--;
      }
      String line = decode(bytes, pos, lineEnd - pos);
      pos = lf + 1;
      if (line.isEmpty()) {
        break;
      }
      char first = line.charAt(0);
      if (first == ' ' || first == '\t') {
        if (name != null) {
          value.append(line);
        }
        continue;
      }
      add(headers, name, value);
      int colon = line.indexOf(':');
      if (colon <= 0) {
        name = null;
        value.setLength(0);
        continue;
      }
      name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      value.setLength(0);
      value.append(line, colon + 1, line.length());
    }
    add(headers, name, value);
    return headers;
  }

  private static void add(Map<String, List<String>> headers, String name, StringBuilder value) {
    if (name != null && !name.isEmpty()) {
      headers.computeIfAbsent(name, n -> new ArrayList<>()).add(value.toString().strip());
    }
  }

  private static String decode(byte[] bytes, int offset, int length) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, offset, length)).toString();
    } catch (CharacterCodingException e) {
      return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }
  }
}
