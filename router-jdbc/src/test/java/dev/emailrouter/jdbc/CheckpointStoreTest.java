package dev.emailrouter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.core.MailboxCheckpoint;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** JdbcCheckpointStore keeps each mailbox's checkpoint in its table, across restarts, on both databases. */
final class CheckpointStoreTest {

  private static TestPool database(String kind) {
    TestPool pool = kind.equals("postgresql") ? TestDatabases.postgres() : TestDatabases.h2();
    JdbcCheckpointStore.createSchema(pool);
    return pool;
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void load_ofAMailboxNeverSaved_isEmpty(String kind) throws SQLException {
    try (TestPool pool = database(kind)) {
      assertThat(new JdbcCheckpointStore(pool).load("imap://user@mail.example.test/INBOX")).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void save_thenLoad_returnsTheCheckpoint_andTheLatestSaveWins(String kind) throws SQLException {
    try (TestPool pool = database(kind)) {
      JdbcCheckpointStore store = new JdbcCheckpointStore(pool);
      String mailbox = "imap://user@mail.example.test/INBOX";
      store.save(mailbox, new MailboxCheckpoint("uidvalidity=7;uid=41", Map.of("uid:40", 1)));
      store.save(mailbox, new MailboxCheckpoint("uidvalidity=7;uid=42", Map.of("uid:40", 2, "uid:12", 1)));
      store.save("pop3://other@mail.example.test", new MailboxCheckpoint("uidl=abc", Map.of()));

      assertThat(store.load(mailbox))
          .contains(new MailboxCheckpoint("uidvalidity=7;uid=42", Map.of("uid:40", 2, "uid:12", 1)));
      assertThat(store.load("pop3://other@mail.example.test")).contains(new MailboxCheckpoint("uidl=abc", Map.of()));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgresql", "h2"})
  void aRestartedEngine_findsTheCheckpointsItsPredecessorSaved(String kind) throws SQLException {
    try (TestPool pool = database(kind)) {
      // Names of any length and characters, as hosts make them; references with quotes and newlines.
      String mailbox = "imap://" + "very-long-user-name.".repeat(40) + "@mail.example.test:993/Posteingang/Ü \"x\"";
      MailboxCheckpoint saved = new MailboxCheckpoint("cursor with \"quotes\"\nand a newline 😀",
          Map.of("<odd\"ref\n@example.test>", 3));
      new JdbcCheckpointStore(pool).save(mailbox, saved);

      JdbcCheckpointStore restarted = new JdbcCheckpointStore(pool);

      assertThat(restarted.load(mailbox)).contains(saved);
    }
  }
}
