package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import jakarta.mail.FetchProfile;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import jakarta.mail.internet.MimeMessage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Another client expunges, moves and flags messages on Dovecot while the reader's tick fetches
 * 5,000 of them: every message still in the folder at the end is tracked exactly once, under its
 * own UID, and no message left in the folder is skipped.
 */
final class ImapConcurrentChangesIT {
  private static final int MESSAGES = 5_000;
  private static final String USER = "other@example.test";

  private final MailServers servers = MailServers.get();
  private final InMemoryActivityStore crm = new InMemoryActivityStore();

  @Test
  void tick_whileAnotherClientExpungesMovesAndFlags_tracksEveryMessageLeftExactlyOnce() throws Exception {
    String tag = UUID.randomUUID().toString().substring(0, 8);
    String folder = "Churn-" + tag;
    List<String> messages = new ArrayList<>(MESSAGES);
    for (int i = 1; i <= MESSAGES; i++) {
      messages.add("From: Someone <someone@example.org>\n"
          + "To: other@example.test\n"
          + "Subject: churn " + i + "\n"
          + "Message-ID: <" + i + "." + tag + "@example.org>\n"
          + "Date: Sat, 28 Nov 2026 10:00:00 +0000\n"
          + "\n"
          + "Body of message " + i + " of " + tag + ".\n");
    }
    servers.fillFolder(USER, folder, messages);

    List<TickReport> reports = new ArrayList<>();
    Disturber disturber = new Disturber(folder, "Moved-" + tag);
    try (RouterEngine engine = RouterEngine.builder().activityStore(crm)
        .mailbox(Mailbox.ofQueue("churn", ImapMailboxReader.builder().host("127.0.0.1").port(servers.imapPort())
            .security(Security.STARTTLS).trustedCertificates(servers.caPem())
            .credentials(Credentials.password(USER, MailServers.PASSWORD)).folder(folder).build()))
        .trackingPolicy(TrackingPolicy.allEmail()).maxMessagesPerMailbox(MESSAGES).build()) {
      disturber.connect();
      CompletableFuture<Void> churn = CompletableFuture.runAsync(disturber);
      try {
        reports.add(engine.tick());
      } finally {
        disturber.stop.set(true);
        churn.join();
      }
      // The tick after catches up with whatever the first left for later; an idle one ends it.
      for (int i = 0; i < 3; i++) {
        TickReport report = engine.tick();
        reports.add(report);
        if (report.events().isEmpty()) {
          break;
        }
      }
    }

    Map<Long, String> left = messageIdsByUid(folder);
    List<RouterEvent.MessageTracked> tracked = reports.stream().flatMap(r -> r.tracked().stream()).toList();
    Map<String, Long> activities = crm.received().stream()
        .collect(Collectors.groupingBy(ReceivedEmail::messageId, Collectors.counting()));

    assertThat(disturber.removed).as("the other client removed messages while the tick ran").isPositive();
    assertThat(disturber.flagged).as("the other client flagged messages while the tick ran").isPositive();
    assertThat(left).hasSizeLessThan(MESSAGES);
    assertThat(reports.stream().flatMap(r -> r.problems().stream())
        .filter(e -> !(e instanceof RouterEvent.MessageGone)))
        .as("problems other than messages gone meanwhile").isEmpty();
    assertThat(activities.values()).as("activities per Message-ID").allMatch(n -> n == 1);
    assertThat(activities.keySet()).as("every message left in the folder is tracked").containsAll(left.values());
    for (RouterEvent.MessageTracked t : tracked) {
      String there = left.get(Long.parseLong(t.ref()));
      if (there != null) {
        assertThat(t.messageId()).as("Message-ID tracked under UID %s", t.ref()).isEqualTo(there);
      }
    }
  }

  /** The Message-IDs of the messages in the folder, by UID. */
  private Map<Long, String> messageIdsByUid(String folderName) throws MessagingException {
    Properties p = new Properties();
    p.put("mail.imap.host", "127.0.0.1");
    p.put("mail.imap.port", Integer.toString(servers.imapPort()));
    Store store = Session.getInstance(p).getStore("imap");
    store.connect(USER, MailServers.PASSWORD);
    try {
      Folder f = store.getFolder(folderName);
      f.open(Folder.READ_ONLY);
      Message[] all = f.getMessages();
      FetchProfile profile = new FetchProfile();
      profile.add(UIDFolder.FetchProfileItem.UID);
      profile.add("Message-ID");
      f.fetch(all, profile);
      Map<Long, String> ids = new HashMap<>();
      for (Message m : all) {
        ids.put(((UIDFolder) f).getUID(m), ((MimeMessage) m).getMessageID());
      }
      f.close(false);
      return ids;
    } finally {
      store.close();
    }
  }

  /**
   * The other client, on a plain IMAP connection of its own: as fast as Dovecot answers, it flags a
   * message, moves one to another folder, flags one, expunges one, all picked at random, until the
   * tick is over (at most a fifth of the messages go).
   */
  private final class Disturber implements Runnable {
    final AtomicBoolean stop = new AtomicBoolean();
    final String folder;
    final String elsewhere;
    final Random random = new Random(12);
    int removed;
    int flagged;
    private Socket socket;
    private BufferedReader in;
    private OutputStream out;
    private int tag;

    Disturber(String folder, String elsewhere) {
      this.folder = folder;
      this.elsewhere = elsewhere;
    }

    void connect() throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), servers.imapPort());
      in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
      out = socket.getOutputStream();
      in.readLine(); // greeting
      command("LOGIN " + USER + " " + MailServers.PASSWORD);
      command("CREATE " + elsewhere);
      command("SELECT " + folder);
    }

    @Override
    public void run() {
      try (Socket ignored = socket) {
        for (int step = 0; !stop.get() && removed < MESSAGES / 5; step++) {
          long uid = 1 + random.nextInt(MESSAGES);
          switch (step % 4) {
            case 0, 2 -> {
              command("UID STORE " + uid + " +FLAGS (\\Flagged)");
              flagged++;
            }
            case 1 -> {
              command("UID MOVE " + uid + " " + elsewhere);
              removed++;
            }
            default -> {
              command("UID STORE " + uid + " +FLAGS.SILENT (\\Deleted)");
              command("UID EXPUNGE " + uid);
              removed++;
            }
          }
        }
        command("LOGOUT");
      } catch (IOException e) {
        throw new IllegalStateException("the disturbing client failed: " + e, e);
      }
    }

    /** Sends a command and reads up to its tagged answer, which must be OK. */
    private void command(String text) throws IOException {
      String t = "d" + (++tag);
      out.write((t + " " + text + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      for (String line = in.readLine(); ; line = in.readLine()) {
        if (line == null) {
          throw new IOException("connection closed after " + text);
        }
        if (line.startsWith(t + " ")) {
          if (!line.startsWith(t + " OK")) {
            throw new IOException(text + " answered " + line);
          }
          return;
        }
      }
    }
  }
}
