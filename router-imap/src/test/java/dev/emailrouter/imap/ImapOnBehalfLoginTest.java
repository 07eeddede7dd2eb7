package dev.emailrouter.imap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** An administrator logging in on behalf of a user: only AUTHENTICATE PLAIN carries the user. */
final class ImapOnBehalfLoginTest {

  private ScriptedImapServer server;

  @BeforeEach
  void start() throws Exception {
    server = new ScriptedImapServer();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  @Test
  void aServerWithoutAuthPlain_isRefusedPermanently_insteadOfLoggingTheAdministratorIntoTheirOwnMailbox() {
    MailboxReader reader = TestMailboxes.reader(server.port())
        .credentials(Credentials.password("admin@example.test", "admin-secret").onBehalfOf("una@example.test"))
        .build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("on behalf of una@example.test")
        .hasMessageNotContaining("admin-secret");
    assertThat(server.commands()).noneMatch(c -> c.toUpperCase().contains(" LOGIN "));
  }

  @Test
  void describe_namesTheMailboxUser_notTheAdministrator() {
    MailboxReader reader = TestMailboxes.reader(server.port())
        .credentials(Credentials.password("admin@example.test", "admin-secret").onBehalfOf("una@example.test"))
        .build();

    assertThat(reader.describe()).contains("una%40example.test@").doesNotContain("admin");
  }
}
