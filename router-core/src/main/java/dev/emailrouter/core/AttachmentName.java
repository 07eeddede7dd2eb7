package dev.emailrouter.core;

import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A MIME part's file name: the one shown in the CRM, and every name the part gives itself, for the
 * blocked-extension check. A part can name itself in Content-Disposition {@code filename} and in
 * Content-Type {@code name}, plainly, RFC 2231 encoded ({@code filename*=utf-8''payload%2Eexe}) or
 * in RFC 2231 continuations ({@code filename*0*=...; filename*1*=...}), with RFC 2047 encoded
 * words, and twice; the recipient's program may pick any of them, so each is checked. The
 * parameters are read here rather than by Jakarta Mail, whose RFC 2231 decoding depends on a
 * System property ({@code mail.mime.decodeparameters}) the host may have set.
 *
 * @param display the name to store (path components removed, control characters replaced), or
 *     {@code null} when the part names no file
 * @param all every name the part gives, decoded
 */
record AttachmentName(String display, List<String> all) {

  AttachmentName {
    all = List.copyOf(Objects.requireNonNull(all, "all"));
  }

  /** Reads the names of a part; never fails (an unreadable header gives no names). */
  static AttachmentName of(Part part) {
    List<String> all = new ArrayList<>();
    for (String[] header : new String[][] {{"Content-Disposition", "filename"}, {"Content-Type", "name"}}) {
      String[] values;
      try {
        values = part.getHeader(header[0]);
      } catch (MessagingException | RuntimeException e) {
        values = null;
      }
      if (values != null) {
        for (String value : values) {
          all.addAll(parameter(value, header[1]));
        }
      }
    }
    try {
      String jakarta = part.getFileName(); // a last word, should Jakarta Mail read a name the code above did not
      if (jakarta != null) {
        all.add(HeaderText.decodeWords(jakarta));
      }
    } catch (MessagingException | RuntimeException e) {
      // nothing more to learn
    }
    String display = null;
    for (String name : all) {
      String shown = HeaderText.clean(lastPathComponent(name)).strip();
      if (!shown.isEmpty() && !shown.chars().allMatch(c -> c == '.')) { // "." and ".." name no file
        display = shown;
        break;
      }
    }
    return new AttachmentName(display, all);
  }

  /**
   * The blocked extension one of the names ends with, or {@code null}. Each name is reduced to
   * what Windows would save it as: the part after the last path separator, cut at a NUL, without
   * an NTFS stream suffix (from the first ':'), without trailing dots and spaces, NFC, lower case.
   */
  String blockedExtension(Set<String> blocked) {
    for (String name : all) {
      String ext = extension(name);
      if (blocked.contains(ext)) {
        return ext;
      }
    }
    return null;
  }

  /** The extension Windows would act on, lower case, without the dot; empty when there is none. */
  static String extension(String name) {
    String n = lastPathComponent(name);
    int nul = n.indexOf('\0');
    if (nul >= 0) {
      n = n.substring(0, nul); // where a C string ends
    }
    int colon = n.indexOf(':');
    if (colon >= 0) {
      n = n.substring(0, colon); // payload.exe::$DATA, payload.exe:stream
    }
    n = HeaderText.clean(n);
    int end = n.length();
    while (end > 0 && (n.charAt(end - 1) == '.' || Character.isWhitespace(n.charAt(end - 1)))) {
      end--; // Windows drops trailing dots and spaces: "payload.exe. ." is payload.exe
    }
    n = Normalizer.normalize(n.substring(0, end), Normalizer.Form.NFC).toLowerCase(Locale.ROOT);
    int dot = n.lastIndexOf('.');
    return dot < 0 ? "" : n.substring(dot + 1).strip();
  }

  private static String lastPathComponent(String name) {
    int cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
    return name.substring(cut + 1);
  }

