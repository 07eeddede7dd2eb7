package dev.emailrouter.pop3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.testfixtures.FakeTokenSource;
import dev.emailrouter.testfixtures.Loopback;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Connecting and logging in: which failures are permanent, which transient, and what they say. */
final class Pop3MailboxReaderLoginTest {

  @RegisterExtension
  static final GreenMailExtension greenMail =
      new GreenMailExtension(Loopback.setup(ServerSetup.PROTOCOL_POP3));

  @BeforeEach
  void createUser() {
    greenMail.setUser("sales@example.test", "sales", "secret");
  }

  private static Pop3MailboxReader.Builder builder(int port) {
    return Pop3MailboxReader.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .credentials(Credentials.password("sales", "secret"))
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(5));
  }

  @Test
  void open_withWrongPassword_throwsPermanentNamingUserAndMailboxWithoutThePassword() {
    MailboxReader reader = builder(greenMail.getPop3().getPort())
        .credentials(Credentials.password("sales", "Wr0ngPassw0rd"))
        .build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("pop3://sales@127.0.0.1:" + greenMail.getPop3().getPort())
        .hasMessageContaining("user sales")
        .hasMessageContaining("check the credentials")
        .satisfies(e -> assertThat(fullText(e)).doesNotContain("Wr0ngPassw0rd"));
  }

  @Test
  void open_withOauth2Token_logsInWithXoauth2() throws Exception {
    // GreenMail checks an XOAUTH2 token against the user's password
    try (Pop3Proxy proxy = new Pop3Proxy(greenMail.getPop3().getPort())) {
      MailboxReader reader = builder(proxy.port()).credentials(Credentials.oauth2("sales", "secret")).build();

      try (MailboxReader.Session session = reader.open()) {
        assertThat(session.fetchNew("", Set.of(), 10).messages()).isEmpty();
      }

      assertThat(proxy.commands("AUTH")).singleElement().asString().startsWith("AUTH XOAUTH2 ");
      assertThat(proxy.commands("PASS")).isEmpty();
    }
  }

  @Test
  void open_whenXoauth2TokenIsRefusedOnlyAfterTheLogin_throwsPermanent() throws Exception {
    // Dovecot refuses a bad token with a challenge first; Angus doesn't answer it, connect()
    // returns normally, and the refusal comes back as the reply to STAT.
    String challenge = Base64.getEncoder().encodeToString(
        "{\"status\":\"401\",\"schemes\":\"bearer\"}".getBytes(StandardCharsets.US_ASCII));
    AtomicBoolean challenged = new AtomicBoolean();
    try (ScriptedPop3Server server = new ScriptedPop3Server(line -> {
      if (challenged.getAndSet(false)) {
        return "-ERR [AUTH] Authentication failed.";
      } else if (line.equals("CAPA")) {
        return "+OK\nSASL XOAUTH2\nUIDL\nTOP\n.";
      } else if (line.startsWith("AUTH XOAUTH2")) {
        challenged.set(true);
        return "+ " + challenge;
      } else if (line.equals("QUIT")) {
        return "+OK bye";
      }
      return "-ERR unexpected";
    })) {
      MailboxReader reader = builder(server.port())
          .credentials(Credentials.oauth2("sales@example.test", "expired-token-123"))
          .build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining(reader.describe())
          .hasMessageContaining("user sales@example.test")
          .hasMessageContaining("[AUTH] Authentication failed.")
          .satisfies(e -> assertThat(fullText(e)).doesNotContain("expired-token-123"));
    }
  }

  @Test
  void open_whenTheServerRefusesTheToken_tellsTheTokenSource_andLogsInOnceMoreWithAFreshToken() {
    FakeTokenSource tokens = new FakeTokenSource("sales", "token-stale", "secret");
    MailboxReader reader = builder(greenMail.getPop3().getPort()).username("sales").credentials(tokens).build();

    try (MailboxReader.Session session = reader.open()) {
      assertThat(session.fetchNew("", Set.of(), 10).messages()).isEmpty();
    }
    assertThat(tokens.invalidated()).containsExactly("token-stale");
  }

  @Test
  void open_withOauthbearerOffered_logsInWithIt_andAnswersTheErrorChallengeWithAQ() throws Exception {
    String challenge = Base64.getEncoder().encodeToString(
        "{\"status\":\"invalid_token\"}".getBytes(StandardCharsets.US_ASCII));
    AtomicBoolean challenged = new AtomicBoolean();
    try (ScriptedPop3Server server = new ScriptedPop3Server(line -> {
      if (challenged.getAndSet(false)) {
        return line.equals("AQ==") ? "-ERR [AUTH] Authentication failed." : "-ERR protocol error";
      } else if (line.equals("CAPA")) {
        return "+OK\nSASL PLAIN XOAUTH2 OAUTHBEARER\nUIDL\nTOP\n.";
      } else if (line.startsWith("AUTH OAUTHBEARER ")) {
        String initial = new String(Base64.getDecoder().decode(line.substring(17)), StandardCharsets.UTF_8);
        if (initial.startsWith("n,a=sales@example.test,") && initial.contains("\u0001auth=Bearer good-token\u0001")) {
          return "+OK Logged in.";
        }
        challenged.set(true);
        return "+ " + challenge;
      } else if (line.equals("STAT")) {
        return "+OK 0 0";
      } else if (line.equals("QUIT")) {
        return "+OK bye";
      }
      return "-ERR unexpected";
    })) {
      FakeTokenSource tokens = new FakeTokenSource("sales@example.test", "bad-token", "good-token");
      MailboxReader reader = builder(server.port()).username("sales@example.test").credentials(tokens).build();

      reader.open().close();

      assertThat(tokens.invalidated()).containsExactly("bad-token");
      assertThat(server.commands()).contains("AQ==").noneMatch(c -> c.startsWith("AUTH XOAUTH2"))
          .noneMatch(c -> c.startsWith("USER") || c.startsWith("PASS"))
          .filteredOn(c -> c.startsWith("AUTH OAUTHBEARER ")).hasSize(2);
    }
  }

  @Test
  void open_whenTheServerCannotCheckTheTokenNow_throwsTransient_withoutARefresh() throws Exception {
    try (ScriptedPop3Server server = new ScriptedPop3Server(line -> {
      if (line.equals("CAPA")) {
        return "+OK\nSASL XOAUTH2\nUIDL\n.";
      } else if (line.startsWith("AUTH XOAUTH2")) {
        return "-ERR [SYS/TEMP] Temporary authentication failure.";
      }
      return "+OK";
    })) {
      FakeTokenSource tokens = new FakeTokenSource("sales@example.test", "token-1", "token-2");
      MailboxReader reader = builder(server.port()).username("sales@example.test").credentials(tokens).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining("could not check the OAuth2 token of user sales@example.test")
          .hasMessageContaining("[SYS/TEMP]");
      assertThat(tokens.invalidated()).isEmpty();
    }
  }

  @Test
  void open_whenMailboxIsLockedByAnotherSession_throwsTransient() throws Exception {
    try (ScriptedPop3Server server = new ScriptedPop3Server(line -> {
      if (line.equals("CAPA")) {
        return "+OK\nUSER\nUIDL\nTOP\nRESP-CODES\n.";
      } else if (line.startsWith("USER")) {
        return "+OK";
      } else if (line.startsWith("PASS")) {
        return "-ERR [IN-USE] Mailbox is locked by another POP3 session";
      }
      return "+OK";
    })) {
      MailboxReader reader = builder(server.port()).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining(reader.describe())
          .hasMessageContaining("[IN-USE]");
    }
  }

  @Test
  void fetchNew_whenServerLacksUidl_throwsPermanent() throws Exception {
    try (ScriptedPop3Server server = new ScriptedPop3Server(line -> {
      if (line.equals("CAPA")) {
        return "+OK\nUSER\nTOP\n.";
      } else if (line.equals("STAT")) {
        return "+OK 1 120";
      }
      return line.startsWith("UIDL") ? "-ERR no UIDL here" : "+OK";
    })) {
      MailboxReader reader = builder(server.port()).build();
      try (MailboxReader.Session session = reader.open()) {
        assertThatThrownBy(() -> session.fetchNew("", Set.of(), 10))
            .isInstanceOf(PermanentRouterException.class)
            .hasMessageContaining(reader.describe())
            .hasMessageContaining("does not support UIDL");
      }
    }
  }

  @Test
  void fetchNew_whenServerRefusesTop_takesTheHeadersFromRetr() throws Exception {
    String message = "Message-ID: <m1@example.test>\nSubject: no top here\n\nbody line\n..dot-stuffed line";
    try (ScriptedPop3Server server = new ScriptedPop3Server(line -> switch (line.split(" ")[0]) {
      case "CAPA" -> "+OK\nUSER\nUIDL\n.";
      case "STAT" -> "+OK 1 300000";
      case "UIDL" -> "+OK\n1 uidl-1\n.";
      case "LIST" -> "+OK\n1 300000\n."; // large enough for TOP to be tried (small ones are RETR'd at once)
      case "TOP" -> "-ERR TOP not supported";
      case "RETR" -> "+OK 120 octets\n" + message + "\n.";
      default -> "+OK";
    })) {
      MailboxReader reader = builder(server.port()).build();
      try (MailboxReader.Session session = reader.open()) {
        assertThat(session.fetchNew("", Set.of(), 10).messages())
            .singleElement()
            .satisfies(m -> {
              assertThat(m.ref()).isEqualTo("uidl-1");
              assertThat(m.first("subject")).contains("no top here");
              assertThat(m.size()).isEqualTo(300000);
            });
      }
      assertThat(server.commands()).contains("TOP 1 0", "RETR 1");
    }
  }

  @Test
  void open_whenPortIsClosed_throwsTransientQuickly() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    MailboxReader reader = builder(closedPort).build();

    long start = System.nanoTime();
    assertThatThrownBy(reader::open)
        .isInstanceOf(TransientRouterException.class)
        .hasMessageContaining(reader.describe())
        .hasMessageContaining("Connection refused");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void open_whenServerNeverAnswers_throwsTransientAfterTheReadTimeout() throws Exception {
    // the kernel completes the TCP handshake from the backlog; no greeting ever comes
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      MailboxReader reader = builder(silent.getLocalPort()).readTimeout(Duration.ofMillis(300)).build();

      long start = System.nanoTime();
      assertThatThrownBy(reader::open)
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining(reader.describe())
          .hasMessageContaining("timed out");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }
  }

  @Test
  void open_withDefaultStarttlsWhenServerLacksStls_throwsPermanent() {
    MailboxReader reader = builder(greenMail.getPop3().getPort()).security(Security.STARTTLS).build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining(reader.describe())
        .hasMessageContaining("does not offer STLS")
        .hasMessageContaining("IMPLICIT_TLS");
  }

  @Test
  void open_whenCredentialsSupplierFails_throwsTransientAndAsksAgainNextTime() {
    int[] calls = {0};
    Supplier<Credentials> flaky = () -> {
      if (calls[0]++ == 0) {
        throw new IllegalStateException("token endpoint unavailable");
      }
      return Credentials.password("sales", "secret");
    };
    MailboxReader reader = builder(greenMail.getPop3().getPort()).credentials(flaky).username("sales").build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("credentials supplier failed");
    try (MailboxReader.Session session = reader.open()) {
      assertThat(session.fetchNew("", Set.of(), 1).messages()).isEmpty();
    }
    assertThat(calls[0]).isEqualTo(2);
  }

  @Test
  void open_whenCredentialsSupplierReturnsNull_throwsPermanent() {
    MailboxReader reader = builder(greenMail.getPop3().getPort()).credentials(() -> null).username("sales").build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("returned null");
  }

  private static String fullText(Throwable e) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      text.append(t).append('\n');
    }
    return text.toString();
  }
}
