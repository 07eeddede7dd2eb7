package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.CheckpointStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.MailboxCheckpoint;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three engines, as three nodes of one host, read the same mailboxes through one database under
 * JdbcMailboxLeases: every message tracked once, a dead node's mailboxes taken over once its leases
 * expire, no checkpoint moved back.
 */
final class SeveralNodesTest {
  private static final int MAILBOXES = 12;

  /** Every fenced checkpoint write that was taken, per mailbox: token and cursor. */
  private final Map<String, List<long[]>> writes = new ConcurrentHashMap<>();

  private CheckpointStore recording(CheckpointStore target) {
    return new CheckpointStore() {
      @Override
      public Optional<MailboxCheckpoint> load(String mailbox) {
        return target.load(mailbox);
      }

      @Override
      public void save(String mailbox, MailboxCheckpoint checkpoint) {
        throw new AssertionError("an engine under leases must write fenced");
      }

      @Override
      public boolean save(String mailbox, MailboxCheckpoint checkpoint, long fencingToken) {
        boolean saved = target.save(mailbox, checkpoint, fencingToken);
        if (saved) {
          writes.computeIfAbsent(mailbox, k -> new CopyOnWriteArrayList<>())
              .add(new long[] {fencingToken, Long.parseLong(checkpoint.cursor())});
        }
        return saved;
      }
    };
  }

  private RouterEngine node(TestPool pool, String owner, List<ListMailbox> boxes) {
    return node(pool, owner, boxes, java.time.Clock.systemUTC());
  }

  private RouterEngine node(TestPool pool, String owner, List<ListMailbox> boxes, java.time.Clock clock) {
    RouterEngine.Builder b = RouterEngine.builder()
        .clock(clock)
        .activityStore(new JdbcActivityStore(pool))
        .checkpointStore(recording(new JdbcCheckpointStore(pool)))
        .mailboxLeases(new JdbcMailboxLeases(pool))
        .mailboxLeaseDuration(Duration.ofSeconds(30))
        .leaseOwner(owner)
        .trackingPolicy(TrackingPolicy.allEmail())
        .maxMessagesPerMailbox(5);
    for (ListMailbox m : boxes) {
      b.mailbox(Mailbox.ofQueue("queue-1", m));
    }
    return b.build();
  }

  private static TestPool database(String kind) {
    TestPool pool = kind.equals("postgresql") ? TestDatabases.postgres() : TestDatabases.h2();
    JdbcActivityStore.createSchema(pool);
    JdbcCheckpointStore.createSchema(pool);
    JdbcMailboxLeases.createSchema(pool);
    return pool;
  }

  private static void expireLeasesOf(TestPool pool, String owner) throws SQLException {
    try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
      st.executeUpdate("UPDATE router_mailbox_lease SET expires_at = CURRENT_TIMESTAMP WHERE owner = '" + owner + "'");
      st.executeUpdate("UPDATE router_lease_owner SET expires_at = CURRENT_TIMESTAMP WHERE owner = '" + owner + "'");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void threeNodes_tickingAtOnce_trackEveryMessageOnce_andOneNodeDyingLeavesNothingUnread(String kind)
      throws Exception {
    try (TestPool pool = database(kind)) {
      List<ListMailbox> boxes = new ArrayList<>();
      for (int i = 0; i < MAILBOXES; i++) {
        boxes.add(new ListMailbox("box" + i));
      }
      Set<String> sent = ConcurrentHashMap.newKeySet();
      List<RouterEngine> nodes = List.of(node(pool, "node-a", boxes), node(pool, "node-b", boxes),
          node(pool, "node-c", boxes));
      Map<String, AtomicInteger> created = new ConcurrentHashMap<>();
      ExecutorService threads = Executors.newFixedThreadPool(3);
      try {
        for (int round = 0; round < 8; round++) {
          for (ListMailbox m : boxes) {
            sent.add(m.add());
            sent.add(m.add());
          }
          boolean aDead = round >= 4;
          if (round == 4) {
            expireLeasesOf(pool, "node-a"); // node-a died after round 3: its leases run out
          }
          int r = round;
          List<Future<TickReport>> ticks = new ArrayList<>();
          for (int n = aDead ? 1 : 0; n < nodes.size(); n++) {
            RouterEngine node = nodes.get(n);
            ticks.add(threads.submit(node::tick));
          }
          for (Future<TickReport> f : ticks) {
            TickReport report = f.get(60, TimeUnit.SECONDS);
            assertThat(report.problems()).as("round %d", r).isEmpty();
            for (RouterEvent.MessageTracked t : report.tracked()) {
              if (t.created()) {
                created.computeIfAbsent(t.messageId(), k -> new AtomicInteger()).incrementAndGet();
              }
            }
          }
        }
        // Two more rounds without new mail for the survivors to catch up (5 messages per mailbox per tick).
        for (int round = 0; round < 2; round++) {
          for (int n = 1; n < nodes.size(); n++) {
            for (RouterEvent.MessageTracked t : nodes.get(n).tick().tracked()) {
              if (t.created()) {
                created.computeIfAbsent(t.messageId(), k -> new AtomicInteger()).incrementAndGet();
              }
            }
          }
        }
      } finally {
        threads.shutdownNow();
      }

      assertThat(created.keySet()).containsExactlyInAnyOrderElementsOf(sent);
      assertThat(created.values()).allSatisfy(c -> assertThat(c.get()).as("activities created per message").isEqualTo(1));
      assertThat(boxes).allSatisfy(m -> assertThat(m.mostOpenAtOnce.get()).as("engines reading %s at once",
          m.describe()).isEqualTo(1));
      assertThat(writes.keySet()).hasSize(MAILBOXES);
      writes.forEach((mailbox, list) -> {
        List<long[]> byToken = new ArrayList<>(list);
        byToken.sort((x, y) -> Long.compare(x[0], y[0]));
        for (int i = 1; i < byToken.size(); i++) {
          assertThat(byToken.get(i)[1]).as("checkpoint of %s after a write under token %d", mailbox,
              byToken.get(i - 1)[0]).isGreaterThanOrEqualTo(byToken.get(i - 1)[1]);
        }
      });
      for (RouterEngine n : nodes) {
        n.close();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void aNodeWhoseClockIsAnHourAhead_takesNoLeaseAnotherNodeHolds(String kind) throws Exception {
    try (TestPool pool = database(kind)) {
      List<ListMailbox> boxes = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        boxes.add(new ListMailbox("box" + i));
        boxes.get(i).add();
      }
      RouterEngine a = node(pool, "node-a", boxes);
      RouterEngine ahead = node(pool, "node-ahead", boxes,
          java.time.Clock.offset(java.time.Clock.systemUTC(), Duration.ofHours(1)));

      TickReport first = a.tick(); // alone: takes all four
      TickReport skewed = ahead.tick(); // an hour ahead by its own clock: the database says they are held
      a.tick(); // two live now: node-a gives up two
      for (ListMailbox m : boxes) {
        m.add();
      }
      TickReport shared = ahead.tick();

      assertThat(first.tracked()).hasSize(4);
      assertThat(skewed.tracked()).isEmpty();
      assertThat(shared.tracked()).hasSize(2);
      assertThat(boxes).allSatisfy(m -> assertThat(m.mostOpenAtOnce.get()).isEqualTo(1));
      a.close();
      ahead.close();
    }
  }
}
