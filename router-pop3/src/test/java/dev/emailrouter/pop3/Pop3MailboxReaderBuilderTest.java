package dev.emailrouter.pop3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import dev.emailrouter.api.ServerSettings;
import dev.emailrouter.api.TokenSource;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class Pop3MailboxReaderBuilderTest {

  private static Pop3MailboxReader.Builder valid() {
    return Pop3MailboxReader.builder().host("pop.example.com").credentials(Credentials.password("sales", "pw"));
  }

  @Test
  void describe_withDefaults_usesStarttlsPort110AndTheCredentialsUser() {
    assertThat(valid().build().describe()).isEqualTo("pop3://sales@pop.example.com:110");
  }

  @Test
  void describe_withImplicitTls_defaultsToPort995() {
    assertThat(valid().security(Security.IMPLICIT_TLS).build().describe())
        .isEqualTo("pop3://sales@pop.example.com:995");
  }

  @Test
  void describe_withPlainText_defaultsToPort110AndKeepsAnExplicitPort() {
    assertThat(valid().security(Security.PLAIN_TEXT_INSECURE).build().describe()).endsWith(":110");
    assertThat(valid().security(Security.IMPLICIT_TLS).port(1995).build().describe()).endsWith(":1995");
  }

  @Test
  void describe_withIpv6Host_bracketsIt() {
    assertThat(valid().host("::1").build().describe()).isEqualTo("pop3://sales@[::1]:110");
  }

  @Test
  void build_withCredentialsSupplier_neverCallsItAndUsesTheUsername() {
    AtomicInteger calls = new AtomicInteger();
    Pop3MailboxReader reader = Pop3MailboxReader.builder()
        .host("pop.example.com")
        .credentials(() -> {
          calls.incrementAndGet();
          return Credentials.oauth2("sales@example.com", "token");
        })
        .username("sales@example.com")
        .build();

    assertThat(reader.describe()).isEqualTo("pop3://sales%40example.com@pop.example.com:110");
    assertThat(reader).hasToString(reader.describe());
    assertThat(calls).hasValue(0);
  }

  @Test
  void describe_percentEncodesTheUserPartAsImapDoes() {
    // An '@' (or '%', ':', '/') left raw in the user part makes the URI ambiguous: the host would
    // read as "example.test@pop.example.com". ImapMailboxReader encodes the same four characters.
    Pop3MailboxReader reader = Pop3MailboxReader.builder().host("pop.example.com")
        .credentials(Credentials.password("a%b:c/d@example.test", "pw")).build();

    assertThat(reader.describe()).isEqualTo("pop3://a%25b%3Ac%2Fd%40example.test@pop.example.com:110");
  }

  @Test
  void username_disagreeingWithFixedCredentials_failsAtBuildInEitherOrder() {
    // Until the shared ServerSettings, POP3 showed "shown" and logged in as "login" while IMAP failed
    // at the first login; now every adapter refuses it at build time, whichever setter came first.
    assertThatThrownBy(() -> Pop3MailboxReader.builder().host("h").username("shown")
        .credentials(Credentials.password("login", "pw")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("username is \"shown\" but credentials(Credentials) is for user \"login\"");
    assertThatThrownBy(() -> Pop3MailboxReader.builder().host("h").credentials(Credentials.password("login", "pw"))
        .username("shown").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("pw");
    assertThat(Pop3MailboxReader.builder().host("h").username("login").credentials(Credentials.password("login", "pw"))
        .build().describe()).isEqualTo("pop3://login@h:110");
  }

  @Test
  void build_withoutHost_failsNamingHost() {
    assertThatThrownBy(() -> Pop3MailboxReader.builder().credentials(Credentials.password("u", "p")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("host is required");
  }

  @Test
  void build_withoutCredentials_failsNamingCredentials() {
    assertThatThrownBy(() -> Pop3MailboxReader.builder().host("pop.example.com").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("credentials are required");
  }

  @Test
  void build_withSupplierButNoUsername_failsNamingUsername() {
    assertThatThrownBy(() -> Pop3MailboxReader.builder().host("pop.example.com")
        .credentials(() -> Credentials.password("u", "p")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("username is required with a credentials supplier");
  }

  @Test
  void build_withDeleteRejectedAlone_failsNamingBothSettings() {
    assertThatThrownBy(() -> valid().deleteRejected(true).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("deleteRejected(true) needs deleteAfterProcessing(true), which was false");
    assertThat(valid().deleteAfterProcessing(true).deleteRejected(true).build()).isNotNull();
  }

  @Test
  void host_blankOrWithSpaces_failsNamingTheValue() {
    assertThatThrownBy(() -> Pop3MailboxReader.builder().host(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("host must be a host name or an IP address such as mail.example.com, was \" \"");
    assertThatThrownBy(() -> Pop3MailboxReader.builder().host("pop example.com"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was \"pop example.com\"");
    assertThatThrownBy(() -> Pop3MailboxReader.builder().host(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("host");
  }

  @Test
  void port_outOfRange_failsNamingTheValue() {
    assertThatThrownBy(() -> Pop3MailboxReader.builder().port(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be between 1 and 65535, was 0");
    assertThatThrownBy(() -> Pop3MailboxReader.builder().port(65536))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be between 1 and 65535, was 65536");
  }

  @Test
  void timeouts_zeroNegativeOrHuge_failNamingTheSettingAndValue() {
    assertThatThrownBy(() -> Pop3MailboxReader.builder().connectTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("connectTimeout must be between 1 ms and 1 hour (never infinite), was PT0S");
    assertThatThrownBy(() -> Pop3MailboxReader.builder().readTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("readTimeout must be between 1 ms and 1 hour (never infinite), was PT-1S");
    assertThatThrownBy(() -> Pop3MailboxReader.builder().writeTimeout(Duration.ofDays(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("writeTimeout must be between 1 ms and 1 hour (never infinite), was PT24H");
    assertThatThrownBy(() -> Pop3MailboxReader.builder().readTimeout(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("readTimeout");
  }

  @Test
  void username_withSpaces_failsNamingTheValue() {
    assertThatThrownBy(() -> Pop3MailboxReader.builder().username("sales team"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("username must be a login name without spaces, was \"sales team\"");
  }

  @Test
  void security_null_failsNamingTheSetting() {
    assertThatThrownBy(() -> Pop3MailboxReader.builder().security(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("security");
  }

  @Test
  void trustedCertificates_withMissingFile_failsNamingTheFile(@TempDir Path dir) {
    Path missing = dir.resolve("missing.pem");

    assertThatThrownBy(() -> Pop3MailboxReader.builder().trustedCertificates(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("trusted certificates file " + missing);
  }

  @Test
  void build_withoutTimeouts_usesTheSharedDefaults_connectingWithinTenSecondsAsImapAndSmtpDo() {
    // POP3 connected with 30 s before the shared ServerSettings; one default for every adapter now.
    ServerSettings server = valid().build().server();

    assertThat(server.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(server.readTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(server.writeTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(server.security()).isEqualTo(Security.STARTTLS);
  }

  @Test
  void build_whenUsernameDisagreesWithATokenSourcesUser_failsAtBuildNotAtTheFirstLogin() {
    TokenSource tokens = new TokenSource() {
      @Override
      public Credentials get() {
        throw new AssertionError("building must not fetch a token");
      }

      @Override
      public void invalidate(String rejectedToken) {}

      @Override
      public Optional<String> mailboxUser() {
        return Optional.of("sales@example.com");
      }
    };

    assertThatThrownBy(() -> Pop3MailboxReader.builder().host("pop.example.com").username("support@example.com")
        .credentials(tokens).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"support@example.com\"").hasMessageContaining("\"sales@example.com\"");
  }
}
