package dev.emailrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.jdbc.JdbcActivityStore;
import dev.emailrouter.testfixtures.MutableClock;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * router-jdbc's store on H2 as a host of the examples uses it, through the engine and directly: these
 * tests came with the example JDBC store it replaced, and still hold of the store hosts now get.
 */
final class JdbcActivityStoreTest {
  private static final Instant NOW = MutableClock.START;
  private static final Duration LEASE = Duration.ofMinutes(30);

  private final List<JdbcDataSource> databases = new ArrayList<>();
  private JdbcDataSource dataSource;
  private JdbcActivityStore store;
  private final MutableClock clock = new MutableClock();
  private final List<RouterEngine> engines = new ArrayList<>();

  @BeforeEach
  void createDatabase() {
    store = storeIn("");
    dataSource = databases.get(0);
  }

  @AfterEach
  void dropDatabases() throws SQLException {
    engines.forEach(RouterEngine::close);
    for (JdbcDataSource database : databases) {
      try (Connection c = database.getConnection()) {
        c.createStatement().execute("SHUTDOWN");
      }
    }
  }

  /** A store in a new in-memory database, kept until the test ends; {@code settings} are added to the URL. */
  private JdbcActivityStore storeIn(String settings) {
    JdbcDataSource database = new JdbcDataSource();
    database.setURL("jdbc:h2:mem:store-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1" + settings);
    databases.add(database);
    JdbcActivityStore.createSchema(database);
    return new JdbcActivityStore(database);
  }

  @Test
  void createSchema_calledTwice_keepsTheTables() {
    store.addPendingSend(email("e-1", "una@example.test").build());

    JdbcActivityStore.createSchema(dataSource);

    assertThat(store.status("e-1")).contains(EmailStatus.PENDING_SEND);
    assertThat(store.status("unknown")).isEmpty();
  }

  @Test
  void tick_whenARecipientIsRefusedForNow_keepsTheEmailPending_sendsToThatRecipientAloneLater_andShowsEachOutcome() {
    EmailAddress soft = EmailAddress.of("soft@example.test");
    store.addPendingSend(email("e-1", "una@example.test").cc(soft).build());
    List<OutgoingEmail> handed = new java.util.concurrent.CopyOnWriteArrayList<>();
    dev.emailrouter.api.MailTransport greylisting = new dev.emailrouter.api.MailTransport() {
      @Override
      public Session openSession() {
        return new Session() {
          @Override
          public SendResult send(OutgoingEmail email) {
            handed.add(email);
            List<SendResult.RecipientResult> results = new ArrayList<>();
            for (EmailAddress r : email.pendingRecipients()) {
              boolean refuse = r.equals(soft) && handed.size() == 1;
              results.add(new SendResult.RecipientResult(r, refuse ? SendResult.Outcome.TRANSIENT
                  : SendResult.Outcome.ACCEPTED, refuse ? "450 4.2.0 greylisted" : "250 2.1.5 Ok"));
            }
            return new SendResult(SendResult.Outcome.ACCEPTED, "250 2.0.0 Ok: queued", results);
          }

          @Override
          public void close() {}
        };
      }

      @Override
      public String describe() {
        return "smtp://greylisting:25";
      }
    };
    RouterEngine engine = RouterEngine.builder().activityStore(store).transport(greylisting).clock(clock)
        .random(new Random(1)).build();
    engines.add(engine);

    engine.tick();

    assertThat(store.status("e-1")).contains(EmailStatus.PENDING_SEND);
    assertThat(recipientOutcomes("e-1")).containsExactly(
        new SendResult.RecipientResult(EmailAddress.of("carl@example.test", "Carl Contact"), SendResult.Outcome.ACCEPTED,
            "250 2.1.5 Ok"),
        new SendResult.RecipientResult(soft, SendResult.Outcome.TRANSIENT, "450 4.2.0 greylisted"));

    clock.advance(Duration.ofHours(5));
    engine.tick();

    assertThat(store.status("e-1")).contains(EmailStatus.SENT);
    assertThat(handed).hasSize(2);
    assertThat(handed.get(1).pendingRecipients()).containsExactly(soft);
    assertThat(handed.get(1).messageId()).isEqualTo(handed.get(0).messageId());
    assertThat(recipientOutcomes("e-1")).extracting(SendResult.RecipientResult::outcome)
        .containsExactly(SendResult.Outcome.ACCEPTED, SendResult.Outcome.ACCEPTED);
  }

