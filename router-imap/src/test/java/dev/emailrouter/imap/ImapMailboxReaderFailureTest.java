package dev.emailrouter.imap;

import static dev.emailrouter.imap.TestMailboxes.PASSWORD;
import static dev.emailrouter.imap.TestMailboxes.USER;
import static dev.emailrouter.imap.TestMailboxes.appendSimple;
import static dev.emailrouter.imap.TestMailboxes.folder;
import static dev.emailrouter.imap.TestMailboxes.reader;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.testfixtures.FakeTokenSource;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class ImapMailboxReaderFailureTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(TestMailboxes.imap());

  private int port;

  @BeforeEach
  void setUp() {
    appendSimple(folder(greenMail, TestMailboxes.user(greenMail), "INBOX"), 1, 1);
    port = greenMail.getImap().getPort();
  }

  private static String allMessages(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t.getMessage()).append('\n');
    }
    return all.toString();
  }

  @Test
  void open_withAWrongPassword_throwsPermanentNamingUserAndServerButNotThePassword() {
    String wrong = "wrong-Secret-4711";
    ImapMailboxReader reader = reader(port).credentials(Credentials.password(USER, wrong)).build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("user " + USER)
        .hasMessageContaining("imap://127.0.0.1:" + port)
        .hasMessageContaining("check the credentials")
        .satisfies(e -> assertThat(allMessages(e)).doesNotContain(wrong));
  }

  @Test
  void open_whenNothingListens_throwsTransientQuickly() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    ImapMailboxReader reader = reader(closedPort).connectTimeout(Duration.ofSeconds(2)).build();
    long start = System.nanoTime();

    assertThatThrownBy(reader::open)
        .isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("imap://127.0.0.1:" + closedPort + " can't be reached");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void open_whenTheServerNeverAnswers_timesOutAsTransient() throws IOException {
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        try (Socket ignored = silent.accept()) {
          ignored.getInputStream().read(); // holds the connection without a greeting
        } catch (IOException e) {
          // closed by the test
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      ImapMailboxReader reader = reader(silent.getLocalPort()).readTimeout(Duration.ofMillis(300)).build();
      long start = System.nanoTime();

      assertThatThrownBy(reader::open).isInstanceOf(TransientRouterException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void open_whenAPop3ServerAnswersOnThePort_throwsPermanentNamingHostPortAndTheGreeting() throws IOException {
    try (ServerSocket pop3 = greeting("+OK Dovecot ready.")) {
      int pop3Port = pop3.getLocalPort();
      ImapMailboxReader reader = reader(pop3Port).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("imap://127.0.0.1:" + pop3Port + " answered with a POP3 greeting (+OK Dovecot ready.)")
          .hasMessageContaining("is port " + pop3Port + " the IMAP port? Check the setting port");
    }
  }

  @Test
  void open_withStartTls_whenAnSmtpServerAnswersOnThePort_throwsPermanentNamingTheSmtpGreeting() throws IOException {
    try (ServerSocket smtp = greeting("220 mx.example.test ESMTP Postfix")) {
      int smtpPort = smtp.getLocalPort();
      ImapMailboxReader reader = reader(smtpPort).security(Security.STARTTLS).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("imap://127.0.0.1:" + smtpPort
              + " answered with an SMTP greeting (220 mx.example.test ESMTP Postfix)")
          .hasMessageContaining("Check the setting port");
    }
  }

  /** A server that sends one greeting line to each connection and then waits for the client to hang up. */
  private static ServerSocket greeting(String line) throws IOException {
    ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket client = server.accept()) {
          client.getOutputStream().write((line + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          client.getOutputStream().flush();
          while (client.getInputStream().read() >= 0) {
            // a POP3 or SMTP server would answer the IMAP command with an error; silence does as well
          }
        } catch (IOException e) {
          // the client hung up, or the test closed the server
        }
      }
    });
    acceptor.setDaemon(true);
    acceptor.start();
    return server;
  }

  @Test
  void open_whenTheFolderDoesNotExist_throwsPermanentNamingTheFolder() {
    ImapMailboxReader reader = reader(port).folder("Nope").build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("folder 'Nope' does not exist")
        .hasMessageContaining("user " + USER);
  }

  @Test
  void open_withDefaultSecurity_refusesAServerWithoutStartTls() {
    ImapMailboxReader reader = reader(port).security(Security.STARTTLS).build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("does not offer STARTTLS");
  }

  @Test
  void open_asksTheCredentialsSupplierAtEachLogin() {
    AtomicInteger calls = new AtomicInteger();
    ImapMailboxReader reader = reader(port).username(USER)
        .credentials(() -> {
          calls.incrementAndGet();
          return Credentials.password(USER, PASSWORD);
        })
        .build();

    reader.open().close();
    reader.open().close();

    assertThat(calls).hasValue(2);
  }

  @Test
  void open_whenTheSupplierReturnsAnotherUser_throwsPermanent() {
    ImapMailboxReader reader = reader(port).username(USER)
        .credentials(() -> Credentials.password("someone-else", PASSWORD))
        .build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("returned user someone-else but the reader was built for user " + USER)
        .satisfies(e -> assertThat(allMessages(e)).doesNotContain(PASSWORD));
  }

  @Test
  void open_whenTheSupplierFails_throwsTransient() {
    ImapMailboxReader reader = reader(port).username(USER)
        .credentials(() -> {
          throw new IllegalStateException("token endpoint down");
        })
        .build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(TransientRouterException.class)
        .hasMessageContaining("the credentials supplier failed with java.lang.IllegalStateException")
        .hasMessageNotContaining("token endpoint down") // the supplier's text could quote a secret
        .hasRootCauseMessage("token endpoint down"); // the host's own exception, passed on as the cause
  }

  @Test
  void open_withAnOauth2Token_authenticatesWithXoauth2() throws Exception {
    try (WireProxy proxy = new WireProxy(port)) {
      ImapMailboxReader reader = reader(proxy.port()).credentials(Credentials.oauth2(USER, PASSWORD)).build();

      try (MailboxReader.Session session = reader.open()) {
        assertThat(session.fetchNew("", Set.of(), 10).messages()).hasSize(1);
      }

      assertThat(proxy.commands()).anyMatch(c -> c.startsWith("AUTHENTICATE XOAUTH2"))
          .noneMatch(c -> c.startsWith("LOGIN"));
    }
  }

  @Test
  void open_whenTheServerRefusesTheToken_tellsTheTokenSource_andLogsInOnceMoreWithAFreshToken() {
    FakeTokenSource tokens = new FakeTokenSource(USER, "token-stale", PASSWORD);
    ImapMailboxReader reader = reader(port).username(USER).credentials(tokens).build();

    try (MailboxReader.Session session = reader.open()) {
      assertThat(session.fetchNew("", Set.of(), 10).messages()).hasSize(1);
    }
    assertThat(tokens.invalidated()).containsExactly("token-stale");
  }

  @Test
  void open_whenTheFreshTokenIsRefusedToo_throwsPermanentNamingTheMailbox_afterOneRefreshOnly() {
    FakeTokenSource tokens = new FakeTokenSource(USER, "token-stale1", "token-stale2", PASSWORD);
    ImapMailboxReader reader = reader(port).username(USER).credentials(tokens).build();

    assertThatThrownBy(reader::open)
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining(reader.describe())
        .hasMessageContaining("refused the OAuth2 login of user " + USER)
        .hasMessageContaining("also with a freshly fetched token")
        .hasMessageNotContaining("token-stale");
    assertThat(tokens.invalidated()).containsExactly("token-stale1");
  }

  @Test
  void open_withATokenWhenTheServerOffersNeitherOauthMechanism_throwsPermanentSayingSo() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread server = new Thread(() -> {
        try (Socket s = listener.accept()) {
          s.getOutputStream().write("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n".getBytes(
              java.nio.charset.StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          s.getInputStream().read(new byte[256]); // LOGOUT, or the closing connection
        } catch (IOException e) {
          // the client went away
        }
      });
      server.setDaemon(true);
      server.start();
      ImapMailboxReader reader = reader(listener.getLocalPort()).credentials(Credentials.oauth2(USER, "tok-1")).build();

      assertThatThrownBy(reader::open)
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("offers neither OAUTHBEARER nor XOAUTH2 (AUTH=PLAIN)")
          .hasMessageContaining(USER)
          .hasMessageNotContaining("tok-1");
    }
  }

  @Test
  void fetchNew_withMaxBelowOne_isRefused() {
    try (MailboxReader.Session session = reader(port).build().open()) {
      assertThatThrownBy(() -> session.fetchNew("", Set.of(), 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("max must be at least 1, was 0");
    }
  }

  @Test
  void session_afterClose_refusesWorkAndClosesAgainQuietly() {
    MailboxReader.Session session = reader(port).build().open();
    session.close();

    assertThatThrownBy(() -> session.fetchNew("", Set.of(), 1)).isInstanceOf(IllegalStateException.class);
    session.close();
  }

  @Test
  void fetchNew_whenTheServerIsGoneForGood_throwsTransient() throws Exception {
    try (WireProxy proxy = new WireProxy(port)) {
      MailboxReader.Session session = reader(proxy.port()).build().open();
      proxy.refuseNew();
      proxy.dropConnections();

      assertThatThrownBy(() -> session.fetchNew("", Set.of(), 10))
          .isInstanceOf(RouterException.class)
          .matches(e -> ((RouterException) e).isTransient());
      session.close();
    }
  }
}
