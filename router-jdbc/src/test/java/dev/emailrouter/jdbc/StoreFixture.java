package dev.emailrouter.jdbc;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.testkit.ActivityStoreContract;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The contract's fixture over a new database: the store, a second engine's store, and read-backs in SQL. */
final class StoreFixture implements ActivityStoreContract.Fixture, AutoCloseable {
  private final TestPool pool;
  private final JdbcActivityStore store;

  StoreFixture(TestPool pool) {
    this.pool = pool;
    JdbcActivityStore.createSchema(pool);
    this.store = new JdbcActivityStore(pool);
  }

  TestPool pool() {
    return pool;
  }

  @Override
  public JdbcActivityStore store() {
    return store;
  }

  @Override
  public ActivityStore storeOfAnotherEngine() {
    return new JdbcActivityStore(pool);
  }

  @Override
  public void addPending(OutgoingEmail email) {
    store.addPendingSend(email);
  }

  /**
   * Queues {@code perSender} emails from each of {@code senders} senders ({@code
   * sender<s>@example.test}, activity {@code e-<s>-<i>}), the senders' emails interleaved.
   */
  void addQueue(int senders, int perSender) {
    for (int i = 0; i < perSender; i++) {
      for (int s = 0; s < senders; s++) {
        addPending(OutgoingEmail.builder("e-" + s + "-" + i, EmailAddress.of("sender" + s + "@example.test"))
            .to(EmailAddress.of("customer@example.test")).subject("Subject " + i).textBody("Body\r\n").build());
      }
    }
  }

  @Override
  public void addParty(String address, Party party) {
    store.addParty(address, party);
  }

  @Override
  public EmailStatus status(String activityId) {
    return store.status(activityId).orElseThrow(() -> new AssertionError("no activity " + activityId));
  }

  @Override
  public ActivityStoreContract.ReceivedActivity received(String activityId) {
    try (Connection c = pool.getConnection()) {
      String subject;
      String text;
      String html;
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT subject, text_body, html_body FROM email_activity WHERE id = ? AND status_code = 4")) {
        ps.setString(1, activityId);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new AssertionError("no received activity " + activityId);
          }
          subject = rs.getString(1);
          text = rs.getString(2);
          html = rs.getString(3);
        }
      }
      List<Attachment> attachments = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT file_name, content_type, size, content"
          + " FROM email_attachment WHERE email_id = ? ORDER BY position")) {
        ps.setString(1, activityId);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            attachments.add(new Attachment(rs.getString(1), rs.getString(2), rs.getLong(3),
                ContentSource.ofBytes(rs.getBytes(4))));
          }
        }
      }
      return new ActivityStoreContract.ReceivedActivity(subject, text, html, attachments);
    } catch (SQLException e) {
      throw new AssertionError("reading received activity " + activityId + " failed", e);
    }
  }

  @Override
  public void close() throws SQLException {
    pool.close();
  }
}