  @Test
  void tick_withPendingEmail_claimsAndSendsIt_andRecordsItsIdentity() {
    RecordingTransport transport = new RecordingTransport();
    store.addPendingSend(email("e-1", "una@example.test").subject("Our proposal").build());

    TickReport report = engine(transport).tick();

    assertThat(report.sent()).extracting(e -> e.activityId()).containsExactly("e-1");
    assertThat(store.status("e-1")).contains(EmailStatus.SENT);
    OutgoingEmail sent = transport.sent().get(0);
    assertThat(sent.messageId()).startsWith("<").endsWith("@example.test>");
    assertThat(sent.trackingToken()).isEqualTo("CRM:0000001");
    assertThat(sent.subject()).isEqualTo("Our proposal CRM:0000001");
    assertThat(sent.to()).containsExactly(EmailAddress.of("carl@example.test", "Carl Contact"));
    assertThat(sent.from()).isEqualTo(EmailAddress.of("una@example.test", "Una User"));
    assertThat(column("e-1", "subject")).isEqualTo("Our proposal CRM:0000001");
    assertThat(column("e-1", "attempts")).isEqualTo("1");
    assertThat(column("e-1", "last_reason")).isEqualTo("250 2.0.0 Ok: queued as e-1");
    assertThat(column("e-1", "claim_token")).isNull();
    assertThat(store.findByMessageId(sent.messageId())).contains(new ActivityRef("e-1", EmailStatus.SENT));
    assertThat(engines.get(0).tick().sent()).isEmpty();
  }

