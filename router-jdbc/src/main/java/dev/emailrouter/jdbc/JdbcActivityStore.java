package dev.emailrouter.jdbc;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.DeliveryReport;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailIdentity;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.api.TransientRouterException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * A ready {@link ActivityStore} over router-jdbc's own email tables, for a host that has no email
 * tables yet: PostgreSQL (12 or later) first, H2 2.x for embedded use.
 *
 * <pre>{@code
 * JdbcActivityStore.createSchema(dataSource);             // once: runs V2__email.sql (idempotent)
 * JdbcActivityStore store = new JdbcActivityStore(dataSource);
 * store.addPendingSend(email);                            // what the CRM does when a user clicks Send
 * RouterEngine engine = RouterEngine.builder().activityStore(store)...build();
 * }</pre>
 *
 * <p>The schema is in {@code dev/emailrouter/jdbc/postgresql/V2__email.sql} (and {@code h2/}) in
 * this jar: {@code email_activity} (status codes as Dynamics' {@code statuscode}), {@code
 * email_activity_party} (recipients, with a per-recipient outcome), {@code email_attachment}, {@code
 * email_party_address} (the CRM records addresses belong to) and {@code router_schema_version}.
 *
 * <p>How the contract holds across engines and processes: on PostgreSQL a claim is one statement
 * that locks the rows it takes with {@code FOR UPDATE SKIP LOCKED}, so concurrent claimants take
 * disjoint rows without waiting for each other; on H2 claims are serialised by a row lock. Every
 * later change is {@code UPDATE ... WHERE id = ? AND status_code = 7 AND claim_token = ?}, so a stale
 * claimant changes nothing and gets {@link StaleClaimException} (fencing). {@link #createReceived}
 * relies on a unique key over a digest of the dedup key. Every method commits before it returns.
 * A database that is unavailable or busy (connection lost, deadlock, shutting down) becomes a
 * {@link TransientRouterException}, which the engine treats as a CRM outage: it stops and retries
 * later, counting nothing against any message. A statement the database refuses for its values
 * becomes a {@link PermanentRouterException}, counted against that one message or email. Text from
 * incoming mail is stored with U+0000 replaced by U+FFFD (PostgreSQL can't hold it).
 *
 * <p>Thread-safe: each call borrows its own connection from the {@link DataSource} (use a pool).
 * Immutable once built.
 */
public final class JdbcActivityStore implements ActivityStore {
  private static final String COMPONENT = "email";
  private static final List<String> TABLES =
      List.of("email_activity", "email_activity_party", "email_attachment", "email_party_address",
          "email_delivery_report");
  private static final int PENDING_SEND = EmailStatus.PENDING_SEND.code();
  private static final int SENDING = EmailStatus.SENDING.code();
  private static final int TO = 2;
  private static final int CC = 3;
  private static final int BCC = 4;

  /** Due: Pending Send and its next attempt reached, or Sending under a lapsed lease. */
  private static final String DUE = "(e.status_code = 6 AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= ?)"
      + " OR e.status_code = 7 AND e.lease_until <= ?)";

  /**
   * The PostgreSQL claim: one statement, one round trip (after {@link #PG_CLAIM_PLAN}, one more).
   *
   * <p>PostgreSQL refuses {@code FOR UPDATE} in a query level that has a window function, so the
   * per-sender limit can't be a {@code row_number() OVER (PARTITION BY sender)} beside the lock.
   * Instead: {@code senders} walks the distinct senders that have due mail in the router's order
   * (the first after {@code resumeAfterSender}, then on, wrapping around to the smallest, {@code
   * lowest}, looked up once; stopping before the first again), one index probe per sender on the
   * partial index {@code email_activity_queue} ({@code ORDER BY sender_key LIMIT 1}, which stops at
   * the first due row; {@code min()} let the planner read every row after the sender) — never a
   * scan of every due row; a LATERAL subquery then locks each sender's oldest due rows, at most
   * {@code perSender}, skipping rows another claimant holds; {@code picked} keeps the first {@code
   * max} in the router's order, and the UPDATE moves them to Sending. At most {@code max} senders
   * are visited: each has at least one due row, and rows another claimant holds are taken by that
   * claimant. The rows locked but not kept (beyond {@code max}) are free again when the
   * statement's transaction commits, a few milliseconds later.
   */
  static final String PG_CLAIM = """
      WITH RECURSIVE lowest (sender_key) AS (
        SELECT e.sender_key FROM email_activity e WHERE e.status_code IN (6, 7) AND DUE
          ORDER BY e.sender_key LIMIT 1
      ), senders (sender_key, n, first_key) AS (
        SELECT k.sender_key, 1, k.sender_key FROM (SELECT coalesce(
            (SELECT e.sender_key FROM email_activity e WHERE e.status_code IN (6, 7) AND e.sender_key > ? AND DUE
              ORDER BY e.sender_key LIMIT 1),
            (SELECT sender_key FROM lowest)) AS sender_key) k
          WHERE k.sender_key IS NOT NULL
        UNION ALL
        SELECT nxt.sender_key, s.n + 1, s.first_key FROM senders s CROSS JOIN LATERAL (SELECT coalesce(
            (SELECT e.sender_key FROM email_activity e
              WHERE e.status_code IN (6, 7) AND e.sender_key > s.sender_key AND DUE ORDER BY e.sender_key LIMIT 1),
            (SELECT sender_key FROM lowest)) AS sender_key) nxt
          WHERE s.n < ? AND nxt.sender_key <> s.first_key
      ), picked AS (
        SELECT p.id, s.n FROM senders s CROSS JOIN LATERAL (
            SELECT e.id, e.queue_seq FROM email_activity e
            WHERE e.sender_key = s.sender_key AND e.status_code IN (6, 7) AND DUE
            ORDER BY e.queue_seq LIMIT ? FOR UPDATE SKIP LOCKED) p
          ORDER BY s.n, p.queue_seq LIMIT ?
      )
      UPDATE email_activity a SET status_code = 7, claim_token = ? || a.queue_seq, lease_until = ?
        FROM picked WHERE a.id = picked.id
      RETURNING a.id, a.claim_token, picked.n, a.queue_seq
      """.replace("DUE", DUE);

  /**
   * The plan the claim needs whatever the statistics say. Each step of the sender walk must read
   * the index in order and stop at its first due row. A queue table's statistics are stale by
   * nature, and with them PostgreSQL 14 planned the step as a bitmap scan that reads every pending
   * row after that sender: 100 steps of about 2,600 rows, 200 to 450 ms a claim of 600 emails from
   * 10,000 pending, against 20 to 35 ms this way. Local to the claim's transaction.
   */
  static final String PG_CLAIM_PLAN = "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off";

  /** H2: the candidates in the router's order, ranked per sender (run under the claim lock). */
  private static final String H2_CANDIDATES = "SELECT id, queue_seq FROM (SELECT e.id, e.sender_key, e.queue_seq,"
      + " ROW_NUMBER() OVER (PARTITION BY e.sender_key ORDER BY e.queue_seq) AS rn FROM email_activity e"
      + " WHERE e.status_code IN (6, 7) AND " + DUE + ") r WHERE r.rn <= ?"
      + " ORDER BY CASE WHEN r.sender_key > ? THEN 0 ELSE 1 END, r.sender_key, r.queue_seq LIMIT ?";

  private static final String FENCE = " WHERE id = ? AND status_code = 7 AND claim_token = ?";

  private final DataSource dataSource;
  private final Dialect dialect;

  /**
   * Creates a store over router-jdbc's email tables, checking that they exist in the version this
   * code speaks.
   *
   * @param dataSource where the tables live; a pool, since every call borrows a connection
   * @throws IllegalStateException if a table is missing or of another version (the message names
   *     the table and the script to run), or the database can't be reached
   * @throws IllegalArgumentException if the database is neither PostgreSQL nor H2
   */
  public JdbcActivityStore(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.dialect = Schema.check(dataSource, COMPONENT, TABLES, "JdbcActivityStore.createSchema(dataSource)");
  }

  /**
   * Creates the email tables, sequences and indexes if they don't exist, by running this
   * database's {@code V2__email.sql} from the jar (which also upgrades a version 1 database); safe to call on every start.
   *
   * @param dataSource the database
   * @throws IllegalStateException if a statement fails
   * @throws IllegalArgumentException if the database is neither PostgreSQL nor H2
   */
  public static void createSchema(DataSource dataSource) {
    Schema.apply(Objects.requireNonNull(dataSource, "dataSource"), COMPONENT);
  }

  // --- what the CRM does ---------------------------------------------------------------------------

  /**
   * Stores an email as Pending Send, last in its sender's queue, as the CRM does when a user clicks
   * Send; attachments are read now, into the database.
   *
   * @param email the email; its Message-ID, tracking token and attempts are stored as given
   * @throws TransientRouterException if the database fails, or an id is taken
   */
  public void addPendingSend(OutgoingEmail email) {
    Objects.requireNonNull(email, "email");
    inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO email_activity (id, status_code, sender_address,"
          + " sender_name, sender_key, subject, text_body, html_body, in_reply_to, references_list, message_id,"
          + " message_id_hash, tracking_token, tracking_key, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, email.activityId());
        ps.setInt(2, PENDING_SEND);
        ps.setString(3, email.from().address());
        ps.setString(4, email.from().displayName());
        ps.setString(5, email.from().normalized());
        ps.setString(6, email.subject());
        ps.setString(7, email.textBody());
        ps.setString(8, email.htmlBody());
        ps.setString(9, email.inReplyTo());
        ps.setString(10, String.join(" ", email.references()));
        ps.setString(11, email.messageId());
        ps.setString(12, email.messageId() == null ? null : sha256(email.messageId()));
        ps.setString(13, email.trackingToken());
        ps.setString(14, trackingKey(email.trackingToken()));
        ps.setInt(15, email.attempts());
        ps.executeUpdate();
      }
      insertParties(c, email.activityId(), email.to(), email.cc(), email.bcc());
      insertAttachments(c, email.activityId(), email.attachments());
      return null;
    });
  }

  /**
   * Registers a CRM record for an address, so {@link #resolve} finds it; registering the same
   * record twice changes nothing.
   *
   * @param address the address, in any case
   * @param party the record
   * @throws IllegalArgumentException if the address is malformed
   * @throws TransientRouterException if the database fails
   */
  public void addParty(String address, Party party) {
    String key = EmailAddress.of(address).normalized();
    Objects.requireNonNull(party, "party");
    inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM email_party_address"
          + " WHERE address_key = ? AND party_type = ? AND party_id = ?")) {
        ps.setString(1, key);
        ps.setString(2, party.type().name());
        ps.setString(3, party.id());
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return null;
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO email_party_address (address_key, party_type, party_id, party_name) VALUES (?, ?, ?, ?)")) {
        ps.setString(1, key);
        ps.setString(2, party.type().name());
        ps.setString(3, party.id());
        ps.setString(4, party.name());
        ps.executeUpdate();
      }
      return null;
    });
  }

  /**
   * An email activity's status.
   *
   * @param activityId the id
   * @return the status, or empty for an unknown id
   * @throws TransientRouterException if the database fails
   */
  public Optional<EmailStatus> status(String activityId) {
    Objects.requireNonNull(activityId, "activityId");
    return inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT status_code FROM email_activity WHERE id = ?")) {
        ps.setString(1, activityId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(EmailStatus.ofCode(rs.getInt(1))) : Optional.<EmailStatus>empty();
        }
      }
    });
  }

  // --- claims --------------------------------------------------------------------------------------

  @Override
  public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
    Objects.requireNonNull(request, "request");
    String batch = UUID.randomUUID() + "-";
    return inTransaction(c -> {
      List<Claimed> claimed = dialect == Dialect.POSTGRESQL ? claimOnPostgres(c, request, batch)
          : claimOnH2(c, request, batch);
      if (claimed.isEmpty()) {
        return List.of();
      }
      claimed.sort(Comparator.comparingInt(Claimed::order));
      Map<String, OutgoingEmail.Builder> builders = new HashMap<>();
      Map<String, String> malformed = new HashMap<>();
      load(c, claimed.stream().map(Claimed::id).toList(), builders, malformed);
      List<ClaimedEmail> out = new ArrayList<>(claimed.size());
      for (Claimed one : claimed) {
        Claim claim = new Claim(one.id(), one.token(), request.leaseUntil());
        String problem = malformed.get(one.id());
        OutgoingEmail email = null;
        if (problem == null) {
          try {
            email = builders.get(one.id()).build();
          } catch (IllegalArgumentException e) {
            problem = e.getMessage();
          }
        }
        if (email == null) {
          // A row the CRM let through with a malformed address: fail it with the reason, don't stop the claim.
          failMalformed(c, claim, problem);
        } else {
          out.add(new ClaimedEmail(email, claim));
        }
      }
      return out;
    });
  }

  /** One row a claim took: its id, its new token, and its place in the router's order. */
  private record Claimed(String id, String token, int order) {}

  private List<Claimed> claimOnPostgres(Connection c, ClaimRequest request, String batch) throws SQLException {
    List<Claimed> out = new ArrayList<>();
    try (Statement st = c.createStatement()) {
      st.execute(PG_CLAIM_PLAN);
    }
    try (PreparedStatement ps = c.prepareStatement(PG_CLAIM)) {
      bindClaim(ps, request, batch);
      // RETURNING has no order: put the rows back in the router's order, the sender's step in the walk first.
      List<Returned> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(new Returned(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getLong(4)));
        }
      }
      rows.sort(Comparator.comparingInt(Returned::senderStep).thenComparingLong(Returned::queueSeq));
      for (int k = 0; k < rows.size(); k++) {
        out.add(new Claimed(rows.get(k).id(), rows.get(k).token(), k));
      }
    }
    return out;
  }

  /** Binds {@link #PG_CLAIM}'s parameters. */
  static void bindClaim(PreparedStatement ps, ClaimRequest request, String batch) throws SQLException {
    OffsetDateTime now = utc(request.now());
    int i = bindDue(ps, 1, now, 1); // the smallest sender with due mail, where the walk wraps around
    ps.setString(i++, request.resumeAfterSender());
    i = bindDue(ps, i, now, 2); // the walk's probes for the next sender
    ps.setInt(i++, request.max());
    i = bindDue(ps, i, now, 1); // the rows of one sender
    ps.setInt(i++, request.perSender());
    ps.setInt(i++, request.max());
    ps.setString(i++, batch);
    ps.setObject(i, utc(request.leaseUntil()));
  }

  /** A row the PostgreSQL claim returned. */
  private record Returned(String id, String token, int senderStep, long queueSeq) {}

  private static int bindDue(PreparedStatement ps, int from, OffsetDateTime now, int times) throws SQLException {
    int i = from;
    for (int t = 0; t < times; t++) {
      ps.setObject(i++, now);
      ps.setObject(i++, now);
    }
    return i;
  }

  private List<Claimed> claimOnH2(Connection c, ClaimRequest request, String batch) throws SQLException {
    // H2 refuses FOR UPDATE in a query with a window function: serialise claims on one row instead. Claims are
    // short, the mark methods don't take this lock, and each row's UPDATE below still checks that it is due.
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT version FROM " + Schema.VERSION_TABLE + " WHERE component = ? FOR UPDATE")) {
      ps.setString(1, COMPONENT);
      ps.executeQuery().close();
    }
    OffsetDateTime now = utc(request.now());
    List<String> ids = new ArrayList<>();
    List<Long> seqs = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(H2_CANDIDATES)) {
      ps.setObject(1, now);
      ps.setObject(2, now);
      ps.setInt(3, request.perSender());
      ps.setString(4, request.resumeAfterSender());
      ps.setInt(5, request.max());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
          seqs.add(rs.getLong(2));
        }
      }
    }
    List<Claimed> out = new ArrayList<>();
    if (ids.isEmpty()) {
      return out;
    }
    try (PreparedStatement ps = c.prepareStatement("UPDATE email_activity e SET status_code = 7, claim_token = ?,"
        + " lease_until = ? WHERE e.id = ? AND " + DUE)) {
      for (int k = 0; k < ids.size(); k++) {
        ps.setString(1, batch + seqs.get(k));
        ps.setObject(2, utc(request.leaseUntil()));
        ps.setString(3, ids.get(k));
        ps.setObject(4, now);
        ps.setObject(5, now);
        ps.addBatch();
      }
      int[] counts = ps.executeBatch();
      for (int k = 0; k < ids.size(); k++) {
        if (counts[k] == 1 || counts[k] == Statement.SUCCESS_NO_INFO) {
          out.add(new Claimed(ids.get(k), batch + seqs.get(k), k));
        }
      }
    }
    return out;
  }

  /** Reads the claimed rows, their recipients and their attachments: three statements for the whole batch. */
  private void load(Connection c, List<String> ids, Map<String, OutgoingEmail.Builder> builders,
      Map<String, String> malformed) throws SQLException {
    Array idArray = c.createArrayOf("VARCHAR", ids.toArray());
    try (PreparedStatement ps = c.prepareStatement("SELECT id, sender_address, sender_name, subject, text_body,"
        + " html_body, in_reply_to, references_list, message_id, tracking_token, attempts FROM email_activity"
        + " WHERE id = ANY(?)")) {
      ps.setArray(1, idArray);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String id = rs.getString(1);
          try {
            OutgoingEmail.Builder b = OutgoingEmail.builder(id, EmailAddress.of(nonNull(rs.getString(2)),
                    nonNull(rs.getString(3))))
                .subject(nonNull(rs.getString(4))).textBody(rs.getString(5)).htmlBody(rs.getString(6))
                .inReplyTo(rs.getString(7)).messageId(rs.getString(9)).trackingToken(rs.getString(10))
                .attempts(rs.getInt(11));
            String refs = nonNull(rs.getString(8)).strip();
            if (!refs.isEmpty()) {
              b.references(refs.split("\\s+"));
            }
            builders.put(id, b);
          } catch (IllegalArgumentException e) {
            malformed.put(id, "the sender can't be used: " + e.getMessage());
          }
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT email_id, participation, address, display_name, outcome"
        + " FROM email_activity_party WHERE email_id = ANY(?) ORDER BY email_id, participation, position")) {
      ps.setArray(1, idArray);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          OutgoingEmail.Builder b = builders.get(rs.getString(1));
          if (b == null) {
            continue;
          }
          try {
            EmailAddress address = EmailAddress.of(rs.getString(3), nonNull(rs.getString(4)));
            switch (rs.getInt(2)) {
              case TO -> b.to(address);
              case CC -> b.cc(address);
              default -> b.bcc(address);
            }
            if (SendResult.Outcome.ACCEPTED.name().equals(rs.getString(5))) {
              b.acceptedRecipients(address); // got it in an earlier attempt (markPartlySent)
            }
          } catch (IllegalArgumentException e) {
            malformed.put(rs.getString(1), "a recipient can't be used: " + e.getMessage());
          }
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT email_id, position, file_name, content_type, size"
        + " FROM email_attachment WHERE email_id = ANY(?) ORDER BY email_id, position")) {
      ps.setArray(1, idArray);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String id = rs.getString(1);
          OutgoingEmail.Builder b = builders.get(id);
          if (b == null) {
            continue;
          }
          int position = rs.getInt(2);
          try {
            b.attachment(new Attachment(rs.getString(3), rs.getString(4), rs.getLong(5), blob(id, position)));
          } catch (IllegalArgumentException e) {
            malformed.put(id, "an attachment can't be used: " + e.getMessage());
          }
        }
      }
    }
    idArray.free();
  }

  private static void failMalformed(Connection c, Claim claim, String problem) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE email_activity SET status_code = 8, last_reason = ?,"
        + " claim_token = NULL, lease_until = NULL" + FENCE)) {
      ps.setString(1, "the email can't be sent: " + problem);
      ps.setString(2, claim.activityId());
      ps.setString(3, claim.token());
      ps.executeUpdate();
    }
  }

  /** Streams an attachment from the database on demand, holding a connection only while it is read. */
  private ContentSource blob(String id, int position) {
    return () -> {
      Connection c = null;
      try {
        c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT content FROM email_attachment WHERE email_id = ? AND position = ?");
        ps.setString(1, id);
        ps.setInt(2, position);
        ResultSet rs = ps.executeQuery();
        if (!rs.next()) {
          throw new IOException("attachment " + position + " of email " + id + " is gone");
        }
        Connection held = c;
        return new FilterInputStream(rs.getBinaryStream(1)) {
          @Override
          public void close() throws IOException {
            try {
              super.close();
            } finally {
              try {
                held.close();
              } catch (SQLException e) {
                throw new IOException(e);
              }
            }
          }
        };
      } catch (SQLException | IOException | RuntimeException e) {
        if (c != null) {
          try {
            c.close();
          } catch (SQLException suppressed) {
            e.addSuppressed(suppressed);
          }
        }
        if (e instanceof IOException io) {
          throw io;
        }
        throw new IOException("attachment " + position + " of email " + id + " can't be read: " + e.getMessage(), e);
      }
    };
  }

  @Override
  public long nextTrackingNumber() {
    return autoCommit(c -> {
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(dialect.nextTrackingNumberSql())) {
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  /** One query over the sequence: {@code generate_series} on PostgreSQL, {@code SYSTEM_RANGE} on H2. */
  @Override
  public List<Long> nextTrackingNumbers(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count must be 0 or more: " + count);
    }
    if (count == 0) {
      return List.of();
    }
    return autoCommit(c -> {
      try (PreparedStatement ps = c.prepareStatement(dialect.nextTrackingNumbersSql())) {
        ps.setInt(1, count);
        List<Long> numbers = new ArrayList<>(count);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            numbers.add(rs.getLong(1));
          }
        }
        if (numbers.size() != count || new HashSet<>(numbers).size() != count) {
          throw new IllegalStateException("the sequence gave " + numbers.size() + " distinct numbers of " + count);
        }
        return numbers;
      }
    });
  }

  // --- fenced state changes ------------------------------------------------------------------------

  /**
   * One transaction: the fenced update of {@link #recordIdentity} for each email as one JDBC batch
   * (one round trip); a row it did not match is a stale claim, reported.
   */
  @Override
  public List<String> recordIdentities(List<EmailIdentity> identities) {
    return fencedBatch(identities, EmailIdentity::claim, "UPDATE email_activity SET message_id = ?,"
        + " message_id_hash = ?, tracking_token = ?, tracking_key = ?, subject = ?" + FENCE, (ps, i) -> {
          ps.setString(1, i.messageId());
          ps.setString(2, sha256(i.messageId()));
          ps.setString(3, i.trackingToken());
          ps.setString(4, trackingKey(i.trackingToken()));
          ps.setString(5, i.subject());
          return 6;
        }, i -> List.of());
  }

  /**
   * One transaction: the fenced update of {@link #markSent} for each email as one JDBC batch, and
   * the per-recipient outcomes of those it matched as a second; a row it did not match is a stale
   * claim, reported.
   */
  @Override
  public List<String> markSentAll(List<SentOutcome> outcomes) {
    return fencedBatch(outcomes, SentOutcome::claim, "UPDATE email_activity SET status_code = 3, sent_at = ?,"
        + " last_reason = ?, attempts = attempts + 1, claim_token = NULL, lease_until = NULL, next_attempt_at = NULL"
        + FENCE, (ps, o) -> {
          ps.setObject(1, utc(o.sentAt()));
          ps.setString(2, o.result().serverReply());
          return 3;
        }, o -> o.result().recipients());
  }

  @Override
  public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
    Objects.requireNonNull(messageId, "messageId");
    Objects.requireNonNull(subject, "subject");
    fenced(claim, "UPDATE email_activity SET message_id = ?, message_id_hash = ?, tracking_token = ?,"
        + " tracking_key = ?, subject = ?" + FENCE, ps -> {
          ps.setString(1, messageId);
          ps.setString(2, sha256(messageId));
          ps.setString(3, trackingToken);
          ps.setString(4, trackingKey(trackingToken));
          ps.setString(5, subject);
          return 6;
        }, List.of());
  }

  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    Objects.requireNonNull(sentAt, "sentAt");
    Objects.requireNonNull(result, "result");
    fenced(claim, "UPDATE email_activity SET status_code = 3, sent_at = ?, last_reason = ?,"
        + " attempts = attempts + 1, claim_token = NULL, lease_until = NULL, next_attempt_at = NULL" + FENCE, ps -> {
          ps.setObject(1, utc(sentAt));
          ps.setString(2, result.serverReply());
          return 3;
        }, result.recipients());
  }

  @Override
  public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
    Objects.requireNonNull(nextAttemptAt, "nextAttemptAt");
    fenced(claim, "UPDATE email_activity SET status_code = 6, next_attempt_at = ?, attempts = ?, last_reason = ?,"
        + " claim_token = NULL, lease_until = NULL" + FENCE, ps -> {
          ps.setObject(1, utc(nextAttemptAt));
          ps.setInt(2, attempts);
          ps.setString(3, reason);
          return 4;
        }, List.of());
  }

  /**
   * Records that some recipients accepted the email and others were refused for now: the accepted
   * ones keep the outcome {@code ACCEPTED} in {@code email_activity_party}, so the next claim hands
   * them back in {@link OutgoingEmail#acceptedRecipients()}; the email is Pending Send again, due at
   * {@code nextAttemptAt}. One transaction, fenced by the claim.
   */
  @Override
  public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    Objects.requireNonNull(nextAttemptAt, "nextAttemptAt");
    Objects.requireNonNull(result, "result");
    fenced(claim, "UPDATE email_activity SET status_code = 6, next_attempt_at = ?, attempts = ?, last_reason = ?,"
        + " claim_token = NULL, lease_until = NULL" + FENCE, ps -> {
          ps.setObject(1, utc(nextAttemptAt));
          ps.setInt(2, attempts);
          ps.setString(3, result.serverReply());
          return 4;
        }, result.recipients());
  }

  @Override
  public void markFailed(Claim claim, int attempts, SendResult result) {
    Objects.requireNonNull(result, "result");
    fenced(claim, "UPDATE email_activity SET status_code = 8, attempts = ?, last_reason = ?,"
        + " claim_token = NULL, lease_until = NULL, next_attempt_at = NULL" + FENCE, ps -> {
          ps.setInt(1, attempts);
          ps.setString(2, result.serverReply());
          return 3;
        }, result.recipients());
  }

  /**
   * Text from incoming mail as the database can hold it: PostgreSQL refuses U+0000 in text (SQLState
   * 22021), and a hostile message must not make the store fail (which the engine would take for an
   * outage). NUL becomes U+FFFD, on both databases alike.
   */
  static String text(String value) {
    return value == null || value.indexOf('\0') < 0 ? value : value.replace('\0', '\uFFFD');
  }

  /** Binds a statement's own values and returns the index of the first fencing parameter. */
  private interface Binder {
    int bind(PreparedStatement ps) throws SQLException;
  }

  /** Binds one batch item's own values and returns the index of the first fencing parameter. */
  private interface ItemBinder<T> {
    int bind(PreparedStatement ps, T item) throws SQLException;
  }

  /**
   * The batch form of {@link #fenced}: the conditional UPDATE of every item as one JDBC batch, in
   * one transaction with the per-recipient outcomes of the rows it changed. Rows are updated in
   * activity-id order, so two engines' batches never wait on each other's rows in a cycle.
   *
   * @return the activity ids of the items whose claim no longer held, in the order given
   */
  private <T> List<String> fencedBatch(List<T> items, Function<T, Claim> claimOf, String sql, ItemBinder<T> binder,
      Function<T, List<SendResult.RecipientResult>> recipientsOf) {
    if (items.isEmpty()) {
      return List.of();
    }
    List<T> ordered = new ArrayList<>(items);
    ordered.sort(Comparator.comparing(item -> claimOf.apply(item).activityId()));
    Set<String> ids = new HashSet<>();
    for (T item : ordered) {
      if (!ids.add(Objects.requireNonNull(claimOf.apply(item), "claim").activityId())) {
        throw new IllegalArgumentException("activity " + claimOf.apply(item).activityId() + " is twice in one batch");
      }
    }
    Set<String> stale = inTransaction(c -> {
      int[] counts;
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (T item : ordered) {
          Claim claim = claimOf.apply(item);
          int i = binder.bind(ps, item);
          ps.setString(i, claim.activityId());
          ps.setString(i + 1, claim.token());
          ps.addBatch();
        }
        counts = ps.executeBatch();
      }
      Set<String> refused = new HashSet<>();
      boolean outcomes = false;
      try (PreparedStatement ps = c.prepareStatement("UPDATE email_activity_party SET outcome = ?, server_reply = ?"
          + " WHERE email_id = ? AND address_key = ?")) {
        for (int k = 0; k < ordered.size(); k++) {
          String id = claimOf.apply(ordered.get(k)).activityId();
          if (counts[k] == Statement.SUCCESS_NO_INFO) {
            throw new IllegalStateException("the JDBC driver gave no update count for a batched statement");
          }
          if (counts[k] != 1) {
            refused.add(id);
            continue;
          }
          for (SendResult.RecipientResult r : recipientsOf.apply(ordered.get(k))) {
            ps.setString(1, r.outcome().name());
            ps.setString(2, r.serverReply());
            ps.setString(3, id);
            ps.setString(4, r.recipient().normalized());
            ps.addBatch();
            outcomes = true;
          }
        }
        if (outcomes) {
          ps.executeBatch();
        }
      }
      return refused;
    });
    List<String> report = new ArrayList<>();
    for (T item : items) {
      String id = claimOf.apply(item).activityId();
      if (stale.contains(id)) {
        report.add(id);
      }
    }
    return report;
  }

  /**
   * Makes a change only while the claim holds: one conditional UPDATE (one round trip, committed
   * with it), plus the per-recipient outcomes in the same transaction when there are any.
   */
  private void fenced(Claim claim, String sql, Binder binder, List<SendResult.RecipientResult> recipients) {
    Objects.requireNonNull(claim, "claim");
    Work<Integer> change = c -> {
      int updated;
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int i = binder.bind(ps);
        ps.setString(i, claim.activityId());
        ps.setString(i + 1, claim.token());
        updated = ps.executeUpdate();
      }
      if (updated == 1 && !recipients.isEmpty()) {
        try (PreparedStatement ps = c.prepareStatement("UPDATE email_activity_party SET outcome = ?, server_reply = ?"
            + " WHERE email_id = ? AND address_key = ?")) {
          for (SendResult.RecipientResult r : recipients) {
            ps.setString(1, r.outcome().name());
            ps.setString(2, r.serverReply());
            ps.setString(3, claim.activityId());
            ps.setString(4, r.recipient().normalized());
            ps.addBatch();
          }
          ps.executeBatch();
        }
      }
      return updated;
    };
    int updated = recipients.isEmpty() ? autoCommit(change) : inTransaction(change);
    if (updated != 1) {
      throw new StaleClaimException(claim);
    }
  }

  /**
   * Keeps the report in {@code email_delivery_report}, one row per recipient, once: a row whose
   * report (by its Message-ID, else its mailbox and ref) and recipient are there already is left
   * as it is. The email's status is not changed. One transaction.
   */
  @Override
  public void recordDeliveryReport(ActivityRef email, DeliveryReport report) {
    Objects.requireNonNull(email, "email");
    Objects.requireNonNull(report, "report");
    String identity = report.reportMessageId() != null ? report.reportMessageId()
        : report.mailbox() + "\n" + report.ref();
    String sql = (dialect == Dialect.POSTGRESQL ? "INSERT INTO" : "MERGE INTO") + " email_delivery_report (email_id,"
        + " report_key, report_message_id, original_message_id, match_rule, envelope_id, reporting_mta, mailbox,"
        + " message_ref, recipient, action, status, diagnostic, remote_mta, received_at)"
        + (dialect == Dialect.POSTGRESQL ? "" : " KEY (email_id, report_key)")
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        + (dialect == Dialect.POSTGRESQL ? " ON CONFLICT (email_id, report_key) DO NOTHING" : "");
    inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (DeliveryReport.Recipient r : report.recipients()) {
          ps.setString(1, email.activityId());
          ps.setString(2, sha256(identity + "\n" + r.recipient()));
          ps.setString(3, report.reportMessageId());
          ps.setString(4, report.originalMessageId());
          ps.setString(5, report.match().name());
          ps.setString(6, report.envelopeId());
          ps.setString(7, report.reportingMta());
          ps.setString(8, report.mailbox());
          ps.setString(9, report.ref());
          ps.setString(10, r.recipient());
          ps.setString(11, r.action().name());
          ps.setString(12, r.status());
          ps.setString(13, r.diagnostic());
          ps.setString(14, r.remoteMta());
          if (report.receivedAt() == null) {
            ps.setNull(15, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
          } else {
            ps.setObject(15, utc(report.receivedAt()));
          }
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  // --- look-ups ------------------------------------------------------------------------------------

  @Override
  public Optional<ActivityRef> findByMessageId(String messageId) {
    Objects.requireNonNull(messageId, "messageId");
    return findOne("SELECT id, status_code FROM email_activity WHERE message_id_hash = ? AND message_id = ?"
        + " ORDER BY queue_seq", sha256(messageId), messageId);
  }

  @Override
  public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
    Objects.requireNonNull(trackingToken, "trackingToken");
    if (trackingToken.length() > 64) {
      return Optional.empty(); // longer than any token this store records
    }
    return findOne("SELECT id, status_code FROM email_activity WHERE tracking_key = ? ORDER BY queue_seq",
        trackingKey(trackingToken));
  }

  private Optional<ActivityRef> findOne(String sql, String... values) {
    return autoCommit(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < values.length; i++) {
          ps.setString(i + 1, values[i]);
        }
        ps.setMaxRows(1);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(new ActivityRef(rs.getString(1), EmailStatus.ofCode(rs.getInt(2))))
              : Optional.<ActivityRef>empty();
        }
      }
    });
  }

  @Override
  public List<Party> resolve(EmailAddress address) {
    Objects.requireNonNull(address, "address");
    return autoCommit(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT party_type, party_id, party_name FROM email_party_address"
          + " WHERE address_key = ? ORDER BY party_type, party_id")) {
        ps.setString(1, address.normalized());
        List<Party> parties = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            parties.add(new Party(partyType(rs.getString(1)), rs.getString(2), nonNull(rs.getString(3))));
          }
        }
        return parties;
      }
    });
  }

  private static Party.Type partyType(String stored) {
    try {
      return Party.Type.valueOf(stored);
    } catch (IllegalArgumentException e) {
      return Party.Type.OTHER; // a type the host added beside ours
    }
  }

  // --- received mail -------------------------------------------------------------------------------

  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    Objects.requireNonNull(email, "email");
    String id = "received-" + UUID.randomUUID();
    String dedupHash = sha256(email.dedupKey());
    boolean created;
    try {
      created = inTransaction(c -> {
        // PostgreSQL: ON CONFLICT waits for a concurrent insert of the same key and then inserts nothing, so exactly
        // one caller creates the activity. H2 reports the unique violation instead, which ends up in the same place.
        String conflict = dialect == Dialect.POSTGRESQL ? " ON CONFLICT (dedup_hash) DO NOTHING" : "";
        int inserted;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO email_activity (id, status_code, sender_address,"
            + " sender_name, sender_key, subject, text_body, html_body, in_reply_to, references_list, message_id,"
            + " message_id_hash, dedup_key, dedup_hash, mailbox, owner_type, owner_id, regarding_activity_id,"
            + " tracking_reason, dropped_attachments, date_header, received_at, content_digest)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" + conflict)) {
          ps.setString(1, id);
          ps.setInt(2, EmailStatus.RECEIVED.code());
          ps.setString(3, text(email.from() == null ? null : email.from().address()));
          ps.setString(4, text(email.from() == null ? "" : email.from().displayName()));
          ps.setString(5, text(email.from() == null ? "" : email.from().normalized()));
          ps.setString(6, text(email.subject()));
          ps.setString(7, text(email.textBody()));
          ps.setString(8, text(email.htmlBody()));
          ps.setString(9, text(email.inReplyTo()));
          ps.setString(10, text(String.join(" ", email.references())));
          ps.setString(11, text(email.messageId()));
          ps.setString(12, email.messageId() == null ? null : sha256(email.messageId()));
          ps.setString(13, text(email.dedupKey()));
          ps.setString(14, dedupHash);
          ps.setString(15, text(email.mailbox()));
          ps.setString(16, email.owner().type().name());
          ps.setString(17, email.owner().id());
          ps.setString(18, text(email.correlation() == null ? null : email.correlation().activityId()));
          ps.setString(19, text(email.decision().reason() + ": " + email.decision().detail()));
          ps.setString(20, text(String.join("\n", email.droppedAttachments())));
          ps.setObject(21, email.sentAt() == null ? null : utc(email.sentAt()));
          ps.setObject(22, utc(email.receivedAt()));
          ps.setString(23, email.contentDigest());
          inserted = ps.executeUpdate();
        }
        if (inserted == 1) {
          insertParties(c, id, email.to(), email.cc(), List.of());
          insertAttachments(c, id, email.attachments());
        }
        return inserted == 1;
      });
    } catch (DuplicateKeyException e) {
      created = false; // H2: another call created it first
    }
    if (created) {
      return new ReceiveResult(id, true, email.contentDigest());
    }
    String[] existing = autoCommit(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT id, content_digest FROM email_activity"
          + " WHERE dedup_hash = ?")) {
        ps.setString(1, dedupHash);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? new String[] {rs.getString(1), rs.getString(2)} : null;
        }
      }
    });
    if (existing == null) {
      throw new TransientRouterException("received email with dedup key " + shorten(email.dedupKey())
          + " collided with another being created, which then disappeared; try again");
    }
    return new ReceiveResult(existing[0], false, existing[1]);
  }

  private static void insertParties(Connection c, String id, List<EmailAddress> to, List<EmailAddress> cc,
      List<EmailAddress> bcc) throws SQLException {
    if (to.isEmpty() && cc.isEmpty() && bcc.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO email_activity_party (email_id, participation,"
        + " position, address, address_key, display_name) VALUES (?, ?, ?, ?, ?, ?)")) {
      addParties(ps, id, TO, to);
      addParties(ps, id, CC, cc);
      addParties(ps, id, BCC, bcc);
      ps.executeBatch();
    }
  }

  private static void addParties(PreparedStatement ps, String id, int participation, List<EmailAddress> addresses)
      throws SQLException {
    for (int i = 0; i < addresses.size(); i++) {
      ps.setString(1, id);
      ps.setInt(2, participation);
      ps.setInt(3, i);
      ps.setString(4, text(addresses.get(i).address()));
      ps.setString(5, text(addresses.get(i).normalized()));
      ps.setString(6, text(addresses.get(i).displayName()));
      ps.addBatch();
    }
  }

  private static void insertAttachments(Connection c, String id, List<Attachment> attachments) throws SQLException {
    if (attachments.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO email_attachment (email_id, position, file_name,"
        + " content_type, size, content) VALUES (?, ?, ?, ?, ?, ?)")) {
      for (int i = 0; i < attachments.size(); i++) {
        Attachment a = attachments.get(i);
        // Read whole: the stream is valid only during the call, and its declared size may be -1 (unknown).
        byte[] bytes;
        try (InputStream in = a.content().open()) {
          bytes = in.readAllBytes();
        } catch (IOException e) {
          throw new SQLException("attachment " + shorten(a.fileName()) + " can't be read: " + e.getMessage(), e);
        }
        ps.setString(1, id);
        ps.setInt(2, i);
        ps.setString(3, text(a.fileName()));
        ps.setString(4, text(a.contentType()));
        ps.setLong(5, bytes.length);
        ps.setBytes(6, bytes);
        ps.executeUpdate();
      }
    }
  }

  // --- plumbing ------------------------------------------------------------------------------------

  /**
   * An instant as a JDBC value: an {@code OffsetDateTime} in UTC, never a {@code java.sql.Timestamp},
   * whose conversion goes through the JVM's zone and is ambiguous in the hour the clocks go back.
   */
  private static OffsetDateTime utc(Instant instant) {
    return instant.atOffset(ZoneOffset.UTC);
  }

  private static String trackingKey(String token) {
    return token == null ? null : token.toUpperCase(Locale.ROOT);
  }

  private static String nonNull(String value) {
    return value == null ? "" : value;
  }

  private static String shorten(String value) {
    return value.length() <= 200 ? value : value.substring(0, 200) + "...";
  }

  /** SHA-256 in hex: a fixed-size key for values (Message-IDs, dedup keys) that hostile mail makes any length. */
  static String sha256(String value) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** A unit of work on one connection. */
  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T inTransaction(Work<T> work) {
    return withConnection(work, false);
  }

  /** One statement, committed by itself: the cheapest durable write, and reads that need no snapshot. */
  private <T> T autoCommit(Work<T> work) {
    return withConnection(work, true);
  }

  private <T> T withConnection(Work<T> work, boolean autoCommit) {
    try (Connection c = dataSource.getConnection()) {
      if (c.getAutoCommit() != autoCommit) {
        c.setAutoCommit(autoCommit);
      }
      try {
        T result = work.run(c);
        if (!autoCommit) {
          c.commit();
        }
        return result;
      } catch (SQLException | RuntimeException e) {
        if (!autoCommit) {
          try {
            c.rollback();
          } catch (SQLException suppressed) {
            e.addSuppressed(suppressed);
          }
        }
        throw e;
      } finally {
        if (!autoCommit) {
          c.setAutoCommit(true);
        }
      }
    } catch (SQLException e) {
      if (e instanceof SQLIntegrityConstraintViolationException || "23505".equals(e.getSQLState())) {
        throw new DuplicateKeyException(e);
      }
      throw failure(e);
    }
  }

  /**
   * A database failure as the engine must see it. The database being unavailable or busy (SQLState
   * classes 08 connection, 40 rollback and deadlock, 53 resources, 55 lock not available, 57
   * operator intervention, 58 system error, or a driver's transient or recoverable exception) is
   * an outage: {@link TransientRouterException}, which stops the pass without counting against any
   * message. A statement the database refuses for its values (22 data, 23 constraints, 42 syntax
   * or a missing column, 44 and the rest) would fail again for the same message: {@link
   * PermanentRouterException}, counted against that message or email alone.
   */
  static RouterException failure(SQLException e) {
    String state = e.getSQLState();
    String clazz = state == null || state.length() < 2 ? "" : state.substring(0, 2);
    boolean transientState = switch (clazz) {
      case "08", "40", "53", "55", "57", "58", "HY", "90", "" -> true; // 90: H2's own, e.g. 90067 connection broken
      default -> false;
    };
    if (transientState || e instanceof java.sql.SQLTransientException || e instanceof java.sql.SQLRecoverableException) {
      return new TransientRouterException("router-jdbc database unavailable (SQLState " + state + "): "
          + e.getMessage(), e);
    }
    return new PermanentRouterException("router-jdbc database refused the statement (SQLState " + state + "): "
        + e.getMessage(), e);
  }
}
