package dev.emailrouter.imap;

import com.icegreen.greenmail.base.GreenMailOperations;
import com.icegreen.greenmail.store.FolderException;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.Security;
import dev.emailrouter.testfixtures.Loopback;
import jakarta.mail.Flags;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Properties;

/** GreenMail mailboxes and messages for the reader's tests. */
final class TestMailboxes {

  static final String USER = "sales";
  static final String PASSWORD = "pw-Tr0ub4dor&3";
  static final Instant START = Instant.parse("2024-03-01T09:00:00Z");
  private static final Session MIME = Session.getInstance(new Properties());

  private TestMailboxes() {}

  static ServerSetup imap() {
    return Loopback.setup(ServerSetup.PROTOCOL_IMAP);
  }

  static GreenMailUser user(GreenMailOperations greenMail) {
    return greenMail.setUser("sales@example.test", USER, PASSWORD);
  }

  static ImapMailboxReader.Builder reader(int port) {
    return ImapMailboxReader.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password(USER, PASSWORD));
  }

  static MailFolder folder(GreenMailOperations greenMail, GreenMailUser user, String name) {
    try {
      MailFolder folder = greenMail.getManagers().getImapHostManager().getFolder(user, name);
      return folder != null ? folder : greenMail.getManagers().getImapHostManager().createMailbox(user, name);
    } catch (FolderException | com.icegreen.greenmail.imap.AuthorizationException e) {
      throw new IllegalStateException(e);
    }
  }

  static MailFolder existingFolder(GreenMailOperations greenMail, GreenMailUser user, String name) {
    return greenMail.getManagers().getImapHostManager().getFolder(user, name);
  }

  /** Appends a message with the given INTERNALDATE and returns its UID. */
  static long append(MailFolder folder, byte[] raw, Instant received) {
    return folder.appendMessage(parse(raw), new Flags(), Date.from(received.truncatedTo(ChronoUnit.SECONDS)));
  }

  /** Appends {@code count} simple messages numbered from {@code first}, received a minute apart. */
  static void appendSimple(MailFolder folder, int first, int count) {
    for (int i = first; i < first + count; i++) {
      append(folder, simple(i), START.plus(i, ChronoUnit.MINUTES));
    }
  }

  static byte[] simple(int i) {
    return ("Message-ID: <m" + i + "@example.test>\r\n"
        + "From: Ann Contact <ann@example.test>\r\n"
        + "To: sales@example.test\r\n"
        + "Subject: message " + i + "\r\n"
        + "Date: Fri, 1 Mar 2024 10:00:00 +0100\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "\r\n"
        + "Body of message " + i + ".\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  static MimeMessage parse(byte[] raw) {
    try {
      return new MimeMessage(MIME, new ByteArrayInputStream(raw));
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  static MimeMessage parse(RawMessage message) {
    return parse(bytes(message));
  }

  static byte[] bytes(RawMessage message) {
    try (InputStream in = message.content().open()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String subject(RawMessage message) {
    try {
      return parse(message).getSubject();
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  static boolean seen(MailFolder folder, long uid) {
    return folder.getMessage(uid).isSet(Flags.Flag.SEEN);
  }

  static List<String> subjects(MailFolder folder) {
    return folder.getMessages().stream().map(TestMailboxes::subject).toList();
  }

  private static String subject(StoredMessage m) {
    try {
      return m.getMimeMessage().getSubject();
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }
}
