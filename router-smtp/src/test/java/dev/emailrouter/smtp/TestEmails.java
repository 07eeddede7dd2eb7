package dev.emailrouter.smtp;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;

/** Emails for tests. */
final class TestEmails {
  static final EmailAddress FROM = EmailAddress.of("crm@example.test", "CRM");

  private TestEmails() {}

  /** A text email to one recipient, with its Message-ID recorded. */
  static OutgoingEmail.Builder email(String id, String... to) {
    OutgoingEmail.Builder builder = OutgoingEmail.builder(id, FROM)
        .subject("Subject " + id)
        .textBody("Body of " + id + "\r\n")
        .messageId(messageId(id));
    if (to.length == 0) {
      builder.to(EmailAddress.of("someone@example.test"));
    }
    for (String address : to) {
      builder.to(EmailAddress.of(address));
    }
    return builder;
  }

  static String messageId(String id) {
    return "<" + id + ".test@crm.example.test>";
  }
}
