package dev.emailrouter.imap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.imap.ImapMailboxReader.PostAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import dev.emailrouter.api.ServerSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class ImapMailboxReaderBuilderTest {

  private static final Credentials SALES = Credentials.password("sales@example.com", "top-secret");

  private static ImapMailboxReader.Builder valid() {
    return ImapMailboxReader.builder().host("imap.example.com").credentials(SALES);
  }

  @Test
  void describe_namesUserHostPortAndFolderButNeverTheSecret() {
    ImapMailboxReader reader = valid().build();

    assertThat(reader.describe()).isEqualTo("imap://sales%40example.com@imap.example.com:143/INBOX");
    assertThat(reader.toString()).contains(reader.describe()).doesNotContain("top-secret");
  }

  @Test
  void port_defaultsBySecurity() {
    assertThat(valid().build().describe()).contains(":143/");
    assertThat(valid().security(Security.IMPLICIT_TLS).build().describe()).contains(":993/");
    assertThat(valid().security(Security.PLAIN_TEXT_INSECURE).build().describe()).contains(":143/");
    assertThat(valid().security(Security.IMPLICIT_TLS).port(1993).folder("Sales/Leads").build().describe())
        .isEqualTo("imap://sales%40example.com@imap.example.com:1993/Sales/Leads");
  }

  @Test
  void describe_withIpv6Host_bracketsIt() {
    assertThat(valid().host("::1").build().describe()).isEqualTo("imap://sales%40example.com@[::1]:143/INBOX");
  }

  @Test
  void build_withoutHost_fails() {
    assertThatThrownBy(() -> ImapMailboxReader.builder().credentials(SALES).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("host is required, was not set: call host(\"mail.example.com\")");
  }

  @Test
  void build_withoutCredentials_fails() {
    assertThatThrownBy(() -> ImapMailboxReader.builder().host("imap.example.com").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("credentials are required: call credentials(Credentials) or credentials(Supplier<Credentials>)");
  }

  @Test
  void build_withSupplierButNoUsername_fails() {
    assertThatThrownBy(() -> ImapMailboxReader.builder().host("imap.example.com").credentials(() -> SALES).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("username is required with a credentials supplier");
  }

  @Test
  void build_withSupplierAndUsername_describesThatUser() {
    ImapMailboxReader reader = ImapMailboxReader.builder().host("imap.example.com").username("queue")
        .credentials(() -> Credentials.oauth2("queue", "token")).build();

    assertThat(reader.describe()).isEqualTo("imap://queue@imap.example.com:143/INBOX");
  }

  @Test
  void settings_withBadValues_failNamingTheSettingAndTheValue() {
    ImapMailboxReader.Builder b = ImapMailboxReader.builder();
    assertThatThrownBy(() -> b.host(" ")).hasMessage("host must be a host name or an IP address such as mail.example.com, was \" \"");
    assertThatThrownBy(() -> b.host("imap example.com"))
        .hasMessage("host must be a host name or an IP address such as mail.example.com, was \"imap example.com\"");
    assertThatThrownBy(() -> b.port(0)).hasMessage("port must be between 1 and 65535, was 0");
    assertThatThrownBy(() -> b.port(65536)).hasMessage("port must be between 1 and 65535, was 65536");
    assertThatThrownBy(() -> b.folder("")).hasMessage("folder must not be blank, was ''");
    assertThatThrownBy(() -> b.quarantineFolder(" ")).hasMessage("quarantineFolder must not be blank, was ' '");
    assertThatThrownBy(() -> b.username("")).hasMessage("username must be a login name without spaces, was \"\"");
    assertThatThrownBy(() -> b.connectTimeout(Duration.ZERO))
        .hasMessage("connectTimeout must be between 1 ms and 1 hour (never infinite), was PT0S");
    assertThatThrownBy(() -> b.readTimeout(Duration.ofSeconds(-1)))
        .hasMessage("readTimeout must be between 1 ms and 1 hour (never infinite), was PT-1S");
    assertThatThrownBy(() -> b.writeTimeout(Duration.ofDays(1)))
        .hasMessage("writeTimeout must be between 1 ms and 1 hour (never infinite), was PT24H");
    assertThatThrownBy(() -> PostAction.moveTo("")).hasMessage("moveTo folder must not be blank, was ''");
    assertThatThrownBy(() -> b.security(null)).isInstanceOf(NullPointerException.class).hasMessage("security");
    assertThatThrownBy(() -> b.afterTracked(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("afterTracked");
    assertThatThrownBy(() -> b.processReceivedAfter(null)).isInstanceOf(NullPointerException.class)
        .hasMessage("processReceivedAfter");
  }

  @Test
  void build_withQuarantineFolderSameAsFolder_fails() {
    assertThatThrownBy(() -> valid().quarantineFolder("inbox").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("quarantineFolder must differ from folder, both were 'INBOX'");
  }

  @Test
  void build_withPostActionMovingIntoTheFolderRead_fails() {
    assertThatThrownBy(() -> valid().folder("Leads").afterTracked(PostAction.moveTo("Leads")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("afterTracked must not move messages into the folder being read ('Leads'): they would come "
            + "back as new messages, was MOVE_TO(Leads)");
    assertThatThrownBy(() -> valid().afterRejected(PostAction.moveTo("INBOX")).build())
        .hasMessageStartingWith("afterRejected must not move messages into the folder being read");
  }

  @Test
  void trustedCertificates_withAFileWithoutCertificate_failsNamingTheFile(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.pem"), "nothing here");

    assertThatThrownBy(() -> valid().trustedCertificates(empty))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(empty.toString());
  }

  @Test
  void postAction_equalityAndNames() {
    assertThat(PostAction.moveTo("Archive")).isEqualTo(PostAction.moveTo("Archive"))
        .hasSameHashCodeAs(PostAction.moveTo("Archive"))
        .isNotEqualTo(PostAction.moveTo("Other"))
        .hasToString("MOVE_TO(Archive)");
    assertThat(PostAction.LEAVE).hasToString("LEAVE").isNotEqualTo(PostAction.MARK_SEEN);
    assertThat(PostAction.DELETE).hasToString("DELETE");
  }

  @Test
  void sessionProperties_forAnOauth2Token_selectXoauth2AndForAPasswordDoNot() {
    ImapMailboxReader reader = valid().connectTimeout(Duration.ofSeconds(3)).build();

    assertThat(reader.login().sessionProperties(Credentials.Kind.OAUTH2_TOKEN))
        .containsEntry("mail.imap.auth.mechanisms", "XOAUTH2")
        .containsEntry("mail.imap.connectiontimeout", "3000")
        .containsEntry("mail.imap.starttls.required", "true");
    assertThat(reader.login().sessionProperties(Credentials.Kind.PASSWORD)).doesNotContainKey("mail.imap.auth.mechanisms");
  }

  @Test
  void build_withoutTimeouts_usesTheSharedDefaults() {
    ImapSettings settings = valid().build().settings();

    assertThat(settings.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(settings.readTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(settings.writeTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(settings.security()).isEqualTo(Security.STARTTLS);
    assertThat(settings.port()).isEqualTo(143);
  }

  @Test
  void username_setAfterFixedCredentialsOfAnotherUser_failsAtBuild_insteadOfReplacingIt() {
    // Before the shared ServerSettings, IMAP's credentials(Credentials) overwrote the user name and a
    // later username(...) of another user failed only at the first login.
    assertThatThrownBy(() -> valid().username("someone-else").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("username is \"someone-else\" but credentials(Credentials) is for user");
  }

  @Test
  void server_takesEverySharedSettingFromOneValue() {
    ServerSettings shared = ServerSettings.builder().host("imap.example.com").port(1993)
        .security(Security.IMPLICIT_TLS).credentials(SALES).connectTimeout(Duration.ofSeconds(4)).build();

    ImapSettings settings = ImapMailboxReader.builder().server(shared).folder("Sales").build().settings();

    assertThat(settings.host()).isEqualTo("imap.example.com");
    assertThat(settings.security()).isEqualTo(Security.IMPLICIT_TLS);
    assertThat(settings.username()).isEqualTo("sales@example.com");
    assertThat(settings.port()).isEqualTo(1993);
    assertThat(settings.connectTimeout()).isEqualTo(Duration.ofSeconds(4));
  }
}
