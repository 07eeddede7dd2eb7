package dev.emailrouter.testkit;

import dev.emailrouter.api.MailboxReader;
import java.util.EnumSet;
import java.util.Set;

/** The reader contract over {@link FakeMailbox}; run through the JUnit Platform test kit only. */
class FakeMailboxContract extends MailboxReaderContract {

  /** The faults the next run's readers have; set before the run. */
  static volatile Set<FakeMailbox.Fault> faults = EnumSet.noneOf(FakeMailbox.Fault.class);

  @Override
  protected Fixture newFixture() {
    FakeMailbox mailbox = new FakeMailbox(faults);
    return new Fixture() {
      @Override
      public MailboxReader reader() {
        return mailbox;
      }

      @Override
      public void deliver(byte[] message) {
        mailbox.deliver(message);
      }

      @Override
      public void remove(String messageId) {
        mailbox.remove(messageId);
      }
    };
  }
}
