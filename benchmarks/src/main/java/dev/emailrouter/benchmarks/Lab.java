package dev.emailrouter.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.Stream;

/**
 * The private Postfix + Dovecot of the benchmarks, started with {@code scripts/mail-servers.sh} in
 * its own folder and on free ports (so it never meets the conformance suite's instance), plus the
 * fast loading of mailboxes: maildir files written straight into {@code Maildir/cur}, then {@code
 * doveadm index}. For one thread.
 */
final class Lab implements AutoCloseable {
  static final String DOMAIN = "example.test";
  static final String PASSWORD = "secret";

  private final Path dir;
  private final Path script;
  private final Map<String, String> env;
  private boolean stopped;

  private Lab(Path dir, Path script, Map<String, String> env) {
    this.dir = dir;
    this.script = script;
    this.env = env;
  }

  /** Starts fresh servers in {@code dir} (wiping an earlier benchmark state there) with these extra users. */
  static Lab start(Path dir, Path scripts, List<String> users) throws IOException {
    Path script = scripts.resolve("mail-servers.sh");
    if (!Files.isRegularFile(script)) {
      throw new IllegalStateException(script + " not found; pass -Dbench.scripts=<checkout>/scripts");
    }
    if (Files.exists(dir)) {
      if (Files.exists(dir.resolve("servers.env")) || Files.exists(dir.resolve("dovecot"))) {
        Processes.run(List.of("bash", script.toString(), "stop", dir.toString()));
        deleteTree(dir);
      } else {
        try (Stream<Path> s = Files.list(dir)) {
          if (s.findAny().isPresent()) {
            throw new IllegalStateException(dir + " exists and is not a benchmark state folder; choose another "
                + "-Dbench.dir");
          }
        }
      }
    }
    List<Integer> ports = Processes.freePorts(7);
    Map<String, String> startEnv = new HashMap<>();
    startEnv.put("MAIL_SMTP_PORT", ports.get(0).toString());
    startEnv.put("MAIL_IMAP_PORT", ports.get(1).toString());
    startEnv.put("MAIL_IMAPS_PORT", ports.get(2).toString());
    startEnv.put("MAIL_POP3_PORT", ports.get(3).toString());
    startEnv.put("MAIL_POP3S_PORT", ports.get(4).toString());
    startEnv.put("MAIL_LMTP_PORT", ports.get(5).toString());
    startEnv.put("MAIL_SUBMISSION_PORT", ports.get(6).toString());
    startEnv.put("MAIL_USERS", String.join(" ", users));
    startEnv.put("MAIL_START_TIMEOUT", "60");
    long t0 = System.nanoTime();
    Processes.run(List.of("bash", script.toString(), "start", dir.toString()), startEnv, 900);
    Map<String, String> env = new HashMap<>();
    for (String line : Files.readAllLines(dir.resolve("servers.env"), StandardCharsets.UTF_8)) {
      int eq = line.indexOf('=');
      if (eq > 0 && !line.startsWith("#")) {
        env.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
      }
    }
    System.out.printf("servers started in %s (%d users) in %.1f s%n", dir, users.size() + 5,
        (System.nanoTime() - t0) / 1e9);
    return new Lab(dir, script, env);
  }

  int smtpPort() {
    return Integer.parseInt(env.get("SMTP_PORT"));
  }

  int imapPort() {
    return Integer.parseInt(env.get("IMAP_PORT"));
  }

  int pop3Port() {
    return Integer.parseInt(env.get("POP3_PORT"));
  }

  /** Dovecot's LMTP listener (where Postfix delivers). */
  int lmtpPort() {
    return Integer.parseInt(env.get("LMTP_PORT"));
  }

  /**
   * The IMAP sessions Dovecot has open now for users whose local part starts with {@code prefix},
   * from {@code doveadm who -1} (one line per connection: user, protocol, pid, client address).
   */
  int imapSessions(String prefix) {
    String out = Processes.run(List.of("doveadm", "-c", env.get("DOVECOT_CONF"), "who", "-1"));
    int sessions = 0;
    for (String line : out.split("\n")) {
      String[] cols = line.strip().split("\\s+");
      if (cols.length >= 2 && cols[0].startsWith(prefix) && cols[1].equals("imap")) {
        sessions++;
      }
    }
    return sessions;
  }

  Path caPem() {
    return Path.of(env.get("CA_PEM"));
  }

  Path dir() {
    return dir;
  }

  static String address(String local) {
    return local + "@" + DOMAIN;
  }

  private Path maildir(String local) {
    return Path.of(env.get("MAIL_DIR"), address(local), "Maildir");
  }

