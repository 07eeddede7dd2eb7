package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.oauth2.OAuth2TokenProvider;
import dev.emailrouter.pop3.Pop3MailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OAuth2 logins against real servers: Dovecot checks every token by RFC 7662 introspection against
 * an identity provider this test runs on 127.0.0.1 ({@link TestIdentityProvider}), Postfix checks
 * SMTP AUTH through Dovecot. The test starts its own instance of scripts/mail-servers.sh (own
 * folder, own ports 22xxx, MAIL_OAUTH2_INTROSPECTION_URL set) so the other conformance tests keep
 * theirs as it is.
 */
final class OAuth2IT {
  private static final List<String> USERS = List.of("oa-ok", "oa-xo", "oa-revoked", "oa-rejected", "oa-down");
  private static TestIdentityProvider idp;
  private static Path dir;
  private static MailServers servers;

  @BeforeAll
  static void startServers() throws Exception {
    idp = TestIdentityProvider.start();
    dir = Path.of(System.getProperty("java.io.tmpdir"), "email-router-oauth2-conformance");
    // The tests read the servers' logs: start them empty (the instance is restarted below anyway).
    for (String log : List.of("dovecot.log", "postfix.log")) {
      Files.deleteIfExists(dir.resolve("log").resolve(log));
    }
    script("start", Map.of("MAIL_SMTP_PORT", "22025", "MAIL_IMAP_PORT", "22143", "MAIL_IMAPS_PORT", "22993",
        "MAIL_POP3_PORT", "22110", "MAIL_POP3S_PORT", "22995", "MAIL_LMTP_PORT", "22024",
        "MAIL_SUBMISSION_PORT", "22587", "MAIL_USERS", String.join(" ", USERS),
        "MAIL_OAUTH2_INTROSPECTION_URL", idp.introspectionUrl()));
    servers = MailServers.load(dir);
  }

  @AfterAll
  static void stopServers() throws Exception {
    try {
      if (dir != null) {
        script("stop", Map.of());
      }
    } finally {
      if (idp != null) {
        idp.close();
      }
    }
  }

