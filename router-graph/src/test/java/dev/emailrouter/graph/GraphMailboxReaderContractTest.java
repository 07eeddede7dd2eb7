package dev.emailrouter.graph;

import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.testfixtures.FakeTokenSource;
import dev.emailrouter.testfixtures.MutableClock;
import dev.emailrouter.testkit.MailboxReaderContract;
import java.time.Instant;

/** The testkit's reader contract, against the Graph emulator. */
final class GraphMailboxReaderContractTest extends MailboxReaderContract {
  static final String MAILBOX = "sales@contoso.test";

  @Override
  protected Fixture newFixture() {
    GraphEmulator graph = new GraphEmulator("token-1");
    MutableClock clock = new MutableClock(Instant.parse("2030-01-07T10:00:00Z"));
    GraphMailboxReader reader = GraphMailboxReader.builder().baseUrl(graph.baseUrl()).mailbox(MAILBOX)
        .credentials(new FakeTokenSource("app", "token-1")).clock(clock).sleeper(clock::sleep).build();
    return new Fixture() {
      @Override
      public MailboxReader reader() {
        return reader;
      }

      @Override
      public void deliver(byte[] message) {
        graph.deliver(MAILBOX, "inbox", message);
      }

      @Override
      public void remove(String messageId) {
        graph.removeByMessageId(MAILBOX, messageId);
      }

      @Override
      public void close() {
        graph.close();
      }
    };
  }
}
