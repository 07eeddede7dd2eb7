package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapSentFolder;
import dev.emailrouter.smtp.SmtpTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Copy to Sent on Dovecot and Postfix: the engine sends through Postfix and appends what it sent to
 * the sender's Sent folder, which Dovecot marks \Sent (SPECIAL-USE, scripts/mail-servers.sh), logged
 * in as the administrator on the sender's behalf.
 */
final class SentCopyIT {
  private static final EmailAddress SENDER = EmailAddress.of("user@example.test", "Una User");

  private final MailServers servers = MailServers.get();

  private SmtpTransport smtp() {
    return SmtpTransport.builder().host("127.0.0.1").port(servers.smtpPort()).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem()).ehloName("router.example.test").build();
  }

  private ImapSentFolder sentFolder() {
    return ImapSentFolder.builder().host("127.0.0.1").port(servers.imapPort()).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem())
        .credentials(sender -> Credentials.password("admin@example.test", "admin-secret").onBehalfOf(sender.address()))
        .build();
  }

  /** Sends the email with a fresh engine and store, as a second engine resending it would. */
  private TickReport send(OutgoingEmail email) {
    InMemoryActivityStore crm = new InMemoryActivityStore();
    crm.add(email);
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm).transport(smtp()).sentFolder(sentFolder())
        .build()) {
      TickReport report = engine.tick();
      assertThat(crm.find(email.activityId()).orElseThrow().status()).as(report.toString()).isEqualTo(EmailStatus.SENT);
      return report;
    }
  }

  /** The files in a Maildir folder of a user whose content contains the text. */
  private List<Path> files(String user, String folder, String text) {
    Path box = Path.of(servers.env("MAIL_DIR"), user, "Maildir", folder);
    if (!Files.isDirectory(box)) {
      return List.of();
    }
    try (Stream<Path> files = Stream.concat(Files.list(box.resolve("new")), Files.list(box.resolve("cur")))) {
      return files.filter(f -> read(f).contains(text)).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.ISO_8859_1).replace("\r\n", "\n");
    } catch (IOException e) {
      return "";
    }
  }

  @Test
  void anEmailSentThroughPostfix_isCopiedOnceToTheSendersSentFolder_alsoWhenSentTwice() {
    String tag = UUID.randomUUID().toString();
    String messageId = "<" + tag + "@crm.example.test>";
    OutgoingEmail email = OutgoingEmail.builder("email-" + tag, SENDER)
        .to(EmailAddress.of("other@example.test")).subject("Copy to Sent " + tag)
        .textBody("Hello,\n.a line with a leading dot\nUna").messageId(messageId).build();

    TickReport first = send(email);

    assertThat(first.sentCopyFailures()).as(first.toString()).isEmpty();
    List<Path> copies = files("user@example.test", ".Sent", "Message-ID: " + messageId);
    assertThat(copies).hasSize(1);
    assertThat(copies.get(0).getFileName().toString()).as("flagged \\Seen").endsWith(",S");
    // Postfix delivered the same bytes to the recipient, after its own trace headers.
    MailServers.await("the email in other's INBOX", () -> !files("other@example.test", "", messageId).isEmpty());
    String delivered = read(files("other@example.test", "", messageId).get(0));
    String copy = read(copies.get(0));
    assertThat(copy).contains("\n.a line with a leading dot\n");
    assertThat(delivered).endsWith(copy);

    TickReport again = send(email);

    assertThat(again.sentCopyFailures()).isEmpty();
    assertThat(files("user@example.test", ".Sent", "Message-ID: " + messageId)).hasSize(1);
  }

  @Test
  void testAccess_findsTheSentFolderMarkedBySpecialUse() {
    AccessReport report = sentFolder().testAccess(SENDER);

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(report.toString()).contains("'Sent'");
  }
}