  /**
   * Every value of one parameter in a header value ({@code attachment; filename="a.pdf"}): plain
   * ones, the RFC 2231 extended one and the RFC 2231 continuations, each decoded.
   */
  static List<String> parameter(String headerValue, String wanted) {
    List<String> out = new ArrayList<>();
    Map<Integer, String[]> segments = new TreeMap<>(); // number -> {value, "*" when extended}
    String s = headerValue.replace("\r", "").replace("\n", "");
    int i = s.indexOf(';');
    while (i >= 0 && i < s.length()) {
      i++; // past ';'
      int eq = s.indexOf('=', i);
      int semi = s.indexOf(';', i);
      if (eq < 0 || (semi >= 0 && semi < eq)) {
        i = semi; // a parameter without a value
        continue;
      }
      String key = s.substring(i, eq).strip().toLowerCase(Locale.ROOT);
      int v = eq + 1;
      while (v < s.length() && (s.charAt(v) == ' ' || s.charAt(v) == '\t')) {
        v++;
      }
      String value;
      if (v < s.length() && s.charAt(v) == '"') {
        StringBuilder q = new StringBuilder();
        int j = v + 1;
        for (; j < s.length() && s.charAt(j) != '"'; j++) {
          char c = s.charAt(j);
          if (c == '\\' && j + 1 < s.length()) {
            c = s.charAt(++j);
          }
          q.append(c);
        }
        value = q.toString();
        i = s.indexOf(';', Math.min(j + 1, s.length()));
      } else {
        int end = s.indexOf(';', v);
        value = s.substring(v, end < 0 ? s.length() : end).strip();
        i = end;
      }
      if (key.equals(wanted)) {
        out.add(HeaderText.decodeWords(value));
      } else if (key.equals(wanted + "*")) {
        out.add(extended(value));
      } else if (key.startsWith(wanted + "*")) {
        String rest = key.substring(wanted.length() + 1);
        boolean extended = rest.endsWith("*");
        String number = extended ? rest.substring(0, rest.length() - 1) : rest;
        if (!number.isEmpty() && number.length() < 4 && number.chars().allMatch(Character::isDigit)) {
          segments.putIfAbsent(Integer.parseInt(number), new String[] {value, extended ? "*" : ""});
        }
      }
    }
    if (!segments.isEmpty()) {
      out.add(0, continued(segments));
    }
    return out;
  }

  /** {@code charset'language'percent-encoded}; without the quotes, the whole value is percent-encoded UTF-8. */
  private static String extended(String value) {
    int first = value.indexOf('\'');
    int second = first < 0 ? -1 : value.indexOf('\'', first + 1);
    String charset = second < 0 ? "UTF-8" : value.substring(0, first);
    byte[] bytes = percentDecoded(second < 0 ? value : value.substring(second + 1));
    return decode(bytes, charset);
  }

  /** RFC 2231 §3-4: segments in number order, the extended ones percent-decoded in segment 0's charset. */
  private static String continued(Map<Integer, String[]> segments) {
    String charset = "UTF-8";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    boolean firstSegment = true;
    for (String[] segment : segments.values()) {
      String value = segment[0];
      if (segment[1].equals("*")) {
        if (firstSegment) {
          int first = value.indexOf('\'');
          int second = first < 0 ? -1 : value.indexOf('\'', first + 1);
          if (second >= 0) {
            charset = value.substring(0, first);
            value = value.substring(second + 1);
          }
        }
        bytes.writeBytes(percentDecoded(value));
      } else {
        bytes.writeBytes(value.getBytes(StandardCharsets.UTF_8));
      }
      firstSegment = false;
    }
    return decode(bytes.toByteArray(), charset);
  }

  private static String decode(byte[] bytes, String charset) {
    String text = charset.isBlank() ? null : HeaderText.decode(bytes, charset);
    return text != null ? text : new String(bytes, StandardCharsets.UTF_8);
  }

  private static byte[] percentDecoded(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length() && Character.digit(s.charAt(i + 1), 16) >= 0
          && Character.digit(s.charAt(i + 2), 16) >= 0) {
        out.write(Character.digit(s.charAt(i + 1), 16) * 16 + Character.digit(s.charAt(i + 2), 16));
        i += 2;
      } else {
        out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
      }
    }
    return out.toByteArray();
  }
}
