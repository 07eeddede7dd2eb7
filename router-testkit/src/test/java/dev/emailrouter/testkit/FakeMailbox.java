package dev.emailrouter.testkit;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * An in-memory mailbox with a reader over it, for the kit's own tests: correct without faults, and
 * broken in one chosen way with them.
 */
final class FakeMailbox implements MailboxReader {

  /** Ways to get the reader contract wrong. */
  enum Fault {
    /** Returns the newest message's position as the cursor, also when max cut the page short. */
    CURSOR_JUMPS_TO_NEWEST,
    /** Ignores the retry refs. */
    IGNORES_RETRY,
    /** Uses a message's position as its ref, which shifts when an earlier one is removed. */
    POSITION_REFS,
    /** Returns an empty message for a ref whose message is gone. */
    EMPTY_MESSAGE_FOR_REMOVED
  }

  private final Set<Fault> faults;
  private final TreeMap<Long, byte[]> messages = new TreeMap<>();
  private long nextUid = 1;

  FakeMailbox(Set<Fault> faults) {
    this.faults = faults.isEmpty() ? EnumSet.noneOf(Fault.class) : EnumSet.copyOf(faults);
  }

  synchronized void deliver(byte[] message) {
    messages.put(nextUid++, message.clone());
  }

  synchronized void remove(String messageId) {
    messages.entrySet().removeIf(e -> MailTransportContract.headers(e.getValue()).getOrDefault("message-id", List.of())
        .contains(messageId));
  }

  @Override
  public String describe() {
    return "fake://sales@example.test/INBOX";
  }

  @Override
  public Session open() {
    return new FakeSession();
  }

  private String ref(long uid) {
    if (faults.contains(Fault.POSITION_REFS)) {
      return Long.toString(messages.headMap(uid, true).size());
    }
    return Long.toString(uid);
  }

  private Long uid(String ref) {
    long n = Long.parseLong(ref);
    if (faults.contains(Fault.POSITION_REFS)) {
      return n >= 1 && n <= messages.size() ? new ArrayList<>(messages.keySet()).get((int) n - 1) : null;
    }
    return messages.containsKey(n) ? n : null;
  }

  private MessageHeaders headers(long uid) {
    byte[] raw = messages.get(uid);
    return new MessageHeaders(ref(uid), raw.length, null, MailTransportContract.headers(raw));
  }

  private final class FakeSession implements Session {
    @Override
    public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
      synchronized (FakeMailbox.this) {
        long after = cursor.isEmpty() ? 0 : Long.parseLong(cursor);
        List<MessageHeaders> found = new ArrayList<>();
        if (!faults.contains(Fault.IGNORES_RETRY)) {
          for (String ref : retry) {
            Long uid = uid(ref);
            if (uid != null && uid <= after) {
              found.add(headers(uid));
            }
          }
        }
        List<Long> fresh = new ArrayList<>(messages.tailMap(after, false).keySet());
        long last = after;
        for (long uid : fresh.subList(0, Math.min(max, fresh.size()))) {
          found.add(headers(uid));
          last = uid;
        }
        if (faults.contains(Fault.CURSOR_JUMPS_TO_NEWEST) && !messages.isEmpty()) {
          last = Math.max(after, messages.lastKey());
        }
        return new NewMessages(found, Long.toString(last), false, fresh.size() > max);
      }
    }

    @Override
    public List<RawMessage> fetchMessages(List<String> refs) {
      synchronized (FakeMailbox.this) {
        List<RawMessage> out = new ArrayList<>();
        for (String ref : refs) {
          Long uid = uid(ref);
          if (uid != null) {
            byte[] raw = messages.get(uid);
            out.add(new RawMessage(ref, raw.length, ContentSource.ofBytes(raw)));
          } else if (faults.contains(Fault.EMPTY_MESSAGE_FOR_REMOVED)) {
            out.add(new RawMessage(ref, 0, ContentSource.ofBytes(new byte[0])));
          }
        }
        return out;
      }
    }

    @Override
    public void dispose(Map<String, Disposition> dispositions) {
      // leaves every message in place
    }

    @Override
    public void close() {}
  }
}
