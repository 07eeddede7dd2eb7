package dev.emailrouter.testkit;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import java.util.EnumSet;
import java.util.Set;

/**
 * The store contract over {@link SimpleStore} with the faults {@link #faults} names; run through
 * the JUnit Platform test kit by {@link ActivityStoreContractTest}, never directly (its name does not
 * end in Test, so Surefire leaves it alone).
 */
class SimpleStoreContract extends ActivityStoreContract {

  /** The faults the next run's stores have; set before the run, read on the same thread. */
  static volatile Set<SimpleStore.Fault> faults = EnumSet.noneOf(SimpleStore.Fault.class);

  @Override
  protected Fixture newFixture() {
    SimpleStore store = new SimpleStore(faults);
    return new Fixture() {
      @Override
      public ActivityStore store() {
        return store;
      }

      @Override
      public void addPending(OutgoingEmail email) {
        store.add(email);
      }

      @Override
      public void addParty(String address, Party party) {
        store.addParty(address, party);
      }

      @Override
      public EmailStatus status(String activityId) {
        return store.status(activityId);
      }

      @Override
      public ReceivedActivity received(String activityId) {
        return store.received(activityId);
      }
    };
  }
}