  @Test
  void tick_withTwoEnginesOnOneDatabase_handsEachEmailToATransportExactlyOnce() throws Exception {
    int senders = 10;
    int perSender = 30;
    for (int i = 0; i < senders * perSender; i++) {
      store.addPendingSend(email("e-" + i, "user" + (i % senders) + "@example.test").build());
    }
    RecordingTransport transport = new RecordingTransport(); // shared: it counts what both engines hand over
    List<RouterEngine> both = List.of(engine(transport), engine(transport));
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      List<Future<Integer>> ticks = new ArrayList<>();
      for (RouterEngine engine : both) {
        ticks.add(threads.submit(() -> {
          start.await();
          int sent = 0;
          for (int tick = 0; tick < 200 && countWithStatus(EmailStatus.SENT) < senders * perSender; tick++) {
            TickReport report = engine.tick();
            assertThat(report.problems()).isEmpty();
            sent += report.sent().size();
          }
          return sent;
        }));
      }
      start.countDown();
      int sentByFirst = ticks.get(0).get(60, TimeUnit.SECONDS);
      int sentBySecond = ticks.get(1).get(60, TimeUnit.SECONDS);

      assertThat(sentByFirst + sentBySecond).isEqualTo(senders * perSender);
      assertThat(countWithStatus(EmailStatus.SENT)).isEqualTo(senders * perSender);
      Map<String, Integer> times = transport.timesByActivity();
      assertThat(times).hasSize(senders * perSender);
      assertThat(new HashSet<>(times.values())).containsExactly(1);
      assertThat(transport.sent()).extracting(OutgoingEmail::trackingToken).doesNotHaveDuplicates();
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void claimPendingSend_takesAtMostPerSenderOldestFirst_andResumesAfterTheLastSender() {
    for (int i = 1; i <= 5; i++) {
      store.addPendingSend(email("a-" + i, "ann@example.test").build());
    }
    store.addPendingSend(email("b-1", "Bob@Example.test").build());
    store.addPendingSend(email("c-1", "cid@example.test").build());

    List<ClaimedEmail> first = store.claimPendingSend(new ClaimRequest(NOW, LEASE, 2, 100, ""));
    List<ClaimedEmail> second = store.claimPendingSend(new ClaimRequest(NOW, LEASE, 2, 2, "bob@example.test"));
    List<ClaimedEmail> third = store.claimPendingSend(new ClaimRequest(NOW, LEASE, 2, 100, ""));

    assertThat(ids(first)).containsExactly("a-1", "a-2", "b-1", "c-1");
    assertThat(ids(second)).containsExactly("a-3", "a-4"); // wrapped around to ann after bob
    assertThat(ids(third)).containsExactly("a-5");
    assertThat(store.claimPendingSend(new ClaimRequest(NOW, LEASE, 2, 100, ""))).isEmpty();
    assertThat(store.status("a-1")).contains(EmailStatus.SENDING);
  }

  @Test
  void tick_withManyEmailsFromOneSender_sendsBatchPerSenderEachTick() throws SQLException {
    RecordingTransport transport = new RecordingTransport();
    for (int i = 0; i < 8; i++) {
      store.addPendingSend(email("a-" + i, "ann@example.test").build());
    }
    store.addPendingSend(email("b-0", "bob@example.test").build());
    RouterEngine engine = engine(transport);

    TickReport first = engine.tick();
    TickReport second = engine.tick();

    assertThat(first.sent()).hasSize(7); // 6 of ann's, bob's one
    assertThat(second.sent()).extracting(e -> e.activityId()).containsExactly("a-6", "a-7");
    assertThat(countWithStatus(EmailStatus.SENT)).isEqualTo(9);
  }

  @Test
  void markSent_withAStaleClaim_throwsAndLeavesTheCurrentClaimInCharge() {
    store.addPendingSend(email("e-1", "una@example.test").build());
    Claim stale = store.claimPendingSend(new ClaimRequest(NOW, Duration.ofMinutes(1), 6, 10, "")).get(0).claim();
    Claim current = store.claimPendingSend(new ClaimRequest(NOW.plus(Duration.ofMinutes(2)), LEASE, 6, 10, ""))
        .get(0).claim();

    assertThat(current.token()).isNotEqualTo(stale.token());
    assertThatThrownBy(() -> store.markSent(stale, NOW, SendResult.accepted("250 ok")))
        .isInstanceOf(StaleClaimException.class)
        .hasMessageContaining("e-1");
    assertThatThrownBy(() -> store.markRetry(stale, NOW, 1, "451 later")).isInstanceOf(StaleClaimException.class);
    assertThatThrownBy(() -> store.markFailed(stale, 1, SendResult.permanentFailure("550 no")))
        .isInstanceOf(StaleClaimException.class);
    assertThatThrownBy(() -> store.recordIdentity(stale, "<x@example.test>", "CRM:1", "s"))
        .isInstanceOf(StaleClaimException.class);
    assertThat(store.status("e-1")).contains(EmailStatus.SENDING);

    store.markSent(current, NOW, SendResult.accepted("250 ok"));

    assertThat(store.status("e-1")).contains(EmailStatus.SENT);
    assertThatThrownBy(() -> store.markSent(current, NOW, SendResult.accepted("250 ok")))
        .isInstanceOf(StaleClaimException.class);
  }

  @Test
  void claimPendingSend_whenTheLeaseExpires_makesTheEmailClaimableAgain() {
    store.addPendingSend(email("e-1", "una@example.test").build());
    Duration lease = Duration.ofMinutes(5);
    assertThat(store.claimPendingSend(new ClaimRequest(NOW, lease, 6, 10, ""))).hasSize(1);

    List<ClaimedEmail> whileHeld = store.claimPendingSend(new ClaimRequest(NOW.plus(Duration.ofMinutes(4)), lease, 6, 10, ""));
    List<ClaimedEmail> afterExpiry = store.claimPendingSend(new ClaimRequest(NOW.plus(lease), lease, 6, 10, ""));

    assertThat(whileHeld).isEmpty();
    assertThat(ids(afterExpiry)).containsExactly("e-1");
    assertThat(afterExpiry.get(0).claim().leaseUntil()).isEqualTo(NOW.plus(lease).plus(lease));
  }

  @Test
  void claimPendingSend_duringTheHourTheClocksGoBack_keepsTheLeaseItGave() {
    // A database session in a zone with daylight saving time: 02:00-03:00 local happens twice on
    // 27 October 2024 in Berlin. Instants must be stored as instants, not as ambiguous local times.
    JdbcActivityStore berlinStore = storeIn(";TIME ZONE=Europe/Berlin");
    berlinStore.addPendingSend(email("e-1", "una@example.test").build());
    Instant beforeFallBack = Instant.parse("2024-10-27T00:40:00Z"); // 02:40 CEST; the lease ends 02:10 CET

    List<ClaimedEmail> first = berlinStore.claimPendingSend(new ClaimRequest(beforeFallBack, LEASE, 6, 10, ""));
    List<ClaimedEmail> minuteLater = berlinStore.claimPendingSend(
        new ClaimRequest(beforeFallBack.plus(Duration.ofMinutes(1)), LEASE, 6, 10, ""));
    List<ClaimedEmail> afterLease = berlinStore.claimPendingSend(
        new ClaimRequest(beforeFallBack.plus(LEASE), LEASE, 6, 10, ""));

    assertThat(ids(first)).containsExactly("e-1");
    assertThat(minuteLater).as("a second engine must not claim an email under a live lease").isEmpty();
    assertThat(ids(afterLease)).containsExactly("e-1");
  }

  @Test
  void markRetry_duringTheHourTheClocksGoBack_keepsTheNextAttemptTime() {
    JdbcActivityStore berlinStore = storeIn(";TIME ZONE=Europe/Berlin");
    berlinStore.addPendingSend(email("e-1", "una@example.test").build());
    Instant now = Instant.parse("2024-10-27T00:50:00Z");
    Claim claim = berlinStore.claimPendingSend(new ClaimRequest(now, LEASE, 6, 10, "")).get(0).claim();

    berlinStore.markRetry(claim, now.plus(Duration.ofMinutes(20)), 1, "451 later"); // 02:10 CET

    assertThat(berlinStore.claimPendingSend(new ClaimRequest(now.plus(Duration.ofMinutes(5)), LEASE, 6, 10, "")))
        .isEmpty();
    assertThat(berlinStore.claimPendingSend(new ClaimRequest(now.plus(Duration.ofMinutes(20)), LEASE, 6, 10, "")))
        .hasSize(1);
  }

  @Test
  void createReceived_withHundredsOfRecipients_storesThemAll() {
    List<EmailAddress> to = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      to.add(EmailAddress.of("recipient-" + i + "@distribution-list.example.test", "Recipient Number " + i));
    }
    ReceivedEmail base = received("<list@example.test>", List.of());
    ReceivedEmail wide = new ReceivedEmail(base.dedupKey(), base.messageId(), base.mailbox(), base.owner(),
        base.from(), to, to, base.subject(), base.sentAt(), base.receivedAt(), base.textBody(), base.htmlBody(),
        List.of(), List.of(), base.inReplyTo(), base.references(), base.correlation(), base.decision());

    ReceiveResult result = store.createReceived(wide);

    assertThat(result.created()).isTrue();
    assertThat(parties(result.activityId())).as("the 600 To and the same 600 as Cc").hasSize(1200)
        .contains("recipient-599@distribution-list.example.test\tRecipient Number 599");
  }

