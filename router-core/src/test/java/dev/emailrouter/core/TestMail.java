package dev.emailrouter.core;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds raw RFC 822 test messages as strings (CRLF line ends). */
final class TestMail {
  private final Map<String, List<String>> headers = new LinkedHashMap<>();
  private String text = "Hello.";
  private String html;
  private String textCharset = "UTF-8";
  private final List<String> parts = new ArrayList<>();
  private static int counter;

  private TestMail() {}

  /** A message with From, To, Subject, Date and a Message-ID. */
  static TestMail message() {
    int n;
    synchronized (TestMail.class) {
      n = ++counter;
    }
    return new TestMail()
        .header("From", "Customer <customer@example.org>")
        .header("To", "sales@example.com")
        .header("Subject", "Question " + n)
        .header("Date", "Fri, 1 Mar 2024 08:00:00 +0000")
        .header("Message-ID", "<test-" + n + "-" + System.nanoTime() + "@example.org>");
  }

  TestMail header(String name, String value) {
    headers.put(name, new ArrayList<>(List.of(value)));
    return this;
  }

  TestMail addHeader(String name, String value) {
    headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    return this;
  }

  TestMail without(String name) {
    headers.remove(name);
    return this;
  }

  TestMail from(String value) {
    return header("From", value);
  }

  TestMail to(String value) {
    return header("To", value);
  }

  TestMail cc(String value) {
    return header("Cc", value);
  }

  TestMail subject(String value) {
    return header("Subject", value);
  }

  TestMail messageId(String value) {
    return header("Message-ID", value);
  }

  TestMail inReplyTo(String value) {
    return header("In-Reply-To", value);
  }

  TestMail references(String value) {
    return header("References", value);
  }

  TestMail text(String value) {
    text = value;
    return this;
  }

  TestMail text(String value, String charset) {
    text = value;
    textCharset = charset;
    return this;
  }

  TestMail html(String value) {
    html = value;
    return this;
  }

  String messageId() {
    return headers.get("Message-ID").get(0);
  }

  /** Adds an attachment, base64-encoded; {@code fileNameParam} is the raw parameter text. */
  TestMail attach(String contentType, String fileNameParam, byte[] bytes) {
    String b64 = Base64.getMimeEncoder(76, "\r\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(bytes);
    parts.add("Content-Type: " + contentType + "\r\n"
        + "Content-Disposition: attachment; " + fileNameParam + "\r\n"
        + "Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "\r\n");
    return this;
  }

  TestMail attach(String contentType, String fileName, String content) {
    return attach(contentType, "filename=\"" + fileName + "\"", content.getBytes(StandardCharsets.UTF_8));
  }

  /** Attaches a whole message as message/rfc822 (a forward). */
  TestMail attachMessage(String raw) {
    parts.add("Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n"
        + raw + "\r\n");
    return this;
  }

  String build() {
    StringBuilder out = new StringBuilder();
    headers.forEach((name, values) -> values.forEach(v -> out.append(name).append(": ").append(v).append("\r\n")));
    out.append("MIME-Version: 1.0\r\n");
    String textPart = "Content-Type: text/plain; charset=" + textCharset + "\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + text + "\r\n";
    String body;
    if (html == null && parts.isEmpty()) {
      return out.append(textPart).toString();
    }
    String alt = "alt-" + Integer.toHexString(System.identityHashCode(this));
    if (html != null) {
      body = "Content-Type: multipart/alternative; boundary=\"" + alt + "\"\r\n\r\n"
          + "--" + alt + "\r\n" + textPart
          + "--" + alt + "\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
          + html + "\r\n--" + alt + "--\r\n";
    } else {
      body = textPart;
    }
    if (parts.isEmpty()) {
      return out.append(body).toString();
    }
    String mixed = "mixed-" + Integer.toHexString(System.identityHashCode(this));
    out.append("Content-Type: multipart/mixed; boundary=\"").append(mixed).append("\"\r\n\r\n");
    out.append("--").append(mixed).append("\r\n").append(body);
    for (String p : parts) {
      out.append("--").append(mixed).append("\r\n").append(p);
    }
    out.append("--").append(mixed).append("--\r\n");
    return out.toString();
  }
}
