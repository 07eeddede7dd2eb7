package dev.emailrouter.reliability;

import dev.emailrouter.testfixtures.LoopbackListener;
import dev.emailrouter.testfixtures.SmtpWire;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A small, fast SMTP server on 127.0.0.1 that accepts everything (or answers what its script says),
 * keeps only the headers of what it receives, and counts messages by Message-ID: exactly-once
 * delivery is asserted on what this server saw. It can require AUTH PLAIN/LOGIN, offer STARTTLS,
 * and refuse at any stage. One thread per connection; thread-safe.
 */
final class SmtpSink implements AutoCloseable {

  /** A message the sink accepted (250 to the end of data). */
  record Received(int number, String messageId, String from, List<String> recipients, long size, String headers,
      byte[] content, int connection) {}

  private static final Pattern MESSAGE_ID = Pattern.compile("(?im)^message-id:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)");

  private final Builder script;
  private final LoopbackListener listener;
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicLong bytes = new AtomicLong();
  private final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
  private final Map<String, AtomicInteger> byMessageId = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> commands = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<String> authAttempts = new ConcurrentLinkedQueue<>();
  private final Map<String, Integer> tempRefusals = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> permanentRefusals = new ConcurrentHashMap<>();

  private SmtpSink(Builder script) throws IOException {
    this.script = script;
    this.listener = LoopbackListener.start("smtp-sink", 200, null, this::serve);
  }

  static Builder builder() {
    return new Builder();
  }

  /** A sink that accepts everything. */
  static SmtpSink start() {
    return builder().start();
  }

  int port() {
    return listener.port();
  }

  int connections() {
    return listener.connections();
  }

  /** Messages accepted, in order of acceptance. */
  List<Received> received() {
    return List.copyOf(received);
  }

  /** How many times a message with this Message-ID was accepted. */
  int count(String messageId) {
    AtomicInteger n = byMessageId.get(messageId);
    return n == null ? 0 : n.get();
  }

