package dev.emailrouter.examples;

import com.icegreen.greenmail.imap.AuthorizationException;
import com.icegreen.greenmail.store.FolderException;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.pop3.Pop3MailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import dev.emailrouter.testfixtures.Loopback;
import jakarta.mail.Flags;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import java.util.List;
import java.util.Properties;

/**
 * GreenMail in the JVM on 127.0.0.1 with SMTP, IMAP and POP3 on free ports, and what the tests need
 * of it: users, the router's adapters pointed at it, sending over SMTP, and a look into folders.
 */
final class TestMailServer implements AutoCloseable {
  static final String PASSWORD = "pw-Tr0ub4dor&3";

  private final GreenMail greenMail;

  TestMailServer() {
    greenMail = new GreenMail(new ServerSetup[] {
        Loopback.setup(ServerSetup.PROTOCOL_SMTP),
        Loopback.setup(ServerSetup.PROTOCOL_IMAP),
        Loopback.setup(ServerSetup.PROTOCOL_POP3)});
    greenMail.start();
  }

  GreenMail greenMail() {
    return greenMail;
  }

  /** Creates a user whose login is its address. */
  GreenMailUser user(String address) {
    return greenMail.setUser(address, address, PASSWORD);
  }

  SmtpTransport.Builder smtp() {
    return SmtpTransport.builder()
        .host("127.0.0.1")
        .port(greenMail.getSmtp().getPort())
        .security(Security.PLAIN_TEXT_INSECURE);
  }

  ImapMailboxReader.Builder imap(String address) {
    return imap(address, PASSWORD);
  }

  ImapMailboxReader.Builder imap(String address, String password) {
    return ImapMailboxReader.builder()
        .host("127.0.0.1")
        .port(greenMail.getImap().getPort())
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password(address, password));
  }

  Pop3MailboxReader.Builder pop3(String address) {
    return Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(greenMail.getPop3().getPort())
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password(address, PASSWORD));
  }

  /** Sends a message over SMTP, as any mail client does; GreenMail has delivered it when this returns. */
  void send(MimeMessage message) {
    Properties props = new Properties();
    props.put("mail.smtp.host", "127.0.0.1");
    props.put("mail.smtp.port", Integer.toString(greenMail.getSmtp().getPort()));
    try {
      Transport transport = Session.getInstance(props).getTransport("smtp");
      transport.connect();
      try {
        message.saveChanges();
        transport.sendMessage(message, message.getAllRecipients());
      } finally {
        transport.close();
      }
    } catch (MessagingException e) {
      throw new IllegalStateException("sending a test message failed: " + e, e);
    }
  }

  /** Puts a message straight into a user's INBOX, for content an SMTP client would change. */
  void deliver(String address, MimeMessage message) {
    greenMail.getUserManager().getUserByEmail(address).deliver(message);
  }

  /** A user's folder, or {@code null} when it does not exist. */
  MailFolder folder(String address, String name) {
    GreenMailUser user = greenMail.getUserManager().getUserByEmail(address);
    return greenMail.getManagers().getImapHostManager().getFolder(user, name);
  }

  MailFolder createFolder(String address, String name) {
    GreenMailUser user = greenMail.getUserManager().getUserByEmail(address);
    try {
      return greenMail.getManagers().getImapHostManager().createMailbox(user, name);
    } catch (FolderException | AuthorizationException e) {
      throw new IllegalStateException(e);
    }
  }

  void deleteFolder(String address, String name) {
    GreenMailUser user = greenMail.getUserManager().getUserByEmail(address);
    try {
      greenMail.getManagers().getImapHostManager().deleteMailbox(user, name);
    } catch (FolderException | AuthorizationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The Message-IDs in a user's folder, in folder order; empty when the folder does not exist. */
  List<String> messageIds(String address, String folder) {
    // GreenMail may still be expunging a POP3 session's deletions on its own thread after QUIT was
    // answered; its message list then shows a gap. Read until two reads agree on a list without gaps.
    List<String> previous = null;
    for (int i = 0; i < 200; i++) {
      MailFolder f = folder(address, folder);
      List<String> now;
      try {
        now = f == null ? List.of() : f.getMessages().stream().map(m -> m == null ? null : messageId(m)).toList();
      } catch (java.util.ConcurrentModificationException e) {
        previous = null;
        continue;
      }
      if (!now.contains(null) && now.equals(previous)) {
        return now;
      }
      previous = now.contains(null) ? null : now;
      Thread.onSpinWait();
    }
    throw new IllegalStateException("the message list of " + address + "/" + folder + " kept changing");
  }

  /**
   * Waits until a folder holds exactly these messages: GreenMail answers a POP3 QUIT before its own
   * thread has finished expunging the session's deletions.
   */
  List<String> awaitMessageIds(String address, String folder, String... expected) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    List<String> now = messageIds(address, folder);
    while (!now.equals(List.of(expected)) && System.nanoTime() < deadline) {
      Thread.onSpinWait();
      now = messageIds(address, folder);
    }
    return now;
  }

  /** The Message-IDs in a user's folder that carry {@code \Seen}. */
  List<String> seenMessageIds(String address, String folder) {
    return folder(address, folder).getMessages().stream().filter(m -> m.isSet(Flags.Flag.SEEN))
        .map(TestMailServer::messageId).toList();
  }

  /** The Message-IDs in a user's folder that carry {@code \Deleted} (flagged but not yet expunged). */
  List<String> deletedMessageIds(String address, String folder) {
    return folder(address, folder).getMessages().stream().filter(m -> m.isSet(Flags.Flag.DELETED))
        .map(TestMailServer::messageId).toList();
  }

  private static String messageId(StoredMessage m) {
    try {
      return m.getMimeMessage().getMessageID();
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    greenMail.stop();
  }
}