  private static void script(String command, Map<String, String> env) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("bash", MailServers.script(), command, dir.toString())
        .redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      fail("mail-servers.sh %s failed: %s", command, out);
    }
  }

  private static String address(String user) {
    return user + "@example.test";
  }

  private static OAuth2TokenProvider tokens(String user) {
    return OAuth2TokenProvider.builder().tokenEndpoint(idp.tokenUrl())
        .clientCredentials(address(user), TestIdentityProvider.CLIENT_SECRET).username(address(user)).build();
  }

  private static ImapMailboxReader imap(OAuth2TokenProvider tokens, int port, Security security) {
    ImapMailboxReader.Builder b = ImapMailboxReader.builder().host("127.0.0.1").port(port).security(security)
        .username(tokens.username()).credentials(tokens);
    return (security == Security.PLAIN_TEXT_INSECURE ? b : b.trustedCertificates(servers.caPem())).build();
  }

  private static Pop3MailboxReader pop3(OAuth2TokenProvider tokens, int port, Security security) {
    Pop3MailboxReader.Builder b = Pop3MailboxReader.builder().host("127.0.0.1").port(port).security(security)
        .username(tokens.username()).credentials(tokens);
    return (security == Security.PLAIN_TEXT_INSECURE ? b : b.trustedCertificates(servers.caPem())).build();
  }

  private static SmtpTransport smtp(OAuth2TokenProvider tokens, int port, Security security) {
    SmtpTransport.Builder b = SmtpTransport.builder().host("127.0.0.1").port(port).security(security)
        .ehloName("router.example.test").credentials(tokens);
    return (security == Security.PLAIN_TEXT_INSECURE ? b : b.trustedCertificates(servers.caPem())).build();
  }

  private static void read(MailboxReader reader) {
    try (MailboxReader.Session session = reader.open()) {
      session.fetchNew("", Set.of(), 10);
    }
  }

  private static SendResult send(MailTransport transport, String from) {
    OutgoingEmail email = OutgoingEmail.builder("email-" + UUID.randomUUID(), EmailAddress.of(address(from)))
        .to(EmailAddress.of("contact@example.test")).subject("OAuth2 " + from).textBody("Hello")
        .messageId("<" + UUID.randomUUID() + "@router.example.test>").build();
    try (MailTransport.Session session = transport.openSession()) {
      return session.send(email);
    }
  }

  /** The log lines of the running servers that name this user, e.g. Dovecot's "method=OAUTHBEARER". */
  private static List<String> logLines(String user) throws IOException {
    List<String> lines = new ArrayList<>();
    for (String file : List.of("dovecot.log", "postfix.log")) {
      Path log = Path.of(servers.env("LOG_DIR"), file);
      if (Files.exists(log)) {
        for (String line : Files.readAllLines(log, StandardCharsets.ISO_8859_1)) {
          if (line.contains(address(user))) {
            lines.add(line);
          }
        }
      }
    }
    return lines;
  }

  @Test
  void aValidToken_logsInOnImapPop3AndSmtp_withOauthbearer_overStarttls() throws Exception {
    OAuth2TokenProvider tokens = tokens("oa-ok");

    read(imap(tokens, servers.imapPort(), Security.STARTTLS));
    read(pop3(tokens, servers.pop3Port(), Security.STARTTLS));
    SendResult sent = send(smtp(tokens, servers.smtpPort(), Security.STARTTLS), "oa-ok");

    assertThat(sent.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
    assertThat(idp.tokenRequests(address("oa-ok"))).isEqualTo(1);
    MailServers.await("the servers' log lines of the three logins", () -> {
      try {
        List<String> log = logLines("oa-ok");
        return log.stream().anyMatch(l -> l.contains("imap-login:") && l.contains("Login: user=<")
                && l.contains("method=OAUTHBEARER"))
            && log.stream().anyMatch(l -> l.contains("pop3-login:") && l.contains("Login: user=<")
                && l.contains("method=OAUTHBEARER"))
            && log.stream().anyMatch(l -> l.contains("sasl_method=OAUTHBEARER"));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  @Test
  void aValidToken_logsInWithXoauth2_whereTheServerDoesNotOfferOauthbearer() throws Exception {
    OAuth2TokenProvider tokens = tokens("oa-xo");
    try (CapabilityFilter imapFilter = new CapabilityFilter(servers.imapPort());
        CapabilityFilter pop3Filter = new CapabilityFilter(servers.pop3Port());
        CapabilityFilter smtpFilter = new CapabilityFilter(servers.smtpPort())) {

      read(imap(tokens, imapFilter.port(), Security.PLAIN_TEXT_INSECURE));
      read(pop3(tokens, pop3Filter.port(), Security.PLAIN_TEXT_INSECURE));
      SendResult sent = send(smtp(tokens, smtpFilter.port(), Security.PLAIN_TEXT_INSECURE), "oa-xo");

      assertThat(sent.outcome()).isEqualTo(SendResult.Outcome.ACCEPTED);
      assertThat(imapFilter.commands()).anyMatch(c -> c.matches("\\S+ AUTHENTICATE XOAUTH2 .*"));
      assertThat(pop3Filter.commands()).anyMatch(c -> c.startsWith("AUTH XOAUTH2 "))
          .noneMatch(c -> c.startsWith("PASS") || c.startsWith("USER"));
      assertThat(smtpFilter.commands()).anyMatch(c -> c.startsWith("AUTH XOAUTH2 "));
    }
    MailServers.await("the servers' log lines of the three logins", () -> {
      try {
        List<String> log = logLines("oa-xo");
        return log.stream().filter(l -> l.contains("-login:") && l.contains("Login: user=<")
                && l.contains("method=XOAUTH2")).count() == 2
            && log.stream().anyMatch(l -> l.contains("sasl_method=XOAUTH2"));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  @Test
  void aRevokedToken_isReplacedByAFreshOne_andTheLoginWorks_onEachProtocol() {
    String user = address("oa-revoked");
    OAuth2TokenProvider tokens = tokens("oa-revoked");

    idp.revoke(tokens.get().secret());
    read(imap(tokens, servers.imapPort(), Security.STARTTLS));
    assertThat(idp.tokenRequests(user)).isEqualTo(2);

    idp.revoke(tokens.get().secret());
    read(pop3(tokens, servers.pop3Port(), Security.STARTTLS));
    assertThat(idp.tokenRequests(user)).isEqualTo(3);

    idp.revoke(tokens.get().secret());
    assertThat(send(smtp(tokens, servers.smtpPort(), Security.STARTTLS), "oa-revoked").outcome())
        .isEqualTo(SendResult.Outcome.ACCEPTED);
    assertThat(idp.tokenRequests(user)).isEqualTo(4);
  }

  @Test
  void aTokenThatStaysRejected_isAPermanentFailureNamingTheMailbox_withOneRefreshAndNoRetryStorm() {
    String user = address("oa-rejected");
    idp.rejectAll(true);
    try {
      OAuth2TokenProvider tokens = tokens("oa-rejected");
      ImapMailboxReader imap = imap(tokens, servers.imapPort(), Security.STARTTLS);
      Pop3MailboxReader pop3 = pop3(tokens, servers.pop3Port(), Security.STARTTLS);
      MutableClock clock = new MutableClock(Instant.now());
      try (RouterEngine engine = RouterEngine.builder().activityStore(new InMemoryActivityStore()).clock(clock)
          .mailbox(Mailbox.ofUser("imap-user", imap)).mailbox(Mailbox.ofUser("pop3-user", pop3)).build()) {

        TickReport first = engine.tick();

        assertThat(first.problems()).hasSize(2).allSatisfy(p -> assertThat(p)
            .isInstanceOfSatisfying(RouterEvent.MailboxFailed.class, f -> assertThat(f.reason())
                .contains(f.mailbox()).contains("refused the OAuth2 login of user " + user)
                .contains("also with a freshly fetched token").doesNotContain("tok-")));
        // Two logins per mailbox (the token, then one fresh token), so four introspections and three
        // token requests (the first, then one refresh for each mailbox).
        assertThat(idp.introspections(user)).isEqualTo(4);
        assertThat(idp.tokenRequests(user)).isEqualTo(3);

        TickReport second = engine.tick(); // the mailboxes are backed off: nothing is tried

        assertThat(second.problems()).isEmpty();
        assertThat(idp.introspections(user)).isEqualTo(4);
        assertThat(idp.tokenRequests(user)).isEqualTo(3);
      }

      assertThatThrownBy(() -> send(smtp(tokens, servers.smtpPort(), Security.STARTTLS), "oa-rejected"))
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageContaining("refused the OAuth2 login of user " + user)
          .hasMessageContaining("535");
      assertThat(idp.introspections(user)).isEqualTo(6);
    } finally {
      idp.rejectAll(false);
    }
  }

  @Test
  void theIdentityProviderDown_isATransientFailure_andTheMailboxWorksOnALaterTick() throws Exception {
    String user = address("oa-down");
    OAuth2TokenProvider tokens = tokens("oa-down");
    tokens.get(); // a valid token is cached; Dovecot can't check it while the provider is down
    ImapMailboxReader imap = imap(tokens, servers.imapPort(), Security.STARTTLS);
    Pop3MailboxReader pop3 = pop3(tokens, servers.pop3Port(), Security.STARTTLS);
    MutableClock clock = new MutableClock(Instant.now());
    try (RouterEngine engine = RouterEngine.builder().activityStore(new InMemoryActivityStore()).clock(clock)
        .mailbox(Mailbox.ofUser("imap-user", imap)).mailbox(Mailbox.ofUser("pop3-user", pop3)).build()) {
      idp.stop();
      try {
        assertThatThrownBy(imap::open).isInstanceOf(TransientRouterException.class)
            .hasMessageContaining("could not check the OAuth2 token of user " + user).hasMessageContaining("UNAVAILABLE");
        assertThatThrownBy(pop3::open).isInstanceOf(TransientRouterException.class)
            .hasMessageContaining("could not check the OAuth2 token of user " + user).hasMessageContaining("SYS/TEMP");
        // SMTP can't tell "can't check" from "refused" (535 either way): the refresh it then tries
        // finds the token endpoint down, which is transient too.
        assertThatThrownBy(() -> send(smtp(tokens, servers.smtpPort(), Security.STARTTLS), "oa-down"))
            .isInstanceOf(TransientRouterException.class).hasMessageContaining("can't be reached");

        TickReport down = engine.tick();

        assertThat(down.problems()).hasSize(2).allSatisfy(p -> assertThat(p)
            .isInstanceOf(RouterEvent.MailboxFailed.class));
      } finally {
        idp.restart();
      }
      clock.advance(Duration.ofHours(1)); // past the mailboxes' backoff

      TickReport later = engine.tick();

      assertThat(later.problems()).isEmpty();
      assertThat(idp.tokenRequests(user)).isEqualTo(2); // the first, and one after SMTP dropped the token
    }
  }
}
