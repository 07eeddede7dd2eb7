package dev.emailrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailServerBuilder;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.ServerSettings;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.imap.ImapSentFolder;
import dev.emailrouter.oauth2.OAuth2TokenProvider;
import dev.emailrouter.pop3.Pop3MailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The settings every mail-server adapter shares, seen from a host that wires the real OAuth2
 * provider into each of them: the same rule for the user name, and a mismatch refused when the
 * adapter is built, not at its first login. Nothing here touches the network.
 */
final class ServerSettingsAcrossAdaptersTest {

  private static OAuth2TokenProvider tokensFor(String user) {
    return OAuth2TokenProvider.microsoft365("contoso.onmicrosoft.com")
        .tokenEndpoint("http://127.0.0.1:9/token")
        .clientCredentials("client-1", "client-s3cret")
        .scope("https://outlook.office365.com/.default")
        .username(user)
        .build();
  }

  /** Each adapter's builder, set up with its shared settings by {@code configure} and then built. */
  private static List<Function<Function<MailServerBuilder<?>, MailServerBuilder<?>>, Object>> adapters() {
    return List.of(
        configure -> ((ImapMailboxReader.Builder) configure.apply(ImapMailboxReader.builder())).build(),
        configure -> ((Pop3MailboxReader.Builder) configure.apply(Pop3MailboxReader.builder())).build(),
        configure -> ((SmtpTransport.Builder) configure.apply(SmtpTransport.builder())).build(),
        configure -> ((ImapSentFolder.Builder) configure.apply(ImapSentFolder.builder())).build());
  }

  @Test
  void build_whenUsernameDisagreesWithTheTokenProvider_failsInEveryAdapterNamingBothSettingsAndUsers() {
    OAuth2TokenProvider tokens = tokensFor("sales@contoso.test");

    for (var adapter : adapters()) {
      assertThatThrownBy(() -> adapter.apply(b -> b.host("mail.contoso.test").username("support@contoso.test")
          .credentials(tokens)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("username is \"support@contoso.test\" but the username of the credentials' token "
              + "source (OAuth2TokenProvider) is for user \"sales@contoso.test\"")
          .hasMessageNotContaining("client-s3cret");
      // The order of the calls does not matter.
      assertThatThrownBy(() -> adapter.apply(b -> b.host("mail.contoso.test").credentials(tokens)
          .username("support@contoso.test")))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void build_withTheTokenProviderAlone_takesItsUserAsTheUsername() {
    Supplier<Credentials> tokens = tokensFor("sales@contoso.test");

    ImapMailboxReader imap = ImapMailboxReader.builder().host("imap.contoso.test").credentials(tokens).build();
    Pop3MailboxReader pop3 = Pop3MailboxReader.builder().host("pop.contoso.test").credentials(tokens).build();

    assertThat(imap.describe()).isEqualTo("imap://sales%40contoso.test@imap.contoso.test:143/INBOX");
    assertThat(pop3.describe()).isEqualTo("pop3://sales%40contoso.test@pop.contoso.test:110");
  }

  @Test
  void server_oneValueForReaderAndTransport_givesEachItsOwnDefaultPort() {
    ServerSettings mailServer = ServerSettings.builder().host("mail.contoso.test").security(Security.IMPLICIT_TLS)
        .credentials(Credentials.password("sales@contoso.test", "pw")).build();

    assertThat(ImapMailboxReader.builder().server(mailServer).build().describe())
        .isEqualTo("imap://sales%40contoso.test@mail.contoso.test:993/INBOX");
    assertThat(Pop3MailboxReader.builder().server(mailServer).build().describe())
        .isEqualTo("pop3://sales%40contoso.test@mail.contoso.test:995");
    assertThat(SmtpTransport.builder().server(mailServer).build().describe())
        .isEqualTo("smtp://mail.contoso.test:465 (IMPLICIT_TLS)");
  }
}
