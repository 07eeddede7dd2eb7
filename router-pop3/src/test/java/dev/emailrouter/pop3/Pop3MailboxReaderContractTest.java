package dev.emailrouter.pop3;

import com.icegreen.greenmail.store.FolderException;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.Security;
import dev.emailrouter.testfixtures.Loopback;
import dev.emailrouter.testkit.MailboxReaderContract;
import jakarta.mail.Flags;
import jakarta.mail.MessagingException;
import java.time.Duration;

/** Pop3MailboxReader keeps the reader contract, against GreenMail's POP3 server. */
final class Pop3MailboxReaderContractTest extends MailboxReaderContract {

  @Override
  protected Fixture newFixture() {
    GreenMail greenMail = new GreenMail(Loopback.setup(ServerSetup.PROTOCOL_POP3));
    greenMail.start();
    GreenMailUser user = greenMail.setUser("sales@example.test", "sales", "secret");
    MailboxReader reader = Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(greenMail.getPop3().getPort())
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password("sales", "secret"))
        .connectTimeout(Duration.ofSeconds(5))
        .readTimeout(Duration.ofSeconds(10))
        .writeTimeout(Duration.ofSeconds(10))
        .build();
    return new Fixture() {
      @Override
      public MailboxReader reader() {
        return reader;
      }

      @Override
      public void deliver(byte[] message) {
        TestMail.deliver(user, message);
      }

      @Override
      public void remove(String messageId) {
        try {
          MailFolder inbox = greenMail.getManagers().getImapHostManager().getInbox(user);
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
        greenMail.stop();
      }
    };
  }
}
