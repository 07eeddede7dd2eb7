package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Disposition;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.reliability.HostileCorpus.Sample;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded corpus of 288 hostile messages (36 kinds, see {@link HostileCorpus}) through the engine:
 * as exact bytes (a reader that changes nothing) into the JDBC and the in-memory store, and through
 * GreenMail over IMAP and POP3. No tick throws; every message gets exactly one outcome in the
 * reports (tracked, rejected with a reason, or quarantined after its attempts); no message gets two
 * activities; nothing is deleted that was not tracked; all but a handful are tracked, a part that
 * can't be decoded kept undecoded rather than failing its message. The seed is {@code -Dreliability.seed}
 * (default 20240301) and is printed on failure.
 */
final class HostileInputTest {
  static final long SEED = Long.getLong("reliability.seed", 20240301L);
  static final int PER_CATEGORY = 8;
  static final int MAX_TICKS = 8;
  /** At most this many of the 288 may end in quarantine (see {@link #assertOneOutcomeEach}). */
  static final int MAX_QUARANTINED = 5;

  @TempDir
  Path dir;

  private final MutableClock clock = new MutableClock();
  private final Outcomes outcomes = new Outcomes();

  @Test
  void tick_onTheCorpusAsExactBytesIntoTheJdbcStore_givesEveryMessageOneOutcome() {
    try (Crm crm = new Crm(dir)) {
      RawMailbox box = new RawMailbox("hostile");
      Map<String, Sample> byRef = fill(box);
      run(crm.store(), Mailbox.ofUser("user-1", box).withName("hostile"), byRef);

      assertOneOutcomeEach(byRef);
      assertThat(crm.receivedByKey().values()).as("rows per dedup key (seed %d)", SEED).allMatch(n -> n == 1);
      assertThat(crm.receivedCount()).isEqualTo(created());
      assertThat(box.dispositions()).as("post-action per message (seed %d)", SEED).hasSize(byRef.size());
      outcomes.byRef().forEach((ref, o) -> assertThat(box.dispositions().get(ref)).as("disposition of %s", ref)
          .isEqualTo(o.get(0).disposition()));
      record("exact bytes -> JdbcActivityStore (H2)", byRef);
    }
  }

  @Test
  void tick_onTheCorpusAsExactBytesIntoTheInMemoryStore_givesEveryMessageOneOutcome() {
    InMemoryActivityStore store = new InMemoryActivityStore();
    RawMailbox box = new RawMailbox("hostile");
    Map<String, Sample> byRef = fill(box);
    run(store, Mailbox.ofUser("user-1", box).withName("hostile"), byRef);

    assertOneOutcomeEach(byRef);
    assertThat(store.received()).hasSize(created());
    assertThat(box.dispositions()).hasSize(byRef.size());
    record("exact bytes -> InMemoryActivityStore", byRef);
  }

  @Test
  void tick_onTheCorpusThroughGreenMailImap_givesEveryMessageOneOutcomeAndMovesEachOnce() {
    try (World world = new World(dir).withGreenMail()) {
      Map<String, Sample> byRef = new LinkedHashMap<>();
      int refused = 0;
      for (Sample s : HostileCorpus.generate(SEED, PER_CATEGORY)) {
        try {
          byRef.put(Long.toString(world.deliverImap(s.raw())), s);
        } catch (RuntimeException e) {
          refused++; // GreenMail could not store it: it never reaches a reader
        }
      }
      World.Node node = world.node("node", new World.Options().smtp(false).imap()
          .engine(b -> b.listener(outcomes).maxMessageSize(64L * 1024 * 1024)));
      tickUntilDone(node::tick, byRef);

      assertOneOutcomeEach(byRef);
      assertThat(world.crm.receivedByKey().values()).allMatch(n -> n == 1);
      assertThat(world.imapFolder("Tracked").getMessageCount()).as("moved to Tracked (seed %d)", SEED)
          .isEqualTo((int) outcomes.count(Disposition.TRACKED));
      assertThat(world.imapFolder("Quarantine").getMessageCount()).as("moved to Quarantine (seed %d)", SEED)
          .isEqualTo((int) outcomes.count(Disposition.QUARANTINED));
      assertThat(world.imapFolder("INBOX").getMessageCount()).as("rejected, left in INBOX (seed %d)", SEED)
          .isEqualTo((int) outcomes.count(Disposition.REJECTED));
      record("GreenMail IMAP (" + refused + " refused by GreenMail at delivery)", byRef);
    }
  }

  @Test
  void tick_onTheCorpusThroughGreenMailPop3_givesEveryMessageOneOutcomeAndDeletesOnlyTrackedOnes() {
    try (World world = new World(dir).withGreenMail()) {
      Map<String, Sample> byRef = new LinkedHashMap<>();
      int refused = 0;
      for (Sample s : HostileCorpus.generate(SEED, PER_CATEGORY)) {
        try {
          byRef.put(Long.toString(world.deliverPop3(s.raw())), s);
        } catch (RuntimeException e) {
          refused++;
        }
      }
      World.Node node = world.node("node", new World.Options().smtp(false).pop3()
          .engine(b -> b.listener(outcomes).maxMessageSize(64L * 1024 * 1024)));
      tickUntilDone(node::tick, byRef);

      assertOneOutcomeEach(byRef);
      assertThat(world.crm.receivedByKey().values()).allMatch(n -> n == 1);
      int kept = (int) (outcomes.count(Disposition.REJECTED) + outcomes.count(Disposition.QUARANTINED));
      assertThat(world.pop3Count(kept)).as("rejected and quarantined stay on the server (seed %d)", SEED)
          .isEqualTo(kept);
      record("GreenMail POP3 (" + refused + " refused by GreenMail at delivery)", byRef);
    }
  }

