package dev.emailrouter.pop3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** An administrator logging in on behalf of a user: SASL PLAIN with an authorization identity, never USER/PASS. */
final class Pop3OnBehalfLoginTest {

  private static final Credentials ADMIN_FOR_UNA = Credentials.password("admin@example.test", "admin-secret")
      .onBehalfOf("una@example.test");

  private static Pop3MailboxReader.Builder builder(int port) {
    return Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5));
  }

  @Test
  void onBehalfOf_logsInWithSaslPlain_carryingTheUserAsAuthorizationIdentity() throws Exception {
    try (ScriptedPop3Server server = new ScriptedPop3Server(line -> {
      if (line.equals("CAPA")) {
        return "+OK\nSASL PLAIN\nUIDL\nTOP\n.";
      } else if (line.startsWith("AUTH PLAIN")) {
        return line.length() > "AUTH PLAIN ".length() ? "+OK Logged in." : "+ ";
      } else if (line.startsWith("STAT")) {
        return "+OK 0 0";
      } else if (line.equals("QUIT")) {
        return "+OK bye";
      } else if (line.matches("[A-Za-z0-9+/=]+")) {
        return "+OK Logged in.";
      }
      return "-ERR unexpected";
    })) {
      MailboxReader reader = builder(server.port()).credentials(ADMIN_FOR_UNA).build();

      reader.open().close();

      String response = server.commands().stream().filter(c -> c.startsWith("AUTH PLAIN"))
          .map(c -> c.substring("AUTH PLAIN".length()).trim()).findFirst().orElseThrow();
      if (response.isEmpty()) {
        int at = server.commands().indexOf("AUTH PLAIN");
        response = server.commands().get(at + 1);
      }
      assertThat(new String(Base64.getDecoder().decode(response), StandardCharsets.UTF_8))
          .isEqualTo("una@example.test\0admin@example.test\0admin-secret");
      assertThat(server.commands()).noneMatch(c -> c.startsWith("USER") || c.startsWith("PASS"));
      assertThat(reader.describe()).isEqualTo("pop3://una%40example.test@127.0.0.1:" + server.port());
    }
  }

  @Test
  void aServerWithoutSaslPlain_isRefusedPermanently_insteadOfOpeningTheAdministratorsOwnMaildrop() throws Exception {
    try (ScriptedPop3Server server = new ScriptedPop3Server(line -> {
      if (line.equals("CAPA")) {
        return "+OK\nUSER\nUIDL\nTOP\n.";
      } else if (line.startsWith("USER") || line.startsWith("PASS")) {
        return "+OK";
      } else if (line.startsWith("STAT")) {
        return "+OK 0 0";
      } else if (line.equals("QUIT")) {
        return "+OK bye";
      }
      return "-ERR unexpected";
    })) {
      MailboxReader reader = builder(server.port()).credentials(ADMIN_FOR_UNA).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("on behalf of una@example.test")
          .hasMessageNotContaining("admin-secret");
      assertThat(server.commands()).noneMatch(c -> c.startsWith("USER") || c.startsWith("PASS"));
    }
  }

  @Test
  void onBehalfOf_withAnOAuth2Token_isRefusedWhenTheCredentialsAreMade() {
    assertThatThrownBy(() -> Credentials.oauth2("admin@example.test", "token").onBehalfOf("una@example.test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs a password");
  }
}
