package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.RawMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile MIME that Jakarta Mail refuses with its default (strict) System properties, which a
 * library must leave alone: each bad part falls back to its undecoded bytes, noted as degraded,
 * and the rest of the message is still read.
 */
final class MessageContentTest {
  private static final String HEAD = "Message-ID: <m@example.test>\r\nFrom: ann@example.test\r\n"
      + "To: sales@crm.example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n";

  private final Properties systemBefore = (Properties) System.getProperties().clone();

  @AfterEach
  void systemPropertiesUntouched() {
    assertThat(System.getProperties().stringPropertyNames()).filteredOn(n -> n.startsWith("mail."))
        .as("mail.* System properties a parse left behind")
        .containsExactlyInAnyOrderElementsOf(systemBefore.stringPropertyNames().stream()
            .filter(n -> n.startsWith("mail.")).toList());
  }

  private static MessageContent parse(String raw) throws Exception {
    byte[] bytes = raw.getBytes(StandardCharsets.ISO_8859_1);
    return MessageContent.parse(new RawMessage("1", bytes.length, () -> new ByteArrayInputStream(bytes)),
        10_000_000, Set.of("exe"), false);
  }

  private static String read(Attachment a) throws IOException {
    try (InputStream in = a.content().open()) {
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void parse_whenAMultipartBoundaryNeverOccurs_keepsTheWholeBodyAsText() throws Exception {
    try (MessageContent c = parse(HEAD + "Content-Type: multipart/alternative; boundary=\"never\"\r\n\r\n"
        + "Just a plain body, the boundary is never used.\r\n")) {
      assertThat(c.text).contains("Just a plain body");
      assertThat(c.degraded).singleElement().asString().contains("text body", "Missing start boundary");
    }
  }

  @Test
  void parse_whenANestedPartReusesTheOuterBoundary_keepsTheReadablePartsAndSkipsTheEmptyOne() throws Exception {
    try (MessageContent c = parse(HEAD + "Content-Type: multipart/mixed; boundary=\"same\"\r\n\r\n"
        + "--same\r\nContent-Type: multipart/alternative; boundary=\"same\"\r\n\r\n"
        + "--same\r\nContent-Type: text/plain\r\n\r\nthe plain text\r\n"
        + "--same\r\nContent-Type: text/html\r\n\r\n<p>the html</p>\r\n"
        + "--same--\r\n--same--\r\n")) {
      assertThat(c.text).contains("the plain text");
      assertThat(c.html).contains("the html");
      assertThat(c.degraded).singleElement().asString().contains("multipart/alternative", "skipped");
    }
  }

  @Test
  void parse_whenAMultipartReportHasNoBoundaryInItsBody_keepsTheBodyAsText() throws Exception {
    try (MessageContent c = parse(HEAD + "Content-Type: multipart/report; report-type=delivery-status; boundary=r"
        + "\r\n\r\nYour message could not be delivered.\r\n")) {
      assertThat(c.text).contains("could not be delivered");
      assertThat(c.degraded).hasSize(1);
    }
  }

  @Test
  void parse_whenTheTextBodyHasBrokenBase64_keepsTheUndecodedTextAndStillReadsTheOtherParts() throws Exception {
    try (MessageContent c = parse(HEAD + "Content-Type: multipart/mixed; boundary=z\r\n\r\n"
        + "--z\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + "QUJD=RE=F\r\n====\r\n"
        + "--z\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + "JVBERi0xLjQK\r\n--z--\r\n")) {
      assertThat(c.text).contains("QUJD=RE=F");
      assertThat(c.degraded).singleElement().asString().startsWith("text body: ").contains("BASE64")
          .doesNotContain("QUJD");
      assertThat(c.attachments).singleElement().satisfies(a -> {
        assertThat(a.fileName()).isEqualTo("a.pdf");
        assertThat(read(a)).isEqualTo("%PDF-1.4\n");
      });
    }
  }

  @Test
  void parse_whenTheTextBodyHasAnUnknownTransferEncoding_keepsItUndecoded() throws Exception {
    try (MessageContent c = parse(HEAD + "Content-Type: text/plain; charset=utf-8\r\n"
        + "Content-Transfer-Encoding: x-rot13\r\n\r\nUryyb, jbeyq\r\n")) {
      assertThat(c.text).contains("Uryyb, jbeyq");
      assertThat(c.degraded).singleElement().asString().contains("x-rot13");
    }
  }

  @Test
  void parse_whenAnAttachmentHasBrokenBase64_keepsItsEncodedBytesInsteadOfFailingWhenTheStoreReadsIt()
      throws Exception {
    try (MessageContent c = parse(HEAD + "Content-Type: multipart/mixed; boundary=z\r\n\r\n"
        + "--z\r\nContent-Type: text/plain\r\n\r\nsee the picture\r\n"
        + "--z\r\nContent-Type: image/png; name=x.png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + "!!!not base64 at all***\r\n--z--\r\n")) {
      assertThat(c.text).contains("see the picture");
      assertThat(c.attachments).singleElement().satisfies(a -> {
        assertThat(a.fileName()).isEqualTo("x.png");
        assertThat(read(a)).contains("!!!not base64 at all***");
      });
      assertThat(c.degraded).singleElement().asString().startsWith("x.png: ");
    }
  }

  @Test
  void parse_whenAnAttachmentHasAnUnknownTransferEncoding_keepsItsBytesAsTheyCame() throws Exception {
    try (MessageContent c = parse(HEAD + "Content-Type: multipart/mixed; boundary=z\r\n\r\n"
        + "--z\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        + "--z\r\nContent-Type: application/octet-stream; name=d.bin\r\nContent-Transfer-Encoding: base65\r\n\r\n"
        + "abc\r\n--z--\r\n")) {
      assertThat(c.attachments).singleElement().satisfies(a -> assertThat(read(a)).isEqualTo("abc"));
      assertThat(c.degraded).singleElement().asString().contains("d.bin", "base65");
    }
  }

  @Test
  void parse_whenTheMessageIsWellFormed_degradesNothing() throws Exception {
    try (MessageContent c = parse(HEAD + "Content-Type: multipart/mixed; boundary=z\r\n\r\n"
        + "--z\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        + "--z\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + "JVBERi0xLjQK\r\n--z--\r\n")) {
      assertThat(c.text).isEqualTo("hello");
      assertThat(c.attachments).hasSize(1);
      assertThat(c.degraded).isEmpty();
    }
  }

  @Test
  void parse_whenTheMessageIsOnlyHeadersWithoutABlankLine_givesAnEmptyBody() throws Exception {
    try (MessageContent c = parse("Message-ID: <headers-only@example.test>\r\nFrom: ann@example.test")) {
      assertThat(c.text).isNullOrEmpty();
      assertThat(c.attachments).isEmpty();
    }
  }

  @Test
  void parse_whenTheHeaderBlockIsOnlyContinuationLines_keepsTheWholeMessageAsText() throws Exception {
    try (MessageContent c = parse(" \r\n\t\r\n")) {
      assertThat(c.text).isBlank();
      assertThat(c.degraded).singleElement().asString().startsWith("headers: ");
    }
  }

  @Test
  void parse_whenAPartNamedLikeABlockedFileCantBeSplit_dropsItInsteadOfKeepingItRaw() throws Exception {
    try (MessageContent c = parse(HEAD + "Content-Type: multipart/mixed; boundary=z\r\n\r\n"
        + "--z\r\nContent-Type: text/plain\r\n\r\nthe text\r\n"
        + "--z\r\nContent-Type: multipart/mixed; boundary=never; name=\"payload.exe.\"\r\n\r\nMZ payload\r\n"
        + "--z--\r\n")) {
      assertThat(c.text).contains("the text");
      assertThat(c.attachments).isEmpty();
      assertThat(c.dropped).singleElement().asString().isEqualTo("payload.exe.: blocked file type .exe");
    }
  }

  @Test
  void readAll_takesEveryByte_whateverSizeTheServerGave() throws Exception {
    byte[] message = "Subject: x\r\n\r\nbody\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    for (long announced : new long[] {message.length, message.length - 5, message.length + 7, 0, -1}) {
      assertThat(MessageContent.readAll(new java.io.ByteArrayInputStream(message), announced))
          .as("announced size %d", announced).isEqualTo(message);
    }
  }
}
