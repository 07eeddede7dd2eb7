package dev.emailrouter.api;

import java.util.Objects;

/**
 * A file attached to an email, read as a stream when it is needed.
 *
 * @param fileName the file name shown to the recipient; any characters but control characters and
 *     path separators
 * @param contentType the MIME type, e.g. {@code application/pdf}
 * @param size the size in bytes, or -1 when unknown
 * @param content opens the bytes
 */
public record Attachment(String fileName, String contentType, long size, ContentSource content) {

  /**
   * Validates the components.
   *
   * @param fileName the file name shown to the recipient; any characters but control characters and path
   *     separators
   * @param contentType the MIME type, e.g. {@code application/pdf}
   * @param size the size in bytes, or -1 when unknown
   * @param content opens the bytes
   */
  public Attachment {
    Objects.requireNonNull(fileName, "fileName");
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(content, "content");
    if (fileName.isBlank()) {
      throw new IllegalArgumentException("fileName must not be blank");
    }
    for (int i = 0; i < fileName.length(); i++) {
      char c = fileName.charAt(i);
      if (Character.isISOControl(c) || c == '/' || c == '\\') {
        throw new IllegalArgumentException("fileName must not contain control characters or path separators, was "
            + EmailAddress.quote(fileName));
      }
    }
    if (!contentType.matches("[!#$&^_.+a-zA-Z0-9-]+/[!#$&^_.+a-zA-Z0-9-]+")) {
      throw new IllegalArgumentException("contentType must be a MIME type such as application/pdf, was "
          + EmailAddress.quote(contentType));
    }
    if (size < -1) {
      throw new IllegalArgumentException("size must be -1 (unknown) or at least 0, was " + size);
    }
  }

  /**
   * The file name's extension in lower case, without the dot, or the empty string.
   *
   * @return e.g. {@code "pdf"}
   */
  public String extension() {
    int dot = fileName.lastIndexOf('.');
    return dot < 0 ? "" : fileName.substring(dot + 1).toLowerCase(java.util.Locale.ROOT);
  }
}