  private Map<String, Sample> fill(RawMailbox box) {
    Map<String, Sample> byRef = new LinkedHashMap<>();
    for (Sample s : HostileCorpus.generate(SEED, PER_CATEGORY)) {
      byRef.put(box.add(s.raw()), s);
    }
    assertThat(byRef).hasSizeGreaterThanOrEqualTo(200);
    return byRef;
  }

  private void run(ActivityStore store, Mailbox mailbox, Map<String, Sample> byRef) {
    RouterEngine engine = RouterEngine.builder()
        .activityStore(store)
        .mailbox(mailbox)
        .trackingPolicy(TrackingPolicy.allEmail())
        .clock(clock)
        .listener(outcomes)
        .maxMessageSize(64L * 1024 * 1024)
        .mailboxRetryDelay(Duration.ofMinutes(1))
        .build();
    try (engine) {
      tickUntilDone(engine::tick, byRef);
    }
  }

  private void tickUntilDone(java.util.function.Supplier<TickReport> tick, Map<String, Sample> byRef) {
    for (int i = 0; i < MAX_TICKS && !byRef.keySet().stream().allMatch(outcomes::has); i++) {
      long start = System.nanoTime();
      TickReport report = tick.get(); // a throw here fails the test: tick() must never throw
      System.out.println("tick " + i + ": " + report + " in " + (System.nanoTime() - start) / 1_000_000 + " ms");
      assertThat(report).isNotNull();
      assertThat(report.events()).as("mailbox-level problems in tick %d (seed %d)", i, SEED)
          .noneMatch(e -> e instanceof RouterEvent.MailboxDisabled);
      clock.advance(Duration.ofMinutes(2));
    }
  }

  private void assertOneOutcomeEach(Map<String, Sample> byRef) {
    Map<String, List<Outcomes.Outcome>> all = outcomes.byRef();
    List<String> missing = new ArrayList<>();
    List<String> twice = new ArrayList<>();
    for (Map.Entry<String, Sample> e : byRef.entrySet()) {
      List<Outcomes.Outcome> o = all.get(e.getKey());
      if (o == null) {
        missing.add(e.getKey() + " (" + e.getValue().category() + ")");
      } else if (o.size() > 1) {
        twice.add(e.getKey() + " (" + e.getValue().category() + "): " + o);
      }
    }
    assertThat(missing).as("messages without an outcome (seed %d)", SEED).isEmpty();
    assertThat(twice).as("messages with more than one outcome (seed %d)", SEED).isEmpty();
    assertThat(all.keySet()).as("outcomes for messages never delivered (seed %d)", SEED).isSubsetOf(byRef.keySet());
    assertThat(outcomes.count(Disposition.TRACKED) + outcomes.count(Disposition.REJECTED)
        + outcomes.count(Disposition.QUARANTINED)).isEqualTo(byRef.size());
    // A bad part is kept undecoded rather than failing its message. When the parser's leniency was
    // asked for in Session properties (which Jakarta Mail reads only from System properties), 30 to
    // 36 of these were quarantined: broken and reused boundaries, bad base64, unknown encodings.
    // What may remain: the H2 schema's column limits (a 1,000-character Message-ID or file name).
    assertThat(outcomes.count(Disposition.QUARANTINED)).as("quarantined, of %d (seed %d): %s", byRef.size(), SEED,
        all.entrySet().stream().filter(e -> e.getValue().get(0).disposition() == Disposition.QUARANTINED)
            .map(e -> byRef.get(e.getKey()).category() + ": " + e.getValue().get(0).detail()).toList())
        .isLessThanOrEqualTo(MAX_QUARANTINED);
  }

  private int created() {
    return (int) outcomes.byRef().values().stream().flatMap(List::stream).filter(o -> o.detail().equals("created"))
        .count();
  }

  private void record(String scenario, Map<String, Sample> byRef) {
    Map<String, int[]> perCategory = new TreeMap<>();
    outcomes.byRef().forEach((ref, o) -> {
      int[] counts = perCategory.computeIfAbsent(byRef.get(ref).category(), k -> new int[3]);
      counts[o.get(0).disposition().ordinal()]++;
    });
    StringBuilder table = new StringBuilder();
    perCategory.forEach((category, c) -> table.append(String.format("%-55s tracked %3d  rejected %3d  quarantined %3d%n",
        category, c[0], c[1], c[2])));
    System.out.println(scenario + ", seed " + SEED + ":\n" + table);
    Figures.record(HostileInputTest.class, scenario, 0, byRef.size(), 0, 0, "tracked " + outcomes.count(Disposition.TRACKED)
        + ", rejected " + outcomes.count(Disposition.REJECTED) + ", quarantined " + outcomes.count(Disposition.QUARANTINED)
        + ", failed attempts " + outcomes.failedAttempts());
  }
}
