package dev.emailrouter.imap;

import static dev.emailrouter.imap.TestMailboxes.appendSimple;
import static dev.emailrouter.imap.TestMailboxes.existingFolder;
import static dev.emailrouter.imap.TestMailboxes.folder;
import static dev.emailrouter.imap.TestMailboxes.reader;
import static dev.emailrouter.imap.TestMailboxes.seen;
import static dev.emailrouter.imap.TestMailboxes.subjects;
import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.store.MailFolder;
import com.icegreen.greenmail.user.GreenMailUser;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.imap.ImapMailboxReader.PostAction;
import jakarta.mail.Flags;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class ImapMailboxReaderPostActionTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(TestMailboxes.imap());

  private GreenMailUser user;
  private MailFolder inbox;

  @BeforeEach
  void setUp() {
    user = TestMailboxes.user(greenMail);
    inbox = folder(greenMail, user, "INBOX");
    appendSimple(inbox, 1, 4); // UIDs 1 to 4
  }

  /** Opens a session through a proxy, reads the headers, clears the record, disposes, and returns the commands. */
  private List<String> dispose(ImapMailboxReader.Builder builder, Map<String, Disposition> dispositions,
      String... hiddenCapabilities) throws Exception {
    try (WireProxy proxy = new WireProxy(greenMail.getImap().getPort(), hiddenCapabilities)) {
      try (MailboxReader.Session session = builder.port(proxy.port()).build().open()) {
        session.fetchNew("", Set.of(), 100);
        proxy.clear();
        session.dispose(dispositions);
        return proxy.commands();
      }
    }
  }

  private ImapMailboxReader.Builder reader() {
    return TestMailboxes.reader(greenMail.getImap().getPort());
  }

  @Test
  void dispose_byDefault_leavesTrackedAndRejectedMessagesAsTheyAre() throws Exception {
    List<String> commands = dispose(reader(), Map.of("1", Disposition.TRACKED, "2", Disposition.REJECTED));

    assertThat(commands).isEmpty();
    assertThat(subjects(inbox)).containsExactly("message 1", "message 2", "message 3", "message 4");
    assertThat(seen(inbox, 1)).isFalse();
    assertThat(seen(inbox, 2)).isFalse();
  }

  @Test
  void dispose_markSeen_setsSeenOnTrackedMessagesWithOneCommand() throws Exception {
    List<String> commands = dispose(reader().afterTracked(PostAction.MARK_SEEN),
        Map.of("1", Disposition.TRACKED, "2", Disposition.TRACKED, "3", Disposition.TRACKED,
            "4", Disposition.REJECTED));

    assertThat(commands).containsExactly("UID STORE 1:3 +FLAGS.SILENT (\\Seen)");
    assertThat(seen(inbox, 1)).isTrue();
    assertThat(seen(inbox, 3)).isTrue();
    assertThat(seen(inbox, 4)).isFalse();
    assertThat(subjects(inbox)).hasSize(4);
  }

  @Test
  void dispose_delete_expungesJustThoseMessages() throws Exception {
    inbox.setFlags(new Flags(Flags.Flag.DELETED), true, 4, null, false); // another client's, not expunged yet

    List<String> commands = dispose(reader().afterTracked(PostAction.DELETE).afterRejected(PostAction.DELETE),
        Map.of("1", Disposition.TRACKED, "2", Disposition.REJECTED));

    assertThat(commands).containsExactly("UID STORE 1:2 +FLAGS.SILENT (\\Deleted)", "UID EXPUNGE 1:2");
    assertThat(subjects(inbox)).containsExactly("message 3", "message 4");
  }

  @Test
  void dispose_delete_withoutUidplus_expungesTheFolder() throws Exception {
    List<String> commands = dispose(reader().afterTracked(PostAction.DELETE),
        Map.of("2", Disposition.TRACKED, "3", Disposition.TRACKED), "UIDPLUS");

    assertThat(commands).containsExactly("UID STORE 2:3 +FLAGS.SILENT (\\Deleted)", "EXPUNGE");
    assertThat(subjects(inbox)).containsExactly("message 1", "message 4");
  }

  @Test
  void dispose_moveTo_movesWithUidMoveIntoAFolderItCreates() throws Exception {
    ImapMailboxReader.Builder builder = reader().afterTracked(PostAction.moveTo("Tracked"));

    List<String> commands = dispose(builder, Map.of("1", Disposition.TRACKED, "2", Disposition.TRACKED,
        "4", Disposition.REJECTED));

    assertThat(commands).contains("UID MOVE 1:2 Tracked").noneMatch(c -> c.startsWith("UID COPY"));
    assertThat(subjects(inbox)).containsExactly("message 3", "message 4");
    assertThat(subjects(existingFolder(greenMail, user, "Tracked"))).containsExactly("message 1", "message 2");
  }

  @Test
  void dispose_moveTo_intoAnExistingFolder_sendsOneCommand() throws Exception {
    folder(greenMail, user, "Tracked");

    List<String> commands = dispose(reader().afterTracked(PostAction.moveTo("Tracked")),
        Map.of("1", Disposition.TRACKED, "3", Disposition.TRACKED));

    assertThat(commands).containsExactly("UID MOVE 1,3 Tracked");
  }

  @Test
  void dispose_moveTo_withoutMoveCapability_copiesFlagsDeletedAndExpunges() throws Exception {
    folder(greenMail, user, "Archive");

    List<String> commands = dispose(reader().afterTracked(PostAction.moveTo("Archive")),
        Map.of("1", Disposition.TRACKED, "2", Disposition.TRACKED), "MOVE", "UIDPLUS");

    assertThat(commands).containsExactly("UID COPY 1:2 Archive", "UID STORE 1:2 +FLAGS.SILENT (\\Deleted)",
        "EXPUNGE");
    assertThat(subjects(inbox)).containsExactly("message 3", "message 4");
    assertThat(subjects(existingFolder(greenMail, user, "Archive"))).containsExactly("message 1", "message 2");
  }

  @Test
  void dispose_quarantined_movesToTheQuarantineFolderCreatedWhenMissing() throws Exception {
    assertThat(existingFolder(greenMail, user, "Quarantine")).isNull();

    dispose(reader(), Map.of("2", Disposition.QUARANTINED, "3", Disposition.TRACKED));

    assertThat(subjects(existingFolder(greenMail, user, "Quarantine"))).containsExactly("message 2");
    assertThat(subjects(inbox)).containsExactly("message 1", "message 3", "message 4");
  }

  @Test
  void dispose_quarantined_withoutMoveCapability_copiesThenRemovesFromTheInbox() throws Exception {
    List<String> commands = dispose(reader().quarantineFolder("Poison"),
        Map.of("1", Disposition.QUARANTINED), "MOVE");

    assertThat(commands).contains("UID COPY 1 Poison", "UID EXPUNGE 1");
    assertThat(subjects(existingFolder(greenMail, user, "Poison"))).containsExactly("message 1");
    assertThat(subjects(inbox)).containsExactly("message 2", "message 3", "message 4");
  }

  @Test
  void dispose_manyMessages_sendsOneCommandPerAction() throws Exception {
    appendSimple(inbox, 5, 66); // UIDs 5 to 70
    folder(greenMail, user, "Rejected");
    Map<String, Disposition> dispositions = new HashMap<>();
    for (int uid = 1; uid <= 50; uid++) {
      dispositions.put(Integer.toString(uid), Disposition.TRACKED);
    }
    for (int uid = 51; uid <= 70; uid++) {
      dispositions.put(Integer.toString(uid), Disposition.REJECTED);
    }

    List<String> commands = dispose(reader().afterTracked(PostAction.MARK_SEEN)
        .afterRejected(PostAction.moveTo("Rejected")), dispositions);

    assertThat(commands).containsExactly("UID STORE 1:50 +FLAGS.SILENT (\\Seen)", "UID MOVE 51:70 Rejected");
    assertThat(existingFolder(greenMail, user, "Rejected").getMessageCount()).isEqualTo(20);
    assertThat(inbox.getMessageCount()).isEqualTo(50);
  }
}
