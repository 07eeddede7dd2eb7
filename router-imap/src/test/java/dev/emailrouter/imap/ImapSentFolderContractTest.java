package dev.emailrouter.imap;

import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.store.StoredMessage;
import com.icegreen.greenmail.util.GreenMail;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.SentFolder;
import dev.emailrouter.testkit.SentFolderContract;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/** ImapSentFolder keeps the Sent folder contract, against GreenMail's IMAP server. */
final class ImapSentFolderContractTest extends SentFolderContract {

  @Override
  protected Fixture newFixture() {
    GreenMail greenMail = new GreenMail(TestMailboxes.imap());
    greenMail.start();
    String address = SENDER.address();
    MailFolder sent = TestMailboxes.folder(greenMail, greenMail.setUser(address, address, "pw"), "Sent");
    ImapSentFolder folder = ImapSentFolder.builder().host("127.0.0.1").port(greenMail.getImap().getPort())
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(sender -> Credentials.password(sender.address(), "pw"))
        .build();
    return new Fixture() {
      @Override
      public SentFolder sentFolder() {
        return folder;
      }

      @Override
      public List<byte[]> sentBy(String sender) {
        List<byte[]> messages = new ArrayList<>();
        if (!sender.equals(address)) {
          return messages;
        }
        for (StoredMessage m : sent.getMessages()) {
          try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            m.getMimeMessage().writeTo(out);
            messages.add(out.toByteArray());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
        return messages;
      }

      @Override
      public void close() {
        greenMail.stop();
      }
    };
  }
}