  @Test
  void createReceived_withHostileLengths_storesTheMessageAndFindsItByItsLongMessageId() {
    String longId = "<" + "x".repeat(2000) + "@example.test>";
    ReceivedEmail base = received(longId, List.of(new Attachment("n".repeat(1500) + ".pdf", "application/pdf", 3,
        ContentSource.ofBytes(new byte[] {1, 2, 3}))));
    ReceivedEmail hostile = new ReceivedEmail(base.dedupKey(), base.messageId(), base.mailbox(), base.owner(),
        EmailAddress.of("carl@example.test", "C".repeat(500)), base.to(), base.cc(), base.subject(), base.sentAt(),
        base.receivedAt(), base.textBody(), base.htmlBody(), base.attachments(), List.of(), longId, List.of(),
        base.correlation(), base.decision());

    ReceiveResult result = store.createReceived(hostile);

    assertThat(result.created()).isTrue();
    assertThat(store.findByMessageId(longId)).hasValueSatisfying(r -> assertThat(r.activityId())
        .isEqualTo(result.activityId()));
    assertThat(column(result.activityId(), "sender_name")).isEqualTo("C".repeat(500)); // kept whole
    assertThat(store.createReceived(hostile).created()).isFalse();
  }

  @Test
  void addPendingSend_withHundredsOfRecipients_sendsToThemAll() {
    OutgoingEmail.Builder b = email("e-1", "una@example.test");
    for (int i = 0; i < 600; i++) {
      b.bcc(EmailAddress.of("recipient-" + i + "@distribution-list.example.test", "Recipient Number " + i));
    }
    store.addPendingSend(b.build());

    List<ClaimedEmail> claimed = store.claimPendingSend(new ClaimRequest(NOW, LEASE, 6, 10, ""));

    assertThat(claimed.get(0).email().bcc()).hasSize(600);
  }

