package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

final class CredentialsTest {

  @Test
  void toString_ofAPassword_namesUserAndKindButNeverTheSecret() {
    Credentials credentials = Credentials.password("sales@example.com", "s3cr3t-P@ss");

    assertThat(credentials.toString())
        .doesNotContain("s3cr3t-P@ss")
        .contains("sales@example.com")
        .contains("PASSWORD")
        .contains("***");
  }

  @Test
  void toString_ofAnOauth2Token_neverContainsTheToken() {
    Credentials credentials = Credentials.oauth2("sales@example.com", "ya29.a0AfH6SMBtoken");

    assertThat(credentials.toString()).doesNotContain("ya29").contains("OAUTH2_TOKEN");
  }

  @Test
  void factories_setTheKind() {
    assertThat(Credentials.password("u", "p").kind()).isEqualTo(Credentials.Kind.PASSWORD);
    assertThat(Credentials.oauth2("u", "t").kind()).isEqualTo(Credentials.Kind.OAUTH2_TOKEN);
    assertThat(Credentials.oauth2("u", "t").secret()).isEqualTo("t");
  }

  @Test
  void new_whenTheUsernameIsBlank_isRefused() {
    assertThatThrownBy(() -> Credentials.password(" ", "p"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("username must not be blank");
  }

  @Test
  void new_whenAComponentIsNull_throwsNullPointerNamingIt_withoutTheSecret() {
    assertThatThrownBy(() -> Credentials.password(null, "hunter2")).hasMessage("username");
    assertThatThrownBy(() -> Credentials.password("u", null)).hasMessage("secret");
    assertThatThrownBy(() -> new Credentials("u", "hunter2", null)).hasMessage("kind");
  }
}