  /** Accepted copies by Message-ID. */
  Map<String, Integer> counts() {
    Map<String, Integer> out = new TreeMap<>();
    byMessageId.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  int acceptedCount() {
    return accepted.get();
  }

  /** Bytes of message data received (accepted or not). */
  long dataBytes() {
    return bytes.get();
  }

  /** Every command line received, if recording was asked for. */
  List<String> commands() {
    return List.copyOf(commands);
  }

  /** The user names and passwords AUTH attempts carried, as "user:password". */
  List<String> authAttempts() {
    return List.copyOf(authAttempts);
  }

  @Override
  public void close() {
    listener.close();
  }

  private void serve(Socket socket, int connection) throws IOException {
    Socket current = socket;
    try {
      SmtpWire w = new SmtpWire(current);
      String greeting = script.greeting.apply(connection);
      w.reply(greeting);
      if (!greeting.startsWith("220")) {
        return;
      }
      boolean tls = false;
      boolean authed = script.user == null;
      String from = null;
      List<String> recipients = new ArrayList<>();
      List<String> refusedForGood = new ArrayList<>();
      String line;
      while ((line = w.readLine()) != null) {
        if (script.recordCommands) {
          commands.add(line);
        }
        String upper = line.toUpperCase(Locale.ROOT);
        String reply;
        if (upper.startsWith("EHLO")) {
          List<String> lines = new ArrayList<>();
          lines.add("sink.test");
          lines.addAll(script.extensions);
          if (script.user != null) {
            lines.add("AUTH PLAIN LOGIN");
          }
          if (script.startTls != null && !tls) {
            lines.add("STARTTLS");
          }
          w.multiline("250", lines);
          continue;
        } else if (upper.startsWith("HELO")) {
          reply = "250 sink.test";
        } else if (upper.equals("STARTTLS") && script.startTls != null && !tls) {
          w.reply("220 2.0.0 Ready to start TLS");
          SSLSocket secured = SmtpWire.startTls(current, script.startTls);
          listener.track(secured);
          current = secured;
          w = new SmtpWire(secured);
          tls = true;
          from = null;
          recipients.clear();
          continue;
        } else if (upper.startsWith("AUTH ")) {
          String given = auth(w, line);
          if (given == null) {
            return;
          }
          authAttempts.add(given);
          if (given.equals(script.user + ":" + script.password)) {
            authed = true;
            reply = "235 2.7.0 Authentication successful";
          } else {
            String password = given.substring(given.indexOf(':') + 1);
            reply = script.echoSecret ? "535 5.7.8 Authentication failed: password '" + password + "' is wrong"
                : "535 5.7.8 Authentication credentials invalid";
          }
        } else if (upper.startsWith("MAIL")) {
          if (!authed) {
            reply = "530 5.7.0 Authentication required";
          } else {
            reply = script.mail.apply(SmtpWire.address(line));
            recipients.clear();
            refusedForGood.clear();
            from = reply.startsWith("2") ? SmtpWire.address(line) : null;
          }
        } else if (upper.startsWith("RCPT")) {
          String address = SmtpWire.address(line);
          if (from == null) {
            reply = "503 5.5.1 need MAIL first";
          } else if (recipients.size() >= script.maxRecipients.getAsInt()) {
            // RFC 5321 section 4.5.3.1.10: the client must send the rest in another transaction.
            reply = "452 4.5.3 Too many recipients";
          } else {
            reply = script.rcpt.apply(address);
          }
          if (reply.startsWith("2")) {
            recipients.add(address);
          } else if (reply.startsWith("4")) {
            tempRefusals.merge(address.toLowerCase(Locale.ROOT), 1, Integer::sum);
          } else if (reply.startsWith("5")) {
            refusedForGood.add(address.toLowerCase(Locale.ROOT));
          }
        } else if (upper.equals("DATA")) {
          if (from == null || recipients.isEmpty()) {
            reply = "503 5.5.1 need MAIL and RCPT first";
          } else if (!script.data.startsWith("354")) {
            reply = script.data;
          } else {
            w.reply(script.data);
            SmtpWire.Data data = w.readData(script.keepContent);
            bytes.addAndGet(data.size());
            String messageId = messageId(data.headers());
            int number = accepted.get() + 1;
            Received r = new Received(number, messageId, from, List.copyOf(recipients), data.size(), data.headers(),
                data.content(), connection);
            if (messageId != null && !refusedForGood.isEmpty()) {
              permanentRefusals.computeIfAbsent(messageId, k -> ConcurrentHashMap.newKeySet()).addAll(refusedForGood);
            }
            refusedForGood.clear();
            reply = script.endOfData.apply(r);
            long delay = script.endOfDataDelay.getAsLong();
            if (delay > 0 && reply != null) {
              // A server scanning the content: it commits the message after the delay, whether or not the
              // client is still there to read the reply.
              pause(delay);
              if (reply.startsWith("2")) {
                reply = reply.replace("%d", Integer.toString(accept(r).number()));
                from = null;
                recipients.clear();
                try {
                  w.reply(reply);
                } catch (IOException gone) {
                  return; // the client gave up waiting: the message is accepted all the same
                }
                continue;
              }
            }
            if (reply == null) {
              continue; // silent: the client times out
            }
            if (reply.startsWith("2")) {
              reply = reply.replace("%d", Integer.toString(accept(r).number()));
            }
            from = null;
            recipients.clear();
          }
        } else if (upper.equals("RSET")) {
          from = null;
          recipients.clear();
          refusedForGood.clear();
          reply = "250 2.0.0 Ok";
        } else if (upper.equals("NOOP")) {
          reply = "250 2.0.0 Ok";
        } else if (upper.equals("QUIT")) {
          w.reply("221 2.0.0 Bye");
          return;
        } else {
          reply = "502 5.5.2 command not recognized";
        }
        w.reply(reply);
        if (reply.startsWith("421")) {
          return;
        }
      }
    } finally {
      current.close(); // the TLS layer after STARTTLS; the listener closes the socket under it
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * How many accepted copies each recipient got, by Message-ID and recipient address (lower case):
   * what the people on an email actually received.
   */
  Map<String, Map<String, Integer>> deliveries() {
    Map<String, Map<String, Integer>> out = new TreeMap<>();
    for (Received r : received) {
      if (r.messageId() == null) {
        continue;
      }
      Map<String, Integer> per = out.computeIfAbsent(r.messageId(), k -> new TreeMap<>());
      for (String to : r.recipients()) {
        per.merge(to.toLowerCase(Locale.ROOT), 1, Integer::sum);
      }
    }
    return out;
  }

  /**
   * The recipients (lower case) refused with a 5xx in the transaction that carried a message, by
   * its Message-ID: people the email was never meant to reach after all.
   */
  Set<String> refusedForGood(String messageId) {
    Set<String> out = permanentRefusals.get(messageId);
    return out == null ? Set.of() : Set.copyOf(out);
  }

  /** RCPT replies that were a 4xx, by recipient (lower case), for telling what a test's script did. */
  Map<String, Integer> temporaryRefusals() {
    return new TreeMap<>(tempRefusals);
  }

  private synchronized Received accept(Received r) {
    // Numbered in acceptance order; synchronized so numbers and the list agree.
    Received numbered = new Received(accepted.incrementAndGet(), r.messageId(), r.from(), r.recipients(), r.size(),
        r.headers(), r.content(), r.connection());
    received.add(numbered);
    if (numbered.messageId() != null) {
      byMessageId.computeIfAbsent(numbered.messageId(), k -> new AtomicInteger()).incrementAndGet();
    }
    return numbered;
  }

  /** Reads an AUTH exchange; returns "user:password", or null if the client went away. */
  private static String auth(SmtpWire w, String line) throws IOException {
    String[] parts = line.split(" ");
    String mechanism = parts[1].toUpperCase(Locale.ROOT);
    if (mechanism.equals("PLAIN")) {
      String response = parts.length > 2 ? parts[2] : null;
      if (response == null) {
        w.reply("334 ");
        response = w.readLine();
        if (response == null) {
          return null;
        }
      }
      String decoded = new String(Base64.getDecoder().decode(response.strip()), StandardCharsets.UTF_8);
      String[] fields = decoded.split("\u0000", -1);
      return fields.length == 3 ? fields[1] + ":" + fields[2] : decoded;
    }
    if (mechanism.equals("LOGIN")) {
      String user = parts.length > 2 ? parts[2] : null;
      if (user == null) {
        w.reply("334 VXNlcm5hbWU6");
        user = w.readLine();
      }
      w.reply("334 UGFzc3dvcmQ6");
      String password = w.readLine();
      if (user == null || password == null) {
        return null;
      }
      return decode(user) + ":" + decode(password);
    }
    return "?:?";
  }

  private static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64.strip()), StandardCharsets.UTF_8);
  }

