package dev.emailrouter.imap;

import com.icegreen.greenmail.store.FolderException;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.testkit.MailboxReaderContract;
import jakarta.mail.Flags;
import jakarta.mail.MessagingException;
import java.time.Duration;
import java.time.Instant;
import java.util.function.UnaryOperator;

/** ImapMailboxReader keeps the reader contract, against GreenMail's IMAP server. */
final class ImapMailboxReaderContractTest extends MailboxReaderContract {

  @Override
  protected Fixture newFixture() {
    return fixture(b -> b);
  }

  /** A GreenMail server and a reader on it, built with {@code settings} on top of the test defaults. */
  static Fixture fixture(UnaryOperator<ImapMailboxReader.Builder> settings) {
    GreenMail greenMail = new GreenMail(TestMailboxes.imap());
    greenMail.start();
    GreenMailUser user = TestMailboxes.user(greenMail);
    MailFolder inbox = TestMailboxes.folder(greenMail, user, "INBOX");
    ImapMailboxReader reader = settings.apply(TestMailboxes.reader(greenMail.getImap().getPort())
        .connectTimeout(Duration.ofSeconds(5))
        .readTimeout(Duration.ofSeconds(10)))
        .build();
    return new Fixture() {
      @Override
      public MailboxReader reader() {
        return reader;
      }

      @Override
      public void deliver(byte[] message) {
        TestMailboxes.append(inbox, message, Instant.now());
      }

      @Override
      public void remove(String messageId) {
        try {
          for (StoredMessage m : inbox.getMessages()) {
            String[] ids = m.getMimeMessage().getHeader("Message-ID");
            if (ids != null && ids[0].strip().equals(messageId)) {
              inbox.setFlags(new Flags(Flags.Flag.DELETED), true, m.getUid(), null, false);
            }
          }
          inbox.expunge();
        } catch (FolderException | MessagingException e) {
          throw new IllegalStateException(e);
        }
      }

      @Override
      public void close() {
        reader.close();
        greenMail.stop();
      }
    };
  }
}
