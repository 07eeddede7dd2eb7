package dev.emailrouter.core;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.testkit.ActivityStoreContract;
import java.util.Optional;

/** The reference store keeps the contract every store must keep. */
final class InMemoryActivityStoreContractTest extends ActivityStoreContract {

  @Override
  protected Fixture newFixture() {
    InMemoryActivityStore store = new InMemoryActivityStore();
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
        return store.find(activityId).map(InMemoryActivityStore.StoredEmail::status)
            .or(() -> receivedEmail(activityId).map(e -> EmailStatus.RECEIVED))
            .orElseThrow(() -> new IllegalArgumentException("no activity " + activityId));
      }

      @Override
      public ReceivedActivity received(String activityId) {
        ReceivedEmail e = receivedEmail(activityId)
            .orElseThrow(() -> new IllegalArgumentException("no received activity " + activityId));
        return new ReceivedActivity(e.subject(), e.textBody(), e.htmlBody(), e.attachments());
      }

      private Optional<ReceivedEmail> receivedEmail(String activityId) {
        return store.received().stream()
            .filter(e -> store.receivedActivityId(e.dedupKey()).orElse("").equals(activityId))
            .findFirst();
      }
    };
  }
}
