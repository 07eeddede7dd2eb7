package dev.emailrouter.imap;

import dev.emailrouter.support.internal.RawHeaders;
import java.util.List;
import java.util.Map;

/**
 * Parses an RFC 5322 header block into raw values by lower-case name, in message order. Values are
 * unfolded (the CRLF before continuation whitespace removed) and trimmed, but not decoded: RFC 2047
 * encoded words stay as they are. Bytes are read as UTF-8 (RFC 6532), or ISO-8859-1 where they are
 * not valid UTF-8, so no byte is lost. The parser itself is core's, which the POP3 reader shares.
 */
final class HeaderBlock {

  private HeaderBlock() {}

  static Map<String, List<String>> parse(byte[] bytes, int offset, int length) {
    return RawHeaders.parse(bytes, offset, length);
  }
}
