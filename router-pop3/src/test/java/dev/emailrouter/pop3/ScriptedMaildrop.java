package dev.emailrouter.pop3;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.UnaryOperator;

/**
 * A POP3 maildrop for {@link ScriptedPop3Server} whose UIDLs the test chooses, for server faults
 * GreenMail can't produce (one UIDL listed for several messages). Answers CAPA, USER, PASS, STAT,
 * UIDL, LIST, TOP, RETR, DELE, RSET, NOOP and QUIT; DELE takes effect at QUIT, as RFC 1939 says.
 * Lines starting with a dot are dot-stuffed. With {@link #pipelining()} CAPA offers PIPELINING (RFC
 * 2449); {@link #refuseRetr} and {@link #dropAtRetr} script faults. One connection at a time.
 */
final class ScriptedMaildrop implements UnaryOperator<String> {

  /** A message in the maildrop: its UIDL and its text (LF or CRLF line ends). */
  record Entry(String uidl, String text) {}

  private final List<Entry> messages = new ArrayList<>();
  private final Set<Integer> marked = new HashSet<>();
  private final Set<Integer> refused = new HashSet<>();
  private boolean pipelining;
  private int dropAt;
  private int hangAt;
  private int understated;
  private boolean dropAtQuit;
  private final CountDownLatch released = new CountDownLatch(1);
  private int retrs;

  /**
   * Instead of answering RETR of this message number, once, the server goes silent (reads nothing,
   * sends nothing) until {@link #release()}, as a stalled server does.
   */
  synchronized ScriptedMaildrop hangAtRetr(int number) {
    hangAt = number;
    return this;
  }

  /** Ends the silence of {@link #hangAtRetr}; the stalled connection is then closed. */
  void release() {
    released.countDown();
  }

  /** CAPA lists PIPELINING. */
  synchronized ScriptedMaildrop pipelining() {
    pipelining = true;
    return this;
  }

  /** RETR of this message number gets -ERR (TOP still works). */
  synchronized ScriptedMaildrop refuseRetr(int number) {
    refused.add(number);
    return this;
  }

  /** The connection is closed instead of answering RETR of this message number, once. */
  synchronized ScriptedMaildrop dropAtRetr(int number) {
    dropAt = number;
    return this;
  }

  /** LIST reports this message number as 100 bytes, whatever its size, as a lying server would. */
  synchronized ScriptedMaildrop understateSize(int number) {
    understated = number;
    return this;
  }

  /** The connection is closed instead of answering QUIT, once: no deletion is applied. */
  synchronized ScriptedMaildrop dropAtQuit() {
    dropAtQuit = true;
    return this;
  }

  /** How many messages the maildrop holds. */
  synchronized int size() {
    return messages.size();
  }

  /** How many RETR commands were answered with a message. */
  synchronized int retrs() {
    return retrs;
  }

  synchronized ScriptedMaildrop add(String uidl, String text) {
    messages.add(new Entry(uidl, text.replace("\r\n", "\n")));
    return this;
  }

  /** Removes a message as another client would (numbers after it shift at the next session). */
  synchronized void remove(int number) {
    messages.remove(number - 1);
  }

  @Override
  public synchronized String apply(String line) {
    String[] words = line.split(" ");
    switch (words[0].toUpperCase(Locale.ROOT)) {
      case "CAPA":
        return "+OK\nUSER\nUIDL\nTOP\n" + (pipelining ? "PIPELINING\n" : "") + ".";
      case "USER":
        marked.clear(); // a new session
        return "+OK";
      case "STAT":
        return "+OK " + messages.size() + " " + messages.stream().mapToInt(m -> size(m)).sum();
      case "UIDL":
        return listing(words, true);
      case "LIST":
        return listing(words, false);
      case "TOP":
        String text = messages.get(Integer.parseInt(words[1]) - 1).text();
        int blank = text.indexOf("\n\n");
        return "+OK\n" + stuffed(blank < 0 ? text : text.substring(0, blank + 1)) + "\n.";
      case "RETR":
        int number = Integer.parseInt(words[1]);
        if (number == hangAt) {
          hangAt = 0;
          try {
            released.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return null;
        }
        if (number == dropAt) {
          dropAt = 0;
          return null;
        }
        if (refused.contains(number)) {
          return "-ERR [SYS/PERM] message " + number + " can't be read";
        }
        retrs++;
        return "+OK\n" + stuffed(messages.get(number - 1).text()) + "\n.";
      case "DELE":
        marked.add(Integer.parseInt(words[1]));
        return "+OK";
      case "RSET":
        marked.clear();
        return "+OK";
      case "QUIT":
        if (dropAtQuit) {
          dropAtQuit = false;
          marked.clear();
          return null;
        }
        List<Integer> numbers = new ArrayList<>(marked);
        numbers.sort(null);
        for (int i = numbers.size() - 1; i >= 0; i--) {
          messages.remove(numbers.get(i) - 1);
        }
        marked.clear();
        return "+OK bye";
      default:
        return "+OK";
    }
  }

  private String listing(String[] words, boolean uidl) {
    if (words.length > 1) {
      int n = Integer.parseInt(words[1]);
      return "+OK " + n + " " + (uidl ? messages.get(n - 1).uidl() : listedSize(n));
    }
    StringBuilder reply = new StringBuilder("+OK");
    for (int n = 1; n <= messages.size(); n++) {
      reply.append('\n').append(n).append(' ').append(uidl ? messages.get(n - 1).uidl() : listedSize(n));
    }
    return reply.append("\n.").toString();
  }

  private int listedSize(int number) {
    return number == understated ? 100 : size(messages.get(number - 1));
  }

  private static String stuffed(String text) {
    return (text.startsWith(".") ? "." : "") + text.replace("\n.", "\n..");
  }

  private static int size(Entry entry) {
    return entry.text().replace("\n", "\r\n").getBytes(StandardCharsets.ISO_8859_1).length;
  }
}
