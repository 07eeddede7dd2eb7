package dev.emailrouter.api;

import java.util.List;
import java.util.Optional;

/** A {@link PolicyContext} with fixed answers that counts how often each lookup was asked for. */
final class FakePolicyContext implements PolicyContext {

  private Correlation correlation;
  private List<Party> senderParties = List.of();
  private List<Party> recipientParties = List.of();
  private boolean internal;
  private Party owner = new Party(Party.Type.QUEUE, "queue-1", "Sales");

  int correlationCalls;
  int senderPartiesCalls;
  int recipientPartiesCalls;
  int isInternalCalls;
  int ownerCalls;

  FakePolicyContext correlatedTo(String activityId) {
    correlation = new Correlation(activityId, Correlation.Rule.IN_REPLY_TO, "<" + activityId + "@crm.example.com>");
    return this;
  }

  FakePolicyContext sender(Party... parties) {
    senderParties = List.of(parties);
    return this;
  }

  FakePolicyContext recipients(Party... parties) {
    recipientParties = List.of(parties);
    return this;
  }

  FakePolicyContext internal() {
    internal = true;
    return this;
  }

  int lookups() {
    return correlationCalls + senderPartiesCalls + recipientPartiesCalls + isInternalCalls + ownerCalls;
  }

  @Override
  public Optional<Correlation> correlation() {
    correlationCalls++;
    return Optional.ofNullable(correlation);
  }

  @Override
  public List<Party> senderParties() {
    senderPartiesCalls++;
    return senderParties;
  }

  @Override
  public List<Party> recipientParties() {
    recipientPartiesCalls++;
    return recipientParties;
  }

  @Override
  public boolean isInternal() {
    isInternalCalls++;
    return internal;
  }

  @Override
  public Party owner() {
    ownerCalls++;
    return owner;
  }
}