  /**
   * Fills a user's INBOX with {@code count} messages (made by {@code message}, LF line ends), all
   * unseen, and has Dovecot index them.
   */
  void load(String local, int count, IntFunction<byte[]> message) throws IOException {
    long t0 = System.nanoTime();
    Path cur = maildir(local).resolve("cur");
    Files.createDirectories(cur);
    long now = System.currentTimeMillis() / 1000;
    for (int i = 0; i < count; i++) {
      byte[] bytes = message.apply(i);
      Files.write(cur.resolve(fileName(now, i, bytes.length, virtualSize(bytes))), bytes,
          StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }
    index(local);
    System.out.printf("loaded %,d messages into %s in %.1f s%n", count, address(local),
        (System.nanoTime() - t0) / 1e9);
  }

  /** Makes one message of a user. */
  @FunctionalInterface
  interface UserMessage {
    byte[] make(String user, int i);
  }

  /** Fills many users' INBOXes with {@code count} messages each, then indexes them all at once. */
  void loadMany(List<String> users, int count, UserMessage message) throws IOException {
    long t0 = System.nanoTime();
    long now = System.currentTimeMillis() / 1000;
    List<String> chown = new ArrayList<>(List.of("chown", "-R", "vmail:vmail"));
    for (String user : users) {
      Path cur = maildir(user).resolve("cur");
      Files.createDirectories(cur);
      for (int i = 0; i < count; i++) {
        byte[] bytes = message.make(user, i);
        Files.write(cur.resolve(fileName(now, i, bytes.length, virtualSize(bytes))), bytes,
            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      }
      chown.add(maildir(user).toString());
    }
    Processes.run(chown);
    Processes.run(List.of("doveadm", "-c", env.get("DOVECOT_CONF"), "index", "-A", "INBOX"));
    System.out.printf("loaded %,d users × %d messages in %.1f s%n", users.size(), count,
        (System.nanoTime() - t0) / 1e9);
  }

  /** Moves a prepared message file into a user's INBOX (unseen) and indexes it. */
  void loadFile(String local, Path file) throws IOException {
    Path cur = maildir(local).resolve("cur");
    Files.createDirectories(cur);
    long size = Files.size(file);
    long lines = 0;
    try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      byte[] buf = new byte[1 << 16];
      for (int n = in.read(buf); n > 0; n = in.read(buf)) {
        for (int i = 0; i < n; i++) {
          if (buf[i] == '\n') {
            lines++;
          }
        }
      }
    }
    Files.move(file, cur.resolve(fileName(System.currentTimeMillis() / 1000, 0, size, size + lines)));
    index(local);
  }

  private void index(String local) {
    Path maildir = maildir(local);
    Processes.run(List.of("chown", "-R", "vmail:vmail", maildir.toString()));
    Processes.run(List.of("doveadm", "-c", env.get("DOVECOT_CONF"), "index", "-u", address(local), "INBOX"));
  }

  private static String fileName(long time, int i, long size, long vsize) {
    return time + ".M" + i + "P1.bench,S=" + size + ",W=" + vsize + ":2,";
  }

  private static long virtualSize(byte[] bytes) {
    long lf = 0;
    for (byte b : bytes) {
      if (b == '\n') {
        lf++;
      }
    }
    return bytes.length + lf;
  }

  /**
   * Adds a second Postfix smtpd on {@code port} that offers STARTTLS and hands every transaction,
   * before any queueing, to {@code sinkPort} (smtp-sink) as its before-queue proxy filter: a TLS
   * front for smtp-sink, which has no TLS itself. No queue file, no delivery.
   */
  void addTlsFront(int port, int sinkPort) throws IOException {
    Path masterCf = Path.of(env.get("POSTFIX_CONF_DIR"), "master.cf");
    String line = "127.0.0.1:" + port + " inet n - n - - smtpd\n"
        + "  -o smtpd_proxy_filter=127.0.0.1:" + sinkPort + "\n"
        + "  -o smtpd_tls_security_level=may\n";
    Files.writeString(masterCf, line, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    Processes.run(List.of("postfix", "-c", env.get("POSTFIX_CONF_DIR"), "reload"));
    Processes.awaitPort(port, 30_000);
  }

  /** Dovecot's and Postfix's log files, for a failure message. */
  String logTail() {
    StringBuilder out = new StringBuilder();
    for (String name : List.of("dovecot.log", "postfix.log")) {
      Path f = Path.of(env.get("LOG_DIR"), name);
      try {
        List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        out.append("== ").append(f).append('\n');
        for (String l : lines.subList(Math.max(0, lines.size() - 20), lines.size())) {
          out.append(l).append('\n');
        }
      } catch (IOException e) {
        // no log yet
      }
    }
    return out.toString();
  }

  @Override
  public void close() {
    if (stopped) {
      return;
    }
    stopped = true;
    try {
      Processes.run(List.of("bash", script.toString(), "stop", dir.toString()));
    } catch (RuntimeException e) {
      System.err.println("stopping the servers failed: " + e.getMessage());
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    List<Path> all = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.forEach(all::add);
    }
    all.sort(Comparator.reverseOrder());
    for (Path p : all) {
      Files.deleteIfExists(p);
    }
  }
}
