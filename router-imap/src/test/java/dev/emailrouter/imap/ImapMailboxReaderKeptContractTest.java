package dev.emailrouter.imap;

import dev.emailrouter.testkit.MailboxReaderContract;
import java.time.Duration;

/**
 * ImapMailboxReader keeps the reader contract with {@code keepConnection} too, where every session
 * after the first runs on the connection the previous one left, against GreenMail's IMAP server.
 */
final class ImapMailboxReaderKeptContractTest extends MailboxReaderContract {

  @Override
  protected Fixture newFixture() {
    return ImapMailboxReaderContractTest.fixture(b -> b.keepConnection(Duration.ofMinutes(5)));
  }
}
