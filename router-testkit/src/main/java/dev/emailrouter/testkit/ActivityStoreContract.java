package dev.emailrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

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
import dev.emailrouter.api.ReceiveResult;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SentOutcome;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.api.TrackingDecision;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The promises every {@link ActivityStore} must keep, as JUnit 5 tests: extend this class in your
 * test sources with a {@link Fixture} for your store, and every test below runs against it.
 *
 * <pre>{@code
 * final class CrmActivityStoreContractTest extends ActivityStoreContract {
 *   @Override
 *   protected Fixture newFixture() {
 *     CrmTestDatabase db = CrmTestDatabase.createEmpty();
 *     CrmActivityStore store = new CrmActivityStore(db.dataSource());
 *     return new Fixture() {
 *       public ActivityStore store() { return store; }
 *       public void addPending(OutgoingEmail email) { db.insertPendingSend(email); }
 *       public void addParty(String address, Party party) { db.insertParty(address, party); }
 *       public EmailStatus status(String activityId) { return db.statusOf(activityId); }
 *       public ReceivedActivity received(String activityId) { return db.readReceived(activityId); }
 *       public void close() { db.drop(); }
 *     };
 *   }
 * }
 * }</pre>
 *
 * <p>The router keeps its promises — no email sent twice, nothing lost, no duplicate activity —
 * only if the store keeps these. Each test is named after one promise, and a failure says what the
 * store did and what to change. The tests pass explicit instants in every {@link ClaimRequest}
 * (whole seconds, in 2030), never sleep, and finish in seconds against a local database.
 *
 * <p>Each test gets a new fixture from {@link #newFixture()} and closes it afterwards; tests call
 * the fixture from the test thread and the store from several threads at once.
 *
 * <p><b>Running it.</b> These are JUnit 5 (Jupiter) tests, so they run only where the build runs the
 * JUnit Platform: with Maven, maven-surefire-plugin (or failsafe) 3.x, which finds the Jupiter
 * engine by itself. Maven 3.8 binds Surefire 2.12.4 by default when a project pins no version; it
 * does not know the JUnit Platform, runs none of these tests and still reports success ("Tests run:
 * 0"). Nothing in this kit can notice that, since none of its code runs then, so pin the plugin and
 * make an empty run fail: {@code <version>3.5.4</version>} and {@code
 * <configuration><failIfNoTests>true</failIfNoTests></configuration>} on maven-surefire-plugin (or
 * {@code -DfailIfNoTests=true}, which old Surefire versions honour too). Surefire 2.22 also runs
 * them if {@code junit-jupiter-engine} is added as a test dependency.
 */
public abstract class ActivityStoreContract {

  /** When the contract's emails are first claimed; every instant in a test is relative to it. */
  private static final Instant T0 = Instant.parse("2030-01-07T09:00:00Z");
  private static final Duration LEASE = Duration.ofMinutes(5);
  private static final EmailAddress CUSTOMER = EmailAddress.of("customer@example.test", "A Customer");
  private static final Party OWNER = new Party(Party.Type.USER, "user-sales", "Sales");
  private static final String MAILBOX = "imap://sales@mail.example.test:993/INBOX";
  private static final String FENCING_HINT = " A claim must fence every later change: make each one conditional on"
      + " the claim (UPDATE ... WHERE id = ? AND status = SENDING AND claim_token = ?) and throw"
      + " StaleClaimException when it changed no row.";

  private Fixture fixture;

  /** For subclasses. */
  protected ActivityStoreContract() {}

  /**
   * Creates the fixture for one test: a new, empty store (no outgoing email, no received activity,
   * no party) and the means to set it up and read it back.
   *
   * @return the fixture; the contract closes it after the test
   */
  protected abstract Fixture newFixture();

  /**
   * What the contract needs besides the {@link ActivityStore} itself: the store's interface has no
   * method to add a Pending Send email or to read a status, since in a CRM the users do that.
   * Implement each method the way your CRM does it (an insert into the activity table, say).
   *
   * <p>Called from the test thread only.
   */
  public interface Fixture {

    /**
     * The store under test.
     *
     * @return the store; the same instance on every call
     */
    ActivityStore store();

    /**
     * A second store instance over the same data, as another engine (in another process) would
     * hold it; the concurrency tests split their threads between the two. Return a new instance
     * when your store keeps state in the Java object (a cache, a lock), so the contract checks
     * that claims and creation are atomic in the database, not only in one JVM.
     *
     * @return another store over the same data; by default {@link #store()}
     */
    default ActivityStore storeOfAnotherEngine() {
      return store();
    }

    /**
     * Adds an email in status Pending Send with no next attempt time, as the CRM does when a user
     * clicks Send. The contract adds each sender's emails oldest first; attachments are streams
     * to read during this call.
     *
     * @param email the email, with no Message-ID, no tracking token and 0 attempts
     */
    void addPending(OutgoingEmail email);

    /**
     * Registers a CRM record for an address; an address may belong to several records.
     *
     * @param address the address as the CRM stores it (the contract uses mixed case)
     * @param party the record
     */
    void addParty(String address, Party party);

    /**
     * Reads an email activity's status, as the CRM shows it.
     *
     * @param activityId an id of an email added by {@link #addPending} or created by {@link
     *     ActivityStore#createReceived}
     * @return its status now
     */
    EmailStatus status(String activityId);

    /**
     * Reads back what {@link ActivityStore#createReceived} stored for a Received activity.
     *
     * @param activityId the id {@code createReceived} returned
     * @return the activity's subject, bodies and attachments
     */
    ReceivedActivity received(String activityId);

    /**
     * Releases the fixture (drops the test database, say); called after each test.
     *
     * @throws Exception if releasing fails; the test then fails
     */
    default void close() throws Exception {}
  }

  /**
   * A Received activity as the store keeps it, read back by {@link Fixture#received}.
   *
   * @param subject the subject
   * @param textBody the plain-text body, or {@code null}
   * @param htmlBody the HTML body, or {@code null}
   * @param attachments the attachments in the order given, with their stored bytes
   */
  public record ReceivedActivity(String subject, String textBody, String htmlBody, List<Attachment> attachments) {

    /**
     * Validates the components and copies the list.
     *
     * @param subject the subject
     * @param textBody the plain-text body, or {@code null}
     * @param htmlBody the HTML body, or {@code null}
     * @param attachments the attachments in the order given, with their stored bytes
     */
    public ReceivedActivity {
      Objects.requireNonNull(subject, "subject");
      attachments = List.copyOf(Objects.requireNonNull(attachments, "attachments"));
    }
  }

  @BeforeEach
  final void openFixture() {
    fixture = Objects.requireNonNull(newFixture(),
        "newFixture() returned null; return a Fixture for a new, empty store");
  }

  @AfterEach
  final void closeFixture() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  /**
   * The current test's fixture, for a subclass's own tests.
   *
   * @return the fixture
   */
  protected final Fixture fixture() {
    return fixture;
  }

  /**
   * The store under test, for a subclass's own tests.
   *
   * @return {@code fixture().store()}
   */
  protected final ActivityStore store() {
    return fixture.store();
  }

  // --- helpers ----------------------------------------------------------------------------------

  private static OutgoingEmail email(String id, String from) {
    return OutgoingEmail.builder(id, EmailAddress.of(from)).to(CUSTOMER).subject("Subject of " + id)
        .textBody("Body of " + id + "\r\n").build();
  }

  private String add(String id, String from) {
    fixture.addPending(email(id, from));
    return id;
  }

  private List<ClaimedEmail> claim(Instant now, int perSender, int max, String resumeAfterSender) {
    return claim(store(), now, perSender, max, resumeAfterSender);
  }

  private static List<ClaimedEmail> claim(ActivityStore store, Instant now, int perSender, int max,
      String resumeAfterSender) {
    List<ClaimedEmail> claimed =
        store.claimPendingSend(new ClaimRequest(now, LEASE, perSender, max, resumeAfterSender));
    if (claimed == null) {
      fail("claimPendingSend returned null; return an empty list when nothing is due");
    }
    return claimed;
  }

  private List<ClaimedEmail> claimAll(Instant now) {
    return claim(now, 1000, 1000, "");
  }

  /** Claims exactly one email, the one with {@code activityId}, at {@code now}. */
  private ClaimedEmail claimOne(String activityId, Instant now) {
    List<ClaimedEmail> claimed = claimAll(now);
    List<String> ids = ids(claimed);
    if (!ids.equals(List.of(activityId))) {
      fail("claimPendingSend at %s returned %s; expected exactly [%s], the only email due then", now, ids, activityId);
    }
    ClaimedEmail c = claimed.get(0);
    if (c.claim().token() == null || c.claim().token().isBlank()) {
      fail("claimPendingSend returned activity %s with a blank claim token: issue a fresh token with every claim",
          activityId);
    }
    return c;
  }

  private static List<String> ids(List<ClaimedEmail> claimed) {
    return claimed.stream().map(c -> c.email().activityId()).toList();
  }

  private void assertStatus(String activityId, EmailStatus expected, String why) {
    EmailStatus actual = fixture.status(activityId);
    if (actual != expected) {
      fail("activity %s is %s; expected %s: %s", activityId, actual, expected, why);
    }
  }

  /** Asserts that {@code change} is refused with StaleClaimException and leaves the status alone. */
  private void assertRefused(String operation, Claim claim, String situation, Runnable change) {
    EmailStatus before = fixture.status(claim.activityId());
    try {
      change.run();
    } catch (StaleClaimException expected) {
      EmailStatus after = fixture.status(claim.activityId());
      if (after != before) {
        fail("%s %s threw StaleClaimException but changed activity %s from %s to %s anyway: check the claim and"
            + " change the row in one conditional statement, and change nothing when the check fails.",
            operation, situation, claim.activityId(), before, after);
      }
      return;
    } catch (RuntimeException other) {
      throw new AssertionError(operation + " " + situation + " threw " + other + " instead of StaleClaimException:"
          + " the engine recognises a lost claim by StaleClaimException alone (new StaleClaimException(claim)).", other);
    }
    fail("%s %s was accepted (activity %s went from %s to %s).%s", operation, situation, claim.activityId(), before,
        fixture.status(claim.activityId()), FENCING_HINT);
  }

  private static ReceivedEmail received(String dedupKey, String messageId, String subject, String textBody,
      String htmlBody, List<Attachment> attachments) {
    return new ReceivedEmail(dedupKey, messageId, MAILBOX, OWNER, CUSTOMER,
        List.of(EmailAddress.of("sales@example.test")), List.of(), subject, T0.minusSeconds(120), T0.minusSeconds(60), textBody, htmlBody, attachments, List.of(), null,
        List.of(), null, TrackingDecision.track(TrackingDecision.Reason.ACCEPT_ALL, "contract test"));
  }

  private static ReceivedEmail received(String messageId) {
    return received(messageId, messageId, "Question about " + messageId, "Hello\r\n", null, List.of());
  }

  private static String messageId(String local) {
    return "<" + local + ".contract@crm.example.test>";
  }

  /** A comparable view of an email's content, so a mismatch names the field that differs. */
  private static Map<String, Object> content(OutgoingEmail e) {
    Map<String, Object> view = new LinkedHashMap<>();
    view.put("from", e.from().address() + " / display name " + e.from().displayName());
    view.put("to", e.to());
    view.put("cc", e.cc());
    view.put("bcc", e.bcc());
    view.put("subject", e.subject());
    view.put("textBody", e.textBody());
    view.put("htmlBody", e.htmlBody());
    view.put("inReplyTo", e.inReplyTo());
    view.put("references", e.references());
    view.put("messageId", e.messageId());
    view.put("trackingToken", e.trackingToken());
    view.put("attempts", e.attempts());
    return view;
  }

  private static void assertSameContent(OutgoingEmail given, OutgoingEmail claimed, String when) throws IOException {
    Map<String, Object> expected = content(given);
    Map<String, Object> actual = content(claimed);
    for (String field : expected.keySet()) {
      if (!Objects.equals(expected.get(field), actual.get(field))) {
        fail("%s, activity %s came back with %s = %s; expected %s. The store must hand back every field as the CRM"
            + " holds it (Unicode intact, lists in order).", when, given.activityId(), field, shorten(actual.get(field)),
            shorten(expected.get(field)));
      }
    }
    assertSameAttachments(given.attachments(), claimed.attachments(), "activity " + given.activityId() + " " + when);
  }

  private static void assertSameAttachments(List<Attachment> given, List<Attachment> stored, String where)
      throws IOException {
    if (stored.size() != given.size()) {
      fail("%s has %d attachments; %d were given: keep every attachment, in order", where, stored.size(), given.size());
    }
    for (int i = 0; i < given.size(); i++) {
      Attachment g = given.get(i);
      Attachment s = stored.get(i);
      if (!g.fileName().equals(s.fileName()) || !g.contentType().equals(s.contentType())) {
        fail("attachment %d of %s came back as %s (%s); expected %s (%s)", i, where, s.fileName(), s.contentType(),
            g.fileName(), g.contentType());
      }
      Content.Fingerprint expected = Content.fingerprint(g.content());
      Content.Fingerprint actual;
      try {
        actual = Content.fingerprint(s.content());
      } catch (IOException | RuntimeException e) {
        throw new AssertionError("attachment " + g.fileName() + " of " + where + " can't be read back: " + e, e);
      }
      if (!expected.equals(actual)) {
        fail("attachment %s of %s came back with %s; %s were given: store attachments byte for byte, reading the"
            + " stream to its end (the declared size may be -1, unknown)", g.fileName(), where, actual, expected);
      }
      if (s.size() != -1 && s.size() != actual.length()) {
        fail("attachment %s of %s declares size %d but has %d bytes: report the stored length, or -1 when unknown",
            g.fileName(), where, s.size(), actual.length());
      }
    }
  }

  private static String shorten(Object value) {
    String s = String.valueOf(value);
    return s.length() <= 200 ? s : s.substring(0, 200) + "... (" + s.length() + " characters)";
  }

  // --- claims -------------------------------------------------------------------------------------

  /**
   * A claim moves a due Pending Send email to Sending under a new claim and hands it back whole.
   *
   * @throws IOException if an attachment can't be read
   */
  @Test
  public void claimPendingSend_movesADueEmailToSending_underANewClaimWithTheRequestedLease() throws IOException {
    OutgoingEmail given = OutgoingEmail.builder("out-1", EmailAddress.of("sales@example.test", "Sales Team"))
        .to(CUSTOMER, EmailAddress.of("second@example.test"))
        .cc(EmailAddress.of("copy@example.test", "Copy"))
        .bcc(EmailAddress.of("hidden@example.test"))
        .subject("Your quote")
        .textBody("Dear customer,\r\nhere it is.\r\n")
        .htmlBody("<p>Dear customer,</p><p>here it is.</p>")
        .inReplyTo("<question.1@mail.example.test>")
        .references("<root.0@mail.example.test>", "<question.1@mail.example.test>")
        .attachment(new Attachment("quote.pdf", "application/pdf", 5, ContentSource.ofBytes(
            "%PDF-".getBytes(StandardCharsets.US_ASCII))))
        .build();
    fixture.addPending(given);

    ClaimedEmail claimed = claimOne("out-1", T0);

    assertThat(claimed.claim().activityId()).isEqualTo("out-1");
    if (!claimed.claim().leaseUntil().equals(T0.plus(LEASE))) {
      fail("the claim's leaseUntil is %s; expected request.leaseUntil() = %s (now + lease)",
          claimed.claim().leaseUntil(), T0.plus(LEASE));
    }
    assertSameContent(given, claimed.email(), "claimed");
    assertStatus("out-1", EmailStatus.SENDING, "a claim moves the email to Sending (status 7)");
  }

  /** An empty store, or one with nothing due, claims nothing. */
  @Test
  public void claimPendingSend_whenNothingIsDue_returnsNoEmails() {
    assertThat(claimAll(T0)).as("claimPendingSend on an empty store").isEmpty();
  }

  /**
   * Many claimants at once (threads of one engine, or several engines): every email goes to exactly
   * one of them.
   */
  @Test
  public void claimPendingSend_neverHandsOneEmailToTwoClaimantsAtOnce() {
    Set<String> all = new TreeSet<>();
    for (int i = 0; i < 10; i++) {
      for (int s = 0; s < 20; s++) {
        all.add(add("race-" + s + "-" + i, "sender" + s + "@example.test"));
      }
    }
    ActivityStore[] stores = {store(), fixture.storeOfAnotherEngine()};

    List<List<ClaimedEmail>> byThread = Concurrently.run(8, "claimPendingSend", t -> {
      List<ClaimedEmail> mine = new ArrayList<>();
      // Bounded: a store that hands out held emails again would otherwise keep every thread busy for ever.
      while (mine.size() <= all.size()) {
        List<ClaimedEmail> batch = claim(stores[t % 2], T0, 3, 10, "");
        if (batch.isEmpty()) {
          break;
        }
        mine.addAll(batch);
      }
      return mine;
    });
    List<ClaimedEmail> everything = new ArrayList<>();
    byThread.forEach(everything::addAll);
    for (int i = 0; i < 3; i++) {
      everything.addAll(claimAll(T0)); // what the racing claimants left, if anything
    }

    Map<String, List<String>> tokensById = new LinkedHashMap<>();
    for (ClaimedEmail c : everything) {
      tokensById.computeIfAbsent(c.email().activityId(), k -> new ArrayList<>()).add(c.claim().token());
    }
    tokensById.forEach((id, tokens) -> {
      if (tokens.size() > 1) {
        fail("claimPendingSend handed activity %s to %d claimants at once (claim tokens %s): two engines would both"
            + " send it. Make the claim an atomic conditional update — UPDATE ... SET status = SENDING, claim_token = ?,"
            + " lease_until = ? WHERE id = ? AND (status = PENDING_SEND and due, or SENDING with lease_until <= now) —"
            + " and return an email only when that update changed its row (or lock the rows: SELECT ... FOR UPDATE"
            + " SKIP LOCKED).", id, tokens.size(), tokens);
      }
    });
    Set<String> missing = new TreeSet<>(all);
    missing.removeAll(tokensById.keySet());
    if (!missing.isEmpty()) {
      fail("%d of %d due emails were never handed to any claimant, e.g. %s: a claim must return every email it moved"
          + " to Sending, or the email stays in Sending unsent until its lease expires", missing.size(), all.size(),
          missing.stream().limit(5).toList());
    }
    Set<String> tokens = new HashSet<>();
    for (ClaimedEmail c : everything) {
      if (!tokens.add(c.claim().token())) {
        fail("claim token %s was issued for two claims: issue a fresh, unique token (a UUID) with every claim",
            c.claim().token());
      }
    }
  }

  /** No sender gets more than {@code perSender} emails in one claim. */
  @Test
  public void claimPendingSend_claimsAtMostPerSenderEmailsFromEachSender() {
    for (int i = 1; i <= 4; i++) {
      add("a-" + i, "alice@example.test");
      add("b-" + i, "bob@example.test");
    }
    add("c-1", "carol@example.test");

    List<ClaimedEmail> claimed = claim(T0, 2, 100, "");

    Map<String, Long> perSender = claimed.stream()
        .collect(Collectors.groupingBy(c -> c.email().from().normalized(), LinkedHashMap::new, Collectors.counting()));
    perSender.forEach((sender, count) -> {
      if (count > 2) {
        fail("claimPendingSend returned %d emails from %s with perSender = 2 (%s): take at most request.perSender()"
            + " from each sender", count, sender, ids(claimed));
      }
    });
    if (claimed.size() != 5) {
      fail("claimPendingSend with perSender = 2 returned %s; expected 2 from alice, 2 from bob and 1 from carol:"
          + " claim up to perSender from every sender with due emails", ids(claimed));
    }
  }

  /** One claim returns at most {@code max} emails in all. */
  @Test
  public void claimPendingSend_claimsAtMostMaxEmailsInAll() {
    for (int i = 1; i <= 3; i++) {
      add("a-" + i, "alice@example.test");
      add("b-" + i, "bob@example.test");
      add("c-" + i, "carol@example.test");
    }

    List<ClaimedEmail> claimed = claim(T0, 10, 4, "");

    if (claimed.size() != 4) {
      fail("claimPendingSend with max = 4 and 9 due emails returned %d: %s; claim request.max() emails when that many"
          + " are due, and never more", claimed.size(), ids(claimed));
    }
    for (ClaimedEmail c : claimed) {
      assertStatus(c.email().activityId(), EmailStatus.SENDING, "it was claimed");
    }
    List<String> rest = ids(claimAll(T0));
    Set<String> twice = new TreeSet<>(rest);
    twice.retainAll(ids(claimed));
    if (rest.size() != 5 || !twice.isEmpty()) {
      fail("after a claim with max = 4 took %s, the next claim returned %s; expected the other 5 emails: an email"
          + " already claimed (under a live lease) must not be claimed again", ids(claimed), rest);
    }
  }

  /**
   * Senders are served in order of their normalised address, starting after {@code
   * resumeAfterSender} and wrapping around, and the claim lists them in that order.
   */
  @Test
  public void claimPendingSend_servesSendersInAddressOrderAfterResumeAfterSender_wrappingAround() {
    add("carol-1", "carol@example.test");
    add("bob-1", "Bob@Example.test");
    add("alice-1", "alice@example.test");
    add("alice-2", "alice@example.test");

    List<String> afterBob = ids(claim(T0, 1, 2, "bob@example.test"));

    List<String> expected = List.of("carol-1", "alice-1");
    if (!afterBob.equals(expected)) {
      fail("claimPendingSend with perSender = 1, max = 2, resumeAfterSender = bob@example.test returned %s; expected %s."
          + " Serve senders in order of their normalised (lower-case) address, starting with the first after"
          + " resumeAfterSender and wrapping around, and return the emails in that order: the engine passes the last"
          + " email's sender as the next resumeAfterSender, which keeps one busy sender from starving the rest.",
          afterBob, expected);
    }
    List<String> next = ids(claim(T0, 1, 2, "alice@example.test"));
    if (!next.equals(List.of("bob-1", "alice-2"))) {
      fail("claimPendingSend with perSender = 1, max = 2, resumeAfterSender = alice@example.test returned %s; expected"
          + " [bob-1, alice-2]: Bob@Example.test sorts as bob@example.test (compare normalised addresses), then wrap"
          + " around to alice", next);
    }
  }

  /** Each sender's emails are claimed oldest first. */
  @Test
  public void claimPendingSend_claimsEachSendersOldestEmailsFirst() {
    for (int i = 1; i <= 5; i++) {
      add("a-" + i, "alice@example.test");
    }

    List<String> first = ids(claim(T0, 2, 10, ""));
    List<String> second = ids(claim(T0, 2, 10, ""));

    if (!first.equals(List.of("a-1", "a-2")) || !second.equals(List.of("a-3", "a-4"))) {
      fail("two claims with perSender = 2 returned %s and %s; expected [a-1, a-2] and [a-3, a-4]: claim each sender's"
          + " emails oldest first (in the order they became Pending Send), so none waits for ever", first, second);
    }
  }

  /** An email sent back to Pending Send waits until its next attempt time, and is due from then on. */
  @Test
  public void claimPendingSend_skipsAnEmailWhoseNextAttemptIsInTheFuture_untilThen() {
    add("retry-1", "alice@example.test");
    ClaimedEmail first = claimOne("retry-1", T0);
    Instant nextAttempt = T0.plus(Duration.ofMinutes(10));
    store().markRetry(first.claim(), nextAttempt, 1, "451 4.3.0 try again later");
    assertStatus("retry-1", EmailStatus.PENDING_SEND, "markRetry returns the email to Pending Send");

    List<String> early = ids(claimAll(nextAttempt.minusSeconds(1)));
    if (!early.isEmpty()) {
      fail("claimPendingSend at %s returned %s although markRetry set the next attempt to %s: a Pending Send email is"
          + " due only when next_attempt_at is null or <= request.now(). A store that compares with its database's"
          + " clock (now(), CURRENT_TIMESTAMP) instead of request.now() fails here: the engine's clock decides",
          nextAttempt.minusSeconds(1), early, nextAttempt);
    }
    List<String> onTime = ids(claimAll(nextAttempt));
    if (!onTime.equals(List.of("retry-1"))) {
      fail("claimPendingSend at %s returned %s; expected [retry-1], whose next attempt was due at exactly that"
          + " instant (next_attempt_at <= request.now() is due; a store comparing with its database's clock instead"
          + " of request.now() fails here)", nextAttempt, onTime);
    }
  }

  /** An email held under a live lease is never claimed by anyone else. */
  @Test
  public void claimPendingSend_neverClaimsAnEmailHeldUnderALiveLease() {
    add("held-1", "alice@example.test");
    ClaimedEmail first = claimOne("held-1", T0);

    Instant beforeExpiry = first.claim().leaseUntil().minusSeconds(1);
    for (ActivityStore s : List.of(store(), fixture.storeOfAnotherEngine())) {
      List<String> again = ids(claim(s, beforeExpiry, 10, 100, ""));
      if (!again.isEmpty()) {
        fail("claimPendingSend at %s returned %s although the claim made at %s holds its lease until %s: an email in"
            + " Sending under a live lease must not be claimed (only Pending Send rows that are due, and Sending rows"
            + " with lease_until <= now)", beforeExpiry, again, T0, first.claim().leaseUntil());
      }
    }
  }

  /**
   * When a lease expires (the engine died mid-send) the email is claimable again, under a new
   * token, with the identity recorded for it so the resend carries the same Message-ID.
   */
  @Test
  public void claimPendingSend_afterTheLeaseExpired_claimsTheEmailAgain_withANewTokenAndTheRecordedIdentity() {
    add("lapsed-1", "alice@example.test");
    ClaimedEmail first = claimOne("lapsed-1", T0);
    store().recordIdentity(first.claim(), messageId("lapsed-1"), "CRM:0000101", "Subject of lapsed-1 [CRM:0000101]");

    Instant later = first.claim().leaseUntil().plusSeconds(1);
    List<ClaimedEmail> again = claimAll(later);

    if (!ids(again).equals(List.of("lapsed-1"))) {
      fail("claimPendingSend at %s returned %s; expected [lapsed-1], whose only claim lapsed at %s: an email in Sending"
          + " whose lease expired is due again (the engine holding it died), or it stays in Sending for ever",
          later, ids(again), first.claim().leaseUntil());
    }
    Claim second = again.get(0).claim();
    if (second.token().equals(first.claim().token())) {
      fail("the new claim on lapsed-1 reuses token %s of the expired claim: issue a fresh token with every claim,"
          + " or the stale claimant can't be fenced off", second.token());
    }
    OutgoingEmail resent = again.get(0).email();
    if (!messageId("lapsed-1").equals(resent.messageId()) || !"CRM:0000101".equals(resent.trackingToken())
        || !"Subject of lapsed-1 [CRM:0000101]".equals(resent.subject())) {
      fail("the email claimed again came back with Message-ID %s, tracking token %s, subject %s; expected those"
          + " recordIdentity stored: a resend must reuse them so recipients' systems can drop the copy",
          resent.messageId(), resent.trackingToken(), resent.subject());
    }
  }

  /** A Sent or Failed email is never claimed again. */
  @Test
  public void claimPendingSend_neverClaimsASentOrFailedEmailAgain() {
    add("sent-1", "alice@example.test");
    add("failed-1", "bob@example.test");
    List<ClaimedEmail> claimed = claimAll(T0);
    assertThat(ids(claimed)).as("the first claim").containsExactly("sent-1", "failed-1");
    store().markSent(claimed.get(0).claim(), T0.plusSeconds(1), SendResult.accepted("250 2.0.0 Ok: queued"));
    store().markFailed(claimed.get(1).claim(), 1, SendResult.permanentFailure("550 5.1.1 no such user"));

    Instant muchLater = T0.plus(Duration.ofDays(2));
    List<String> again = ids(claimAll(muchLater));
    if (!again.isEmpty()) {
      fail("claimPendingSend at %s returned %s, which were marked Sent and Failed: only Pending Send (and Sending with"
          + " an expired lease) are due; markSent and markFailed must clear the lease so the row is never due again",
          muchLater, again);
    }
  }

  // --- state changes and fencing -----------------------------------------------------------------

  /** recordIdentity keeps the email Sending and makes it findable by Message-ID and tracking token. */
  @Test
  public void recordIdentity_keepsTheEmailSending_andRecordsItsMessageIdAndTrackingToken() {
    add("ident-1", "alice@example.test");
    ClaimedEmail c = claimOne("ident-1", T0);

    store().recordIdentity(c.claim(), messageId("ident-1"), "CRM:0000042", "Subject of ident-1 [CRM:0000042]");

    assertStatus("ident-1", EmailStatus.SENDING, "recordIdentity records the identity before the first attempt and"
        + " must not change the status");
    assertThat(store().findByMessageId(messageId("ident-1")))
        .as("findByMessageId(%s) right after recordIdentity recorded it", messageId("ident-1"))
        .map(ActivityRef::activityId).contains("ident-1");
    assertThat(store().findByTrackingToken("CRM:0000042"))
        .as("findByTrackingToken(CRM:0000042) right after recordIdentity recorded it")
        .map(ActivityRef::activityId).contains("ident-1");
  }

  /** markSent moves the email from Sending to Sent. */
  @Test
  public void markSent_movesTheEmailToSent() {
    add("ok-1", "alice@example.test");
    ClaimedEmail c = claimOne("ok-1", T0);

    store().markSent(c.claim(), T0.plusSeconds(2), SendResult.accepted("250 2.0.0 Ok: queued as 1234"));

    assertStatus("ok-1", EmailStatus.SENT, "markSent records that the server accepted it");
  }

  /**
   * recordDeliveryReport accepts a report on a sent email, and the same report again (the engine
   * may read a mailbox twice); afterwards the email is still found by its Message-ID. The
   * interface's default method does nothing and passes; an override must not refuse a repeat.
   */
  @Test
  public void recordDeliveryReport_onASentEmail_acceptsTheSameReportTwice_andTheEmailIsStillFound() {
    add("bounced-1", "alice@example.test");
    ClaimedEmail c = claimOne("bounced-1", T0);
    store().recordIdentity(c.claim(), messageId("bounced-1"), "CRM:0000550", "Subject of bounced-1 [CRM:0000550]");
    store().markSent(c.claim(), T0.plusSeconds(2), SendResult.accepted("250 2.0.0 Ok: queued"));
    ActivityRef email = store().findByMessageId(messageId("bounced-1")).orElseThrow();
    DeliveryReport report = new DeliveryReport("imap://alice@mail.example.test/INBOX", "17",
        "<dsn-1.contract@mail.example.test>", messageId("bounced-1"), DeliveryReport.Match.RETURNED_HEADERS, null,
        "mail.example.test", T0.plusSeconds(60), List.of(new DeliveryReport.Recipient("nobody@example.test",
            DeliveryReport.Action.FAILED, "5.1.1", "550 5.1.1 <nobody@example.test>: user unknown", "mx.example.test")));

    store().recordDeliveryReport(email, report);
    store().recordDeliveryReport(email, report);

    assertThat(store().findByMessageId(messageId("bounced-1")))
        .as("findByMessageId(%s) after a delivery report was recorded on it", messageId("bounced-1"))
        .map(ActivityRef::activityId).contains("bounced-1");
  }

  /** markFailed moves the email from Sending to Failed. */
  @Test
  public void markFailed_movesTheEmailToFailed() {
    add("bad-1", "alice@example.test");
    ClaimedEmail c = claimOne("bad-1", T0);

    store().markFailed(c.claim(), 1, SendResult.permanentFailure("550 5.1.1 <nobody@example.test>: no such user"));

    assertStatus("bad-1", EmailStatus.FAILED, "markFailed records a permanent refusal");
  }

  /**
   * markRetry returns the email to Pending Send; when it is claimed again it carries the attempts
   * made and the identity recorded, so the retry reuses its Message-ID.
   */
  @Test
  public void markRetry_returnsTheEmailToPendingSend_withItsAttemptsAndRecordedIdentity() {
    add("again-1", "alice@example.test");
    ClaimedEmail c = claimOne("again-1", T0);
    store().recordIdentity(c.claim(), messageId("again-1"), "CRM:0000007", "Subject of again-1 [CRM:0000007]");

    store().markRetry(c.claim(), T0.plusSeconds(300), 3, "421 4.7.0 try again later");

    assertStatus("again-1", EmailStatus.PENDING_SEND, "markRetry returns the email to Pending Send");
    OutgoingEmail retried = claimOne("again-1", T0.plusSeconds(300)).email();
    if (retried.attempts() != 3) {
      fail("the retried email came back with attempts = %d; markRetry was told 3: store the attempts so the engine"
          + " stops after its maximum", retried.attempts());
    }
    if (!messageId("again-1").equals(retried.messageId()) || !"CRM:0000007".equals(retried.trackingToken())
        || !"Subject of again-1 [CRM:0000007]".equals(retried.subject())) {
      fail("the retried email came back with Message-ID %s, tracking token %s, subject %s; expected what"
          + " recordIdentity stored, so the retry is recognisably the same email", retried.messageId(),
          retried.trackingToken(), retried.subject());
    }
  }

  private static final EmailAddress SOFT = EmailAddress.of("soft@example.test", "Greylisted Recipient");
  private static final EmailAddress OTHER = EmailAddress.of("other@example.test");

  /** An email to the customer, soft@ (Cc) and other@ (Bcc). */
  private String addToThree(String id) {
    fixture.addPending(OutgoingEmail.builder(id, EmailAddress.of("alice@example.test")).to(CUSTOMER).cc(SOFT).bcc(OTHER)
        .subject("Subject of " + id).textBody("Body of " + id + "\r\n").build());
    return id;
  }

  private static SendResult partly(List<EmailAddress> accepted, List<EmailAddress> pending) {
    List<SendResult.RecipientResult> recipients = new ArrayList<>();
    for (EmailAddress a : accepted) {
      recipients.add(new SendResult.RecipientResult(a, SendResult.Outcome.ACCEPTED, "250 2.1.5 Ok"));
    }
    for (EmailAddress p : pending) {
      recipients.add(new SendResult.RecipientResult(p, SendResult.Outcome.TRANSIENT,
          "450 4.2.0 <" + p.address() + ">: Recipient address rejected: greylisted"));
    }
    return new SendResult(SendResult.Outcome.ACCEPTED, "250 2.0.0 Ok: queued as 4711", recipients);
  }

  private static Set<String> normalized(List<EmailAddress> addresses) {
    return addresses.stream().map(EmailAddress::normalized).collect(Collectors.toCollection(TreeSet::new));
  }

  /**
   * markPartlySent returns the email to Pending Send, due at the next attempt time; the next claim
   * hands back the recipients that accepted, so the retry goes to the others alone, and the spent
   * claim can change nothing more.
   */
  @Test
  public void markPartlySent_returnsTheEmailToPendingSend_andTheNextClaimCarriesTheAcceptedRecipients() {
    addToThree("partly-1");
    ClaimedEmail c = claimOne("partly-1", T0);
    store().recordIdentity(c.claim(), messageId("partly-1"), "CRM:0000451", "Subject of partly-1 [CRM:0000451]");
    Instant nextAttempt = T0.plus(Duration.ofMinutes(10));

    store().markPartlySent(c.claim(), nextAttempt, 1, partly(List.of(CUSTOMER, OTHER), List.of(SOFT)));

    assertStatus("partly-1", EmailStatus.PENDING_SEND, "markPartlySent returns the email to Pending Send: it is not"
        + " final while a recipient is still pending");
    assertRefused("markSent", c.claim(), "after markPartlySent with the same claim",
        () -> store().markSent(c.claim(), T0.plusSeconds(2), SendResult.accepted("250 Ok")));
    List<String> early = ids(claimAll(nextAttempt.minusSeconds(1)));
    if (!early.isEmpty()) {
      fail("claimPendingSend at %s returned %s although markPartlySent set the next attempt to %s: store"
          + " nextAttemptAt as markRetry does", nextAttempt.minusSeconds(1), early, nextAttempt);
    }
    OutgoingEmail again = claimOne("partly-1", nextAttempt).email();
    Set<String> accepted = normalized(again.acceptedRecipients());
    if (!accepted.equals(Set.of(CUSTOMER.normalized(), OTHER.normalized()))) {
      fail("after markPartlySent with customer@ and other@ accepted (soft@ pending), the next claim returned"
          + " acceptedRecipients %s; expected [customer@example.test, other@example.test]: store the ACCEPTED"
          + " recipients of the result and hand them back in OutgoingEmail.acceptedRecipients(), or the retry sends"
          + " the email to them a second time", accepted);
    }
    if (again.attempts() != 1 || !messageId("partly-1").equals(again.messageId())) {
      fail("the partly sent email came back with attempts = %d and Message-ID %s; expected 1 and %s (what"
          + " markPartlySent and recordIdentity stored)", again.attempts(), again.messageId(), messageId("partly-1"));
    }
  }

  /**
   * Accepted recipients add up over several partial sends (the union), compared case-insensitively,
   * and a markRetry in between (the server could not be reached) keeps them.
   */
  @Test
  public void markPartlySent_twice_theNextClaimsCarryTheUnionOfTheAcceptedRecipients_alsoAfterAMarkRetry() {
    addToThree("union-1");
    ClaimedEmail first = claimOne("union-1", T0);
    store().markPartlySent(first.claim(), T0.plusSeconds(60), 1, partly(List.of(CUSTOMER), List.of(SOFT, OTHER)));
    ClaimedEmail second = claimOne("union-1", T0.plusSeconds(60));
    // The second attempt went to soft@ and other@ alone; the server answers with its own spelling.
    store().markPartlySent(second.claim(), T0.plusSeconds(180), 2,
        partly(List.of(EmailAddress.of("OTHER@example.test")), List.of(SOFT)));

    ClaimedEmail thirdClaim = claimOne("union-1", T0.plusSeconds(180));
    OutgoingEmail third = thirdClaim.email();
    Set<String> accepted = normalized(third.acceptedRecipients());
    if (!accepted.equals(Set.of(CUSTOMER.normalized(), OTHER.normalized()))) {
      fail("after two partial sends (customer@ accepted, then OTHER@example.test), the next claim returned"
          + " acceptedRecipients %s; expected [customer@example.test, other@example.test]: add each result's ACCEPTED"
          + " recipients to those stored before (the union, compared case-insensitively), never replace them",
          accepted);
    }
    if (third.attempts() != 2) {
      fail("the email came back with attempts = %d; the second markPartlySent was told 2", third.attempts());
    }
    store().markRetry(thirdClaim.claim(), T0.plusSeconds(300), 2, "server unavailable: 421 4.3.2 shutting down");
    Set<String> afterRetry = normalized(claimOne("union-1", T0.plusSeconds(300)).email().acceptedRecipients());
    if (!afterRetry.equals(accepted)) {
      fail("after markRetry (the server could not be reached) the email came back with acceptedRecipients %s; expected"
          + " %s as before: markRetry must leave the accepted recipients alone, or they get the email twice",
          afterRetry, accepted);
    }
  }

  /** Once the lease passed to another claimant, the old claim can't record a partial send. */
  @Test
  public void staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailPartlySent() {
    add("stale-partly", "alice@example.test");
    Claim old = claimOne("stale-partly", T0).claim();
    Claim current = claimOne("stale-partly", old.leaseUntil().plusSeconds(60)).claim();
    assertRefused("markPartlySent", old, "with a claim whose lease had passed to another claimant",
        () -> store().markPartlySent(old, T0.plusSeconds(900), 1, partly(List.of(CUSTOMER), List.of())));
    store().markRetry(current, old.leaseUntil().plusSeconds(120), 1, "451 4.3.0 later");
    OutgoingEmail again = claimOne("stale-partly", old.leaseUntil().plusSeconds(120)).email();
    if (!again.acceptedRecipients().isEmpty()) {
      fail("markPartlySent with a stale claim threw StaleClaimException but stored accepted recipients %s anyway:"
          + " check the claim and write in one conditional statement", again.acceptedRecipients());
    }
  }

  /** Once the lease passed to another claimant, the old claim can't mark the email Sent. */
  @Test
  public void staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailSent() {
    Claim[] claims = leasePassedToAnother("stale-sent");
    assertRefused("markSent", claims[0], "with a claim whose lease had passed to another claimant",
        () -> store().markSent(claims[0], T0.plusSeconds(400), SendResult.accepted("250 2.0.0 Ok")));
    store().markSent(claims[1], T0.plusSeconds(401), SendResult.accepted("250 2.0.0 Ok"));
    assertStatus("stale-sent", EmailStatus.SENT, "the current claimant's markSent must still work");
  }

  /** Once the lease passed to another claimant, the old claim can't mark the email Failed. */
  @Test
  public void staleClaim_whoseLeasePassedToAnother_cannotMarkTheEmailFailed() {
    Claim[] claims = leasePassedToAnother("stale-failed");
    assertRefused("markFailed", claims[0], "with a claim whose lease had passed to another claimant",
        () -> store().markFailed(claims[0], 1, SendResult.permanentFailure("554 5.7.1 rejected")));
    store().markSent(claims[1], T0.plusSeconds(401), SendResult.accepted("250 2.0.0 Ok"));
    assertStatus("stale-failed", EmailStatus.SENT, "the current claimant's markSent must still work");
  }

  /** Once the lease passed to another claimant, the old claim can't return the email to Pending Send. */
  @Test
  public void staleClaim_whoseLeasePassedToAnother_cannotReturnTheEmailToPendingSend() {
    Claim[] claims = leasePassedToAnother("stale-retry");
    assertRefused("markRetry", claims[0], "with a claim whose lease had passed to another claimant",
        () -> store().markRetry(claims[0], T0.plusSeconds(900), 1, "451 4.3.0 later"));
    store().markSent(claims[1], T0.plusSeconds(401), SendResult.accepted("250 2.0.0 Ok"));
    assertStatus("stale-retry", EmailStatus.SENT, "the current claimant's markSent must still work");
  }

  /** Once the lease passed to another claimant, the old claim can't overwrite the recorded identity. */
  @Test
  public void staleClaim_whoseLeasePassedToAnother_cannotRecordAnIdentity() {
    Claim[] claims = leasePassedToAnother("stale-ident");
    assertRefused("recordIdentity", claims[0], "with a claim whose lease had passed to another claimant",
        () -> store().recordIdentity(claims[0], messageId("stale-ident-old"), "CRM:0000666", "stale"));
    if (store().findByMessageId(messageId("stale-ident-old")).isPresent()) {
      fail("recordIdentity with a stale claim threw StaleClaimException but stored the Message-ID anyway: check the"
          + " claim and write in one conditional statement");
    }
  }

  /** Claims the email at T0, lets the lease lapse and claims it again; returns {old, new}. */
  private Claim[] leasePassedToAnother(String id) {
    add(id, "alice@example.test");
    Claim old = claimOne(id, T0).claim();
    Claim current = claimOne(id, old.leaseUntil().plusSeconds(60)).claim();
    return new Claim[] {old, current};
  }

  /** After markSent, the same claim can change nothing more: Sent is final. */
  @Test
  public void afterMarkSent_theSameClaimIsRefusedEveryFurtherChange() {
    add("done-1", "alice@example.test");
    Claim c = claimOne("done-1", T0).claim();
    store().markSent(c, T0.plusSeconds(1), SendResult.accepted("250 2.0.0 Ok"));

    String after = "after markSent with the same claim";
    assertRefused("markSent", c, after, () -> store().markSent(c, T0.plusSeconds(2), SendResult.accepted("250 Ok")));
    assertRefused("markRetry", c, after, () -> store().markRetry(c, T0.plusSeconds(60), 1, "451 later"));
    assertRefused("markFailed", c, after, () -> store().markFailed(c, 1, SendResult.permanentFailure("550 no")));
    assertRefused("recordIdentity", c, after, () -> store().recordIdentity(c, messageId("done-1-late"), null, "late"));
    assertStatus("done-1", EmailStatus.SENT, "Sent is final");
  }

  /** After markFailed, the same claim can change nothing more: Failed is final. */
  @Test
  public void afterMarkFailed_theSameClaimIsRefusedEveryFurtherChange() {
    add("lost-1", "alice@example.test");
    Claim c = claimOne("lost-1", T0).claim();
    store().markFailed(c, 1, SendResult.permanentFailure("550 5.1.1 no such user"));

    String after = "after markFailed with the same claim";
    assertRefused("markSent", c, after, () -> store().markSent(c, T0.plusSeconds(2), SendResult.accepted("250 Ok")));
    assertRefused("markRetry", c, after, () -> store().markRetry(c, T0.plusSeconds(60), 2, "451 later"));
    assertRefused("markFailed", c, after, () -> store().markFailed(c, 2, SendResult.permanentFailure("550 no")));
    assertStatus("lost-1", EmailStatus.FAILED, "Failed is final");
  }

  /** After markRetry, the claim is spent: the next attempt needs a new claim. */
  @Test
  public void afterMarkRetry_theSameClaimIsRefusedEveryFurtherChange() {
    add("spent-1", "alice@example.test");
    Claim c = claimOne("spent-1", T0).claim();
    store().markRetry(c, T0.plusSeconds(300), 1, "451 4.3.0 later");

    String after = "after markRetry with the same claim";
    assertRefused("markSent", c, after, () -> store().markSent(c, T0.plusSeconds(2), SendResult.accepted("250 Ok")));
    assertRefused("markFailed", c, after, () -> store().markFailed(c, 1, SendResult.permanentFailure("550 no")));
    assertRefused("markRetry", c, after, () -> store().markRetry(c, T0.plusSeconds(600), 2, "451 later"));
    assertStatus("spent-1", EmailStatus.PENDING_SEND, "markRetry returned it to Pending Send");
  }

  /** A claim the store never issued changes nothing, whatever state the email is in. */
  @Test
  public void aClaimNeverIssued_isRefused() {
    add("pending-1", "alice@example.test");
    add("sending-1", "bob@example.test");
    Claim real = claim(T0, 1, 1, "alice@example.test").stream().map(ClaimedEmail::claim).findFirst()
        .orElseThrow(() -> new AssertionError("claimPendingSend returned nothing although sending-1 was due"));
    assertThat(real.activityId()).as("the email claimed after alice").isEqualTo("sending-1");

    Instant lease = T0.plus(LEASE);
    Claim forged = new Claim("sending-1", "never-issued-" + UUID.randomUUID(), lease);
    assertRefused("markSent", forged, "with a token the store never issued, on an email another claim holds",
        () -> store().markSent(forged, T0.plusSeconds(1), SendResult.accepted("250 Ok")));
    Claim onPending = new Claim("pending-1", "never-issued-" + UUID.randomUUID(), lease);
    assertRefused("markFailed", onPending, "with a token the store never issued, on a Pending Send email",
        () -> store().markFailed(onPending, 1, SendResult.permanentFailure("550 no")));
    assertRefused("markSent", onPending, "with a token the store never issued, on a Pending Send email",
        () -> store().markSent(onPending, T0.plusSeconds(1), SendResult.accepted("250 Ok")));
    Claim unknown = new Claim("no-such-activity-" + UUID.randomUUID(), "never-issued", lease);
    try {
      store().markSent(unknown, T0.plusSeconds(1), SendResult.accepted("250 Ok"));
      fail("markSent on an activity that does not exist was accepted; throw StaleClaimException");
    } catch (StaleClaimException expected) {
      // refused, as it must be
    } catch (RuntimeException other) {
      throw new AssertionError("markSent on an activity that does not exist threw " + other
          + " instead of StaleClaimException", other);
    }
    assertStatus("pending-1", EmailStatus.PENDING_SEND, "forged claims must change nothing");
    List<String> after = ids(claimAll(T0));
    if (!after.equals(List.of("pending-1"))) {
      fail("claimPendingSend after the forged claims returned %s; expected [pending-1] alone (sending-1 is still held"
          + " under a live lease)", after);
    }
  }

  // --- tracking numbers ---------------------------------------------------------------------------

  /** Tracking numbers are positive and never repeat, also when drawn concurrently. */
  @Test
  public void nextTrackingNumber_isPositiveAndNeverRepeats_alsoConcurrently() {
    ActivityStore[] stores = {store(), fixture.storeOfAnotherEngine()};
    List<List<Long>> drawn = Concurrently.run(8, "nextTrackingNumber", t -> {
      List<Long> mine = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        mine.add(stores[t % 2].nextTrackingNumber());
      }
      return mine;
    });
    Set<Long> seen = new HashSet<>();
    for (List<Long> numbers : drawn) {
      for (long n : numbers) {
        if (n <= 0) {
          fail("nextTrackingNumber returned %d; it must be positive", n);
        }
        if (!seen.add(n)) {
          fail("nextTrackingNumber returned %d twice: draw from a database sequence or an atomic counter, so two"
              + " emails never share a tracking token", n);
        }
      }
    }
  }

  // --- batch forms -------------------------------------------------------------------------------

  /** Runs a batch call whose batch holds a stale claim; a StaleClaimException is a failure with a hint. */
  private static List<String> batch(String operation, Supplier<List<String>> call) {
    try {
      return call.get();
    } catch (StaleClaimException e) {
      throw new AssertionError(operation + " threw StaleClaimException (" + e.getMessage() + ") for a batch with a"
          + " stale claim in the middle: return the activity ids of the claims that no longer hold instead, and"
          + " record the others, so one lost claim doesn't stop the rest", e);
    }
  }

  /**
   * nextTrackingNumbers returns as many numbers as asked, positive, never one nextTrackingNumber
   * or another batch returned, also when both forms are drawn concurrently by two engines.
   */
  @Test
  public void nextTrackingNumbers_returnsAsManyAsAsked_positiveAndNeverRepeating_besideTheSingleForm_concurrently() {
    List<Long> none = store().nextTrackingNumbers(0);
    if (none == null || !none.isEmpty()) {
      fail("nextTrackingNumbers(0) returned %s; expected an empty list", none);
    }
    ActivityStore[] stores = {store(), fixture.storeOfAnotherEngine()};
    List<List<Long>> drawn = Concurrently.run(8, "nextTrackingNumbers", t -> {
      List<Long> mine = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        ActivityStore store = stores[t % 2];
        List<Long> batch = store.nextTrackingNumbers(7);
        if (batch == null || batch.size() != 7) {
          fail("nextTrackingNumbers(7) returned %s; expected 7 numbers", batch);
        }
        mine.addAll(batch);
        mine.add(store.nextTrackingNumber());
      }
      return mine;
    });
    Set<Long> seen = new HashSet<>();
    for (List<Long> numbers : drawn) {
      for (long n : numbers) {
        if (n <= 0) {
          fail("nextTrackingNumbers returned %d; every number must be positive", n);
        }
        if (!seen.add(n)) {
          fail("tracking number %d was returned twice (by nextTrackingNumbers or nextTrackingNumber): draw both"
              + " from the same database sequence or atomic counter (e.g. nextval over generate_series(1, count))",
              n);
        }
      }
    }
  }

  /**
   * recordIdentities records each email as recordIdentity does; a claim in the middle of the batch
   * that no longer holds is reported by its activity id, changes nothing, and does not stop the rest.
   */
  @Test
  public void recordIdentities_recordsEachHeldEmail_andReportsAStaleClaimInTheMiddle_withoutStoppingTheRest() {
    Claim[] stale = leasePassedToAnother("batch-ident-2");
    add("batch-ident-1", "alice@example.test");
    Instant now = stale[1].leaseUntil().minus(LEASE).plusSeconds(1);
    add("batch-ident-3", "carol@example.test");
    List<ClaimedEmail> claimed = claimAll(now);
    assertThat(ids(claimed)).as("the emails due once batch-ident-2 is held by its second claim")
        .containsExactlyInAnyOrder("batch-ident-1", "batch-ident-3");
    Map<String, Claim> claims = new LinkedHashMap<>();
    claimed.forEach(c -> claims.put(c.email().activityId(), c.claim()));

    List<String> refused = batch("recordIdentities", () -> store().recordIdentities(List.of(
        new EmailIdentity(claims.get("batch-ident-1"), messageId("batch-ident-1"), "CRM:0000301", "s [CRM:0000301]"),
        new EmailIdentity(stale[0], messageId("batch-ident-2-old"), "CRM:0000302", "stale"),
        new EmailIdentity(claims.get("batch-ident-3"), messageId("batch-ident-3"), null, "Subject of batch-ident-3"))));

    if (!List.of("batch-ident-2").equals(refused)) {
      fail("recordIdentities with a stale claim on batch-ident-2 in the middle returned %s; expected [batch-ident-2]:"
          + " return the activity ids of the claims that no longer hold (the rows the fenced update did not"
          + " match), record the others, and throw for none of them", refused);
    }
    if (store().findByMessageId(messageId("batch-ident-2-old")).isPresent()
        || store().findByTrackingToken("CRM:0000302").isPresent()) {
      fail("recordIdentities reported the stale claim on batch-ident-2 but stored its Message-ID anyway:" + FENCING_HINT);
    }
    assertThat(store().findByMessageId(messageId("batch-ident-1"))).as("batch-ident-1 by Message-ID after the batch")
        .map(ActivityRef::activityId).contains("batch-ident-1");
    assertThat(store().findByTrackingToken("CRM:0000301")).as("batch-ident-1 by tracking token after the batch")
        .map(ActivityRef::activityId).contains("batch-ident-1");
    assertThat(store().findByMessageId(messageId("batch-ident-3"))).as("batch-ident-3, after the stale claim")
        .map(ActivityRef::activityId).contains("batch-ident-3");
    for (String id : List.of("batch-ident-1", "batch-ident-2", "batch-ident-3")) {
      assertStatus(id, EmailStatus.SENDING, "recordIdentities must not change the status");
    }
    assertThat(store().recordIdentities(List.of())).as("recordIdentities of no emails").isEmpty();

    List<ClaimedEmail> again = claimAll(claims.get("batch-ident-1").leaseUntil().plusSeconds(1));
    OutgoingEmail resent = again.stream().map(ClaimedEmail::email).filter(e -> e.activityId().equals("batch-ident-1"))
        .findFirst().orElseThrow(() -> new AssertionError("batch-ident-1 was not claimed again after its lease"));
    if (!messageId("batch-ident-1").equals(resent.messageId()) || !"CRM:0000301".equals(resent.trackingToken())) {
      fail("batch-ident-1 claimed again came back with Message-ID %s and token %s; expected those recordIdentities"
          + " stored", resent.messageId(), resent.trackingToken());
    }
  }

  /**
   * markSentAll marks each email Sent as markSent does; claims in the middle of the batch that no
   * longer hold (lease passed on, already Sent, never issued) are reported, change nothing, and do
   * not stop the rest.
   */
  @Test
  public void markSentAll_marksEachHeldEmailSent_andReportsStaleClaimsInTheMiddle_withoutStoppingTheRest() {
    Claim[] stale = leasePassedToAnother("batch-sent-2");
    add("batch-sent-1", "alice@example.test");
    Instant now = stale[1].leaseUntil().minus(LEASE).plusSeconds(1);
    add("batch-sent-3", "carol@example.test");
    add("batch-sent-4", "dave@example.test");
    List<ClaimedEmail> claimed = claimAll(now);
    assertThat(ids(claimed)).as("the emails due once batch-sent-2 is held by its second claim")
        .containsExactlyInAnyOrder("batch-sent-1", "batch-sent-3", "batch-sent-4");
    Map<String, Claim> claims = new LinkedHashMap<>();
    claimed.forEach(c -> claims.put(c.email().activityId(), c.claim()));
    Claim spent = claims.get("batch-sent-3");
    store().markSent(spent, now, SendResult.accepted("250 2.0.0 Ok"));
    Claim forged = new Claim("batch-sent-4", "never-issued-" + UUID.randomUUID(), claims.get("batch-sent-4").leaseUntil());
    SendResult ok = SendResult.accepted("250 2.0.0 Ok: queued");

    List<String> refused = batch("markSentAll", () -> store().markSentAll(List.of(
        new SentOutcome(claims.get("batch-sent-1"), now.plusSeconds(1), ok),
        new SentOutcome(stale[0], now.plusSeconds(1), ok),
        new SentOutcome(spent, now.plusSeconds(1), ok),
        new SentOutcome(forged, now.plusSeconds(1), ok))));

    if (!List.of("batch-sent-2", "batch-sent-3", "batch-sent-4").equals(refused)) {
      fail("markSentAll with the claims on batch-sent-2 (lease passed to another), batch-sent-3 (already Sent) and"
          + " batch-sent-4 (a token never issued) after a held one returned %s; expected [batch-sent-2, batch-sent-3,"
          + " batch-sent-4]: return the activity ids of the claims that no longer hold, in the order given, mark the"
          + " others Sent, and throw for none of them.%s", refused, FENCING_HINT);
    }
    assertStatus("batch-sent-1", EmailStatus.SENT, "markSentAll records that the server accepted it");
    assertStatus("batch-sent-2", EmailStatus.SENDING, "its claim in the batch no longer held: nothing may change");
    assertStatus("batch-sent-4", EmailStatus.SENDING, "a forged claim in the batch must change nothing");
    assertThat(store().markSentAll(List.of())).as("markSentAll of no emails").isEmpty();

    List<String> current = store().markSentAll(List.of(new SentOutcome(stale[1], now.plusSeconds(2), ok),
        new SentOutcome(claims.get("batch-sent-4"), now.plusSeconds(2), ok)));
    if (!current.isEmpty()) {
      fail("markSentAll with the current claims on batch-sent-2 and batch-sent-4 reported %s as stale", current);
    }
    assertStatus("batch-sent-2", EmailStatus.SENT, "the current claimant's markSentAll must still work");
    assertStatus("batch-sent-4", EmailStatus.SENT, "the current claimant's markSentAll must still work");
    if (!ids(claimAll(now.plus(Duration.ofDays(2)))).isEmpty()) {
      fail("an email markSentAll marked Sent was claimed again: clear the lease as markSent does");
    }
  }

  // --- lookups ------------------------------------------------------------------------------------

  /** A sent email is found by the Message-ID and the tracking token it was sent with, with its status. */
  @Test
  public void findByMessageIdAndTrackingToken_findTheSentEmail_withItsStatus() {
    add("sent-2", "alice@example.test");
    add("other-2", "alice@example.test");
    List<ClaimedEmail> claimed = claimAll(T0);
    Claim c = claimed.get(0).claim();
    assertThat(c.activityId()).isEqualTo("sent-2");
    store().recordIdentity(c, messageId("sent-2"), "CRM:0001234", "Subject of sent-2 [CRM:0001234]");
    store().recordIdentity(claimed.get(1).claim(), messageId("other-2"), "CRM:0001235", "other [CRM:0001235]");
    store().markSent(c, T0.plusSeconds(1), SendResult.accepted("250 2.0.0 Ok"));

    Optional<ActivityRef> byId = store().findByMessageId(messageId("sent-2"));
    if (!byId.equals(Optional.of(new ActivityRef("sent-2", EmailStatus.SENT)))) {
      fail("findByMessageId(%s) returned %s; expected activity sent-2 with status SENT: replies are correlated by the"
          + " Message-ID recordIdentity stored", messageId("sent-2"), byId);
    }
    Optional<ActivityRef> byToken = store().findByTrackingToken("CRM:0001234");
    if (!byToken.equals(Optional.of(new ActivityRef("sent-2", EmailStatus.SENT)))) {
      fail("findByTrackingToken(CRM:0001234) returned %s; expected activity sent-2 with status SENT: replies whose"
          + " subject keeps the token are correlated by it", byToken);
    }
  }

  /** Lookups of a Message-ID or tracking token no email has find nothing. */
  @Test
  public void findByMessageIdAndTrackingToken_whenUnknown_returnEmpty() {
    add("plain-1", "alice@example.test");
    store().recordIdentity(claimOne("plain-1", T0).claim(), messageId("plain-1"), null, "Subject of plain-1");

    assertThat(store().findByMessageId(messageId("unknown"))).as("findByMessageId of an unknown Message-ID").isEmpty();
    assertThat(store().findByTrackingToken("CRM:0009999")).as("findByTrackingToken of an unknown token").isEmpty();
  }

  /** A Received activity is found by its Message-ID, with status Received. */
  @Test
  public void findByMessageId_findsAReceivedActivity() {
    ReceiveResult created = store().createReceived(received(messageId("in-1")));

    Optional<ActivityRef> found = store().findByMessageId(messageId("in-1"));

    if (!found.equals(Optional.of(new ActivityRef(created.activityId(), EmailStatus.RECEIVED)))) {
      fail("findByMessageId(%s) returned %s; expected activity %s with status RECEIVED: a reply to a received email"
          + " is correlated by its Message-ID too", messageId("in-1"), found, created.activityId());
    }
  }

  /** An address no CRM record has resolves to no party. */
  @Test
  public void resolve_whenTheAddressIsUnknown_returnsNoParties() {
    fixture.addParty("known@example.test", new Party(Party.Type.CONTACT, "contact-1", "Known"));

    List<Party> parties = store().resolve(EmailAddress.of("stranger@example.test"));

    assertThat(parties).as("resolve(stranger@example.test), an address no record has").isNotNull().isEmpty();
  }

  /** One address on several CRM records resolves to each of them. */
  @Test
  public void resolve_whenOneAddressBelongsToSeveralRecords_returnsEachOfThem() {
    Party contact = new Party(Party.Type.CONTACT, "contact-7", "Pat Example");
    Party lead = new Party(Party.Type.LEAD, "lead-3", "Pat Example (lead)");
    fixture.addParty("pat@example.test", contact);
    fixture.addParty("pat@example.test", lead);
    fixture.addParty("other@example.test", new Party(Party.Type.ACCOUNT, "account-1", "Other"));

    List<Party> parties = store().resolve(EmailAddress.of("pat@example.test"));

    if (parties.size() != 2 || !parties.containsAll(List.of(contact, lead))) {
      fail("resolve(pat@example.test) returned %s; expected both %s and %s: one address may belong to several CRM"
          + " records (a contact and a lead, say), and the policy needs them all", parties, contact, lead);
    }
  }

  /** Addresses resolve case-insensitively. */
  @Test
  public void resolve_matchesAddressesCaseInsensitively() {
    Party contact = new Party(Party.Type.CONTACT, "contact-9", "Kim");
    fixture.addParty("Kim.Example@Example.TEST", contact);

    List<Party> parties = store().resolve(EmailAddress.of("kim.example@example.test"));

    if (!parties.equals(List.of(contact))) {
      fail("resolve(kim.example@example.test) returned %s though Kim.Example@Example.TEST is registered for %s: compare"
          + " addresses case-insensitively (store and look up EmailAddress.normalized())", parties, contact);
    }
  }

  // --- received activities ------------------------------------------------------------------------

  /**
   * createReceived creates a Received activity holding the message's subject, bodies and attachments.
   *
   * @throws IOException if the test's own content can't be read
   */
  @Test
  public void createReceived_createsAReceivedActivity_withItsSubjectBodiesAndAttachments() throws IOException {
    List<Attachment> attachments = List.of(
        new Attachment("order.csv", "text/csv", 10,
            ContentSource.ofBytes("a,b\r\n1,2\r\n".getBytes(StandardCharsets.US_ASCII))),
        new Attachment("logo.png", "image/png", 2048, Content.generated(7, 2048)));
    ReceivedEmail email = received(messageId("in-2"), messageId("in-2"), "Order", "Please see attached.\r\n",
        "<p>Please see attached.</p>", attachments);

    ReceiveResult result = store().createReceived(email);

    if (result == null || !result.created()) {
      fail("createReceived of a new message returned %s; expected created = true", result);
    }
    assertStatus(result.activityId(), EmailStatus.RECEIVED, "createReceived creates a Received activity");
    ReceivedActivity stored = fixture.received(result.activityId());
    assertThat(stored.subject()).as("the stored subject").isEqualTo("Order");
    assertThat(stored.textBody()).as("the stored text body").isEqualTo("Please see attached.\r\n");
    assertThat(stored.htmlBody()).as("the stored HTML body").isEqualTo("<p>Please see attached.</p>");
    assertSameAttachments(attachments, stored.attachments(), "received activity " + result.activityId());
  }

  /** The same message twice yields one activity; the second call returns it with created = false. */
  @Test
  public void createReceived_sameMessageTwice_yieldsOneActivity() {
    ReceiveResult first = store().createReceived(received(messageId("dup-1")));
    ReceiveResult second = store().createReceived(received(messageId("dup-1")));

    if (!first.activityId().equals(second.activityId())) {
      fail("createReceived with the same dedupKey %s twice created two activities (%s and %s): when an activity with"
          + " that key exists, return it with created = false (back the key with a unique constraint)",
          messageId("dup-1"), first.activityId(), second.activityId());
    }
    if (!first.created() || second.created()) {
      fail("createReceived twice with dedupKey %s returned created = %s, then %s; expected true, then false",
          messageId("dup-1"), first.created(), second.created());
    }
  }

  /**
   * A message with the Message-ID of an existing activity but different content yields no second
   * activity, and the result carries the existing activity's content digest or none (a store that
   * keeps no digests), never the new message's.
   */
  @Test
  public void createReceived_sameMessageIdWithOtherContent_returnsTheExistingActivityAndItsDigestOrNone() {
    String firstDigest = "sha256:" + "1a".repeat(32);
    String otherDigest = "sha256:" + "2b".repeat(32);
    ReceivedEmail original = received(messageId("reused-1"));
    ReceivedEmail reused = received(messageId("reused-1"), messageId("reused-1"), "Something else", "Other text\r\n",
        null, List.of());
    ReceiveResult first = store().createReceived(withDigest(original, firstDigest));
    ReceiveResult second = store().createReceived(withDigest(reused, otherDigest));

    if (!first.activityId().equals(second.activityId()) || second.created()) {
      fail("createReceived of a second message with Message-ID %s returned %s after %s; expected the existing activity"
          + " with created = false: Message-IDs are the key (as in Dynamics)", messageId("reused-1"), second, first);
    }
    if (second.contentDigest() != null && !second.contentDigest().equals(firstDigest)) {
      fail("createReceived of a second message with Message-ID %s returned contentDigest %s; expected %s (the digest"
          + " the activity was created with) or null (a store that keeps none): the engine compares it with the new"
          + " message's to report a different message that reused the Message-ID", messageId("reused-1"),
          second.contentDigest(), firstDigest);
    }
  }

  private static ReceivedEmail withDigest(ReceivedEmail e, String digest) {
    return e.toBuilder().contentDigest(digest).build();
  }

  /** Different messages get different activities. */
  @Test
  public void createReceived_differentMessages_yieldDifferentActivities() {
    ReceiveResult a = store().createReceived(received(messageId("one")));
    ReceiveResult b = store().createReceived(received(messageId("two")));
    ReceiveResult c = store().createReceived(received("sha256:" + "ab".repeat(32), null, "No Message-ID", "text", null,
        List.of()));

    Set<String> ids = new HashSet<>(List.of(a.activityId(), b.activityId(), c.activityId()));
    if (ids.size() != 3 || !a.created() || !b.created() || !c.created()) {
      fail("createReceived of three different messages returned %s, %s and %s; expected three new activities: the"
          + " dedupKey alone decides what is a duplicate (a message without a Message-ID has a sha256: key)", a, b, c);
    }
  }

  /** The same message from many threads (or engines) at once still yields one activity. */
  @Test
  public void createReceived_sameMessageConcurrently_yieldsOneActivity() {
    ActivityStore[] stores = {store(), fixture.storeOfAnotherEngine()};
    for (int round = 0; round < 10; round++) {
      String key = messageId("concurrent-" + round);
      List<ReceiveResult> results =
          Concurrently.run(8, "createReceived", t -> stores[t % 2].createReceived(received(key)));

      Set<String> ids = results.stream().map(ReceiveResult::activityId).collect(Collectors.toCollection(TreeSet::new));
      long created = results.stream().filter(ReceiveResult::created).count();
      if (ids.size() != 1) {
        fail("8 concurrent createReceived calls with dedupKey %s created %d activities %s: a look-up followed by an"
            + " insert races. Put a unique constraint on the dedup key and, when the insert violates it, return the"
            + " existing activity with created = false.", key, ids.size(), ids);
      }
      if (created != 1) {
        fail("8 concurrent createReceived calls with dedupKey %s made one activity but %d calls said created = true:"
            + " exactly the call whose insert succeeded created it", key, created);
      }
    }
  }

  /**
   * Attachment streams are valid only during createReceived: the store reads them before it
   * returns.
   *
   * @throws IOException if the test's own content can't be read
   */
  @Test
  public void createReceived_readsAttachmentStreamsBeforeItReturns() throws IOException {
    AtomicBoolean valid = new AtomicBoolean(true);
    Attachment attachment = new Attachment("report.pdf", "application/pdf", 4096,
        Content.validWhile(valid, Content.generated(11, 4096)));
    ReceivedEmail email = received(messageId("streams-1"), messageId("streams-1"), "Report", "See the report.", null,
        List.of(attachment));

    ReceiveResult result = store().createReceived(email);
    valid.set(false);

    ReceivedActivity stored;
    try {
      stored = fixture.received(result.activityId());
      for (Attachment a : stored.attachments()) {
        Content.fingerprint(a.content());
      }
    } catch (IOException | RuntimeException e) {
      throw new AssertionError("the attachment of received activity " + result.activityId()
          + " can't be read once createReceived returned (" + e + "): attachment streams are valid only during"
          + " createReceived, so read (store) the bytes before it returns instead of keeping the stream", e);
    }
    assertSameAttachments(List.of(new Attachment("report.pdf", "application/pdf", 4096, Content.generated(11, 4096))),
        stored.attachments(), "received activity " + result.activityId());
  }

  /**
   * A large attachment of unknown size and a large body go through whole, read as streams.
   *
   * @throws IOException if the test's own content can't be read
   */
  @Test
  public void createReceived_storesALargeAttachmentOfUnknownSizeAndALargeBodyWhole() throws IOException {
    long size = 6L * 1024 * 1024;
    String body = "Ligne de texte numéro ≈ 😀\r\n".repeat(40_000);
    Attachment big = new Attachment("archive.zip", "application/zip", -1, Content.generated(42, size));
    ReceivedEmail email = received(messageId("big-1"), messageId("big-1"), "Big one", body, null, List.of(big));

    ReceiveResult result = store().createReceived(email);

    ReceivedActivity stored = fixture.received(result.activityId());
    if (!body.equals(stored.textBody())) {
      fail("the %d-character text body of received activity %s came back with %s characters: store bodies whole"
          + " (a CLOB / NVARCHAR(MAX) column, not one limited to a few thousand characters)", body.length(),
          result.activityId(), stored.textBody() == null ? "no" : String.valueOf(stored.textBody().length()));
    }
    assertSameAttachments(List.of(new Attachment("archive.zip", "application/zip", -1, Content.generated(42, size))),
        stored.attachments(), "received activity " + result.activityId());
  }

  /**
   * Non-ASCII text in subjects, bodies and file names round-trips unchanged.
   *
   * @throws IOException if the test's own content can't be read
   */
  @Test
  public void createReceived_roundTripsNonAsciiText() throws IOException {
    String subject = "Angebot für Größen – 東京 😀";
    String text = "Grüße aus Zürich, 你好, Привет, 🚀\r\n";
    String html = "<p>Grüße — ½ € 🚀</p>";
    Attachment file = new Attachment("Überweisung – 請求書.txt", "text/plain", -1,
        ContentSource.ofBytes("Prüfsumme ✓".getBytes(StandardCharsets.UTF_8)));
    ReceiveResult result = store().createReceived(received(messageId("utf-1"), messageId("utf-1"), subject, text, html,
        List.of(file)));

    ReceivedActivity stored = fixture.received(result.activityId());

    Map<String, String[]> fields = new LinkedHashMap<>();
    fields.put("subject", new String[] {subject, stored.subject()});
    fields.put("text body", new String[] {text, stored.textBody()});
    fields.put("HTML body", new String[] {html, stored.htmlBody()});
    fields.forEach((name, pair) -> {
      if (!pair[0].equals(pair[1])) {
        fail("the %s of received activity %s came back as %s; expected %s: store text as Unicode (NVARCHAR or a UTF-8"
            + " database; characters outside the BMP take two UTF-16 units)", name, result.activityId(), pair[1], pair[0]);
      }
    });
    assertSameAttachments(List.of(file), stored.attachments(), "received activity " + result.activityId());
  }

  /**
   * An outgoing email with non-ASCII text, a large body and a large attachment is handed back
   * whole, and the attachment can be opened more than once (a retried send opens it again).
   *
   * @throws IOException if an attachment can't be read
   */
  @Test
  public void claimPendingSend_handsBackNonAsciiTextAndLargeAttachmentsWhole_asReopenableStreams() throws IOException {
    long size = 6L * 1024 * 1024;
    OutgoingEmail given = OutgoingEmail.builder("utf-out-1", EmailAddress.of("vertrieb@example.test", "Zoë Müller"))
        .to(EmailAddress.of("jürgen@exämple.test", "Jürgen Groß"), EmailAddress.of("kunde@example.test", "東京 顧客"))
        .subject("Angebot für Größen – 東京 😀")
        .textBody("Sehr geehrte Damen und Herren, ½ € 🚀\r\n".repeat(30_000))
        .htmlBody("<p>Grüße — 你好</p>")
        .attachment(new Attachment("Überweisung – 請求書.bin", "application/octet-stream", size,
            Content.generated(99, size)))
        .build();
    fixture.addPending(given);

    ClaimedEmail claimed = claimOne("utf-out-1", T0);

    assertSameContent(given, claimed.email(), "claimed");
    Attachment attachment = claimed.email().attachments().get(0);
    Content.Fingerprint again = Content.fingerprint(attachment.content());
    if (!again.equals(Content.fingerprint(Content.generated(99, size)))) {
      fail("attachment %s came back with %s when opened a second time: every open() must return a new stream from"
          + " the first byte (a retried send reads it again)", attachment.fileName(), again);
    }
  }
}