  @Test
  void markRetry_makesTheEmailDueAtItsNextAttemptWithItsAttemptsKept() {
    store.addPendingSend(email("e-1", "una@example.test").build());
    Claim claim = store.claimPendingSend(new ClaimRequest(NOW, LEASE, 6, 10, "")).get(0).claim();

    store.markRetry(claim, NOW.plus(Duration.ofMinutes(5)), 1, "451 4.3.0 try again later");

    assertThat(store.claimPendingSend(new ClaimRequest(NOW.plus(Duration.ofMinutes(4)), LEASE, 6, 10, ""))).isEmpty();
    List<ClaimedEmail> due = store.claimPendingSend(new ClaimRequest(NOW.plus(Duration.ofMinutes(5)), LEASE, 6, 10, ""));
    assertThat(due).hasSize(1);
    assertThat(due.get(0).email().attempts()).isEqualTo(1);
    assertThat(column("e-1", "last_reason")).isEqualTo("451 4.3.0 try again later");
  }

  @Test
  void claimPendingSend_withAMalformedAddressInARow_failsThatEmailWithTheReasonAndClaimsTheRest() throws SQLException {
    store.addPendingSend(email("good-1", "una@example.test").build());
    insertByHand("bad-1", "una@example.test", "carl at example.test");
    store.addPendingSend(email("good-2", "una@example.test").build());

    List<ClaimedEmail> claimed = store.claimPendingSend(new ClaimRequest(NOW, LEASE, 6, 10, ""));

    assertThat(ids(claimed)).containsExactly("good-1", "good-2");
    assertThat(store.status("bad-1")).contains(EmailStatus.FAILED);
    assertThat(column("bad-1", "last_reason")).startsWith("the email can't be sent:")
        .contains("address must look like local@domain").contains("carl at example.test");
    assertThat(column("bad-1", "claim_token")).isNull();
  }

  @Test
  void tick_withAMalformedAddressInARow_reportsNothingAndSendsTheOthers() throws SQLException {
    RecordingTransport transport = new RecordingTransport();
    insertByHand("bad-1", "una@example", "x@@example.test");
    store.addPendingSend(email("good-1", "una@example.test").build());

    TickReport report = engine(transport).tick();

    assertThat(report.sent()).extracting(e -> e.activityId()).containsExactly("good-1");
    assertThat(report.problems()).isEmpty();
    assertThat(store.status("bad-1")).contains(EmailStatus.FAILED);
  }

  @Test
  void createReceived_withTheSameDedupKeyTwice_createsOneActivity() throws SQLException {
    ReceiveResult first = store.createReceived(received("<r1@example.test>", List.of()));
    ReceiveResult second = store.createReceived(received("<r1@example.test>", List.of()));

    assertThat(first.created()).isTrue();
    assertThat(second).isEqualTo(new ReceiveResult(first.activityId(), false));
    assertThat(countWithStatus(EmailStatus.RECEIVED)).isEqualTo(1);
    assertThat(store.findByMessageId("<r1@example.test>"))
        .contains(new ActivityRef(first.activityId(), EmailStatus.RECEIVED));
  }

