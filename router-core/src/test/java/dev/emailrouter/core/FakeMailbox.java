package dev.emailrouter.core;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link MailboxReader} over an in-memory list of raw RFC 822 messages with integer refs, like
 * IMAP UIDs: the cursor is {@code validity:lastRef}, retry refs are honoured, {@code max} and
 * {@code more} bound a fetch. Records what was fetched, downloaded and disposed; can fail open()
 * and simulate a UIDVALIDITY change. Thread-safe (synchronized).
 */
final class FakeMailbox implements MailboxReader {
  private final String name;
  private final TreeMap<Integer, byte[]> messages = new TreeMap<>();
  private final Map<Integer, Long> sizeOverrides = new HashMap<>();
  private int nextRef = 1;
  private int validity = 1;
  private int opens;
  private int openFailuresLeft;
  private RuntimeException openFailure;
  private final List<String> downloaded = new ArrayList<>();
  private final List<String> fetchedHeaders = new ArrayList<>();
  private final List<Set<String>> retriesAsked = new ArrayList<>();
  private final Map<String, Disposition> dispositions = new LinkedHashMap<>();
  private final List<Map<String, Disposition>> disposeCalls = new ArrayList<>();
  private int openSessions;
  private int pageSize = Integer.MAX_VALUE;
  private final java.util.Set<Integer> unreadable = new java.util.HashSet<>();
  private final java.util.Set<Integer> poison = new java.util.HashSet<>();

  FakeMailbox(String name) {
    this.name = name;
  }

  /** Adds a message; returns its ref. */
  synchronized String add(String raw) {
    int ref = nextRef++;
    messages.put(ref, raw.getBytes(StandardCharsets.UTF_8));
    return Integer.toString(ref);
  }

  /** Makes the server report a size other than the raw length (e.g. a huge message). */
  synchronized void reportSize(String ref, long size) {
    sizeOverrides.put(Integer.parseInt(ref), size);
  }

  /** Expunges a message (another client deleted it). */
  synchronized void remove(String ref) {
    messages.remove(Integer.parseInt(ref));
  }

  /** Simulates a UIDVALIDITY change: every message gets a new ref, old cursors mean nothing. */
  synchronized void reset() {
    validity++;
    TreeMap<Integer, byte[]> renumbered = new TreeMap<>();
    int ref = 1000 * validity;
    for (byte[] m : messages.values()) {
      renumbered.put(ref++, m);
    }
    messages.clear();
    messages.putAll(renumbered);
    sizeOverrides.clear();
    nextRef = ref;
  }

  /** Returns at most this many new messages per fetch, whatever max the engine asks for (an IMAP page). */
  synchronized void pageSize(int size) {
    pageSize = size;
  }

  /** Makes a message's content fail to read when downloaded (a broken server response). */
  synchronized void unreadable(String ref) {
    unreadable.add(Integer.parseInt(ref));
  }

  /** The next {@code times} opens throw {@code failure}. */
  /** Makes every download request that includes this ref fail as a whole, as a server answering BAD would. */
  synchronized void poison(String ref) {
    poison.add(Integer.parseInt(ref));
  }

  synchronized void failOpen(int times, RuntimeException failure) {
    openFailuresLeft = times;
    openFailure = failure;
  }

  synchronized int opens() {
    return opens;
  }

  synchronized int openSessions() {
    return openSessions;
  }

  synchronized List<String> downloaded() {
    return List.copyOf(downloaded);
  }

  synchronized List<String> fetchedHeaders() {
    return List.copyOf(fetchedHeaders);
  }

  synchronized List<Set<String>> retriesAsked() {
    return List.copyOf(retriesAsked);
  }

  /** The last disposition applied to each ref. */
  synchronized Map<String, Disposition> dispositions() {
    return Map.copyOf(dispositions);
  }

  synchronized List<Map<String, Disposition>> disposeCalls() {
    return List.copyOf(disposeCalls);
  }

  synchronized int size() {
    return messages.size();
  }

  @Override
  public String describe() {
    return "fake://" + name;
  }

  @Override
  public synchronized Session open() {
    opens++;
    if (openFailuresLeft > 0) {
      openFailuresLeft--;
      throw openFailure;
    }
    openSessions++;
    return new FakeSession();
  }

  /** Whether sessions hand headers early (with a stray message not in the answer) as the IMAP reader does. */
  private boolean handEarly;

