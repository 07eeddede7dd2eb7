package dev.emailrouter.jdbc;

import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.MessageHeaders;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A mailbox reader over a growing list of small messages, refs 1, 2, 3... like IMAP UIDs; the
 * cursor is the last ref handled. Counts its sessions open at once, to show two engines never read
 * it together. Thread-safe.
 */
final class ListMailbox implements MailboxReader {
  private final String name;
  private final List<String> messageIds = new ArrayList<>();
  final AtomicInteger openNow = new AtomicInteger();
  final AtomicInteger mostOpenAtOnce = new AtomicInteger();

  ListMailbox(String name) {
    this.name = name;
  }

  synchronized String add() {
    String id = "<" + name + "-" + (messageIds.size() + 1) + "@example.test>";
    messageIds.add(id);
    return id;
  }

  private synchronized List<String> ids() {
    return List.copyOf(messageIds);
  }

  private String raw(int ref) {
    return "From: Customer <customer@example.test>\r\nTo: sales@example.test\r\nSubject: Question " + ref
        + "\r\nMessage-ID: " + ids().get(ref - 1) + "\r\nDate: Mon, 7 Jan 2030 09:00:00 +0000\r\n\r\nHello.\r\n";
  }

  @Override
  public String describe() {
    return "list://" + name;
  }

  @Override
  public Session open() {
    mostOpenAtOnce.accumulateAndGet(openNow.incrementAndGet(), Math::max);
    return new Session() {
      @Override
      public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
        int last = cursor == null || cursor.isEmpty() ? 0 : Integer.parseInt(cursor);
        List<String> ids = ids();
        List<MessageHeaders> out = new ArrayList<>();
        for (String ref : retry) {
          int r = Integer.parseInt(ref);
          out.add(headers(r, ids));
        }
        int to = Math.min(ids.size(), last + max);
        for (int r = last + 1; r <= to; r++) {
          out.add(headers(r, ids));
        }
        return new NewMessages(out, Integer.toString(Math.max(last, to)), false, to < ids.size());
      }

      private MessageHeaders headers(int ref, List<String> ids) {
        return new MessageHeaders(Integer.toString(ref), raw(ref).length(), Instant.parse("2030-01-07T09:00:00Z"),
            Map.of("message-id", List.of(ids.get(ref - 1)), "from", List.of("Customer <customer@example.test>"),
                "to", List.of("sales@example.test"), "subject", List.of("Question " + ref)));
      }

      @Override
      public List<RawMessage> fetchMessages(List<String> refs) {
        List<RawMessage> out = new ArrayList<>();
        for (String ref : refs) {
          byte[] bytes = raw(Integer.parseInt(ref)).getBytes(StandardCharsets.US_ASCII);
          out.add(new RawMessage(ref, bytes.length, () -> new ByteArrayInputStream(bytes)));
        }
        return out;
      }

      @Override
      public void dispose(Map<String, Disposition> dispositions) {}

      @Override
      public void close() {
        openNow.decrementAndGet();
      }
    };
  }
}