  @Test
  void createReceived_calledConcurrentlyWithOneDedupKey_createsOneActivity() throws Exception {
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 5; round++) {
        String messageId = "<race-" + round + "@example.test>";
        CountDownLatch start = new CountDownLatch(1);
        List<Future<ReceiveResult>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          Callable<ReceiveResult> create = () -> {
            start.await();
            return store.createReceived(received(messageId, List.of()));
          };
          results.add(pool.submit(create));
        }
        start.countDown();
        Set<String> ids = new HashSet<>();
        int created = 0;
        for (Future<ReceiveResult> f : results) {
          ReceiveResult r = f.get(30, TimeUnit.SECONDS);
          ids.add(r.activityId());
          created += r.created() ? 1 : 0;
        }
        assertThat(ids).hasSize(1);
        assertThat(created).isEqualTo(1);
      }
      assertThat(countWithStatus(EmailStatus.RECEIVED)).isEqualTo(5);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void attachments_ofFiveMegabytes_roundTripByteEqualOutAndIn() throws Exception {
    byte[] big = new byte[5 * 1024 * 1024];
    new Random(42).nextBytes(big);
    store.addPendingSend(email("e-1", "una@example.test")
        .attachment(new Attachment("Größe – offer.pdf", "application/pdf", big.length, ContentSource.ofBytes(big)))
        .attachment(new Attachment("empty.txt", "text/plain", 0, ContentSource.ofBytes(new byte[0])))
        .build());

    ClaimedEmail claimed = store.claimPendingSend(new ClaimRequest(NOW, LEASE, 6, 10, "")).get(0);

    List<Attachment> out = claimed.email().attachments();
    assertThat(out).extracting(Attachment::fileName).containsExactly("Größe – offer.pdf", "empty.txt");
    assertThat(out.get(0).size()).isEqualTo(big.length);
    assertThat(out.get(0).contentType()).isEqualTo("application/pdf");
    assertThat(read(out.get(0).content())).isEqualTo(big);
    assertThat(read(out.get(0).content())).isEqualTo(big); // opened again, as a retry does
    assertThat(read(out.get(1).content())).isEmpty();

    ReceiveResult in = store.createReceived(received("<with-attachment@example.test>",
        List.of(new Attachment("scan.bin", "application/octet-stream", -1, ContentSource.ofBytes(big)))));

    try (Connection c = dataSource.getConnection();
         PreparedStatement ps = c.prepareStatement(
             "SELECT file_name, content FROM email_attachment WHERE email_id = ? ORDER BY position")) {
      ps.setString(1, in.activityId());
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("scan.bin");
        try (InputStream content = rs.getBinaryStream(2)) {
          assertThat(content.readAllBytes()).isEqualTo(big);
        }
        assertThat(rs.next()).isFalse();
      }
    }
  }

  @Test
  void tick_withAFiveMegabyteAttachment_streamsItToTheTransport() {
    byte[] big = new byte[5 * 1024 * 1024];
    new Random(7).nextBytes(big);
    RecordingTransport transport = new RecordingTransport();
    store.addPendingSend(email("e-1", "una@example.test")
        .attachment(new Attachment("offer.pdf", "application/pdf", big.length, ContentSource.ofBytes(big)))
        .build());

    engine(transport).tick();

    assertThat(transport.attachmentBytes("e-1")).hasSize(1);
    assertThat(transport.attachmentBytes("e-1").get(0)).isEqualTo(big);
    assertThat(store.status("e-1")).contains(EmailStatus.SENT);
  }

  @Test
  void lookups_findSentEmailByMessageIdAndTokenAnyCase_andResolveAddressesAnyCase() {
    RecordingTransport transport = new RecordingTransport();
    store.addPendingSend(email("e-1", "una@example.test").build());
    store.addParty("Carl@Example.test", new Party(Party.Type.CONTACT, "contact-1", "Carl Contact"));
    store.addParty("carl@example.test", new Party(Party.Type.LEAD, "lead-7", ""));
    engine(transport).tick();
    OutgoingEmail sent = transport.sent().get(0);

    assertThat(store.findByMessageId(sent.messageId())).contains(new ActivityRef("e-1", EmailStatus.SENT));
    assertThat(store.findByMessageId("<unknown@example.test>")).isEmpty();
    assertThat(store.findByTrackingToken("crm:0000001")).contains(new ActivityRef("e-1", EmailStatus.SENT));
    assertThat(store.findByTrackingToken("CRM:0000002")).isEmpty();
    assertThat(store.resolve(EmailAddress.of("CARL@example.TEST"))).containsExactlyInAnyOrder(
        new Party(Party.Type.CONTACT, "contact-1", "Carl Contact"), new Party(Party.Type.LEAD, "lead-7", ""));
    assertThat(store.resolve(EmailAddress.of("nobody@example.test"))).isEmpty();
    assertThat(store.nextTrackingNumber()).isEqualTo(2);
  }

  @Test
  void engine_overGreenMail_sendsAnEmailAndTracksTheReplyWithItsAttachmentCorrelated() throws Exception {
    byte[] scan = new byte[200_000];
    new Random(9).nextBytes(scan);
    try (TestMailServer server = new TestMailServer()) {
      server.user("una@example.test");
      store.addParty("una@example.test", new Party(Party.Type.USER, "user-1", "Una User"));
      RouterEngine engine = RouterEngine.builder()
          .activityStore(store)
          .transport(server.smtp().build())
          .mailbox(Mailbox.ofUser("user-1", server.imap("una@example.test").build()))
          .clock(clock)
          .build();
      engines.add(engine);
      store.addPendingSend(email("e-1", "una@example.test").subject("Offer").build());
      assertThat(engine.tick().sent()).hasSize(1);
      String messageId = column("e-1", "message_id");
      assertThat(server.messageIds("carl@example.test", "INBOX")).containsExactly(messageId);

      server.send(TestMessages.withHeader(TestMessages.withAttachment("<reply-1@example.test>", "carl@example.test",
          "una@example.test", "RE: Offer CRM:0000001", "Signed copy attached.", "signed.pdf", "application/pdf", scan),
          "In-Reply-To", messageId));
      TickReport report = engine.tick();

      assertThat(report.tracked()).singleElement().satisfies(e -> {
        assertThat(e.messageId()).isEqualTo("<reply-1@example.test>");
        assertThat(e.correlation().activityId()).isEqualTo("e-1");
      });
      String received = report.tracked().get(0).activityId();
      assertThat(store.findByMessageId("<reply-1@example.test>")).contains(new ActivityRef(received, EmailStatus.RECEIVED));
      assertThat(column(received, "regarding_activity_id")).isEqualTo("e-1");
      assertThat(column(received, "owner_id")).isEqualTo("user-1");
      assertThat(column(received, "sender_address")).isEqualTo("carl@example.test");
      assertThat(column(received, "text_body")).isEqualToIgnoringNewLines("Signed copy attached.");
      try (Connection c = dataSource.getConnection();
           PreparedStatement ps = c.prepareStatement(
               "SELECT file_name, content_type, content FROM email_attachment WHERE email_id = ?")) {
        ps.setString(1, received);
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1)).isEqualTo("signed.pdf");
          assertThat(rs.getString(2)).isEqualTo("application/pdf");
          assertThat(rs.getBytes(3)).isEqualTo(scan);
        }
      }
      assertThat(engine.tick().events()).isEmpty();
    }
  }

  @Test
  void createReceived_withoutAValidSender_storesItWithAnEmptySender() {
    ReceivedEmail base = received("<anonymous@example.test>", List.of());
    ReceivedEmail anonymous = new ReceivedEmail(base.dedupKey(), base.messageId(), base.mailbox(), base.owner(),
        null, base.to(), base.cc(), base.subject(), null, base.receivedAt(), null, "<p>hi</p>", List.of(),
        List.of("virus.exe: blocked type"), null, List.of("<a@example.test>", "<b@example.test>"), null,
        base.decision());

    ReceiveResult result = store.createReceived(anonymous);

    assertThat(result.created()).isTrue();
    assertThat(column(result.activityId(), "sender_address")).isNullOrEmpty();
    assertThat(column(result.activityId(), "references_list")).isEqualTo("<a@example.test> <b@example.test>");
    assertThat(column(result.activityId(), "dropped_attachments")).isEqualTo("virus.exe: blocked type");
  }

  private RouterEngine engine(RecordingTransport transport) {
    RouterEngine engine = RouterEngine.builder()
        .activityStore(store)
        .transport(transport)
        .clock(clock)
        .random(new Random(1))
        .build();
    engines.add(engine);
    return engine;
  }

  private static OutgoingEmail.Builder email(String id, String from) {
    return OutgoingEmail.builder(id, EmailAddress.of(from, "Una User"))
        .to(EmailAddress.of("carl@example.test", "Carl Contact"))
        .subject("Hello " + id)
        .textBody("Hello Carl");
  }

  private static ReceivedEmail received(String messageId, List<Attachment> attachments) {
    return new ReceivedEmail(messageId, messageId, "imap://user@127.0.0.1:143/INBOX",
        new Party(Party.Type.USER, "user-1", ""), EmailAddress.of("carl@example.test"),
        List.of(EmailAddress.of("una@example.test")), List.of(), "RE: Hello", null, NOW, "Thanks", null,
        attachments, List.of(), null, List.of(), null,
        TrackingDecision.track(TrackingDecision.Reason.ACCEPT_ALL, ""));
  }

  private static List<String> ids(List<ClaimedEmail> claimed) {
    return claimed.stream().map(c -> c.email().activityId()).toList();
  }

  private static byte[] read(ContentSource source) throws Exception {
    try (InputStream in = source.open()) {
      return in.readAllBytes();
    }
  }

  private int countWithStatus(EmailStatus status) throws SQLException {
    try (Connection c = dataSource.getConnection();
         PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM email_activity WHERE status_code = ?")) {
      ps.setInt(1, status.code());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /** An outgoing row typed into the CRM by hand, past the store's checks, with one To recipient. */
  private void insertByHand(String id, String sender, String to) throws SQLException {
    try (Connection c = dataSource.getConnection();
         PreparedStatement email = c.prepareStatement("INSERT INTO email_activity (id, status_code, sender_address,"
             + " sender_key, subject) VALUES (?, ?, ?, ?, 'typed by hand')");
         PreparedStatement party = c.prepareStatement("INSERT INTO email_activity_party (email_id, participation,"
             + " position, address, address_key) VALUES (?, 2, 0, ?, ?)")) {
      email.setString(1, id);
      email.setInt(2, EmailStatus.PENDING_SEND.code());
      email.setString(3, sender);
      email.setString(4, sender);
      email.executeUpdate();
      party.setString(1, id);
      party.setString(2, to);
      party.setString(3, to);
      party.executeUpdate();
    }
  }

  /** The recipients of an email as stored, {@code address<TAB>display name}, To then Cc then Bcc. */
  private List<String> parties(String id) {
    List<String> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
         PreparedStatement ps = c.prepareStatement("SELECT address, display_name FROM email_activity_party"
             + " WHERE email_id = ? ORDER BY participation, position")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1) + "\t" + rs.getString(2));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  /** Each recipient's latest outcome as stored, To then Cc then Bcc; recipients with none yet left out. */
  private List<SendResult.RecipientResult> recipientOutcomes(String id) {
    List<SendResult.RecipientResult> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
         PreparedStatement ps = c.prepareStatement("SELECT address, display_name, outcome, server_reply"
             + " FROM email_activity_party WHERE email_id = ? AND outcome IS NOT NULL ORDER BY participation, position")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new SendResult.RecipientResult(EmailAddress.of(rs.getString(1), rs.getString(2)),
              SendResult.Outcome.valueOf(rs.getString(3)), rs.getString(4)));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }

  private String column(String id, String column) {
    try (Connection c = dataSource.getConnection();
         PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM email_activity WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("row " + id).isTrue();
        return rs.getString(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
