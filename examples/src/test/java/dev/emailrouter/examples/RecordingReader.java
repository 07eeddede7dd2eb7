package dev.emailrouter.examples;

import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.NewMessages;
import dev.emailrouter.api.RawMessage;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Wraps a real {@link MailboxReader} and records which messages the engine downloaded whole, so a
 * test can tell that a message was decided on its headers alone. Thread-safe.
 */
final class RecordingReader implements MailboxReader {
  private final MailboxReader delegate;
  private final List<String> downloaded = new CopyOnWriteArrayList<>();

  RecordingReader(MailboxReader delegate) {
    this.delegate = delegate;
  }

  /** The references passed to {@code fetchMessages}, in order. */
  List<String> downloaded() {
    return List.copyOf(downloaded);
  }

  @Override
  public String describe() {
    return delegate.describe();
  }

  @Override
  public Session open() {
    Session session = delegate.open();
    return new Session() {
      @Override
      public NewMessages fetchNew(String cursor, Set<String> retry, int max) {
        return session.fetchNew(cursor, retry, max);
      }

      @Override
      public List<RawMessage> fetchMessages(List<String> refs) {
        downloaded.addAll(refs);
        return session.fetchMessages(refs);
      }

      @Override
      public void dispose(Map<String, Disposition> dispositions) {
        session.dispose(dispositions);
      }

      @Override
      public void close() {
        session.close();
      }
    };
  }
}
