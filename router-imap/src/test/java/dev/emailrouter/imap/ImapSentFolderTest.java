package dev.emailrouter.imap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.user.GreenMailUser;
import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import jakarta.mail.Flags;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import dev.emailrouter.api.ServerSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class ImapSentFolderTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(TestMailboxes.imap());

  private static final EmailAddress SENDER = EmailAddress.of("sales@example.test");

  private GreenMailUser user;

  @BeforeEach
  void setUp() {
    user = TestMailboxes.user(greenMail);
  }

  private ImapSentFolder.Builder sentFolder(int port) {
    return ImapSentFolder.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(sender -> Credentials.password(TestMailboxes.USER, TestMailboxes.PASSWORD));
  }

  private static OutgoingEmail email(String messageId) {
    return OutgoingEmail.builder("activity-1", SENDER)
        .to(EmailAddress.of("ann@example.org"))
        .subject("Offer")
        .textBody("Hi!")
        .build()
        .withIdentity(messageId, null, "Offer");
  }

  private static byte[] message(String messageId) {
    return ("Date: Fri, 1 Mar 2024 10:00:00 +0100\r\n"
        + "From: sales@example.test\r\n"
        + "To: ann@example.org\r\n"
        + "Message-ID: " + messageId + "\r\n"
        + "Subject: Offer\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "\r\n"
        + "Hi!\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] raw(StoredMessage m) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    m.getMimeMessage().writeTo(out);
    return out.toByteArray();
  }

  @Test
  void keepCopy_appendsTheBytesSentToTheConfiguredFolder_seen_andDatedAsTheEmail() throws Exception {
    MailFolder sent = TestMailboxes.folder(greenMail, user, "Sent Items");
    byte[] bytes = message("<offer-1@example.test>");

    sentFolder(greenMail.getImap().getPort()).folder("Sent Items").build()
        .keepCopy(email("<offer-1@example.test>"), ContentSource.ofBytes(bytes));

    List<StoredMessage> copies = sent.getMessages();
    assertThat(copies).hasSize(1);
    assertThat(raw(copies.get(0))).isEqualTo(bytes);
    assertThat(copies.get(0).isSet(Flags.Flag.SEEN)).isTrue();
    assertThat(copies.get(0).getReceivedDate().toInstant()).isEqualTo(Instant.parse("2024-03-01T09:00:00Z"));
    assertThat(TestMailboxes.existingFolder(greenMail, user, "INBOX").getMessageCount()).isZero();
  }

  @Test
  void keepCopy_whenTheMessageIdIsInTheFolderAlready_appendsNoSecondCopy() throws Exception {
    MailFolder sent = TestMailboxes.folder(greenMail, user, "Sent");
    TestMailboxes.append(sent, TestMailboxes.simple(1), TestMailboxes.START);
    ImapSentFolder folder = sentFolder(greenMail.getImap().getPort()).folder("Sent").build();
    byte[] bytes = message("<offer-2@example.test>");

    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort())) {
      ImapSentFolder viaProxy = sentFolder(proxy.port()).folder("Sent").build();
      viaProxy.keepCopy(email("<offer-2@example.test>"), ContentSource.ofBytes(bytes));
      viaProxy.keepCopy(email("<offer-2@example.test>"), ContentSource.ofBytes(bytes));
      assertThat(proxy.commands()).filteredOn(c -> c.contains("UID SEARCH HEADER Message-ID")).hasSize(2);
      assertThat(proxy.commands()).filteredOn(c -> c.startsWith("APPEND")).hasSize(1);
    }
    folder.keepCopy(email("<offer-2@example.test>"), ContentSource.ofBytes(bytes));

    assertThat(sent.getMessages()).hasSize(2); // the one there before, and one copy
    assertThat(raw(sent.getMessages().get(1))).isEqualTo(bytes);
  }

  @Test
  void keepCopy_whenTheConfiguredFolderIsMissing_failsPermanentlyNamingTheSetting_andCreatesNothing() {
    ImapSentFolder folder = sentFolder(greenMail.getImap().getPort()).folder("Gesendet").build();

    assertThatThrownBy(() -> folder.keepCopy(email("<offer-3@example.test>"),
        ContentSource.ofBytes(message("<offer-3@example.test>"))))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("'Gesendet' does not exist")
        .hasMessageContaining("folder setting");
    assertThat(TestMailboxes.existingFolder(greenMail, user, "Gesendet")).isNull();
  }

  @Test
  void keepCopy_onAServerWithoutSpecialUse_findsTheFolderNamedSentItems() throws Exception {
    MailFolder sent = TestMailboxes.folder(greenMail, user, "Sent Items");
    TestMailboxes.folder(greenMail, user, "Sent Items Archive");

    sentFolder(greenMail.getImap().getPort()).build()
        .keepCopy(email("<offer-4@example.test>"), ContentSource.ofBytes(message("<offer-4@example.test>")));

    assertThat(sent.getMessageCount()).isEqualTo(1);
  }

  @Test
  void keepCopy_onAServerWithoutSpecialUseOrASentFolder_failsPermanently_andCreatesNothing() {
    ImapSentFolder folder = sentFolder(greenMail.getImap().getPort()).build();

    assertThatThrownBy(() -> folder.keepCopy(email("<offer-5@example.test>"),
        ContentSource.ofBytes(message("<offer-5@example.test>"))))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("no folder named Sent, Sent Items, Sent Messages")
        .hasMessageContaining("folder setting");
    assertThat(TestMailboxes.existingFolder(greenMail, user, "Sent")).isNull();
  }

  @Test
  void keepCopy_whenTheLoginIsRefused_failsPermanently_withoutTheSecret() {
    ImapSentFolder folder = sentFolder(greenMail.getImap().getPort()).folder("Sent")
        .credentials(sender -> Credentials.password(TestMailboxes.USER, "wrong-s3cret")).build();

    assertThatThrownBy(() -> folder.keepCopy(email("<offer-6@example.test>"),
        ContentSource.ofBytes(message("<offer-6@example.test>"))))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("refused")
        .hasMessageNotContaining("wrong-s3cret");
  }

  @Test
  void keepCopy_asksTheCredentialsForTheSender() {
    TestMailboxes.folder(greenMail, user, "Sent");
    List<EmailAddress> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    ImapSentFolder folder = sentFolder(greenMail.getImap().getPort()).folder("Sent").credentials(sender -> {
      asked.add(sender);
      return Credentials.password(TestMailboxes.USER, TestMailboxes.PASSWORD);
    }).build();

    folder.keepCopy(email("<offer-7@example.test>"), ContentSource.ofBytes(message("<offer-7@example.test>")));

    assertThat(asked).containsExactly(SENDER);
  }

  @Test
  void testAccess_logsInAndFindsTheSentFolder_withoutAppending() {
    MailFolder sent = TestMailboxes.folder(greenMail, user, "Sent");

    AccessReport report = sentFolder(greenMail.getImap().getPort()).build().testAccess(SENDER);

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(report.step(AccessStep.Check.FOLDER).orElseThrow().detail()).contains("'Sent'");
    assertThat(sent.getMessageCount()).isZero();
  }

  @Test
  void testAccess_whenTheFolderIsMissing_namesTheFolderSetting() {
    AccessReport report = sentFolder(greenMail.getImap().getPort()).folder("Gesendet").build().testAccess(SENDER);

    assertThat(report.ok()).isFalse();
    assertThat(report.firstFailure().orElseThrow().setting()).isEqualTo("folder");
  }

  @Test
  void keepCopy_onAServerWithSpecialUse_appendsToTheFolderMarkedSent_notToTheOneNamedSent() throws Exception {
    try (ScriptedImapServer server = new ScriptedImapServer()) {
      server.offerSpecialUse("Gesendete Objekte");
      ImapSentFolder folder = sentFolder(server.port()).build();
      byte[] bytes = message("<offer-8@example.test>");

      folder.keepCopy(email("<offer-8@example.test>"), ContentSource.ofBytes(bytes));
      folder.keepCopy(email("<offer-8@example.test>"), ContentSource.ofBytes(bytes));

      assertThat(server.appendedTo()).containsExactly("\"Gesendete Objekte\"");
      assertThat(server.appended()).singleElement().isEqualTo(bytes);
      assertThat(server.commands()).contains("LIST (SPECIAL-USE) \"\" \"*\"");
      assertThat(server.commands()).noneMatch(c -> c.startsWith("CREATE"));
    }
  }

  @Test
  void builder_withoutHostOrCredentials_failsNamingTheSetting() {
    assertThatThrownBy(() -> ImapSentFolder.builder().credentials(s -> null).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("host");
    assertThatThrownBy(() -> ImapSentFolder.builder().host("imap.example.test").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("credentials");
    assertThatThrownBy(() -> ImapSentFolder.builder().folder(" "))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("folder");
  }

  @Test
  void builder_withoutTimeouts_usesTheSharedDefaults_andRefusesTwoKindsOfCredentials() {
    ServerSettings server = ImapSentFolder.builder().host("imap.example.test")
        .credentials(sender -> Credentials.password(sender.address(), "pw")).build().server();

    assertThat(server.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(server.readTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(server.security()).isEqualTo(Security.STARTTLS);
    assertThatThrownBy(() -> ImapSentFolder.builder().host("imap.example.test")
        .credentials(sender -> Credentials.password(sender.address(), "pw"))
        .credentials(Credentials.password("crm@example.test", "pw")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("credentials are set twice");
  }
}
