package dev.emailrouter.imap;

import static dev.emailrouter.imap.TestMailboxes.START;
import static dev.emailrouter.imap.TestMailboxes.append;
import static dev.emailrouter.imap.TestMailboxes.appendSimple;
import static dev.emailrouter.imap.TestMailboxes.bytes;
import static dev.emailrouter.imap.TestMailboxes.folder;
import static dev.emailrouter.imap.TestMailboxes.reader;
import static dev.emailrouter.imap.TestMailboxes.seen;
import static dev.emailrouter.imap.TestMailboxes.simple;
import static dev.emailrouter.imap.TestMailboxes.subject;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.user.GreenMailUser;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import jakarta.mail.Flags;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class ImapMailboxReaderDownloadTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(TestMailboxes.imap());

  private MailFolder inbox;

  @BeforeEach
  void setUp() {
    GreenMailUser user = TestMailboxes.user(greenMail);
    inbox = folder(greenMail, user, "INBOX");
  }

  private static List<String> refs(NewMessages news) {
    return news.messages().stream().map(MessageHeaders::ref).toList();
  }

  @Test
  void fetchMessages_returnsTheExactMessagesInBulkWithoutSettingSeen() throws Exception {
    byte[] attachment = randomBytes(40_000);
    byte[] withAttachment = multipart("Offer CRM:0000042", "Please find the offer attached.", attachment);
    append(inbox, withAttachment, START);
    appendSimple(inbox, 2, 149);
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort());
        MailboxReader.Session session = reader(proxy.port()).build().open()) {
      List<String> refs = new ArrayList<>(refs(session.fetchNew("", Set.of(), 1000)));
      Collections.reverse(refs);
      proxy.clear();

      List<RawMessage> messages = session.fetchMessages(refs);

      assertThat(messages).extracting(RawMessage::ref).containsExactlyElementsOf(refs);
      assertThat(proxy.commands()).hasSize(2).allMatch(c -> c.startsWith("UID FETCH ") && c.contains("BODY.PEEK[]"));
      RawMessage first = messages.get(messages.size() - 1);
      assertThat(bytes(first)).isEqualTo(withAttachment);
      assertThat(first.size()).isEqualTo(withAttachment.length);
      MimeMessage parsed = TestMailboxes.parse(first);
      assertThat(parsed.getSubject()).isEqualTo("Offer CRM:0000042");
      Multipart parts = (Multipart) parsed.getContent();
      assertThat(parts.getBodyPart(0).getContent()).isEqualTo("Please find the offer attached.");
      assertThat(parts.getBodyPart(1).getFileName()).isEqualTo("offer.bin");
      assertThat(readAll(parts.getBodyPart(1).getInputStream())).isEqualTo(attachment);
      assertThat(bytes(messages.get(0))).isEqualTo(simple(150));
      assertThat(subject(messages.get(1))).isEqualTo("message 149");
    }
    for (long uid : inbox.getMessageUids()) {
      assertThat(seen(inbox, uid)).isFalse();
    }
  }

  @Test
  void fetchMessages_largeMessage_streamsInPiecesThroughATemporaryFileDeletedOnClose() throws Exception {
    byte[] attachment = randomBytes(3 * 1024 * 1024);
    byte[] large = multipart("Big one", "see attachment", attachment);
    append(inbox, large, START);
    append(inbox, simple(2), START.plusSeconds(60));
    RawMessage downloaded;
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort());
        MailboxReader.Session session = reader(proxy.port()).build().open()) {
      List<String> refs = refs(session.fetchNew("", Set.of(), 10));
      proxy.clear();

      List<RawMessage> messages = session.fetchMessages(refs);

      assertThat(messages).hasSize(2);
      downloaded = messages.get(0);
      assertThat(downloaded.size()).isEqualTo(large.length);
      assertThat(bytes(downloaded)).isEqualTo(large);
      assertThat(bytes(downloaded)).isEqualTo(large); // opens again from the start
      MimeMessage parsed = TestMailboxes.parse(downloaded);
      Multipart parts = (Multipart) parsed.getContent();
      assertThat(readAll(parts.getBodyPart(1).getInputStream())).isEqualTo(attachment);
      assertThat(proxy.commands()).anyMatch(c -> c.contains("BODY.PEEK[]<0.1048576>"))
          .anyMatch(c -> c.contains("BODY.PEEK[]<1048576.1048576>"));
      assertThat(subject(messages.get(1))).isEqualTo("message 2");
    }
    assertThatThrownBy(() -> downloaded.content().open())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("closed");
    assertThat(seen(inbox, inbox.getMessageUids()[0])).isFalse();
  }

  @Test
  void fetchMessages_whenAMessageWasExpungedMeanwhile_leavesItOut() throws Exception {
    appendSimple(inbox, 1, 3);
    try (MailboxReader.Session session = reader(greenMail.getImap().getPort()).build().open()) {
      List<String> refs = refs(session.fetchNew("", Set.of(), 10));
      inbox.setFlags(new Flags(Flags.Flag.DELETED), true, Long.parseLong(refs.get(1)), null, false);
      inbox.expunge();

      List<RawMessage> messages = session.fetchMessages(refs);

      assertThat(messages).extracting(RawMessage::ref).containsExactly(refs.get(0), refs.get(2));
    }
  }

  @Test
  void fetchMessages_withUnknownOrInvalidRefs_returnsOnlyExistingMessages() {
    appendSimple(inbox, 1, 1);
    try (MailboxReader.Session session = reader(greenMail.getImap().getPort()).build().open()) {
      List<RawMessage> messages = session.fetchMessages(List.of("999", "not-a-uid", "1"));

      assertThat(messages).extracting(RawMessage::ref).containsExactly("1");
    }
  }

  @Test
  void fetchMessages_afterTheConnectionDropped_reconnectsAndReturnsTheMessages() throws Exception {
    appendSimple(inbox, 1, 3);
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort());
        MailboxReader.Session session = reader(proxy.port()).build().open()) {
      List<String> refs = refs(session.fetchNew("", Set.of(), 10));
      proxy.dropConnections();

      List<RawMessage> messages = session.fetchMessages(refs);

      assertThat(messages).extracting(TestMailboxes::subject).containsExactly("message 1", "message 2", "message 3");
      assertThat(proxy.commandsStartingWith("LOGIN")).hasSize(2);
    }
  }

  private static byte[] multipart(String subject, String text, byte[] attachment) throws Exception {
    MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
    message.setFrom("Ann Contact <ann@example.test>");
    message.setRecipients(MimeMessage.RecipientType.TO, "sales@example.test");
    message.setSubject(subject);
    MimeBodyPart body = new MimeBodyPart();
    body.setText(text, "UTF-8");
    MimeBodyPart file = new MimeBodyPart();
    file.setDataHandler(new jakarta.activation.DataHandler(new ByteArrayDataSource(attachment,
        "application/octet-stream")));
    file.setFileName("offer.bin");
    file.setDisposition(Part.ATTACHMENT);
    message.setContent(new MimeMultipart(body, file));
    message.saveChanges();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    message.writeTo(out);
    return out.toByteArray();
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  private static byte[] readAll(InputStream in) throws IOException {
    try (in) {
      return in.readAllBytes();
    }
  }
}
