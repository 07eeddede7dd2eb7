package dev.emailrouter.micrometer;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import dev.emailrouter.api.TransientRouterException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link MailboxReader} over raw RFC 822 messages with integer refs (the cursor is the last ref),
 * honouring retries; a message can be made gone (listed, then not downloadable), unreadable
 * (its content fails), or reported larger than it is, and the mailbox can refuse to open.
 * Thread-safe.
 */
final class ScriptedMailbox implements MailboxReader {
  private final String description;
  private final TreeMap<Integer, String> messages = new TreeMap<>();
  private final Set<Integer> gone = new HashSet<>();
  private final Set<Integer> unreadable = new HashSet<>();
  private final Map<Integer, Long> sizes = new TreeMap<>();
  private volatile boolean refusing;
  private volatile Runnable onOpen = () -> {};

  ScriptedMailbox(String description) {
    this.description = description;
  }

  synchronized String add(String raw) {
    int ref = messages.isEmpty() ? 1 : messages.lastKey() + 1;
    messages.put(ref, raw);
    return Integer.toString(ref);
  }

  synchronized void gone(String ref) {
    gone.add(Integer.parseInt(ref));
  }

  synchronized void unreadable(String ref) {
    unreadable.add(Integer.parseInt(ref));
  }

  synchronized void reportSize(String ref, long size) {
    sizes.put(Integer.parseInt(ref), size);
  }

  void refuse(boolean value) {
    refusing = value;
  }

  /** Runs {@code hook} each time the mailbox is opened (to move the test's clock). */
  void onOpen(Runnable hook) {
    onOpen = hook;
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public Session open() {
    onOpen.run();
    if (refusing) {
      throw new TransientRouterException("login refused: NO [AUTHENTICATIONFAILED] Authentication failed.");
    }
    return new Session() {
      @Override
      public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
        synchronized (ScriptedMailbox.this) {
          int last = cursor.isEmpty() ? 0 : Integer.parseInt(cursor);
          List<MessageHeaders> out = new ArrayList<>();
          for (String r : retry) {
            int ref = Integer.parseInt(r);
            if (ref <= last && messages.containsKey(ref)) {
              out.add(headers(ref));
            }
          }
          int newLast = last;
          for (Integer ref : messages.tailMap(last, false).keySet()) {
            if (out.size() >= max) {
              break;
            }
            out.add(headers(ref));
            newLast = ref;
          }
          return new NewMessages(out, Integer.toString(newLast), false, false);
        }
      }

      @Override
      public List<RawMessage> fetchMessages(List<String> refs) {
        synchronized (ScriptedMailbox.this) {
          List<RawMessage> out = new ArrayList<>();
          for (String r : refs) {
            int ref = Integer.parseInt(r);
            if (gone.contains(ref) || !messages.containsKey(ref)) {
              continue;
            }
            byte[] bytes = messages.get(ref).getBytes(StandardCharsets.UTF_8);
            ContentSource content = unreadable.contains(ref)
                ? () -> {
                  throw new IOException("FETCH BODY[] failed: * BAD internal server error");
                }
                : ContentSource.ofBytes(bytes);
            out.add(new RawMessage(r, bytes.length, content));
          }
          return out;
        }
      }

      @Override
      public void dispose(Map<String, Disposition> dispositions) {}

      @Override
      public void close() {}
    };
  }

  private MessageHeaders headers(int ref) {
    String raw = messages.get(ref);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String line : raw.substring(0, raw.indexOf("\r\n\r\n")).split("\r\n")) {
      int colon = line.indexOf(':');
      headers.computeIfAbsent(line.substring(0, colon).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(line.substring(colon + 1).trim());
    }
    long size = sizes.getOrDefault(ref, (long) raw.length());
    return new MessageHeaders(Integer.toString(ref), size, Instant.parse("2026-12-01T08:00:00Z"), headers);
  }
}
