package dev.emailrouter.reliability;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link MailboxReader} that hands the engine messages exactly as given, byte for byte (no server
 * in between normalises anything), with integer refs like IMAP UIDs and a cursor that is the last
 * ref. Headers are read from the raw bytes the way a server would: up to the first empty line,
 * unfolded, UTF-8 or else ISO-8859-1. Records the last disposition of each ref. Thread-safe.
 */
final class RawMailbox implements MailboxReader {
  private final String name;
  private final TreeMap<Integer, byte[]> messages = new TreeMap<>();
  private final Map<String, Disposition> dispositions = new LinkedHashMap<>();
  private int nextRef = 1;

  RawMailbox(String name) {
    this.name = name;
  }

  synchronized String add(byte[] raw) {
    int ref = nextRef++;
    messages.put(ref, raw.clone());
    return Integer.toString(ref);
  }

  synchronized Map<String, Disposition> dispositions() {
    return Map.copyOf(dispositions);
  }

  synchronized int size() {
    return messages.size();
  }

  @Override
  public String describe() {
    return "raw://" + name;
  }

  @Override
  public Session open() {
    return new Session() {
      @Override
      public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
        synchronized (RawMailbox.this) {
          int last = cursor.isEmpty() ? 0 : Integer.parseInt(cursor);
          TreeMap<Integer, MessageHeaders> out = new TreeMap<>();
          for (String r : retry) {
            int ref = Integer.parseInt(r);
            if (ref <= last && messages.containsKey(ref)) {
              out.put(ref, headers(ref));
            }
          }
          int taken = 0;
          int newLast = last;
          boolean more = false;
          for (Integer ref : messages.tailMap(last, false).keySet()) {
            if (taken == max) {
              more = true;
              break;
            }
            out.put(ref, headers(ref));
            newLast = ref;
            taken++;
          }
          return new NewMessages(new ArrayList<>(out.values()), Integer.toString(newLast), false, more);
        }
      }

      @Override
      public List<RawMessage> fetchMessages(List<String> refs) {
        synchronized (RawMailbox.this) {
          List<RawMessage> out = new ArrayList<>();
          for (String r : refs) {
            byte[] bytes = messages.get(Integer.parseInt(r));
            if (bytes != null) {
              out.add(new RawMessage(r, bytes.length, ContentSource.ofBytes(bytes)));
            }
          }
          return out;
        }
      }

      @Override
      public void dispose(Map<String, Disposition> given) {
        synchronized (RawMailbox.this) {
          dispositions.putAll(given);
        }
      }

      @Override
      public void close() {
        // nothing held
      }
    };
  }

  private MessageHeaders headers(int ref) {
    byte[] bytes = messages.get(ref);
    Map<String, List<String>> map = new LinkedHashMap<>();
    String current = null;
    StringBuilder value = new StringBuilder();
    int pos = 0;
    while (pos < bytes.length) {
      int lf = pos;
      while (lf < bytes.length && bytes[lf] != '\n') {
        lf++;
      }
      int end = lf;
      while (end > pos && bytes[end - 1] == '\r') {
        end--;
      }
      String line = decode(bytes, pos, end - pos);
      pos = lf + 1;
      if (line.isEmpty()) {
        break;
      }
      if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && current != null) {
        value.append(line);
        continue;
      }
      if (current != null) {
        map.computeIfAbsent(current, k -> new ArrayList<>()).add(value.toString().strip());
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        current = null;
        continue;
      }
      current = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      value = new StringBuilder(line.substring(colon + 1));
    }
    if (current != null) {
      map.computeIfAbsent(current, k -> new ArrayList<>()).add(value.toString().strip());
    }
    return new MessageHeaders(Integer.toString(ref), bytes.length, Instant.parse("2024-03-01T08:00:00Z"), map);
  }

  private static String decode(byte[] bytes, int offset, int length) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, offset, length)).toString();
    } catch (CharacterCodingException e) {
      return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }
  }
}
