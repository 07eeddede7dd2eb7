package dev.emailrouter.testkit;

import dev.emailrouter.api.MailTransport;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** The transport contract over {@link FakeTransport}; run through the JUnit Platform test kit only. */
class FakeTransportContract extends MailTransportContract {

  /** The faults the next run's transports have; set before the run. */
  static volatile Set<FakeTransport.Fault> faults = EnumSet.noneOf(FakeTransport.Fault.class);

  @Override
  protected Fixture newFixture() {
    FakeTransport transport = new FakeTransport(faults);
    return new Fixture() {
      @Override
      public MailTransport transport() {
        return transport;
      }

      @Override
      public List<byte[]> receivedBy(String address) {
        return transport.receivedBy(address);
      }
    };
  }
}