  synchronized void handEarly(boolean on) {
    handEarly = on;
  }

  private final class FakeSession implements Session {
    private boolean closed;

    @Override
    public NewMessages fetchNew(String cursor, Set<String> retry, int max,
        java.util.function.Consumer<MessageHeaders> arriving) {
      NewMessages answer = fetchNew(cursor, retry, max);
      synchronized (FakeMailbox.this) {
        if (handEarly) {
          arriving.accept(new MessageHeaders("stray", 10, null, Map.of("subject", List.of("not in the answer"))));
          answer.messages().forEach(arriving);
        }
      }
      return answer;
    }

    @Override
    public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
      synchronized (FakeMailbox.this) {
        check();
        retriesAsked.add(Set.copyOf(retry));
        int last = 0;
        boolean reset = false;
        if (!cursor.isEmpty()) {
          String[] parts = cursor.split(":");
          if (Integer.parseInt(parts[0]) == validity) {
            last = Integer.parseInt(parts[1]);
          } else {
            reset = true;
          }
        }
        TreeMap<Integer, MessageHeaders> out = new TreeMap<>();
        if (!reset) {
          for (String r : retry) {
            int ref = Integer.parseInt(r);
            if (ref <= last && messages.containsKey(ref)) {
              out.put(ref, headers(ref));
            }
          }
        }
        int taken = 0;
        int newLast = last;
        boolean more = false;
        for (Map.Entry<Integer, byte[]> e : messages.tailMap(last, false).entrySet()) {
          if (taken == Math.min(max, pageSize)) {
            more = true;
            break;
          }
          out.put(e.getKey(), headers(e.getKey()));
          newLast = e.getKey();
          taken++;
        }
        for (Integer ref : out.keySet()) {
          fetchedHeaders.add(ref.toString());
        }
        return new NewMessages(new ArrayList<>(out.values()), validity + ":" + newLast, reset, more);
      }
    }

    @Override
    public List<RawMessage> fetchMessages(List<String> refs) {
      synchronized (FakeMailbox.this) {
        check();
        for (String r : refs) {
          if (poison.contains(Integer.parseInt(r))) {
            throw new dev.emailrouter.api.PermanentRouterException("UID FETCH " + refs + " BODY.PEEK[]: BAD parse error");
          }
        }
        List<RawMessage> out = new ArrayList<>();
        for (String r : refs) {
          byte[] bytes = messages.get(Integer.parseInt(r));
          if (bytes != null) {
            downloaded.add(r);
            ContentSource content = unreadable.contains(Integer.parseInt(r))
                ? () -> {
                  throw new java.io.IOException("FETCH BODY[] failed: * BAD internal server error");
                }
                : ContentSource.ofBytes(bytes);
            out.add(new RawMessage(r, bytes.length, content));
          }
        }
        return out;
      }
    }

    @Override
    public void dispose(Map<String, Disposition> given) {
      synchronized (FakeMailbox.this) {
        check();
        disposeCalls.add(Map.copyOf(given));
        dispositions.putAll(given);
      }
    }

    @Override
    public void close() {
      synchronized (FakeMailbox.this) {
        if (!closed) {
          closed = true;
          openSessions--;
        }
      }
    }

    private void check() {
      if (closed) {
        throw new IllegalStateException("session is closed");
      }
    }
  }

  private MessageHeaders headers(int ref) {
    byte[] bytes = messages.get(ref);
    String raw = new String(bytes, StandardCharsets.UTF_8);
    int end = raw.indexOf("\r\n\r\n");
    String block = end < 0 ? raw : raw.substring(0, end);
    Map<String, List<String>> map = new LinkedHashMap<>();
    String current = null;
    StringBuilder value = new StringBuilder();
    for (String line : block.split("\r\n", -1)) {
      if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t') && current != null) {
        value.append("\r\n").append(line);
        continue;
      }
      if (current != null) {
        map.computeIfAbsent(current, k -> new ArrayList<>()).add(value.toString());
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        current = null;
        continue;
      }
      current = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      value = new StringBuilder(line.substring(colon + 1).strip());
    }
    if (current != null) {
      map.computeIfAbsent(current, k -> new ArrayList<>()).add(value.toString());
    }
    long size = sizeOverrides.getOrDefault(ref, (long) bytes.length);
    return new MessageHeaders(Integer.toString(ref), size, Instant.parse("2024-03-01T08:00:00Z").plusSeconds(ref),
        map);
  }
}
