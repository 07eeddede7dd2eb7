package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingDecision.Reason;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.testfixtures.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Several engines on one in-memory lease table and checkpoint store: one reader per mailbox,
 * takeover after expiry, fenced checkpoints, no post-action after a loss, fair shares.
 */
final class MailboxLeasesTest {
  private static final Duration LEASE = Duration.ofSeconds(60);

  private final MutableClock clock = new MutableClock();
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final MailboxLeases leases = MailboxLeases.inMemory(clock);
  private final CheckpointStore checkpoints = CheckpointStore.inMemory();

  private RouterEngine.Builder node(String owner, List<FakeMailbox> mailboxes, TrackingPolicy policy) {
    RouterEngine.Builder b = RouterEngine.builder()
        .activityStore(store)
        .trackingPolicy(policy)
        .clock(clock)
        .random(new Random(owner.hashCode()))
        .checkpointStore(checkpoints)
        .mailboxLeases(leases)
        .mailboxLeaseDuration(LEASE)
        .leaseOwner(owner);
    for (FakeMailbox m : mailboxes) {
      b.mailbox(Mailbox.ofUser("user-1", m));
    }
    return b;
  }

  private RouterEngine node(String owner, List<FakeMailbox> mailboxes) {
    return node(owner, mailboxes, TrackingPolicy.allEmail()).build();
  }

