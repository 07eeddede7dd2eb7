package dev.emailrouter.reliability;

import com.icegreen.greenmail.store.MailFolder;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import jakarta.mail.Flags;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.Properties;

/** Emails and messages for the tests. */
final class Mail {
  static final Session MIME = Session.getInstance(new Properties());

  private Mail() {}

  /** A plain outgoing email from {@code from} to one contact. */
  static OutgoingEmail outgoing(String id, String from) {
    return OutgoingEmail.builder(id, EmailAddress.of(from))
        .to(EmailAddress.of("contact@example.test", "A Contact"))
        .subject("Proposal " + id)
        .textBody("Hello, this is email " + id + ".\r\n")
        .build();
  }

  /** An outgoing email from {@code from} to several people (To), each address as given. */
  static OutgoingEmail outgoingTo(String id, String from, String... to) {
    OutgoingEmail.Builder b = OutgoingEmail.builder(id, EmailAddress.of(from))
        .subject("Proposal " + id)
        .textBody("Hello, this is email " + id + ".\r\n");
    for (String address : to) {
      b.to(EmailAddress.of(address));
    }
    return b.build();
  }

  /** A small incoming message with Message-ID {@code <in-KEY@example.test>}. */
  static byte[] incoming(String key) {
    return ("Message-ID: <in-" + key + "@example.test>\r\n"
        + "From: Ann Contact <ann@example.test>\r\n"
        + "To: sales@crm.example.test\r\n"
        + "Subject: Question " + key + "\r\n"
        + "Date: Fri, 1 Mar 2024 09:00:00 +0000\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=UTF-8\r\n"
        + "\r\n"
        + "Body of message " + key + ".\r\n").getBytes(StandardCharsets.UTF_8);
  }

  static String incomingId(String key) {
    return "<in-" + key + "@example.test>";
  }

  /** Parses raw bytes into a message GreenMail can store. */
  static MimeMessage mime(byte[] raw) {
    try {
      return new MimeMessage(MIME, new ByteArrayInputStream(raw));
    } catch (MessagingException e) {
      throw new IllegalStateException("can't parse test message: " + e, e);
    }
  }

  /** Appends raw bytes to a GreenMail folder; returns the UID. */
  static long append(MailFolder folder, byte[] raw) {
    return folder.appendMessage(mime(raw), new Flags(), Date.from(Instant.parse("2024-03-01T09:00:00Z")));
  }
}
