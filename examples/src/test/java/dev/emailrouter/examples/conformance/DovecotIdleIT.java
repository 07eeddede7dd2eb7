package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.Security;
import dev.emailrouter.imap.ImapIdleWatcher;
import dev.emailrouter.imap.ImapMailboxReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * IMAP IDLE against Dovecot: a delivered message is pushed to the watcher, and after the server
 * drops the connection ({@code doveadm kick}: "* BYE Server shutting down.") the watch connects
 * again, signals once so a tick catches up, and is pushed the next message again.
 */
final class DovecotIdleIT {
  private static final String USER = "other@example.test";
  private final MailServers servers = MailServers.get();

  private static String message(String subject) {
    return "From: Someone <someone@example.org>\n"
        + "To: " + USER + "\n"
        + "Subject: " + subject + "\n"
        + "Message-ID: <" + UUID.randomUUID() + "@example.org>\n"
        + "Date: Sat, 28 Nov 2026 10:00:00 +0000\n"
        + "\n"
        + "Body of " + subject + "\n";
  }

  private static List<String> subjects(NewMessages news) {
    return news.messages().stream().map(m -> m.first("subject").orElse("")).toList();
  }

  private static String awaitSignal(BlockingQueue<String> signals) throws InterruptedException {
    String name = signals.poll(60, TimeUnit.SECONDS);
    assertThat(name).as("a signal within 60 s").isNotNull();
    return name;
  }

  @Test
  void deliveredMail_isPushed_andAfterAServerSideKickTheWatchReconnectsSignalsAndIsPushedAgain() throws Exception {
    String tag = UUID.randomUUID().toString().substring(0, 8);
    BlockingQueue<String> signals = new LinkedBlockingQueue<>();
    try (ImapMailboxReader reader = ImapMailboxReader.builder().host("127.0.0.1").port(servers.imapPort())
            .security(Security.PLAIN_TEXT_INSECURE).credentials(Credentials.password(USER, MailServers.PASSWORD))
            .build();
        ImapIdleWatcher watcher = ImapIdleWatcher.builder().listener(signals::add)
            .initialBackoff(Duration.ofMillis(200)).build()) {
      String cursor;
      try (MailboxReader.Session session = reader.open()) {
        cursor = session.fetchNew("", Set.of(), 1000).cursor(); // past whatever earlier tests left
      }
      ImapIdleWatcher.Watch watch = watcher.watch("other-inbox", reader);
      MailServers.await("the watch idles", () -> watch.state() == ImapIdleWatcher.State.IDLING);

      servers.deliver(USER, message("pushed " + tag));
      assertThat(awaitSignal(signals)).isEqualTo("other-inbox");
      try (MailboxReader.Session session = reader.open()) {
        NewMessages news = session.fetchNew(cursor, Set.of(), 1000);
        assertThat(subjects(news)).contains("pushed " + tag);
        cursor = news.cursor();
      }
      signals.clear();

      MailServers.run(List.of("doveadm", "-c",
          Path.of(servers.env("STATE_DIR"), "dovecot", "dovecot.conf").toString(), "kick", USER));
      assertThat(awaitSignal(signals)).as("the catch-up signal after reconnecting").isEqualTo("other-inbox");
      MailServers.await("the watch idles again", () -> watch.state() == ImapIdleWatcher.State.IDLING);
      signals.clear();

      servers.deliver(USER, message("pushed again " + tag));
      assertThat(awaitSignal(signals)).isEqualTo("other-inbox");
      try (MailboxReader.Session session = reader.open()) {
        assertThat(subjects(session.fetchNew(cursor, Set.of(), 1000))).contains("pushed again " + tag);
      }
    }
  }
}
