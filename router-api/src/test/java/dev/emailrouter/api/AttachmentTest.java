package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

final class AttachmentTest {

  private static final ContentSource CONTENT = ContentSource.ofBytes("%PDF".getBytes(StandardCharsets.US_ASCII));

  private static Attachment attachment(String fileName) {
    return new Attachment(fileName, "application/pdf", 4, CONTENT);
  }

  @ParameterizedTest
  @ValueSource(strings = {"offer.pdf", "Angebot für Müller.pdf", "no extension", "a:b*c?.txt", "..pdf"})
  void new_whenTheFileNameHasNoControlCharactersOrSeparators_isAccepted(String fileName) {
    assertThat(attachment(fileName).fileName()).isEqualTo(fileName);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "../../etc/passwd",
      "dir/offer.pdf",
      "C:\\Users\\me\\offer.pdf",
      "offer.pdf\r\nContent-Type: text/html",
      "offer\n.pdf",
      "offer\u0000.pdf",
      "offer\t.pdf"})
  void new_whenTheFileNameHasPathSeparatorsOrControlCharacters_isRefusedNamingTheValue(String fileName) {
    assertThatThrownBy(() -> attachment(fileName))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("fileName must not contain control characters or path separators, was "
            + EmailAddress.quote(fileName))
        .hasMessageNotContaining("\r")
        .hasMessageNotContaining("\n");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "  "})
  void new_whenTheFileNameIsBlank_isRefused(String fileName) {
    assertThatThrownBy(() -> attachment(fileName))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("fileName must not be blank");
  }

  @ParameterizedTest
  @ValueSource(strings = {"application/pdf", "text/plain", "application/vnd.ms-excel",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "image/svg+xml"})
  void new_whenTheContentTypeIsAMimeType_isAccepted(String contentType) {
    assertThat(new Attachment("f", contentType, -1, CONTENT).contentType()).isEqualTo(contentType);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "pdf", "application/", "/pdf", "application/pdf/x", "text/plain; charset=utf-8",
      "text /plain", "text/html\r\nBcc: eve@evil.example"})
  void new_whenTheContentTypeIsNotAMimeType_isRefusedNamingTheValue(String contentType) {
    assertThatThrownBy(() -> new Attachment("f.txt", contentType, 1, CONTENT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("contentType must be a MIME type such as application/pdf, was " + EmailAddress.quote(contentType))
        .hasMessageNotContaining("\r")
        .hasMessageNotContaining("\n");
  }

  @Test
  void new_whenTheSizeIsBelowMinusOne_isRefusedNamingTheValue() {
    assertThatThrownBy(() -> new Attachment("f.pdf", "application/pdf", -2, CONTENT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("size must be -1 (unknown) or at least 0, was -2");
  }

  @Test
  void new_whenTheSizeIsUnknownOrZero_isAccepted() {
    assertThat(new Attachment("f.pdf", "application/pdf", -1, CONTENT).size()).isEqualTo(-1);
    assertThat(new Attachment("f.pdf", "application/pdf", 0, CONTENT).size()).isZero();
  }

  @Test
  void new_whenAComponentIsNull_throwsNullPointerNamingIt() {
    assertThatThrownBy(() -> new Attachment(null, "a/b", 0, CONTENT)).hasMessage("fileName");
    assertThatThrownBy(() -> new Attachment("f", null, 0, CONTENT)).hasMessage("contentType");
    assertThatThrownBy(() -> new Attachment("f", "a/b", 0, null)).hasMessage("content");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
      "offer.pdf|pdf",
      "Offer.PDF|pdf",
      "archive.tar.GZ|gz",
      "no extension|''",
      "trailing.|''"})
  void extension_returnsTheLowerCasedPartAfterTheLastDot(String fileName, String extension) {
    assertThat(attachment(fileName).extension()).isEqualTo(extension);
  }

  @Test
  void content_opensAFreshStreamFromTheFirstByteEachTime() throws IOException {
    Attachment a = attachment("f.pdf");

    try (InputStream first = a.content().open()) {
      assertThat(first.readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("%PDF");
    }
    try (InputStream second = a.content().open()) {
      assertThat(second.readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("%PDF");
    }
  }
}
