package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.pop3.Pop3MailboxReader;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS is the default and is checked: the readers' default security (STARTTLS) refuses a server that
 * does not offer it before the login crosses the wire (seen in a proxy's capture); implicit TLS
 * refuses a certificate that is not trusted and works once it is configured as trusted. (SMTP's
 * equivalents are in {@link SmtpServerBehaviourTest}.)
 */
@ExtendWith(Figures.Watcher.class)
final class TlsDefaultsTest {

  @TempDir
  Path dir;

  @Test
  void tick_withTheDefaultSecurityAgainstServersWithoutStartTls_sendsNoLoginAndReportsWhy() {
    try (World world = new World(dir).withGreenMail();
         FaultProxy imapProxy = FaultProxy.to(world.greenMail.getImap().getPort());
         FaultProxy pop3Proxy = FaultProxy.to(world.greenMail.getPop3().getPort())) {
      world.deliverImap(Mail.incoming("imap-1"));
      world.deliverPop3(Mail.incoming("pop-1"));
      imapProxy.captureUpstream();
      pop3Proxy.captureUpstream();
      // No security(...) call: the builders' default is what is under test.
      ImapMailboxReader.Builder imap = ImapMailboxReader.builder().host("127.0.0.1").port(imapProxy.port())
          .credentials(Credentials.password(World.IMAP_LOGIN, World.PASSWORD));
      Pop3MailboxReader.Builder pop3 = Pop3MailboxReader.builder().host("127.0.0.1").port(pop3Proxy.port())
          .credentials(Credentials.password(World.POP3_LOGIN, World.PASSWORD));
      InMemoryActivityStore store = new InMemoryActivityStore();

      TickReport report = tick(store, imap, pop3);

      assertThat(report.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance)
          .extracting(e -> ((RouterEvent.MailboxFailed) e).reason())
          .hasSize(2).anySatisfy(r -> assertThat(r).contains("STARTTLS")).anySatisfy(r -> assertThat(r).contains("STLS"));
      for (FaultProxy proxy : List.of(imapProxy, pop3Proxy)) {
        assertThat(proxy.upstreamText()).as("what the reader sent in plain text").isNotEmpty()
            .doesNotContain(World.PASSWORD).doesNotContain("LOGIN").doesNotContain("PASS ").doesNotContain("AUTH");
      }
      assertThat(store.received()).isEmpty();
    }
  }

  @Test
  void tick_withImplicitTls_refusesAnUntrustedCertificateAndWorksOnceItIsTrusted() {
    Tls tls = Tls.get();
    System.setProperty("greenmail.tls.keystore.file", tls.keystore.toString());
    System.setProperty("greenmail.tls.keystore.password", Tls.PASSWORD);
    GreenMail greenMail = new GreenMail(new ServerSetup[] {new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_IMAPS),
        new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_POP3S)});
    greenMail.start();
    try {
      greenMail.setUser("sales@example.test", "sales", World.PASSWORD);
      greenMail.setUser("queue@example.test", "queue", World.PASSWORD);
      Mail.append(folder(greenMail, "sales"), Mail.incoming("tls-imap"));
      Mail.append(folder(greenMail, "queue"), Mail.incoming("tls-pop"));
      InMemoryActivityStore store = new InMemoryActivityStore();

      TickReport untrusted = tick(store, imaps(greenMail), pop3s(greenMail));
      assertThat(untrusted.events()).filteredOn(RouterEvent.MailboxFailed.class::isInstance)
          .extracting(e -> ((RouterEvent.MailboxFailed) e).reason()).hasSize(2)
          .allSatisfy(r -> assertThat(r).containsAnyOf("not trusted", "TLS handshake failed"));
      assertThat(store.received()).isEmpty();

      TickReport trusted = tick(store, imaps(greenMail).trustedCertificates(tls.pem),
          pop3s(greenMail).trustedCertificates(tls.pem));
      assertThat(trusted.tracked()).hasSize(2);
      assertThat(trusted.problems()).isEmpty();
    } finally {
      greenMail.stop();
    }
  }

  private static com.icegreen.greenmail.store.MailFolder folder(GreenMail greenMail, String login) {
    try {
      return greenMail.getManagers().getImapHostManager().getInbox(greenMail.getUserManager().getUser(login));
    } catch (com.icegreen.greenmail.store.FolderException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ImapMailboxReader.Builder imaps(GreenMail greenMail) {
    return ImapMailboxReader.builder().host("127.0.0.1").port(greenMail.getImaps().getPort())
        .security(Security.IMPLICIT_TLS).credentials(Credentials.password("sales", World.PASSWORD));
  }

  private static Pop3MailboxReader.Builder pop3s(GreenMail greenMail) {
    return Pop3MailboxReader.builder().host("127.0.0.1").port(greenMail.getPop3s().getPort())
        .security(Security.IMPLICIT_TLS).credentials(Credentials.password("queue", World.PASSWORD));
  }

  private static TickReport tick(InMemoryActivityStore store, ImapMailboxReader.Builder imap,
      Pop3MailboxReader.Builder pop3) {
    MailboxReader imapReader = imap.build();
    MailboxReader pop3Reader = pop3.build();
    try (RouterEngine engine = RouterEngine.builder().activityStore(store).trackingPolicy(TrackingPolicy.allEmail())
        .mailbox(Mailbox.ofUser("u1", imapReader).withName("imaps"))
        .mailbox(Mailbox.ofUser("u2", pop3Reader).withName("pop3s")).build()) {
      return engine.tick();
    }
  }
}
