package dev.emailrouter.pop3;

import com.icegreen.greenmail.user.GreenMailUser;
import dev.emailrouter.api.RawMessage;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/** Raw test messages and their delivery into a GreenMail mailbox. */
final class TestMail {

  private TestMail() {}

  /** A small text message with the headers the engine reads; body lines are CRLF-terminated. */
  static String raw(String id, String subject, String body) {
    return "Return-Path: <alice@example.test>\r\n"
        + "Received: from mx.example.test by pop.example.test; Tue, 7 Oct 2025 10:00:05 +0000\r\n"
        + "Received: from client.example.test by mx.example.test; Tue, 7 Oct 2025 09:59:00 +0000\r\n"
        + "Message-ID: <" + id + "@example.test>\r\n"
        + "From: Alice <alice@example.test>\r\n"
        + "To: sales@example.test\r\n"
        + "Subject: " + subject + "\r\n"
        + "Date: Tue, 7 Oct 2025 10:00:00 +0000\r\n"
        + "In-Reply-To: <crm-1@crm.example.test>\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "\r\n"
        + body;
  }

  static void deliver(GreenMailUser user, String raw) {
    deliver(user, raw.getBytes(StandardCharsets.ISO_8859_1));
  }

  static void deliver(GreenMailUser user, byte[] raw) {
    try {
      user.deliver(new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(raw)));
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] bytes(RawMessage message) {
    try (InputStream in = message.content().open()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
