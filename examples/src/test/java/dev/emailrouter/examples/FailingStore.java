package dev.emailrouter.examples;

import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.testfixtures.ForwardingActivityStore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link InMemoryActivityStore} whose {@code createReceived} fails for one Message-ID, as a CRM
 * that chokes on one message does: a permanent failure tied to that message (a transient one would
 * mean the whole CRM is down, which the engine handles as an outage). Thread-safe.
 */
final class FailingStore extends ForwardingActivityStore {
  private final String poisonMessageId;
  private final AtomicInteger failures = new AtomicInteger();

  FailingStore(InMemoryActivityStore delegate, String poisonMessageId) {
    super(delegate);
    this.poisonMessageId = poisonMessageId;
  }

  int failures() {
    return failures.get();
  }

  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    if (poisonMessageId.equals(email.messageId())) {
      failures.incrementAndGet();
      throw new PermanentRouterException("CRM refused message " + email.messageId() + ": field too long");
    }
    return super.createReceived(email);
  }
}
