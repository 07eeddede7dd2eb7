package dev.emailrouter.testkit;

import dev.emailrouter.api.ActivityRef;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.Claim;
import dev.emailrouter.api.ClaimRequest;
import dev.emailrouter.api.ClaimedEmail;
import dev.emailrouter.api.ContentSource;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small store for the kit's own tests: correct without faults, and broken in one chosen way with
 * them, as an implementer's first attempt might be.
 */
final class SimpleStore implements ActivityStore {

  /** Ways to get the contract wrong. */
  enum Fault {
    /** Reads the due rows, then changes them without checking again: two claimants get the same email. */
    CLAIM_NOT_ATOMIC,
    /** Treats every Sending email as due, live lease or not. */
    CLAIM_IGNORES_LEASE,
    /** Treats every Pending Send email as due, whatever its next attempt time. */
    CLAIM_IGNORES_NEXT_ATTEMPT,
    /** Uses the activity id as the claim token, so a claim after an expired lease has the old token. */
    CLAIM_TOKEN_NOT_FRESH,
    /** Changes state for any claim on an existing email, without comparing tokens. */
    UNFENCED,
    /** Creates a new activity for every createReceived call. */
    CREATE_NOT_IDEMPOTENT,
    /** Looks the dedup key up, then inserts without a unique key: concurrent calls both insert. */
    CREATE_RACES,
    /** Keeps the attachment streams instead of reading them during createReceived. */
    KEEPS_ATTACHMENT_STREAMS,
    /** Compares addresses as written. */
    RESOLVE_CASE_SENSITIVE,
    /** Keeps only one party per address. */
    RESOLVE_ONE_PARTY_PER_ADDRESS,
    /** Leaves markPartlySent to the interface's default (markRetry): the accepted recipients are forgotten. */
    FORGETS_ACCEPTED_RECIPIENTS,
    /** Leaves the batch forms to the interface's defaults (loops over the single forms): still correct. */
    DEFAULT_BATCH_FORMS,
    /** Batch forms throw at the first stale claim, leaving it and the rest of the batch unrecorded. */
    BATCH_STOPS_AT_STALE
  }

  private static final class Row {
    OutgoingEmail email;
    EmailStatus status = EmailStatus.PENDING_SEND;
    String token;
    Instant leaseUntil;
    Instant nextAttemptAt;
    int attempts;
    final Map<String, EmailAddress> accepted = new LinkedHashMap<>();
    final long order;

    Row(OutgoingEmail email, long order) {
      this.email = email;
      this.order = order;
    }
  }

  private record Received(String id, ReceivedEmail email, List<Attachment> attachments) {}

  private final Set<Fault> faults;
  private final Object lock = new Object();
  private final Map<String, Row> outgoing = new LinkedHashMap<>();
  private final Map<String, List<Party>> parties = new HashMap<>();
  private final Map<String, Received> receivedById = new LinkedHashMap<>();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong trackingNumbers = new AtomicLong();
  /** Makes the first two racing calls overlap, so a race shows every time rather than now and then. */
  private final CountDownLatch rendezvous = new CountDownLatch(2);

  SimpleStore(Set<Fault> faults) {
    this.faults = faults.isEmpty() ? EnumSet.noneOf(Fault.class) : EnumSet.copyOf(faults);
  }

  private boolean has(Fault fault) {
    return faults.contains(fault);
  }

