package dev.emailrouter.imap;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small IMAP server on 127.0.0.1 for faults GreenMail can't produce on cue: another client that
 * expunges, moves or flags a message in the middle of the reader's {@code UID FETCH} answer, so the
 * answer carries {@code * n EXPUNGE} and unsolicited {@code * n FETCH (FLAGS ...)} between its FETCH
 * responses and the sequence numbers after them shift (RFC 3501 7.4.1). One folder, INBOX; LOGIN
 * with any password; the commands the reader sends, nothing more.
 */
final class ScriptedImapServer implements AutoCloseable {

  static final long UID_VALIDITY = 77;
  private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)\\+?}$");
  private static final Pattern PARTIAL = Pattern.compile("BODY\\.PEEK\\[]<(\\d+)\\.(\\d+)>");
  private static final Pattern HEADER_FIELDS = Pattern.compile("BODY\\.PEEK\\[HEADER\\.FIELDS \\(([^)]*)\\)]");

  /** What another client does in the middle of an answer. */
  interface Disturbance {
    /**
     * Called before the FETCH response for {@code uid} of a command whose text contains the
     * trigger; may expunge or flag messages through {@code server}.
     */
    void before(long uid, Answer answer) throws IOException;
  }

  private final ServerSocket listener;
  private final NavigableMap<Long, byte[]> inbox = new TreeMap<>();
  private final List<String> commands = new CopyOnWriteArrayList<>();
  private final Map<String, Disturbance> disturbances = new ConcurrentHashMap<>();
  private final Set<Long> withoutUid = ConcurrentHashMap.newKeySet();
  private final Map<Long, String> headerAnswers = new ConcurrentHashMap<>();
  private volatile String headerAnswerEnd;
  private long uidNext = 1;
  private volatile String nextNoopAnswer;
  private volatile String nextSearchAnswer;

  ScriptedImapServer() throws IOException {
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "scripted-imap-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Appends a message and returns its UID. */
  synchronized long append(byte[] message) {
    long uid = uidNext++;
    inbox.put(uid, message);
    return uid;
  }

  /** Skips the UIDs below {@code uid}, so UIDs and sequence numbers differ. */
  synchronized void skipUidsBelow(long uid) {
    uidNext = Math.max(uidNext, uid);
  }

  synchronized Set<Long> uids() {
    return new TreeSet<>(inbox.keySet());
  }

  /** Runs {@code disturbance} during the next commands whose text contains {@code trigger}. */
  void during(String trigger, Disturbance disturbance) {
    disturbances.put(trigger, disturbance);
  }

  /**
   * Answers the next {@code UID SEARCH UID} with {@code raw} (CRLFs included) before its tagged
   * OK, instead of one SEARCH line of the matching UIDs.
   */
  void answerNextSearchWith(String raw) {
    nextSearchAnswer = raw;
  }

  /** Answers FETCH for {@code uid} without its UID item, as a server breaking RFC 3501 6.4.8 would. */
  void answerWithoutUid(long uid) {
    withoutUid.add(uid);
  }

  /**
   * Answers the header FETCH (the one naming {@code HEADER.FIELDS}) for {@code uid} with {@code raw}
   * as it stands (CRLFs and literals included; empty for no answer), for responses no server of ours
   * sends on cue: items in another order, a NIL or quoted header, a malformed literal.
   */
  void answerHeadersOf(long uid, String raw) {
    headerAnswers.put(uid, raw);
  }

  /**
   * Ends the answers to header FETCH commands with {@code raw} instead of the tagged OK; {@code
   * {tag}} in it stands for the command's tag. The connection is closed right after it, so {@code
   * raw} may stop anywhere, e.g. inside a literal.
   */
  void endHeaderAnswersWith(String raw) {
    headerAnswerEnd = raw;
  }

  /**
   * Answers the next NOOP with these untagged lines (CRLF-terminated) instead of a bare OK; one
   * starting with {@code * BYE} closes the connection after it, as a server shutting down does.
   */
  void answerNextNoopWith(String untagged) {
    nextNoopAnswer = untagged;
  }

  /** The command lines received, tags removed. */
  List<String> commands() {
    return new ArrayList<>(commands);
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }

  /** One answer in progress, on which a disturbance acts. */
  final class Answer {
    private final OutputStream out;

    private Answer(OutputStream out) {
      this.out = out;
    }

    /** Another client expunged (or moved away) {@code uid}: it goes, and this connection hears of it. */
    void expunge(long uid) throws IOException {
      int seq;
      synchronized (ScriptedImapServer.this) {
        seq = sequenceNumber(uid);
        inbox.remove(uid);
      }
      write(out, "* " + seq + " EXPUNGE\r\n");
    }

    /** Untagged responses as they stand, CRLF-terminated, e.g. {@code * 9 EXISTS}. */
    void untagged(String raw) throws IOException {
      write(out, raw);
    }

    /** Another client changed the flags of {@code uid}: an unsolicited FETCH without the UID. */
    void flagged(long uid, String flags) throws IOException {
      int seq;
      synchronized (ScriptedImapServer.this) {
        seq = sequenceNumber(uid);
      }
      write(out, "* " + seq + " FETCH (FLAGS (" + flags + "))\r\n");
    }

    /** The same, with the UID, as servers send it during UID commands. */
    void flaggedWithUid(long uid, String flags) throws IOException {
      int seq;
      synchronized (ScriptedImapServer.this) {
        seq = sequenceNumber(uid);
      }
      write(out, "* " + seq + " FETCH (UID " + uid + " FLAGS (" + flags + "))\r\n");
    }
  }

  private int sequenceNumber(long uid) {
    return inbox.headMap(uid, false).size() + 1;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Thread t = new Thread(() -> serve(client), "scripted-imap");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private static final String BASE_CAPABILITIES = "IMAP4rev1 UIDPLUS MOVE UNSELECT LITERAL+";
  private volatile String capabilities = BASE_CAPABILITIES;
  private volatile boolean idleEndsAtOnce;
  /** The folder LIST marks {@code \Sent}, or {@code null}: LIST answers INBOX alone. */
  private volatile String sentFolder;
  private final List<String> appendedTo = new CopyOnWriteArrayList<>();
  private final List<byte[]> appended = new CopyOnWriteArrayList<>();

  /**
   * Offers SPECIAL-USE (RFC 6154) and LIST-EXTENDED; LIST answers INBOX, a folder named {@code Sent}
   * without any mark, and {@code sent} marked {@code \Sent}. APPEND keeps the message (found again
   * by {@code UID SEARCH HEADER Message-ID}).
   */
  void offerSpecialUse(String sent) {
    capabilities = BASE_CAPABILITIES + " SPECIAL-USE LIST-EXTENDED";
    sentFolder = sent;
  }

  /** The messages appended, in order. */
  List<byte[]> appended() {
    return new ArrayList<>(appended);
  }

  /** The folders the messages were appended to, in order (as sent: quoted, modified UTF-7). */
  List<String> appendedTo() {
    return new ArrayList<>(appendedTo);
  }

  /**
   * Offers IDLE, and answers each IDLE with its continuation and at once its tagged OK, without
   * waiting for DONE: a server (or a proxy in front of it) that ends every IDLE by itself.
   */
  void offerIdleThatEndsAtOnce() {
    capabilities = BASE_CAPABILITIES + " IDLE";
    idleEndsAtOnce = true;
  }

  private void serve(Socket socket) {
    try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
      write(out, "* OK [CAPABILITY " + capabilities + "] scripted server ready\r\n");
      String line;
      List<byte[]> literals = new ArrayList<>();
      while ((line = readCommand(in, literals)) != null) {
        int space = line.indexOf(' ');
        if (space < 0) {
          write(out, "* BAD no tag\r\n");
          continue;
        }
        String tag = line.substring(0, space);
        String command = line.substring(space + 1);
        commands.add(command);
        String verb = command.toUpperCase(java.util.Locale.ROOT);
        if (verb.startsWith("CAPABILITY")) {
          write(out, "* CAPABILITY " + capabilities + "\r\n" + tag + " OK done\r\n");
        } else if (verb.startsWith("LOGIN ")) {
          write(out, tag + " OK [CAPABILITY " + capabilities + "] logged in\r\n");
        } else if (verb.startsWith("SELECT ") || verb.startsWith("EXAMINE ")) {
          select(out, tag);
        } else if (verb.startsWith("LIST ")) {
          String sent = sentFolder;
          write(out, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
              + (sent == null ? "" : "* LIST (\\HasNoChildren) \"/\" Sent\r\n"
                  + "* LIST (\\HasNoChildren \\Sent) \"/\" \"" + sent + "\"\r\n")
              + tag + " OK done\r\n");
        } else if (verb.startsWith("UID SEARCH HEADER MESSAGE-ID ")) {
          String id = command.substring("UID SEARCH HEADER Message-ID ".length()).replace("\"", "").trim();
          StringBuilder found = new StringBuilder("* SEARCH");
          for (int i = 0; i < appended.size(); i++) {
            if (new String(appended.get(i), StandardCharsets.UTF_8).contains("Message-ID: " + id)) {
              found.append(' ').append(i + 1);
            }
          }
          write(out, found + "\r\n" + tag + " OK done\r\n");
        } else if (verb.startsWith("APPEND ") && !literals.isEmpty()) {
          appendedTo.add(command.substring("APPEND ".length(), command.indexOf(" (")));
          appended.add(literals.get(literals.size() - 1));
          write(out, tag + " OK appended\r\n");
        } else if (verb.startsWith("UID SEARCH UID ")) {
          search(out, tag, command.substring("UID SEARCH UID ".length()).trim().split(" ")[0]);
        } else if (verb.startsWith("UID FETCH ") && verb.contains("HEADER.FIELDS") && headerAnswerEnd != null) {
          fetch(out, null, command);
          write(out, headerAnswerEnd.replace("{tag}", tag));
          return;
        } else if (verb.startsWith("UID FETCH ")) {
          fetch(out, tag, command);
        } else if (verb.startsWith("NOOP") && nextNoopAnswer != null) {
          String answer = nextNoopAnswer;
          nextNoopAnswer = null;
          if (answer.startsWith("* BYE")) {
            write(out, answer);
            return;
          }
          write(out, answer + tag + " OK done\r\n");
        } else if (verb.startsWith("NOOP") || verb.startsWith("UNSELECT") || verb.startsWith("CLOSE")
            || verb.startsWith("UID STORE")) {
          write(out, tag + " OK done\r\n");
        } else if (verb.equals("IDLE") && idleEndsAtOnce) {
          write(out, "+ idling\r\n" + tag + " OK IDLE ended by the server\r\n");
        } else if (verb.startsWith("LOGOUT")) {
          write(out, "* BYE bye\r\n" + tag + " OK done\r\n");
          return;
        } else {
          write(out, tag + " BAD not scripted\r\n");
        }
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  private void select(OutputStream out, String tag) throws IOException {
    int exists;
    long next;
    synchronized (this) {
      exists = inbox.size();
      next = uidNext;
    }
    write(out, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
        + "* " + exists + " EXISTS\r\n* 0 RECENT\r\n"
        + "* OK [UIDVALIDITY " + UID_VALIDITY + "] UIDs valid\r\n"
        + "* OK [UIDNEXT " + next + "] next UID\r\n"
        + "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] flags\r\n"
        + tag + " OK [READ-WRITE] selected\r\n");
  }

  private void search(OutputStream out, String tag, String set) throws IOException {
    String scripted = nextSearchAnswer;
    if (scripted != null) {
      nextSearchAnswer = null;
      write(out, scripted + tag + " OK done\r\n");
      return;
    }
    StringBuilder line = new StringBuilder("* SEARCH");
    for (long uid : matching(set)) {
      line.append(' ').append(uid);
    }
    write(out, line + "\r\n" + tag + " OK done\r\n");
  }

  private void fetch(OutputStream out, String tag, String command) throws IOException {
    String rest = command.substring("UID FETCH ".length());
    String set = rest.substring(0, rest.indexOf(' '));
    String items = rest.substring(rest.indexOf(' ') + 1);
    Disturbance disturbance = null;
    for (Map.Entry<String, Disturbance> d : disturbances.entrySet()) {
      if (command.contains(d.getKey())) {
        disturbance = d.getValue();
      }
    }
    Answer answer = new Answer(out);
    for (long uid : matching(set)) {
      if (disturbance != null) {
        disturbance.before(uid, answer);
      }
      byte[] message;
      int seq;
      synchronized (this) {
        message = inbox.get(uid);
        seq = sequenceNumber(uid);
      }
      if (message == null) {
        continue; // expunged meanwhile: no answer for it
      }
      String raw = headerAnswers.get(uid);
      if (raw != null && items.contains("HEADER.FIELDS")) {
        write(out, raw);
        continue;
      }
      ByteArrayOutputStream response = new ByteArrayOutputStream();
      List<String> parts = new ArrayList<>();
      if (!withoutUid.contains(uid)) {
        parts.add("UID " + uid);
      }
      if (items.contains("RFC822.SIZE")) {
        parts.add("RFC822.SIZE " + message.length);
      }
      if (items.contains("INTERNALDATE")) {
        parts.add("INTERNALDATE \"01-Mar-2024 09:00:00 +0000\"");
      }
      response.write(("* " + seq + " FETCH (" + String.join(" ", parts)).getBytes(StandardCharsets.US_ASCII));
      Matcher header = HEADER_FIELDS.matcher(items);
      Matcher partial = PARTIAL.matcher(items);
      if (header.find()) {
        literal(response, " BODY[HEADER.FIELDS (" + header.group(1) + ")] ", headerBlock(message));
      } else if (partial.find()) {
        int from = (int) Math.min(message.length, Long.parseLong(partial.group(1)));
        int to = (int) Math.min(message.length, from + Long.parseLong(partial.group(2)));
        literal(response, " BODY[]<" + from + "> ", java.util.Arrays.copyOfRange(message, from, to));
      } else if (items.contains("BODY.PEEK[]")) {
        literal(response, " BODY[] ", message);
      }
      response.write(")\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(response.toByteArray());
    }
    if (tag != null) {
      write(out, tag + " OK done\r\n");
    } else {
      out.flush();
    }
  }

  private static void literal(ByteArrayOutputStream response, String name, byte[] bytes) throws IOException {
    response.write((name + "{" + bytes.length + "}\r\n").getBytes(StandardCharsets.US_ASCII));
    response.write(bytes);
  }

  private static byte[] headerBlock(byte[] message) {
    String text = new String(message, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    return (end < 0 ? text : text.substring(0, end + 4)).getBytes(StandardCharsets.ISO_8859_1);
  }

  /** The UIDs of a UID set such as {@code 3,5:7,9:*} that exist, ascending. */
  private synchronized List<Long> matching(String set) {
    TreeSet<Long> found = new TreeSet<>();
    long highest = inbox.isEmpty() ? 0 : inbox.lastKey();
    for (String range : set.split(",")) {
      String[] ends = range.split(":");
      long a = ends[0].equals("*") ? highest : Long.parseLong(ends[0]);
      long b = ends.length == 1 ? a : ends[1].equals("*") ? highest : Long.parseLong(ends[1]);
      found.addAll(inbox.subMap(Math.min(a, b), true, Math.max(a, b), true).keySet());
    }
    return new ArrayList<>(found);
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** A command line, with any literals it carries appended inline. */
  private static String readCommand(InputStream in, List<byte[]> literals) throws IOException {
    literals.clear();
    StringBuilder command = new StringBuilder();
    while (true) {
      String line = readLine(in);
      if (line == null) {
        return null;
      }
      Matcher literal = LITERAL.matcher(line);
      if (!literal.find()) {
        return command.append(line).toString();
      }
      command.append(line, 0, literal.start());
      byte[] data = in.readNBytes(Integer.parseInt(literal.group(1)));
      literals.add(data);
      command.append(new String(data, StandardCharsets.UTF_8));
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      if (b == '\n') {
        String text = line.toString(StandardCharsets.UTF_8);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
      }
      line.write(b);
    }
    return null;
  }
}
