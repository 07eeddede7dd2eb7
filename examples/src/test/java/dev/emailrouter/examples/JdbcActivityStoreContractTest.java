package dev.emailrouter.examples;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.jdbc.JdbcActivityStore;
import dev.emailrouter.testkit.ActivityStoreContract;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;

/**
 * router-jdbc's store keeps the contract, on an in-memory H2 database per test; this is the fixture a
 * host writes for its own store (the README shows it).
 */
final class JdbcActivityStoreContractTest extends ActivityStoreContract {

  @Override
  protected Fixture newFixture() {
    JdbcDataSource dataSource = new JdbcDataSource();
    dataSource.setURL("jdbc:h2:mem:contract-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    JdbcActivityStore.createSchema(dataSource);
    JdbcActivityStore store = new JdbcActivityStore(dataSource);
    return new Fixture() {
      @Override
      public ActivityStore store() {
        return store;
      }

      @Override
      public ActivityStore storeOfAnotherEngine() {
        return new JdbcActivityStore(dataSource);
      }

      @Override
      public void addPending(OutgoingEmail email) {
        store.addPendingSend(email);
      }

      @Override
      public void addParty(String address, Party party) {
        store.addParty(address, party);
      }

      @Override
      public EmailStatus status(String activityId) {
        return store.status(activityId).orElseThrow(() -> new IllegalArgumentException("no activity " + activityId));
      }

      @Override
      public ReceivedActivity received(String activityId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement email = c.prepareStatement(
                 "SELECT subject, text_body, html_body FROM email_activity WHERE id = ?");
             PreparedStatement files = c.prepareStatement("SELECT file_name, content_type, size, content"
                 + " FROM email_attachment WHERE email_id = ? ORDER BY position")) {
          email.setString(1, activityId);
          files.setString(1, activityId);
          List<Attachment> attachments = new ArrayList<>();
          try (ResultSet rs = files.executeQuery()) {
            while (rs.next()) {
              attachments.add(new Attachment(rs.getString(1), rs.getString(2), rs.getLong(3),
                  ContentSource.ofBytes(rs.getBytes(4))));
            }
          }
          try (ResultSet rs = email.executeQuery()) {
            if (!rs.next()) {
              throw new IllegalArgumentException("no activity " + activityId);
            }
            return new ReceivedActivity(rs.getString(1), rs.getString(2), rs.getString(3), attachments);
          }
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      }

      @Override
      public void close() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
          st.execute("SHUTDOWN");
        }
      }
    };
  }
}
