package dev.emailrouter.support.internal.mime;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A message whose bytes {@link MimeWire} wrote already: {@link #writeTo} writes those bytes as they
 * are, so a caller that wants a {@link MimeMessage} (a Sent copy, a test) gets the bytes sent. Only From (for MAIL FROM) and Message-ID are set as headers;
 * the rest live in the bytes, so {@link #saveChanges()} changes nothing.
 */
final class WireMessage extends MimeMessage {
  private final byte[] content;

  WireMessage(Session session, InternetAddress from, String messageId, byte[] content) throws MessagingException {
    super(session);
    this.content = content;
    setFrom(from);
    setHeader("Message-ID", messageId);
  }

  @Override
  public void saveChanges() {
    // The bytes are final; Jakarta would otherwise put a new Message-ID in the headers.
  }

  @Override
  public void writeTo(OutputStream os, String[] ignoreList) throws IOException {
    os.write(content);
  }

  @Override
  public int getSize() {
    return content.length;
  }
}
