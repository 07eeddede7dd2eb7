package dev.emailrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.store.StoredMessage;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapSentFolder;
import jakarta.mail.Flags;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Copy to Sent end to end: engine → SmtpTransport → GreenMail's SMTP, and ImapSentFolder → its IMAP. */
final class SentCopyEndToEndTest {
  private static final EmailAddress UNA = EmailAddress.of("una@example.test", "Una User");

  private TestMailServer server;
  private MailFolder sent;

  @BeforeEach
  void startServer() {
    server = new TestMailServer();
    server.user("una@example.test");
    server.user("carl@example.test");
    sent = server.createFolder("una@example.test", "Sent");
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  private ImapSentFolder sentFolder() {
    return ImapSentFolder.builder().host("127.0.0.1").port(server.greenMail().getImap().getPort())
        .security(Security.PLAIN_TEXT_INSECURE).folder("Sent")
        .credentials(sender -> Credentials.password(sender.address(), TestMailServer.PASSWORD))
        .build();
  }

  /** Sends the email with a fresh store and engine, as another engine resending it would. */
  private TickReport send(OutgoingEmail email) {
    InMemoryActivityStore store = new InMemoryActivityStore();
    store.add(email);
    try (RouterEngine engine = RouterEngine.builder().activityStore(store).transport(server.smtp().build())
        .sentFolder(sentFolder()).random(new Random(5)).build()) {
      TickReport report = engine.tick();
      assertThat(store.find(email.activityId()).orElseThrow().status()).isEqualTo(EmailStatus.SENT);
      return report;
    }
  }

  private static byte[] bytes(MimeMessage message) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    message.writeTo(out);
    return out.toByteArray();
  }

  private void assertOneCopyAsReceived(String messageId) throws Exception {
    List<StoredMessage> copies = sent.getMessages().stream()
        .filter(m -> messageId.equals(header(m, "Message-ID"))).toList();
    assertThat(copies).hasSize(1);
    assertThat(copies.get(0).isSet(Flags.Flag.SEEN)).isTrue();
    MimeMessage received = server.folder("carl@example.test", "INBOX").getMessages().get(0).getMimeMessage();
    String copy = new String(bytes(copies.get(0).getMimeMessage()), StandardCharsets.ISO_8859_1);
    String delivered = new String(bytes(received), StandardCharsets.ISO_8859_1);
    // GreenMail's SMTP server adds its trace headers in front and keeps no line end after the last
    // line; the rest is byte for byte what the copy holds.
    assertThat(copy).endsWith("\r\n");
    String sent = copy.substring(0, copy.length() - 2);
    assertThat(delivered).endsWith(sent);
    assertThat(delivered.substring(0, delivered.length() - sent.length()))
        .matches("Return-Path: <una@example.test>\r\nReceived: [^\r\n]*\r\n");
  }

  private static String header(StoredMessage m, String name) {
    try {
      String[] values = m.getMimeMessage().getHeader(name);
      return values == null ? null : values[0];
    } catch (jakarta.mail.MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void anAcceptedEmail_isCopiedToTheSendersSentFolderAsTheServerReceivedIt_andOnceOnly() throws Exception {
    OutgoingEmail email = OutgoingEmail.builder("email-1", UNA)
        .to(EmailAddress.of("carl@example.test", "Carl Contact"))
        .subject("Our proposal – Größe").textBody("Hello Carl,\r\n.our proposal.\r\nUna")
        .messageId("<proposal-1@crm.example.test>").build();

    TickReport first = send(email);
    TickReport again = send(email);

    assertThat(first.sentCopyFailures()).isEmpty();
    assertThat(again.sentCopyFailures()).isEmpty();
    assertThat(server.folder("carl@example.test", "INBOX").getMessageCount()).as("the resend went out again")
        .isEqualTo(2);
    assertOneCopyAsReceived("<proposal-1@crm.example.test>");
  }

  @Test
  void anEmailWithAnAttachment_isCopiedAsTheServerReceivedIt() throws Exception {
    byte[] pdf = new byte[50_000];
    new Random(3).nextBytes(pdf);
    OutgoingEmail email = OutgoingEmail.builder("email-2", UNA)
        .to(EmailAddress.of("carl@example.test"))
        .subject("Angebot").textBody("Hello Carl,\nattached.\nUna")
        .attachment(new Attachment("Angebot.pdf", "application/pdf", pdf.length, ContentSource.ofBytes(pdf)))
        .messageId("<offer-2@crm.example.test>").build();

    TickReport report = send(email);

    assertThat(report.sentCopyFailures()).isEmpty();
    assertOneCopyAsReceived("<offer-2@crm.example.test>");
  }

  @Test
  void aCopyThatFails_isReported_andTheEmailStaysSent() {
    ImapSentFolder wrongPassword = ImapSentFolder.builder().host("127.0.0.1")
        .port(server.greenMail().getImap().getPort()).security(Security.PLAIN_TEXT_INSECURE).folder("Sent")
        .credentials(sender -> Credentials.password(sender.address(), "wrong")).build();
    InMemoryActivityStore store = new InMemoryActivityStore();
    store.add(OutgoingEmail.builder("email-3", UNA).to(EmailAddress.of("carl@example.test")).subject("Hi")
        .textBody("Hi").build());

    TickReport report;
    try (RouterEngine engine = RouterEngine.builder().activityStore(store).transport(server.smtp().build())
        .sentFolder(wrongPassword).build()) {
      report = engine.tick();
    }

    assertThat(store.find("email-3").orElseThrow().status()).isEqualTo(EmailStatus.SENT);
    assertThat(report.sentCopyFailures()).singleElement().satisfies(f -> {
      assertThat(f.willRetry()).isFalse();
      assertThat(f.reason()).contains("refused").doesNotContain("wrong");
    });
    assertThat(sent.getMessageCount()).isZero();
  }
}