  static String messageId(String headers) {
    Matcher m = MESSAGE_ID.matcher(headers);
    return m.find() ? m.group(1).replaceAll("\\s+", "") : null;
  }

  /** The script: replies by stage, all accepting by default. */
  static final class Builder {
    private Function<Integer, String> greeting = n -> "220 sink.test ESMTP";
    private final List<String> extensions = new ArrayList<>(List.of("8BITMIME", "ENHANCEDSTATUSCODES"));
    private String user;
    private String password;
    private boolean echoSecret;
    private SSLContext startTls;
    private Function<String, String> mail = from -> "250 2.1.0 Ok";
    private Function<String, String> rcpt = to -> "250 2.1.5 Ok";
    private String data = "354 End data with <CR><LF>.<CR><LF>";
    private Function<Received, String> endOfData = r -> "250 2.0.0 Ok: queued as %d";
    private boolean keepContent;
    private boolean recordCommands;
    private java.util.function.IntSupplier maxRecipients = () -> Integer.MAX_VALUE;
    private java.util.function.LongSupplier endOfDataDelay = () -> 0;

    /** The greeting for the n-th connection (from 1); anything but 220 is sent and the connection closed. */
    Builder greeting(Function<Integer, String> value) {
      greeting = value;
      return this;
    }

    /** Requires AUTH PLAIN or LOGIN with this login before MAIL. */
    Builder auth(String expectedUser, String expectedPassword) {
      user = expectedUser;
      password = expectedPassword;
      return this;
    }

    /** A careless server: its 535 reply quotes the password the client sent. */
    Builder echoSecretOnAuthFailure() {
      echoSecret = true;
      return this;
    }

    Builder startTls(SSLContext context) {
      startTls = context;
      return this;
    }

    Builder mail(Function<String, String> reply) {
      mail = reply;
      return this;
    }

    Builder rcpt(Function<String, String> reply) {
      rcpt = reply;
      return this;
    }

    Builder data(String reply) {
      data = reply;
      return this;
    }

    /** The reply to the end of data; {@code null} answers nothing; {@code %d} becomes the message's number. */
    Builder endOfData(Function<Received, String> reply) {
      endOfData = reply;
      return this;
    }

    /** Accepts at most {@code k} RCPTs per transaction and answers 452 to the rest (too many recipients). */
    Builder maxRecipientsPerTransaction(int k) {
      return maxRecipientsPerTransaction(() -> k);
    }

    /** As {@link #maxRecipientsPerTransaction(int)}, asked at every RCPT. */
    Builder maxRecipientsPerTransaction(java.util.function.IntSupplier k) {
      maxRecipients = k;
      return this;
    }

    /**
     * Greylisting: the first {@code attempts} RCPTs for each of {@code addresses} (case-insensitive)
     * get 450, later ones go to {@code then}; other recipients go to {@code then} at once.
     */
    Builder greylist(Set<String> addresses, int attempts, Function<String, String> then) {
      Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
      Set<String> lower = new java.util.HashSet<>();
      addresses.forEach(a -> lower.add(a.toLowerCase(Locale.ROOT)));
      rcpt = to -> {
        String key = to.toLowerCase(Locale.ROOT);
        if (lower.contains(key) && seen.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() <= attempts) {
          return "450 4.2.0 <" + to + ">: Recipient address rejected: Greylisted, try again later";
        }
        return then.apply(to);
      };
      return this;
    }

    /**
     * Delays the reply to the final "." by {@code millis} (a server scanning the content); the
     * message is accepted when the delay is over even if the client stopped waiting.
     */
    Builder endOfDataDelay(long millis) {
      return endOfDataDelay(() -> millis);
    }

    /** As {@link #endOfDataDelay(long)}, asked at every end of data. */
    Builder endOfDataDelay(java.util.function.LongSupplier millis) {
      endOfDataDelay = millis;
      return this;
    }

    /**
     * Offers PIPELINING (RFC 2920), so the router writes each email's envelope in one go and the
     * next email's behind the end of data; the sink reads the commands in order either way.
     */
    Builder pipelining() {
      extensions.add("PIPELINING");
      return this;
    }

    Builder keepContent() {
      keepContent = true;
      return this;
    }

    Builder recordCommands() {
      recordCommands = true;
      return this;
    }

    SmtpSink start() {
      try {
        return new SmtpSink(this);
      } catch (IOException e) {
        throw new IllegalStateException("sink can't listen: " + e, e);
      }
    }
  }
}
