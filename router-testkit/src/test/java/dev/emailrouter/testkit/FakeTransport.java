package dev.emailrouter.testkit;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An in-memory "server" with a transport to it, for the kit's own tests: correct without faults,
 * and broken in one chosen way with them.
 */
final class FakeTransport implements MailTransport {

  /** Ways to get the transport contract wrong. */
  enum Fault {
    /** Writes header values as given, CR/LF and all. */
    NO_HEADER_CHECK,
    /** Writes a Bcc header. */
    BCC_IN_HEADER,
    /** Makes up a Message-ID instead of sending the recorded one. */
    OWN_MESSAGE_ID,
    /** Sends to every recipient, also those that accepted the email in an earlier attempt. */
    RESENDS_TO_ACCEPTED
  }

  private final Set<Fault> faults;
  private final Map<String, List<byte[]>> mailboxes = new HashMap<>();

  FakeTransport(Set<Fault> faults) {
    this.faults = faults.isEmpty() ? EnumSet.noneOf(Fault.class) : EnumSet.copyOf(faults);
  }

  synchronized List<byte[]> receivedBy(String address) {
    return List.copyOf(mailboxes.getOrDefault(address.toLowerCase(Locale.ROOT), List.of()));
  }

  @Override
  public String describe() {
    return "fake-smtp://127.0.0.1";
  }

  @Override
  public Session openSession() {
    return new Session() {
      @Override
      public SendResult send(OutgoingEmail email) {
        return FakeTransport.this.send(email);
      }

      @Override
      public void close() {}
    };
  }

  private SendResult send(OutgoingEmail email) {
    List<String> values = new ArrayList<>(List.of(email.subject(), email.messageId()));
    if (email.inReplyTo() != null) {
      values.add(email.inReplyTo());
    }
    values.addAll(email.references());
    boolean crlf = values.stream().anyMatch(v -> v.contains("\r") || v.contains("\n"));
    if (crlf && !faults.contains(Fault.NO_HEADER_CHECK)) {
      return SendResult.permanentFailure("a header value contains CR or LF");
    }
    StringBuilder m = new StringBuilder();
    m.append("From: ").append(email.from()).append("\r\n");
    m.append("To: ").append(join(email.to())).append("\r\n");
    if (!email.cc().isEmpty()) {
      m.append("Cc: ").append(join(email.cc())).append("\r\n");
    }
    if (faults.contains(Fault.BCC_IN_HEADER) && !email.bcc().isEmpty()) {
      m.append("Bcc: ").append(join(email.bcc())).append("\r\n");
    }
    m.append("Subject: ").append(email.subject()).append("\r\n");
    m.append("Message-ID: ").append(faults.contains(Fault.OWN_MESSAGE_ID) ? "<made-up@fake>" : email.messageId())
        .append("\r\n");
    if (email.inReplyTo() != null) {
      m.append("In-Reply-To: ").append(email.inReplyTo()).append("\r\n");
    }
    if (!email.references().isEmpty()) {
      m.append("References: ").append(String.join(" ", email.references())).append("\r\n");
    }
    m.append("\r\n").append(email.textBody() == null ? "" : email.textBody()).append("\r\n");
    if (email.htmlBody() != null) {
      m.append(email.htmlBody()).append("\r\n");
    }
    for (Attachment a : email.attachments()) {
      try {
        m.append(a.fileName()).append("\r\n").append(Base64.getEncoder().encodeToString(Content.bytes(a.content())))
            .append("\r\n");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    byte[] bytes = m.toString().getBytes(StandardCharsets.UTF_8);
    synchronized (this) {
      for (EmailAddress r : faults.contains(Fault.RESENDS_TO_ACCEPTED) ? email.recipients()
          : email.pendingRecipients()) {
        mailboxes.computeIfAbsent(r.normalized(), k -> new ArrayList<>()).add(bytes);
      }
    }
    return SendResult.accepted("250 2.0.0 Ok");
  }

  private static String join(List<EmailAddress> addresses) {
    return addresses.stream().map(EmailAddress::toString).collect(Collectors.joining(", "));
  }
}