  private void overlapWithAnotherCaller() {
    if (!Thread.currentThread().getName().startsWith("contract-")) {
      return; // the contract's concurrent calls run on its "contract-..." threads; a lone caller can't race
    }
    rendezvous.countDown();
    try {
      rendezvous.await(300, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // --- fixture side -------------------------------------------------------------------------------

  void add(OutgoingEmail email) {
    List<Attachment> kept = new ArrayList<>();
    for (Attachment a : email.attachments()) {
      byte[] bytes = read(a.content());
      kept.add(new Attachment(a.fileName(), a.contentType(), bytes.length, ContentSource.ofBytes(bytes)));
    }
    OutgoingEmail copy = new OutgoingEmail(email.activityId(), email.from(), email.to(), email.cc(), email.bcc(),
        email.subject(), email.textBody(), email.htmlBody(), kept, email.inReplyTo(), email.references(),
        email.messageId(), email.trackingToken(), email.attempts());
    synchronized (lock) {
      outgoing.put(email.activityId(), new Row(copy, sequence.incrementAndGet()));
    }
  }

  void addParty(String address, Party party) {
    String key = has(Fault.RESOLVE_CASE_SENSITIVE) ? address : EmailAddress.of(address).normalized();
    synchronized (lock) {
      if (has(Fault.RESOLVE_ONE_PARTY_PER_ADDRESS)) {
        parties.put(key, new ArrayList<>(List.of(party)));
      } else {
        parties.computeIfAbsent(key, k -> new ArrayList<>()).add(party);
      }
    }
  }

  EmailStatus status(String activityId) {
    synchronized (lock) {
      Row row = outgoing.get(activityId);
      if (row != null) {
        return row.status;
      }
      if (receivedById.containsKey(activityId)) {
        return EmailStatus.RECEIVED;
      }
      throw new IllegalArgumentException("no activity " + activityId);
    }
  }

  ActivityStoreContract.ReceivedActivity received(String activityId) {
    synchronized (lock) {
      Received r = receivedById.get(activityId);
      return new ActivityStoreContract.ReceivedActivity(r.email().subject(), r.email().textBody(),
          r.email().htmlBody(), r.attachments());
    }
  }

  // --- the store ----------------------------------------------------------------------------------

  @Override
  public List<ClaimedEmail> claimPendingSend(ClaimRequest request) {
    List<Row> due;
    synchronized (lock) {
      due = outgoing.values().stream().filter(r -> isDue(r, request.now())).toList();
    }
    if (has(Fault.CLAIM_NOT_ATOMIC)) {
      overlapWithAnotherCaller();
      return claim(due, request);
    }
    synchronized (lock) {
      return claim(outgoing.values().stream().filter(r -> isDue(r, request.now())).toList(), request);
    }
  }

  private List<ClaimedEmail> claim(List<Row> due, ClaimRequest request) {
    TreeMap<String, List<Row>> bySender = new TreeMap<>();
    for (Row row : due) {
      bySender.computeIfAbsent(row.email.from().normalized(), k -> new ArrayList<>()).add(row);
    }
    List<String> senders = new ArrayList<>(bySender.tailMap(request.resumeAfterSender(), false).keySet());
    senders.addAll(bySender.headMap(request.resumeAfterSender(), true).keySet());
    List<ClaimedEmail> claimed = new ArrayList<>();
    for (String sender : senders) {
      List<Row> rows = new ArrayList<>(bySender.get(sender));
      rows.sort((a, b) -> Long.compare(a.order, b.order));
      for (int i = 0; i < rows.size() && i < request.perSender() && claimed.size() < request.max(); i++) {
        Row row = rows.get(i);
        synchronized (lock) {
          row.status = EmailStatus.SENDING;
          row.token = has(Fault.CLAIM_TOKEN_NOT_FRESH) ? row.email.activityId() : UUID.randomUUID().toString();
          row.leaseUntil = request.leaseUntil();
          OutgoingEmail e = row.email;
          OutgoingEmail withAttempts = new OutgoingEmail(e.activityId(), e.from(), e.to(), e.cc(), e.bcc(),
              e.subject(), e.textBody(), e.htmlBody(), e.attachments(), e.inReplyTo(), e.references(), e.messageId(),
              e.trackingToken(), row.attempts, List.copyOf(row.accepted.values()));
          claimed.add(new ClaimedEmail(withAttempts, new Claim(e.activityId(), row.token, row.leaseUntil)));
        }
      }
    }
    return claimed;
  }

  private boolean isDue(Row row, Instant now) {
    return switch (row.status) {
      case PENDING_SEND -> has(Fault.CLAIM_IGNORES_NEXT_ATTEMPT) || row.nextAttemptAt == null
          || !row.nextAttemptAt.isAfter(now);
      case SENDING -> has(Fault.CLAIM_IGNORES_LEASE) || !row.leaseUntil.isAfter(now);
      default -> false;
    };
  }

  @Override
  public long nextTrackingNumber() {
    return trackingNumbers.incrementAndGet();
  }

  private Row held(Claim claim) {
    Row row = outgoing.get(claim.activityId());
    if (row == null) {
      throw new StaleClaimException(claim);
    }
    if (!has(Fault.UNFENCED) && (row.status != EmailStatus.SENDING || !claim.token().equals(row.token))) {
      throw new StaleClaimException(claim);
    }
    return row;
  }

  @Override
  public void recordIdentity(Claim claim, String messageId, String trackingToken, String subject) {
    synchronized (lock) {
      Row row = held(claim);
      row.email = row.email.withIdentity(messageId, trackingToken, subject);
    }
  }

  @Override
  public void markSent(Claim claim, Instant sentAt, SendResult result) {
    synchronized (lock) {
      Row row = held(claim);
      row.status = EmailStatus.SENT;
      row.token = null;
    }
  }

  @Override
  public List<Long> nextTrackingNumbers(int count) {
    if (has(Fault.DEFAULT_BATCH_FORMS)) {
      return ActivityStore.super.nextTrackingNumbers(count);
    }
    long last = trackingNumbers.addAndGet(count);
    List<Long> numbers = new ArrayList<>();
    for (long n = last - count + 1; n <= last; n++) {
      numbers.add(n);
    }
    return numbers;
  }

  @Override
  public List<String> recordIdentities(List<EmailIdentity> identities) {
    if (has(Fault.DEFAULT_BATCH_FORMS)) {
      return ActivityStore.super.recordIdentities(identities);
    }
    List<String> stale = new ArrayList<>();
    synchronized (lock) {
      for (EmailIdentity i : identities) {
        Row row;
        try {
          row = held(i.claim());
        } catch (StaleClaimException e) {
          if (has(Fault.BATCH_STOPS_AT_STALE)) {
            throw e;
          }
          stale.add(i.claim().activityId());
          continue;
        }
        row.email = row.email.withIdentity(i.messageId(), i.trackingToken(), i.subject());
      }
    }
    return stale;
  }

  @Override
  public List<String> markSentAll(List<SentOutcome> outcomes) {
    if (has(Fault.DEFAULT_BATCH_FORMS)) {
      return ActivityStore.super.markSentAll(outcomes);
    }
    List<String> stale = new ArrayList<>();
    synchronized (lock) {
      for (SentOutcome o : outcomes) {
        Row row;
        try {
          row = held(o.claim());
        } catch (StaleClaimException e) {
          if (has(Fault.BATCH_STOPS_AT_STALE)) {
            throw e;
          }
          stale.add(o.claim().activityId());
          continue;
        }
        row.status = EmailStatus.SENT;
        row.token = null;
      }
    }
    return stale;
  }

  @Override
  public void markRetry(Claim claim, Instant nextAttemptAt, int attempts, String reason) {
    synchronized (lock) {
      Row row = held(claim);
      row.status = EmailStatus.PENDING_SEND;
      row.nextAttemptAt = nextAttemptAt;
      row.attempts = attempts;
      row.token = null;
    }
  }

  @Override
  public void markPartlySent(Claim claim, Instant nextAttemptAt, int attempts, SendResult result) {
    if (has(Fault.FORGETS_ACCEPTED_RECIPIENTS)) {
      ActivityStore.super.markPartlySent(claim, nextAttemptAt, attempts, result);
      return;
    }
    synchronized (lock) {
      Row row = held(claim);
      for (EmailAddress a : result.recipientsWith(SendResult.Outcome.ACCEPTED)) {
        row.accepted.putIfAbsent(a.normalized(), a);
      }
      row.status = EmailStatus.PENDING_SEND;
      row.nextAttemptAt = nextAttemptAt;
      row.attempts = attempts;
      row.token = null;
    }
  }

  @Override
  public void markFailed(Claim claim, int attempts, SendResult result) {
    synchronized (lock) {
      Row row = held(claim);
      row.status = EmailStatus.FAILED;
      row.attempts = attempts;
      row.token = null;
    }
  }

  @Override
  public java.util.Optional<ActivityRef> findByMessageId(String messageId) {
    synchronized (lock) {
      for (Row row : outgoing.values()) {
        if (messageId.equals(row.email.messageId())) {
          return java.util.Optional.of(new ActivityRef(row.email.activityId(), row.status));
        }
      }
      for (Received r : receivedById.values()) {
        if (messageId.equals(r.email().messageId())) {
          return java.util.Optional.of(new ActivityRef(r.id(), EmailStatus.RECEIVED));
        }
      }
      return java.util.Optional.empty();
    }
  }

  @Override
  public java.util.Optional<ActivityRef> findByTrackingToken(String trackingToken) {
    synchronized (lock) {
      for (Row row : outgoing.values()) {
        if (trackingToken.equals(row.email.trackingToken())) {
          return java.util.Optional.of(new ActivityRef(row.email.activityId(), row.status));
        }
      }
      return java.util.Optional.empty();
    }
  }

  @Override
  public List<Party> resolve(EmailAddress address) {
    String key = has(Fault.RESOLVE_CASE_SENSITIVE) ? address.address() : address.normalized();
    synchronized (lock) {
      return List.copyOf(parties.getOrDefault(key, List.of()));
    }
  }

  @Override
  public ReceiveResult createReceived(ReceivedEmail email) {
    if (has(Fault.CREATE_RACES)) {
      String existing = existing(email.dedupKey());
      if (existing != null) {
        return new ReceiveResult(existing, false);
      }
      overlapWithAnotherCaller();
      return insert(email);
    }
    if (has(Fault.CREATE_NOT_IDEMPOTENT)) {
      return insert(email);
    }
    synchronized (lock) {
      String existing = existing(email.dedupKey());
      return existing != null ? new ReceiveResult(existing, false) : insert(email);
    }
  }

  private String existing(String dedupKey) {
    synchronized (lock) {
      for (Received r : receivedById.values()) {
        if (r.email().dedupKey().equals(dedupKey)) {
          return r.id();
        }
      }
      return null;
    }
  }

  private ReceiveResult insert(ReceivedEmail email) {
    List<Attachment> kept = new ArrayList<>();
    for (Attachment a : email.attachments()) {
      if (has(Fault.KEEPS_ATTACHMENT_STREAMS)) {
        kept.add(a);
      } else {
        byte[] bytes = read(a.content());
        kept.add(new Attachment(a.fileName(), a.contentType(), bytes.length, ContentSource.ofBytes(bytes)));
      }
    }
    String id = "received-" + sequence.incrementAndGet();
    synchronized (lock) {
      receivedById.put(id, new Received(id, email, kept));
    }
    return new ReceiveResult(id, true);
  }

  private static byte[] read(ContentSource source) {
    try (InputStream in = source.open()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
