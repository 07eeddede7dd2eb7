package dev.emailrouter.examples.conformance;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The private Postfix + Dovecot the conformance profile starts with {@code scripts/mail-servers.sh}
 * (see examples/pom.xml); its ports and paths come from the {@code servers.env} file it writes.
 */
final class MailServers {
  static final String PASSWORD = "secret";
  private final Map<String, String> env;
  final Path dir;

  private MailServers(Path dir, Map<String, String> env) {
    this.dir = dir;
    this.env = env;
  }

  static MailServers get() {
    String dir = System.getProperty("mailServers.dir");
    if (dir == null) {
      throw new IllegalStateException("system property mailServers.dir is not set: run the conformance suite with "
          + "mvn -B verify -Pconformance, which starts the servers");
    }
    return load(Path.of(dir));
  }

  /** The servers an instance in {@code dir} runs, from its servers.env. */
  static MailServers load(Path dir) {
    Path file = dir.resolve("servers.env");
    Map<String, String> env = new HashMap<>();
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        int eq = line.indexOf('=');
        if (eq > 0 && !line.startsWith("#")) {
          env.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip().replaceAll("^['\"]|['\"]$", ""));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(file + " can't be read; did scripts/mail-servers.sh start run? " + e, e);
    }
    return new MailServers(dir, env);
  }

  int port(String name) {
    return Integer.parseInt(env.get(name));
  }

  int smtpPort() {
    return port("SMTP_PORT");
  }

  /** Postfix's submission port: STARTTLS and AUTH required, reject_sender_login_mismatch. */
  int submissionPort() {
    return port("SUBMISSION_PORT");
  }

  int imapPort() {
    return port("IMAP_PORT");
  }

  int pop3Port() {
    return port("POP3_PORT");
  }

  Path caPem() {
    return Path.of(env.get("CA_PEM"));
  }

  /**
   * Sends a message with swaks, an ordinary command-line SMTP client: the "contact who replies",
   * with nothing of ours on the way.
   */
  void swaks(String from, String to, String subject, String body, String... headers) {
    List<String> command = new ArrayList<>(List.of("swaks", "--silent", "2", "--server",
        "127.0.0.1:" + smtpPort(), "--tls", "--tls-verify", "--tls-ca-path", caPem().toString(),
        "--from", from, "--to", to, "--header", "Subject: " + subject, "--body", body));
    for (String h : headers) {
      command.add("--header");
      command.add(h);
    }
    run(command);
  }

  /** Drops a raw message straight into a user's Dovecot INBOX (Maildir), bypassing SMTP. */
  void deliver(String user, String rawMessage) {
    try {
      Path file = Files.createTempFile("conformance-", ".eml");
      try {
        Files.writeString(file, rawMessage.replace("\r\n", "\n").replace("\n", "\r\n"), StandardCharsets.UTF_8);
        run(List.of("bash", script(), "deliver", dir.toString(), user, file.toString()));
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Fills a new folder of a user with many messages at once: Maildir files written straight into
   * the folder's {@code cur}, owned like the user's Maildir, then indexed by {@code doveadm index}
   * (seconds for thousands, where {@link #deliver} costs a process per message). UIDs follow the
   * list's order.
   */
  void fillFolder(String user, String folder, List<String> rawMessages) {
    Path maildir = Path.of(env("MAIL_DIR"), user, "Maildir");
    Path box = maildir.resolve("." + folder);
    try {
      for (String sub : List.of("cur", "new", "tmp")) {
        Files.createDirectories(box.resolve(sub));
      }
      Files.createFile(box.resolve("maildirfolder"));
      long now = System.currentTimeMillis() / 1000;
      for (int i = 0; i < rawMessages.size(); i++) {
        byte[] bytes = rawMessages.get(i).replace("\r\n", "\n").replace("\n", "\r\n")
            .getBytes(StandardCharsets.UTF_8);
        // TIME.M<usec>P<pid>.host,S=size:2,  - zero-padded so the name order is the list's order
        String name = String.format("%d.M%06dP1.conformance,S=%d:2,", now, i, bytes.length);
        Files.write(box.resolve("cur").resolve(name), bytes);
      }
      var owner = Files.readAttributes(maildir, java.nio.file.attribute.PosixFileAttributes.class);
      run(List.of("chown", "-R", owner.owner().getName() + ":" + owner.group().getName(), box.toString()));
      run(List.of("doveadm", "-c", env("DOVECOT_CONF"), "index", "-u", user, folder));
    } catch (IOException e) {
      throw new IllegalStateException("folder " + folder + " of " + user + " can't be filled: " + e, e);
    }
  }

  /** Gives a user's INBOX a new UIDVALIDITY, as a server restored from backup would. */
  void resetUidValidity(String user, long value) {
    run(List.of("bash", script(), "reset-uidvalidity", dir.toString(), user, Long.toString(value)));
  }

  String env(String name) {
    return env.get(name);
  }

  static String script() {
    return System.getProperty("mailServers.script", "../scripts/mail-servers.sh");
  }

  static void run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        fail("%s failed: %s", command, out);
      }
    } catch (IOException e) {
      throw new IllegalStateException(command.get(0) + " can't run: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Waits for something the servers do asynchronously (Postfix queues, then delivers over LMTP):
   * polls the condition, never asserts on time. Fails with {@code what} after the deadline.
   */
  static void await(String what, BooleanSupplier condition) {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        fail("gave up waiting (60 s) for: " + what);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
