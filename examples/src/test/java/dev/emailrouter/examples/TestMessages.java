package dev.emailrouter.examples;

import dev.emailrouter.testfixtures.MutableClock;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.util.Date;
import java.util.Properties;

/** Messages as contacts' mail clients write them, each with a fixed Message-ID. */
final class TestMessages {
  private static final Session SESSION = Session.getInstance(new Properties());

  private TestMessages() {}

  /** A plain-text message whose Message-ID survives {@code saveChanges}. */
  static MimeMessage message(String messageId, String from, String to, String subject, String text) {
    MimeMessage m = new MimeMessage(SESSION) {
      @Override
      protected void updateMessageID() throws MessagingException {
        setHeader("Message-ID", messageId);
      }
    };
    try {
      m.setFrom(new InternetAddress(from));
      m.setRecipients(Message.RecipientType.TO, InternetAddress.parse(to));
      m.setSubject(subject, "UTF-8");
      m.setSentDate(Date.from(MutableClock.START));
      m.setText(text, "UTF-8");
      m.saveChanges();
      return m;
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The same with a header added (In-Reply-To, References...). */
  static MimeMessage withHeader(MimeMessage m, String name, String value) {
    try {
      m.setHeader(name, value);
      m.saveChanges();
      return m;
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A message with a text part and one attachment. */
  static MimeMessage withAttachment(String messageId, String from, String to, String subject, String text,
      String fileName, String contentType, byte[] content) {
    MimeMessage m = message(messageId, from, to, subject, text);
    try {
      MimeBodyPart body = new MimeBodyPart();
      body.setText(text, "UTF-8");
      MimeBodyPart file = new MimeBodyPart();
      file.setDataHandler(new jakarta.activation.DataHandler(
          new jakarta.mail.util.ByteArrayDataSource(content, contentType)));
      file.setFileName(fileName);
      file.setDisposition(MimeBodyPart.ATTACHMENT);
      m.setContent(new MimeMultipart(body, file));
      m.saveChanges();
      return m;
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A message with a text body of about {@code bytes} bytes. */
  static MimeMessage large(String messageId, String from, String to, int bytes) {
    StringBuilder body = new StringBuilder(bytes + 80);
    while (body.length() < bytes) {
      body.append("This line pads the message to make it large enough for the size cap.\r\n");
    }
    return message(messageId, from, to, "A large message", body.toString());
  }

  /**
   * What a CRM user's mail client sends to a forward mailbox: a short note with the original
   * attached as {@code message/rfc822}.
   */
  static MimeMessage forward(String messageId, String forwarder, String forwardMailbox, MimeMessage original) {
    MimeMessage m = new MimeMessage(SESSION) {
      @Override
      protected void updateMessageID() throws MessagingException {
        setHeader("Message-ID", messageId);
      }
    };
    try {
      m.setFrom(new InternetAddress(forwarder));
      m.setRecipients(Message.RecipientType.TO, InternetAddress.parse(forwardMailbox));
      m.setSubject("Fwd: " + original.getSubject(), "UTF-8");
      MimeBodyPart note = new MimeBodyPart();
      note.setText("Please track this one.", "UTF-8");
      MimeBodyPart attached = new MimeBodyPart();
      attached.setContent(original, "message/rfc822");
      attached.setDisposition(MimeBodyPart.ATTACHMENT);
      m.setContent(new MimeMultipart(note, attached));
      m.saveChanges();
      return m;
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }
}
