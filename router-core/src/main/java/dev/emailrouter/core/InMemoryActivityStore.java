package dev.emailrouter.core;

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
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.api.StaleClaimException;
import dev.emailrouter.api.TransientRouterException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A complete {@link dev.emailrouter.api.ActivityStore} in memory: the reference implementation of
 * the store contract, for tests, examples and prototypes.
 *
 * <p>Thread-safe; every operation is atomic, so several engines may share one instance. Received
 * activities keep their attachments as byte arrays (the streams handed to {@link #createReceived}
 * are read during the call). Nothing survives the process.
 *
 * <pre>{@code
 * InMemoryActivityStore store = new InMemoryActivityStore();
 * store.addParty("customer@example.com", new Party(Party.Type.CONTACT, "contact-1", "A Customer"));
 * store.add(OutgoingEmail.builder("email-1", EmailAddress.of("me@example.com"))
 *     .to(EmailAddress.of("customer@example.com")).subject("Hello").textBody("Hi!").build());
 * }</pre>
 */
public final class InMemoryActivityStore implements ActivityStore {

  /**
   * A snapshot of one outgoing email activity.
   *
   * @param email the email, with the identity recorded once it was
   * @param status its status
   * @param attempts delivery attempts made
   * @param nextAttemptAt when it is due again, or {@code null}
   * @param lastReason the last failure's reason, or {@code null}
   * @param sentAt when it was sent, or {@code null}
   * @param result the server's last answer, or {@code null}
   * @param recipientOutcomes each recipient's latest outcome over every attempt (accepted, pending,
   *     refused), as a CRM shows them; empty before the server answered for a recipient
   */
  public record StoredEmail(OutgoingEmail email, EmailStatus status, int attempts, Instant nextAttemptAt,
      String lastReason, Instant sentAt, SendResult result, List<RecipientResult> recipientOutcomes) {

    /**
     * Copies the list.
     *
     * @param email the email, with the identity recorded once it was
     * @param status its status
     * @param attempts delivery attempts made
     * @param nextAttemptAt when it is due again, or {@code null}
     * @param lastReason the last failure's reason, or {@code null}
     * @param sentAt when it was sent, or {@code null}
     * @param result the server's last answer, or {@code null}
     * @param recipientOutcomes each recipient's latest outcome over every attempt (accepted, pending,
     *     refused), as a CRM shows them; empty before the server answered for a recipient
     */
    public StoredEmail {
      recipientOutcomes = List.copyOf(recipientOutcomes);
    }
  }

  private static final class Row {
    OutgoingEmail email;
    EmailStatus status = EmailStatus.PENDING_SEND;
    String claimToken;
    Instant leaseUntil;
    Instant nextAttemptAt;
    int attempts;
    String lastReason;
    Instant sentAt;
    SendResult result;
    final Map<String, EmailAddress> accepted = new LinkedHashMap<>();
    final Map<String, RecipientResult> outcomes = new LinkedHashMap<>();
    final long order;

    Row(OutgoingEmail email, long order) {
      this.email = email;
      this.attempts = email.attempts();
      this.order = order;
      for (EmailAddress a : email.acceptedRecipients()) {
        accepted.put(a.normalized(), a);
      }
    }

    StoredEmail snapshot() {
      return new StoredEmail(current(this), status, attempts, nextAttemptAt, lastReason, sentAt, result,
          List.copyOf(outcomes.values()));
    }

    void recordOutcomes(SendResult answer) {
      for (RecipientResult r : answer.recipients()) {
        outcomes.put(r.recipient().normalized(), r);
      }
    }
  }

  private final Object lock = new Object();
  private final Map<String, Row> outgoing = new LinkedHashMap<>();
  private final Map<String, List<Party>> parties = new HashMap<>();
  private final Map<String, ReceivedEmail> receivedByKey = new LinkedHashMap<>();
  private final Map<String, String> receivedIdByKey = new HashMap<>();
  private final Map<String, String> receivedIdByMessageId = new HashMap<>();
  private final Map<String, List<DeliveryReport>> reports = new LinkedHashMap<>();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong trackingNumbers = new AtomicLong();
  /**
   * Claim tokens: this store's own prefix and a count, so no two claims it hands out share a token
   * and a claim from another store does not match. Not a random UUID per claim: that takes
   * SecureRandom's lock and a SHA-1 round for every email claimed, for a uniqueness a count gives.
   */
  private final String claimPrefix = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + "-";
  /** Claims handed out so far; guarded by {@code lock}. */
  private long claims;

  /** Creates an empty store. */
  public InMemoryActivityStore() {}

  /**
   * Adds an email in status Pending Send, due now.
   *
   * @param email the email
   * @throws IllegalArgumentException if an email with the same activity id exists
   */
  public void add(OutgoingEmail email) {
    Objects.requireNonNull(email, "email");
    synchronized (lock) {
      if (outgoing.containsKey(email.activityId())) {
        throw new IllegalArgumentException("activityId " + email.activityId() + " exists already");
      }
      outgoing.put(email.activityId(), new Row(email, sequence.incrementAndGet()));
    }
  }

  /**
   * Registers a CRM record for an address (case-insensitive); an address may belong to several.
   *
   * @param address the address
   * @param party the record
   */
  public void addParty(String address, Party party) {
    String key = EmailAddress.of(address).normalized();
    Objects.requireNonNull(party, "party");
    synchronized (lock) {
      parties.computeIfAbsent(key, k -> new ArrayList<>()).add(party);
    }
  }

  /**
   * Returns an outgoing email's current state.
   *
   * @param activityId the activity id
   * @return a snapshot, or empty when unknown
   */
  public Optional<StoredEmail> find(String activityId) {
    synchronized (lock) {
      Row row = outgoing.get(activityId);
      return row == null ? Optional.empty() : Optional.of(row.snapshot());
    }
  }

  /**
   * Returns an outgoing email's status.
   *
   * @param activityId the activity id
   * @return the status
   * @throws IllegalArgumentException if the activity is unknown
   */
  public EmailStatus status(String activityId) {
    return find(activityId).map(StoredEmail::status)
        .orElseThrow(() -> new IllegalArgumentException("no outgoing email with activityId " + activityId));
  }

  /**
   * Returns every Received activity created, oldest first.
   *
   * @return the received emails, with attachments held in memory
   */
  public List<ReceivedEmail> received() {
    synchronized (lock) {
      return List.copyOf(receivedByKey.values());
    }
  }

  /**
   * Returns the id of the Received activity created for a dedup key.
   *
   * @param dedupKey the key
   * @return the activity id, or empty
   */
  public Optional<String> receivedActivityId(String dedupKey) {
    synchronized (lock) {
      return Optional.ofNullable(receivedIdByKey.get(dedupKey));
    }
  }

  @Override
  public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
    Objects.requireNonNull(request, "request");
    synchronized (lock) {
      TreeMap<String, List<Row>> bySender = new TreeMap<>();
      for (Row row : outgoing.values()) {
        if (isDue(row, request.now())) {
          bySender.computeIfAbsent(row.email.from().normalized(), k -> new ArrayList<>()).add(row);
        }
      }
      List<String> senders = new ArrayList<>(bySender.tailMap(request.resumeAfterSender(), false).keySet());
      senders.addAll(bySender.headMap(request.resumeAfterSender(), true).keySet());
      List<ClaimedEmail> claimed = new ArrayList<>();
      for (String sender : senders) {
        List<Row> rows = bySender.get(sender);
        rows.sort((a, b) -> Long.compare(a.order, b.order));
        for (int i = 0; i < rows.size() && i < request.perSender() && claimed.size() < request.max(); i++) {
          Row row = rows.get(i);
          row.status = EmailStatus.SENDING;
          row.claimToken = claimPrefix + Long.toString(++claims, 36);
          row.leaseUntil = request.leaseUntil();
          claimed.add(new ClaimedEmail(current(row), new Claim(row.email.activityId(), row.claimToken,
              row.leaseUntil)));
        }
        if (claimed.size() >= request.max()) {
          break;
        }
      }
      return claimed;
    }
  }

  /** The email as it is handed out now: with the attempts and accepted recipients recorded. */
  private static OutgoingEmail current(Row row) {
    OutgoingEmail e = row.email;
    return new OutgoingEmail(e.activityId(), e.from(), e.to(), e.cc(), e.bcc(), e.subject(), e.textBody(),
        e.htmlBody(), e.attachments(), e.inReplyTo(), e.references(), e.messageId(), e.trackingToken(), row.attempts,
        List.copyOf(row.accepted.values()));
  }

  private static boolean isDue(Row row, Instant now) {
    return switch (row.status) {
      case PENDING_SEND -> row.nextAttemptAt == null || !row.nextAttemptAt.isAfter(now);
      case SENDING -> !row.leaseUntil.isAfter(now);
      default -> false;
    };
  }

  @Override
  public long nextTrackingNumber() {
    return trackingNumbers.incrementAndGet();
  }

  @Override
  public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
    synchronized (lock) {
      Row row = held(claim);
      row.email = row.email.withIdentity(messageId, trackingToken, subject);
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: the numbers of one call are consecutive.
   */
  @Override
  public List<Long> nextTrackingNumbers(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count must be 0 or more: " + count);
    }
    long last = trackingNumbers.addAndGet(count);
    List<Long> numbers = new ArrayList<>(count);
    for (long n = last - count + 1; n <= last; n++) {
      numbers.add(n);
    }
    return numbers;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: under the store's lock, so other threads see the whole batch or none of it. Each
   * identity goes through {@link #recordIdentity}, so a subclass that overrides it (a test's fault)
   * still sees every email.
   */
  @Override
  public List<String> recordIdentities(List<EmailIdentity> identities) {
    List<String> stale = new ArrayList<>();
    synchronized (lock) {
      for (EmailIdentity i : identities) {
        try {
          recordIdentity(i.claim(), i.messageId(), i.trackingToken(), i.subject());
        } catch (StaleClaimException e) {
          stale.add(i.claim().activityId());
        }
      }
    }
    return stale;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here: under the store's lock, so other threads see the whole batch or none of it. Each
   * outcome goes through {@link #markSent}, so a subclass that overrides it still sees every email.
   */
  @Override
  public List<String> markSentAll(List<SentOutcome> outcomes) {
    List<String> stale = new ArrayList<>();
    synchronized (lock) {
      for (SentOutcome o : outcomes) {
        try {
          markSent(o.claim(), o.sentAt(), o.result());
        } catch (StaleClaimException e) {
          stale.add(o.claim().activityId());
        }
      }
    }
    return stale;
  }

  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    synchronized (lock) {
      Row row = held(claim);
      row.status = EmailStatus.SENT;
      row.attempts++;
      row.sentAt = sentAt;
      row.result = result;
      row.recordOutcomes(result);
      row.lastReason = null;
      release(row);
    }
  }

  @Override
  public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    Objects.requireNonNull(nextAttemptAt, "nextAttemptAt");
    Objects.requireNonNull(result, "result");
    synchronized (lock) {
      Row row = held(claim);
      for (EmailAddress a : result.recipientsWith(SendResult.Outcome.ACCEPTED)) {
        row.accepted.putIfAbsent(a.normalized(), a);
      }
      row.recordOutcomes(result);
      row.status = EmailStatus.PENDING_SEND;
      row.nextAttemptAt = nextAttemptAt;
      row.attempts = attempts;
      row.result = result;
      row.lastReason = result.serverReply();
      release(row);
    }
  }

  @Override
  public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
    synchronized (lock) {
      Row row = held(claim);
      row.status = EmailStatus.PENDING_SEND;
      row.nextAttemptAt = nextAttemptAt;
      row.attempts = attempts;
      row.lastReason = reason;
      release(row);
    }
  }

  @Override
  public void markFailed(Claim claim, int attempts, SendResult result) {
    synchronized (lock) {
      Row row = held(claim);
      row.status = EmailStatus.FAILED;
      row.attempts = attempts;
      row.result = result;
      row.recordOutcomes(result);
      row.lastReason = result.serverReply();
      release(row);
    }
  }

  private Row held(Claim claim) {
    Objects.requireNonNull(claim, "claim");
    Row row = outgoing.get(claim.activityId());
    if (row == null || row.status != EmailStatus.SENDING || !claim.token().equals(row.claimToken)) {
      throw new StaleClaimException(claim);
    }
    return row;
  }

  /**
   * Returns the delivery reports recorded on an email, oldest first.
   *
   * @param activityId the email activity
   * @return the reports, empty when none
   */
  public List<DeliveryReport> deliveryReports(String activityId) {
    synchronized (lock) {
      return List.copyOf(reports.getOrDefault(activityId, List.of()));
    }
  }

  /**
   * Keeps the report with the email, once per report Message-ID and recipient list (a report read
   * again after a mailbox reset is not kept twice); the email's status is left as it is.
   */
  @Override
  public void recordDeliveryReport(ActivityRef email, DeliveryReport report) {
    Objects.requireNonNull(email, "email");
    Objects.requireNonNull(report, "report");
    synchronized (lock) {
      List<DeliveryReport> kept = reports.computeIfAbsent(email.activityId(), k -> new ArrayList<>());
      boolean seen = report.reportMessageId() != null && kept.stream().anyMatch(
          r -> report.reportMessageId().equals(r.reportMessageId()) && r.recipients().equals(report.recipients()));
      if (!seen) {
        kept.add(report);
      }
    }
  }

  private static void release(Row row) {
    row.claimToken = null;
    row.leaseUntil = null;
  }

  @Override
  public Optional<ActivityRef> findByMessageId(String messageId) {
    synchronized (lock) {
      for (Row row : outgoing.values()) {
        if (messageId.equals(row.email.messageId())) {
          return Optional.of(new ActivityRef(row.email.activityId(), row.status));
        }
      }
      String received = receivedIdByMessageId.get(messageId);
      return received == null ? Optional.empty() : Optional.of(new ActivityRef(received, EmailStatus.RECEIVED));
    }
  }

  @Override
  public Optional<ActivityRef> findByTrackingToken(String trackingToken) {
    synchronized (lock) {
      for (Row row : outgoing.values()) {
        if (trackingToken.equalsIgnoreCase(row.email.trackingToken() == null ? "" : row.email.trackingToken())) {
          return Optional.of(new ActivityRef(row.email.activityId(), row.status));
        }
      }
      return Optional.empty();
    }
  }

  @Override
  public List<Party> resolve(EmailAddress address) {
    synchronized (lock) {
      return List.copyOf(parties.getOrDefault(address.normalized(), List.of()));
    }
  }

  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    Objects.requireNonNull(email, "email");
    synchronized (lock) {
      String existing = receivedIdByKey.get(email.dedupKey());
      if (existing != null) {
        return new ReceiveResult(existing, false, receivedByKey.get(email.dedupKey()).contentDigest());
      }
    }
    // Attachment streams are valid during this call only: keep the bytes. Without attachments (most
    // mail) the email is kept as it came: it is immutable, and a copy validated it all over again.
    ReceivedEmail copy = email;
    if (!email.attachments().isEmpty()) {
      List<Attachment> kept = new ArrayList<>();
      for (Attachment a : email.attachments()) {
        byte[] bytes = readAll(a.content());
        kept.add(new Attachment(a.fileName(), a.contentType(), bytes.length, ContentSource.ofBytes(bytes)));
      }
      copy = email.toBuilder().attachments(kept).build();
    }
    synchronized (lock) {
      String existing = receivedIdByKey.get(email.dedupKey());
      if (existing != null) {
        return new ReceiveResult(existing, false, receivedByKey.get(email.dedupKey()).contentDigest());
      }
      String id = "received-" + sequence.incrementAndGet();
      receivedIdByKey.put(email.dedupKey(), id);
      receivedByKey.put(email.dedupKey(), copy);
      if (email.messageId() != null) {
        receivedIdByMessageId.putIfAbsent(email.messageId(), id);
      }
      return new ReceiveResult(id, true, email.contentDigest());
    }
  }

  private static byte[] readAll(ContentSource source) {
    try (InputStream in = source.open()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new TransientRouterException("attachment can't be read: " + e.getMessage(), e);
    } catch (UncheckedIOException e) {
      throw new TransientRouterException("attachment can't be read: " + e.getMessage(), e);
    }
  }
}
