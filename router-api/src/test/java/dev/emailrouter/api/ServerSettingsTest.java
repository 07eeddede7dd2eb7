package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one place the mail-server adapters' shared settings are checked and defaulted. */
final class ServerSettingsTest {

  /** A token source that states its user, as router-oauth2's OAuth2TokenProvider does. */
  private static final class StatedUserTokens implements TokenSource {
    private final String user;

    StatedUserTokens(String user) {
      this.user = user;
    }

    @Override
    public Credentials get() {
      throw new AssertionError("a builder must not fetch a token");
    }

    @Override
    public void invalidate(String rejectedToken) {}

    @Override
    public Optional<String> mailboxUser() {
      return Optional.of(user);
    }
  }

  @Test
  void build_withOnlyAHost_hasTheOneSetOfDefaults() {
    ServerSettings s = ServerSettings.builder().host("mail.example.com").build();

    assertThat(s.host()).isEqualTo("mail.example.com");
    assertThat(s.port()).isEmpty();
    assertThat(s.security()).isEqualTo(Security.STARTTLS);
    assertThat(s.trustStore()).isEmpty();
    assertThat(s.credentials()).isEmpty();
    assertThat(s.username()).isEmpty();
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(10)).isEqualTo(ServerSettings.DEFAULT_CONNECT_TIMEOUT);
    assertThat(s.readTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.writeTimeout()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void build_withoutHost_failsNamingHost() {
    assertThatThrownBy(() -> ServerSettings.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("host is required, was not set: call host(\"mail.example.com\")");
  }

  @Test
  void setters_withBadValues_failNamingTheSettingAndTheValue(@TempDir Path dir) {
    ServerSettings.Builder b = ServerSettings.builder();
    assertThatThrownBy(() -> b.host("smtp://mail.example.com"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("host must be a host name or an IP address such as mail.example.com, was \"smtp://mail.example.com\"");
    assertThatThrownBy(() -> b.port(0)).hasMessage("port must be between 1 and 65535, was 0");
    assertThatThrownBy(() -> b.username("sales team"))
        .hasMessage("username must be a login name without spaces, was \"sales team\"");
    assertThatThrownBy(() -> b.connectTimeout(Duration.ZERO))
        .hasMessage("connectTimeout must be between 1 ms and 1 hour (never infinite), was PT0S");
    assertThatThrownBy(() -> b.readTimeout(Duration.ofDays(1)))
        .hasMessage("readTimeout must be between 1 ms and 1 hour (never infinite), was PT24H");
    assertThatThrownBy(() -> b.writeTimeout(null)).isInstanceOf(NullPointerException.class).hasMessage("writeTimeout");
    assertThatThrownBy(() -> b.trustedCertificates(dir.resolve("missing.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing.pem");
  }

  @Test
  void host_inBrackets_isStoredWithout() {
    assertThat(ServerSettings.builder().host(" [::1] ").build().host()).isEqualTo("::1");
  }

  @Test
  void username_comesFromFixedCredentials_theMailboxUser() {
    ServerSettings s = ServerSettings.builder().host("h")
        .credentials(Credentials.password("admin", "pw").onBehalfOf("sales")).build();

    assertThat(s.username()).contains("sales");
    assertThat(s.credentials().orElseThrow().get().username()).isEqualTo("admin");
  }

  @Test
  void username_comesFromATokenSourceThatStatesItsUser_withoutFetchingAToken() {
    ServerSettings s = ServerSettings.builder().host("h").credentials(new StatedUserTokens("sales@example.com")).build();

    assertThat(s.username()).contains("sales@example.com");
  }

  @Test
  void build_whenUsernameDisagreesWithTheTokenSource_failsNamingBothSettingsAndUsers() {
    assertThatThrownBy(() -> ServerSettings.builder().host("h").username("sales@example.com")
        .credentials(new StatedUserTokens("support@example.com")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("username is \"sales@example.com\" but the username of the credentials' token source "
            + "(StatedUserTokens) is for user \"support@example.com\"");
  }

  @Test
  void build_whenUsernameDisagreesWithFixedCredentials_failsInEitherOrderWithoutTheSecret() {
    assertThatThrownBy(() -> ServerSettings.builder().host("h").credentials(Credentials.password("login", "s3cret"))
        .username("shown").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("username is \"shown\" but credentials(Credentials) is for user \"login\"")
        .hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> ServerSettings.builder().host("h").username("shown")
        .credentials(Credentials.password("login", "s3cret")).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void username_withAPlainSupplier_isOnlyWhatWasSet() {
    Supplier<Credentials> plain = () -> Credentials.password("anyone", "pw");

    assertThat(ServerSettings.builder().host("h").credentials(plain).build().username()).isEmpty();
    assertThat(ServerSettings.builder().host("h").credentials(plain).username("sales").build().username())
        .contains("sales");
  }

  @Test
  void toBuilder_keepsEverySetting_andToStringShowsNoSecret() {
    ServerSettings s = ServerSettings.builder().host("h").port(993).security(Security.IMPLICIT_TLS)
        .credentials(Credentials.password("sales", "s3cret")).connectTimeout(Duration.ofSeconds(3)).build();
    ServerSettings copy = s.toBuilder().readTimeout(Duration.ofSeconds(5)).build();

    assertThat(copy.port()).hasValue(993);
    assertThat(copy.security()).isEqualTo(Security.IMPLICIT_TLS);
    assertThat(copy.username()).contains("sales");
    assertThat(copy.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(copy.readTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(copy.toString()).contains("h:993", "sales").doesNotContain("s3cret");
  }
}
