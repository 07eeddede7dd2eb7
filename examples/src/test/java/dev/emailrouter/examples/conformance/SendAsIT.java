package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.Security;
import dev.emailrouter.smtp.SmtpTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A service account sending for CRM users through Postfix's submission port, which requires AUTH
 * and applies reject_sender_login_mismatch: user@example.test may send as itself and as
 * queue@example.test, not as contact@example.test.
 */
final class SendAsIT {
  private static final EmailAddress ACCOUNT = EmailAddress.of("user@example.test");

  private final MailServers servers = MailServers.get();

  private SmtpTransport.Builder transport() {
    return SmtpTransport.builder().host("127.0.0.1").port(servers.submissionPort()).security(Security.STARTTLS)
        .trustedCertificates(servers.caPem())
        .credentials(() -> Credentials.password(ACCOUNT.address(), MailServers.PASSWORD))
        .serviceAccount(ACCOUNT);
  }

  private static OutgoingEmail email(String from, String subject) {
    return OutgoingEmail.builder("act-" + UUID.randomUUID(), EmailAddress.of(from))
        .to(EmailAddress.of("contact@example.test")).subject(subject).textBody("Hello\r\n")
        .messageId("<" + UUID.randomUUID() + "@crm.example.test>").build();
  }

  private static SendResult send(SmtpTransport transport, OutgoingEmail email) {
    try (MailTransport.Session session = transport.openSession()) {
      return session.send(email);
    }
  }

  /** The headers of the message with this subject in contact@example.test's INBOX, once delivered. */
  private Optional<String> delivered(String subject) {
    Path inbox = Path.of(servers.env("MAIL_DIR"), "contact@example.test", "Maildir");
    try (Stream<Path> files = Stream.concat(Files.list(inbox.resolve("new")), Files.list(inbox.resolve("cur")))) {
      return files.map(SendAsIT::read).filter(m -> m.contains("Subject: " + subject)).findFirst()
          .map(m -> m.substring(0, m.indexOf("\r\n\r\n") > 0 ? m.indexOf("\r\n\r\n") : m.indexOf("\n\n")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return "";
    }
  }

  @Test
  void sendAsAnAddressTheAccountMayUse_isAccepted() {
    String subject = "granted send-as " + UUID.randomUUID();

    SendResult result = send(transport().build(), email("queue@example.test", subject));

    assertThat(result.outcome()).as(result.serverReply()).isEqualTo(SendResult.Outcome.ACCEPTED);
    MailServers.await("the email in contact's INBOX", () -> delivered(subject).isPresent());
    assertThat(delivered(subject).orElseThrow()).contains("From: queue@example.test").doesNotContain("Sender:");
  }

  @Test
  void sendAsAnAddressTheAccountMayNotUse_failsPermanently_namingThePermission() {
    SendResult result = send(transport().build(), email("contact@example.test", "refused " + UUID.randomUUID()));

    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.PERMANENT);
    assertThat(result.serverReply()).contains("Sender address rejected").contains("grant it send-as")
        .contains("smtpd_sender_login_maps");
  }

  @Test
  void withTheFallback_theSameEmailGoesOutOnBehalfOfTheUser() {
    String subject = "on behalf " + UUID.randomUUID();

    SendResult result = send(transport().fallbackToOnBehalf(true).build(), email("contact@example.test", subject));

    assertThat(result.outcome()).as(result.serverReply()).isEqualTo(SendResult.Outcome.ACCEPTED);
    MailServers.await("the email in contact's INBOX", () -> delivered(subject).isPresent());
    assertThat(delivered(subject).orElseThrow()).contains("From: contact@example.test")
        .contains("Sender: user@example.test").contains("Return-Path: <user@example.test>");
  }

  @Test
  void testAccess_namesTheRefusedSender() {
    AccessReport report = transport().build().testAccess(EmailAddress.of("contact@example.test"));

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(AccessStep.Check.SENDER);
    assertThat(failure.detail()).contains("Sender address rejected").contains("send-as");
    assertThat(report.step(AccessStep.Check.AUTH).orElseThrow().outcome()).isEqualTo(AccessStep.Outcome.PASSED);
  }
}
