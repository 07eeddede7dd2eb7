package dev.emailrouter.imap;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.AccessStep.Check;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.testfixtures.Loopback;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class ImapTestAccessTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(new ServerSetup[] {
      TestMailboxes.imap(), Loopback.setup(ServerSetup.PROTOCOL_POP3)});

  @BeforeEach
  void createUser() {
    TestMailboxes.user(greenMail);
  }

  private static ImapMailboxReader.Builder reader() {
    return TestMailboxes.reader(greenMail.getImap().getPort());
  }

  @Test
  void rightSettings_logInSelectTheFolder_andSayWhichMoveTargetsExist() throws Exception {
    greenMail.getManagers().getImapHostManager().createMailbox(TestMailboxes.user(greenMail), "Archive");

    AccessReport report = reader().afterTracked(ImapMailboxReader.PostAction.moveTo("Archive"))
        .quarantineFolder("Quarantine").build().testAccess();

    assertThat(report.ok()).as(report.toString()).isTrue();
    assertThat(report.steps()).filteredOn(s -> s.check() == Check.FOLDER).extracting(AccessStep::detail)
        .containsExactly("'INBOX' selected for reading and writing", "'Archive' (afterTracked) exists",
            "'Quarantine' (quarantineFolder) does not exist yet: it is created the first time a message goes there");
    assertThat(report.step(Check.LOGIN).orElseThrow().detail()).contains("logged in as sales");
    // Nothing was created.
    assertThat(greenMail.getManagers().getImapHostManager()
        .getFolder(TestMailboxes.user(greenMail), "Quarantine")).isNull();
  }

  @Test
  void wrongPassword_failsTheLogin_namingCredentials_withoutTheSecret() {
    AccessReport report = reader().credentials(Credentials.password(TestMailboxes.USER, "wrong-pass")).build()
        .testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.LOGIN);
    assertThat(failure.setting()).isEqualTo("credentials");
    assertThat(report.toString()).doesNotContain("wrong-pass");
  }

  @Test
  void aMissingFolder_failsTheFolderStep_namingTheFolderSetting() {
    AccessReport report = reader().folder("Nowhere").build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).as(report.toString()).isEqualTo(Check.FOLDER);
    assertThat(failure.setting()).isEqualTo("folder");
    assertThat(failure.detail()).contains("Nowhere");
  }

  @Test
  void thePop3Port_isNamedAsAPop3Server() {
    AccessReport report = TestMailboxes.reader(greenMail.getPop3().getPort()).build().testAccess();

    AccessStep failure = report.firstFailure().orElseThrow();
    assertThat(failure.check()).isEqualTo(Check.GREETING);
    assertThat(failure.detail()).contains("a POP3 server, not IMAP");
  }
}
