package dev.emailrouter.support.internal.mime;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;

/**
 * A message that keeps the Message-ID the engine recorded: {@link MimeMessage#saveChanges()} would
 * otherwise replace it with a new one, and replies could no longer be correlated to the CRM email.
 */
final class FixedIdMimeMessage extends MimeMessage {
  private final String messageId;

  FixedIdMimeMessage(Session session, String messageId) {
    super(session);
    this.messageId = messageId;
  }

  @Override
  protected void updateMessageID() throws MessagingException {
    setHeader("Message-ID", messageId);
  }
}