  private static List<FakeMailbox> mailboxes(int count) {
    List<FakeMailbox> list = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      list.add(new FakeMailbox("box-" + i));
    }
    return list;
  }

  @Test
  void tick_ofTwoEngines_whileOneHoldsTheLease_onlyThatOneReadsTheMailbox() {
    FakeMailbox inbox = new FakeMailbox("shared");
    inbox.add(TestMail.message().build());
    // The first engine holds the lease as if in the middle of its pass.
    MailboxLeases.Lease held = leases.acquire("fake://shared", "node-a", LEASE).orElseThrow();
    RouterEngine b = node("node-b", List.of(inbox));

    TickReport report = b.tick();

    assertThat(report.events()).isEmpty();
    assertThat(inbox.opens()).isZero();

    leases.release(held); // node-a closed
    assertThat(b.tick().tracked()).hasSize(1);
    assertThat(inbox.opens()).isEqualTo(1);
  }

  @Test
  void tick_afterTheHolderDied_readsTheMailboxOnceItsLeaseExpired() {
    FakeMailbox inbox = new FakeMailbox("shared");
    inbox.add(TestMail.message().build());
    leases.liveOwners("node-a", LEASE);
    leases.acquire("fake://shared", "node-a", LEASE).orElseThrow(); // node-a dies holding it
    RouterEngine b = node("node-b", List.of(inbox));

    clock.advance(LEASE.minusSeconds(1));
    assertThat(b.tick().tracked()).isEmpty();
    clock.advance(Duration.ofSeconds(1));
    TickReport takeover = b.tick();

    assertThat(takeover.tracked()).hasSize(1);
    assertThat(leases.acquire("fake://shared", "node-c", LEASE)).isEmpty(); // node-b keeps it
    b.close();
    assertThat(leases.acquire("fake://shared", "node-c", LEASE)).get()
        .satisfies(l -> assertThat(l.fencingToken()).isEqualTo(3)); // a: 1, b: 2, then c
  }

  @Test
  void tick_whenTheLeaseIsTakenOverMidPass_runsNoPostActionAndSavesNoCheckpoint() {
    FakeMailbox inbox = new FakeMailbox("shared");
    inbox.add(TestMail.message().build());
    inbox.add(TestMail.message().build());
    AtomicInteger decided = new AtomicInteger();
    // While node-a decides on its messages, the pass outlives its lease and node-b takes it over.
    TrackingPolicy slow = (message, context) -> {
      if (decided.incrementAndGet() == 2) {
        clock.advance(LEASE.plusSeconds(1));
        assertThat(leases.acquire("fake://shared", "node-b", LEASE)).isPresent();
      }
      return TrackingDecision.track(Reason.ACCEPT_ALL, "all");
    };
    RouterEngine a = node("node-a", List.of(inbox), slow).build();

    TickReport report = a.tick();

    assertThat(report.events()).filteredOn(e -> e instanceof RouterEvent.MailboxLeaseLost).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.MailboxLeaseLost) e).fencingToken()).isEqualTo(1));
    assertThat(report.problems()).singleElement().isInstanceOf(RouterEvent.MailboxLeaseLost.class); // no MailboxFailed
    assertThat(inbox.disposeCalls()).isEmpty();
    assertThat(checkpoints.load("fake://shared")).isEmpty();
    assertThat(a.isMailboxDisabled("fake://shared")).isFalse();
  }

  @Test
  void tick_whenTheLeaseHoldsLongerThanHalfItsDuration_renewsItBeforeThePostActions() {
    FakeMailbox inbox = new FakeMailbox("shared");
    inbox.add(TestMail.message().build());
    TrackingPolicy slow = (message, context) -> {
      clock.advance(LEASE.dividedBy(2).plusSeconds(1)); // half the lease passes while deciding
      return TrackingDecision.track(Reason.ACCEPT_ALL, "all");
    };
    AtomicReference<Optional<MailboxLeases.Lease>> seenByOther = new AtomicReference<>();
    MailboxLeases spy = new MailboxLeases() {
      @Override
      public int liveOwners(String owner, Duration ttl) {
        return leases.liveOwners(owner, ttl);
      }

      @Override
      public Optional<Lease> acquire(String mailbox, String owner, Duration duration) {
        return leases.acquire(mailbox, owner, duration);
      }

      @Override
      public Optional<Lease> renew(Lease lease, Duration duration) {
        Optional<Lease> renewed = leases.renew(lease, duration);
        // Renewed for a full period from now: another node could not take it even past the first expiry.
        clock.advance(LEASE.dividedBy(2));
        seenByOther.set(leases.acquire(lease.mailbox(), "node-b", duration));
        return renewed;
      }

      @Override
      public void release(Lease lease) {
        leases.release(lease);
      }
    };
    RouterEngine renewing = node("node-a", List.of(inbox), slow).mailboxLeases(spy).build();

    TickReport report = renewing.tick();

    assertThat(seenByOther.get()).isEmpty();
    assertThat(report.tracked()).hasSize(1);
    assertThat(inbox.dispositions()).containsValue(Disposition.TRACKED);
    assertThat(checkpoints.load("fake://shared")).isPresent();
  }

  @Test
  void save_fencedByAnOlderToken_isRefused_andTheNewerCheckpointStands() {
    MailboxCheckpoint newer = new MailboxCheckpoint("1:20", java.util.Map.of());
    MailboxCheckpoint stale = new MailboxCheckpoint("1:10", java.util.Map.of());

    assertThat(checkpoints.save("m", newer, 2)).isTrue();
    assertThat(checkpoints.save("m", stale, 1)).isFalse();
    checkpoints.save("m", newer); // an unfenced write keeps the token: the stale one still loses

    assertThat(checkpoints.save("m", stale, 1)).isFalse();
    assertThat(checkpoints.load("m")).contains(newer);
  }

  @Test
  void tick_whenAStaleOwnersCheckpointWriteIsRefused_stopsWithLeaseLost() {
    FakeMailbox inbox = new FakeMailbox("shared");
    inbox.add(TestMail.message().build());
    // node-b took the mailbox over and wrote under a newer token while node-a still believed in its lease.
    CheckpointStore fencedAhead = new CheckpointStore() {
      @Override
      public Optional<MailboxCheckpoint> load(String mailbox) {
        return checkpoints.load(mailbox);
      }

      @Override
      public void save(String mailbox, MailboxCheckpoint checkpoint) {
        checkpoints.save(mailbox, checkpoint);
      }

      @Override
      public boolean save(String mailbox, MailboxCheckpoint checkpoint, long fencingToken) {
        checkpoints.save(mailbox, new MailboxCheckpoint("1:99", java.util.Map.of()), fencingToken + 1);
        return checkpoints.save(mailbox, checkpoint, fencingToken);
      }
    };
    RouterEngine a = node("node-a", List.of(inbox), TrackingPolicy.allEmail()).checkpointStore(fencedAhead).build();

    TickReport report = a.tick();

    assertThat(report.events()).filteredOn(e -> e instanceof RouterEvent.MailboxLeaseLost).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.MailboxLeaseLost) e).reason()).contains("refused"));
    assertThat(checkpoints.load("fake://shared")).contains(new MailboxCheckpoint("1:99", java.util.Map.of()));
  }

  @Test
  void tick_ofThreeEngines_eachReadsAboutAThirdOfTheMailboxes_andTogetherAll() {
    List<FakeMailbox> boxes = mailboxes(30);
    for (FakeMailbox m : boxes) {
      m.add(TestMail.message().build());
    }
    // Each engine announces itself on its first tick; all three are known before anyone reads.
    MailboxLeases fresh = MailboxLeases.inMemory(clock);
    fresh.liveOwners("a", LEASE);
    fresh.liveOwners("b", LEASE);
    fresh.liveOwners("c", LEASE);
    List<RouterEngine> fair = new ArrayList<>();
    for (String owner : List.of("a", "b", "c")) {
      fair.add(node(owner, boxes, TrackingPolicy.allEmail()).mailboxLeases(fresh).build());
    }

    Set<String> readThisRound = new HashSet<>();
    List<Integer> perNode = new ArrayList<>();
    for (RouterEngine n : fair) {
      TickReport r = n.tick();
      perNode.add(r.tracked().size());
      r.tracked().forEach(t -> readThisRound.add(t.mailbox()));
    }

    assertThat(perNode).containsExactly(10, 10, 10);
    assertThat(readThisRound).hasSize(30);
    assertThat(store.received().size()).isEqualTo(30);

    // The next round: each engine keeps its leases and reads the same mailboxes again.
    for (FakeMailbox m : boxes) {
      m.add(TestMail.message().build());
    }
    clock.advance(Duration.ofSeconds(30));
    Set<String> secondRound = new HashSet<>();
    for (int i = 0; i < fair.size(); i++) {
      TickReport r = fair.get(i).tick();
      assertThat(r.tracked()).hasSize(10);
      r.tracked().forEach(t -> secondRound.add(t.mailbox()));
    }
    assertThat(secondRound).hasSize(30);
  }

  @Test
  void tick_whenAThirdEngineJoins_theOthersGiveUpTheirExtraLeases_andItTakesItsShare() {
    List<FakeMailbox> boxes = mailboxes(30);
    RouterEngine a = node("a", boxes);
    RouterEngine b = node("b", boxes);
    a.tick(); // alone: a takes all 30
    b.tick(); // two live owners now: b takes nothing yet, a holds all
    clock.advance(Duration.ofSeconds(30));
    a.tick(); // a gives up 15
    b.tick(); // b takes them
    RouterEngine c = node("c", boxes);
    clock.advance(Duration.ofSeconds(30));
    c.tick(); // c announces itself, finds nothing free
    a.tick();
    b.tick(); // a and b keep 10 each
    c.tick(); // c takes the 10 freed
    for (FakeMailbox m : boxes) {
      m.add(TestMail.message().build());
    }
    clock.advance(Duration.ofSeconds(30));

    List<Integer> perNode = new ArrayList<>();
    Set<String> read = new HashSet<>();
    for (RouterEngine n : List.of(a, b, c)) {
      TickReport r = n.tick();
      perNode.add(r.tracked().size());
      r.tracked().forEach(t -> read.add(t.mailbox()));
    }

    assertThat(perNode).containsExactly(10, 10, 10);
    assertThat(read).hasSize(30);
  }

  @Test
  void tick_whenTheLeaseStoreIsDown_stopsReadingWithOneEvent_andCountsNothingAgainstTheMailbox() {
    FakeMailbox inbox = new FakeMailbox("shared");
    inbox.add(TestMail.message().build());
    AtomicInteger calls = new AtomicInteger();
    MailboxLeases down = new MailboxLeases() {
      @Override
      public int liveOwners(String owner, Duration ttl) {
        calls.incrementAndGet();
        throw new TransientRouterException("connection refused");
      }

      @Override
      public Optional<Lease> acquire(String mailbox, String owner, Duration duration) {
        throw new TransientRouterException("connection refused");
      }

      @Override
      public Optional<Lease> renew(Lease lease, Duration duration) {
        throw new TransientRouterException("connection refused");
      }

      @Override
      public void release(Lease lease) {}
    };
    RouterEngine a = node("node-a", List.of(inbox), TrackingPolicy.allEmail()).mailboxLeases(down).build();

    TickReport first = a.tick();
    TickReport second = a.tick();

    assertThat(first.events()).singleElement().isInstanceOf(RouterEvent.MailboxStateUnavailable.class);
    assertThat(second.events()).isEmpty(); // backed off: not called, not reported again
    assertThat(calls).hasValue(1);
    assertThat(inbox.opens()).isZero();
    assertThat(a.isMailboxDisabled("fake://shared")).isFalse();
  }

  @Test
  void tick_whenTheCheckpointStoreFailsMidPass_stopsWithNothingLost_andReadsTheBatchAgainLater() {
    FakeMailbox inbox = new FakeMailbox("shared");
    inbox.add(TestMail.message().build());
    AtomicInteger failSaves = new AtomicInteger(1);
    CheckpointStore flaky = new CheckpointStore() {
      @Override
      public Optional<MailboxCheckpoint> load(String mailbox) {
        return checkpoints.load(mailbox);
      }

      @Override
      public void save(String mailbox, MailboxCheckpoint checkpoint) {
        checkpoints.save(mailbox, checkpoint);
      }

      @Override
      public boolean save(String mailbox, MailboxCheckpoint checkpoint, long fencingToken) {
        if (failSaves.getAndDecrement() > 0) {
          throw new TransientRouterException("the database went away");
        }
        return checkpoints.save(mailbox, checkpoint, fencingToken);
      }
    };
    RouterEngine a = node("node-a", List.of(inbox), TrackingPolicy.allEmail()).checkpointStore(flaky)
        .retryDelay(Duration.ofMinutes(1)).build();

    TickReport first = a.tick();
    clock.advance(Duration.ofMinutes(2));
    TickReport second = a.tick();

    assertThat(first.events()).filteredOn(e -> e instanceof RouterEvent.MailboxStateUnavailable).singleElement()
        .satisfies(e -> assertThat(((RouterEvent.MailboxStateUnavailable) e).mailbox()).isEqualTo("fake://shared"));
    assertThat(first.events()).noneMatch(e -> e instanceof RouterEvent.MailboxFailed);
    assertThat(checkpoints.load("fake://shared")).isPresent();
    assertThat(second.rejected()).extracting(r -> r.decision().reason()).containsExactly(Reason.DUPLICATE);
    assertThat(store.received().size()).isEqualTo(1);
    // The engine keeps its lease between ticks, and gives it up when it is closed.
    assertThat(leases.acquire("fake://shared", "node-b", LEASE)).isEmpty();
    a.close();
    assertThat(leases.acquire("fake://shared", "node-b", LEASE)).isPresent();
  }

  @Test
  void builder_refusesALeaseDurationOutOfRange_namingTheSetting() {
    assertThatThrownBy(() -> RouterEngine.builder().mailboxLeaseDuration(Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("mailboxLeaseDuration must be between 2 seconds and 1 day, was PT1S");
    assertThatThrownBy(() -> RouterEngine.builder().leaseOwner("a\nb"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("leaseOwner must be 1 to 200 characters");
  }

  @Test
  void tick_ofTwoEnginesReadingInParallel_eachTakesItsShare_andTogetherReadEveryMailboxOnce() {
    List<FakeMailbox> boxes = mailboxes(8);
    for (FakeMailbox m : boxes) {
      m.add(TestMail.message().build());
    }
    leases.liveOwners("a", LEASE);
    leases.liveOwners("b", LEASE);
    RouterEngine a = node("a", boxes, TrackingPolicy.allEmail()).mailboxParallelism(4).build();
    RouterEngine b = node("b", boxes, TrackingPolicy.allEmail()).mailboxParallelism(4).build();

    TickReport first = a.tick();
    TickReport second = b.tick();

    assertThat(first.tracked()).hasSize(4);
    assertThat(second.tracked()).hasSize(4);
    assertThat(store.received()).hasSize(8);
    assertThat(boxes).allSatisfy(m -> assertThat(m.opens()).isEqualTo(1));
    a.close();
    b.close();
  }
}
