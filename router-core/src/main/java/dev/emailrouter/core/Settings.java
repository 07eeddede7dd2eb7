package dev.emailrouter.core;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.SentFolder;
import dev.emailrouter.api.TrackingPolicy;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.Set;

/**
 * A built engine's configuration: what the host plugged in, and the settings grouped by concern in
 * records. Each group record holds its settings' defaults ({@code DEFAULTS}) and validates them in
 * its compact constructor, naming the setting and the value; {@link RouterEngine.Builder}'s setters
 * replace one component at a time through the records' {@code with...} methods, so every setting
 * has one default and one check. Checks between settings, which only make sense once all are set,
 * are made by {@link RouterEngine.Builder#build()}. Immutable; shared by the flows.
 *
 * @param store the host's CRM
 * @param transport the outgoing server, or {@code null} for an incoming-only engine
 * @param sentFolder where copies of sent emails go, or {@code null}: none
 * @param mailboxes the mailboxes to read, in configuration order
 * @param policy the tracking policy of mailboxes without their own
 * @param clock every time the engine reads
 * @param listener receives every event
 * @param checkpoints where mailbox checkpoints live
 * @param random backoff jitter and part of the Message-IDs' randomness
 * @param tickBudget how long one tick may keep starting new work (the default already applied)
 * @param outgoing how emails are claimed, sent and recorded
 * @param sentCopyQueue bounds of the copies to the Sent folder waiting for a retry
 * @param retry retries of emails, of the outgoing server and of the stores
 * @param tokens tracking tokens in subjects
 * @param incoming limits on what is read and kept from a mailbox
 * @param reading how mailboxes are read: in parallel, backed off, disabled
 * @param nodes mailbox leases among several engines
 */
record Settings(ActivityStore store, MailTransport transport, SentFolder sentFolder, List<Mailbox> mailboxes,
    TrackingPolicy policy, Clock clock, RouterListener listener, CheckpointStore checkpoints, Random random,
    Duration tickBudget, Outgoing outgoing, SentCopyQueue sentCopyQueue, Retry retry, Tokens tokens,
    Incoming incoming, Reading reading, Nodes nodes) {

  /** A tick's budget when none is set, unless half the lease is shorter. */
  static final Duration DEFAULT_TICK_BUDGET = Duration.ofMinutes(10);

  Settings {
    Objects.requireNonNull(store, "activityStore");
    mailboxes = List.copyOf(mailboxes);
    Objects.requireNonNull(policy, "trackingPolicy");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(checkpoints, "checkpointStore");
    Objects.requireNonNull(random, "random");
    Objects.requireNonNull(tickBudget, "tickBudget");
    Objects.requireNonNull(outgoing, "outgoing");
    Objects.requireNonNull(sentCopyQueue, "sentCopyQueue");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(incoming, "incoming");
    Objects.requireNonNull(reading, "reading");
    Objects.requireNonNull(nodes, "nodes");
    if (nodes.leaseOwner() == null) {
      throw new IllegalArgumentException("leaseOwner must be drawn before the settings are built");
    }
  }

  /** The tick budget when none is set: 10 minutes, or half the lease when that is shorter. */
  static Duration defaultTickBudget(Duration lease) {
    Duration half = lease.dividedBy(2);
    return half.compareTo(DEFAULT_TICK_BUDGET) < 0 ? half : DEFAULT_TICK_BUDGET;
  }

  /**
   * How emails are claimed, sent and recorded.
   *
   * @param batchPerSender the most emails sent per sender per tick, 1 to 1,000
   * @param maxPerTick the most emails sent per tick in all, 1 to 1,000,000
   * @param sendSessions the sessions sending in parallel, 1 to 64
   * @param sentBatchSize accepted emails recorded as Sent in one store call, 1 to 1,000
   * @param lease how long a claim holds, at least 1 second
   * @param messageIdDomain the domain of generated Message-IDs in lower case, or {@code null}: the
   *     sender's
   */
  record Outgoing(int batchPerSender, int maxPerTick, int sendSessions, int sentBatchSize, Duration lease,
      String messageIdDomain) {
    static final Outgoing DEFAULTS = new Outgoing(6, 600, 1, 16, Duration.ofMinutes(30), null);

    Outgoing {
      range("batchPerSender", batchPerSender, 1, 1000);
      range("maxPerTick", maxPerTick, 1, 1_000_000);
      range("sendSessions", sendSessions, 1, 64);
      range("sentBatchSize", sentBatchSize, 1, 1000);
      atLeast("lease", lease, Duration.ofSeconds(1));
      if (messageIdDomain != null) {
        if (!messageIdDomain.matches("[A-Za-z0-9.-]{1,253}") || messageIdDomain.startsWith(".")
            || messageIdDomain.endsWith(".")) {
          throw new IllegalArgumentException("messageIdDomain must be a domain name such as example.com, was \""
              + messageIdDomain + "\"");
        }
        messageIdDomain = messageIdDomain.toLowerCase(Locale.ROOT);
      }
    }

    Outgoing withBatchPerSender(int v) {
      return new Outgoing(v, maxPerTick, sendSessions, sentBatchSize, lease, messageIdDomain);
    }

    Outgoing withMaxPerTick(int v) {
      return new Outgoing(batchPerSender, v, sendSessions, sentBatchSize, lease, messageIdDomain);
    }

    Outgoing withSendSessions(int v) {
      return new Outgoing(batchPerSender, maxPerTick, v, sentBatchSize, lease, messageIdDomain);
    }

    Outgoing withSentBatchSize(int v) {
      return new Outgoing(batchPerSender, maxPerTick, sendSessions, v, lease, messageIdDomain);
    }

    Outgoing withLease(Duration v) {
      return new Outgoing(batchPerSender, maxPerTick, sendSessions, sentBatchSize, v, messageIdDomain);
    }

    Outgoing withMessageIdDomain(String v) {
      return new Outgoing(batchPerSender, maxPerTick, sendSessions, sentBatchSize, lease,
          Objects.requireNonNull(v, "messageIdDomain"));
    }
  }

  /**
   * Bounds of the in-memory queue of copies to the Sent folder that wait for a retry.
   *
   * @param maxPendingCopies the most copies held, 0 to 1,000,000
   * @param maxPendingCopyBytes the most bytes held, at least 0
   */
  record SentCopyQueue(int maxPendingCopies, long maxPendingCopyBytes) {
    static final SentCopyQueue DEFAULTS = new SentCopyQueue(1000, 64L * 1024 * 1024);

    SentCopyQueue {
      range("maxPendingCopies", maxPendingCopies, 0, 1_000_000);
      if (maxPendingCopyBytes < 0) {
        throw new IllegalArgumentException("maxPendingCopyBytes must not be negative, was " + maxPendingCopyBytes);
      }
    }
  }

  /**
   * Retries: of an email that failed for now, of the outgoing server after it could not be used,
   * of the activity store after an outage, and of the checkpoint and lease stores.
   *
   * @param maxAttempts attempts before an email is Failed, 1 to 1,000
   * @param retryDelay the first delay, at least 1 second; doubling with each failure in a row
   * @param maxRetryDelay the longest delay, at least 1 second (and, checked at build, at least
   *     {@code retryDelay})
   */
  record Retry(int maxAttempts, Duration retryDelay, Duration maxRetryDelay) {
    static final Retry DEFAULTS = new Retry(10, Duration.ofMinutes(5), Duration.ofHours(4));

    Retry {
      range("maxAttempts", maxAttempts, 1, 1000);
      atLeast("retryDelay", retryDelay, Duration.ofSeconds(1));
      atLeast("maxRetryDelay", maxRetryDelay, Duration.ofSeconds(1));
    }

    Retry withMaxAttempts(int v) {
      return new Retry(v, retryDelay, maxRetryDelay);
    }

    Retry withRetryDelay(Duration v) {
      return new Retry(maxAttempts, v, maxRetryDelay);
    }

    Retry withMaxRetryDelay(Duration v) {
      return new Retry(maxAttempts, retryDelay, v);
    }

    /** A backoff of its own (each has its own count of failures), drawing jitter from {@code random}. */
    Backoff backoff(Random random) {
      return new Backoff(retryDelay, maxRetryDelay, random);
    }
  }

  /**
   * Tracking tokens in sent emails' subjects, and looked for in incoming ones.
   *
   * @param trackingTokens whether sent emails get one
   * @param trackingTokenPrefix 1 to 20 letters, digits or {@code :-_#}, not ending in a digit
   * @param trackingTokenDigits the least number of digits, 1 to 18
   */
  record Tokens(boolean trackingTokens, String trackingTokenPrefix, int trackingTokenDigits) {
    static final Tokens DEFAULTS = new Tokens(true, "CRM:", 7);

    Tokens {
      Objects.requireNonNull(trackingTokenPrefix, "trackingTokenPrefix");
      if (!trackingTokenPrefix.matches("[A-Za-z0-9:#_-]{1,20}")
          || Character.isDigit(trackingTokenPrefix.charAt(trackingTokenPrefix.length() - 1))) {
        throw new IllegalArgumentException("trackingTokenPrefix must be 1 to 20 letters, digits or :-_# and not end "
            + "in a digit, was \"" + trackingTokenPrefix + "\"");
      }
      range("trackingTokenDigits", trackingTokenDigits, 1, 18);
    }

    Tokens withTrackingTokens(boolean v) {
      return new Tokens(v, trackingTokenPrefix, trackingTokenDigits);
    }

    Tokens withTrackingTokenPrefix(String v) {
      return new Tokens(trackingTokens, v, trackingTokenDigits);
    }

    Tokens withTrackingTokenDigits(int v) {
      return new Tokens(trackingTokens, trackingTokenPrefix, v);
    }

    /** Formats and finds tokens of this prefix and length. */
    TrackingTokens formatter() {
      return new TrackingTokens(trackingTokenPrefix, trackingTokenDigits);
    }
  }

  /**
   * Limits on what is read from a mailbox and kept of a tracked message.
   *
   * @param maxMessagesPerMailbox new messages read from one mailbox per tick, 1 to 100,000
   * @param maxMessageSize larger messages are rejected unread, at least 1,024 bytes
   * @param maxAttachmentSize larger attachments are dropped, at least 0
   * @param blockedAttachmentExtensions extensions whose attachments are dropped: lower case, without
   *     the dot (a leading dot is taken off); unmodifiable
   * @param maxMessageAttempts ticks a failing message is tried before quarantine, 1 to 100
   */
  record Incoming(int maxMessagesPerMailbox, long maxMessageSize, long maxAttachmentSize,
      Set<String> blockedAttachmentExtensions, int maxMessageAttempts) {
    static final Incoming DEFAULTS = new Incoming(500, 25L * 1024 * 1024, 25L * 1024 * 1024,
        RouterEngine.DEFAULT_BLOCKED_ATTACHMENT_EXTENSIONS, 3);

    Incoming {
      range("maxMessagesPerMailbox", maxMessagesPerMailbox, 1, 100_000);
      if (maxMessageSize < 1024) {
        throw new IllegalArgumentException("maxMessageSize must be at least 1024 bytes, was " + maxMessageSize);
      }
      if (maxAttachmentSize < 0) {
        throw new IllegalArgumentException("maxAttachmentSize must be at least 0, was " + maxAttachmentSize);
      }
      Objects.requireNonNull(blockedAttachmentExtensions, "blockedAttachmentExtensions");
      Set<String> normalized = new HashSet<>();
      for (String e : blockedAttachmentExtensions) {
        Objects.requireNonNull(e, "blockedAttachmentExtensions holds null");
        String ext = e.startsWith(".") ? e.substring(1) : e;
        if (ext.isEmpty() || !ext.matches("[A-Za-z0-9_-]+")) {
          throw new IllegalArgumentException("blockedAttachmentExtensions must hold extensions such as exe, was \""
              + e + "\"");
        }
        normalized.add(ext.toLowerCase(Locale.ROOT));
      }
      blockedAttachmentExtensions = Set.copyOf(normalized);
      range("maxMessageAttempts", maxMessageAttempts, 1, 100);
    }

    Incoming withMaxMessagesPerMailbox(int v) {
      return new Incoming(v, maxMessageSize, maxAttachmentSize, blockedAttachmentExtensions, maxMessageAttempts);
    }

    Incoming withMaxMessageSize(long v) {
      return new Incoming(maxMessagesPerMailbox, v, maxAttachmentSize, blockedAttachmentExtensions, maxMessageAttempts);
    }

    Incoming withMaxAttachmentSize(long v) {
      return new Incoming(maxMessagesPerMailbox, maxMessageSize, v, blockedAttachmentExtensions, maxMessageAttempts);
    }

    Incoming withBlockedAttachmentExtensions(Set<String> v) {
      return new Incoming(maxMessagesPerMailbox, maxMessageSize, maxAttachmentSize, v, maxMessageAttempts);
    }

    Incoming withMaxMessageAttempts(int v) {
      return new Incoming(maxMessagesPerMailbox, maxMessageSize, maxAttachmentSize, blockedAttachmentExtensions, v);
    }
  }

  /**
   * How mailboxes are read: how many at once, and how a failing one is backed off and disabled.
   *
   * @param mailboxParallelism mailboxes read at once, 1 to 64
   * @param mailboxFailuresBeforeDisable failures in a row before a mailbox is disabled, 1 to 10,000
   * @param mailboxRetryDelay the delay after a failure, at least 1 second; doubling with each
   *     failure in a row
   * @param maxMailboxRetryDelay the longest such delay (not shorter than {@code mailboxRetryDelay},
   *     whatever it is set to)
   */
  record Reading(int mailboxParallelism, int mailboxFailuresBeforeDisable, Duration mailboxRetryDelay,
      Duration maxMailboxRetryDelay) {
    static final Reading DEFAULTS = new Reading(1, 10, Duration.ofMinutes(1), Duration.ofHours(1));

    Reading {
      range("mailboxParallelism", mailboxParallelism, 1, 64);
      range("mailboxFailuresBeforeDisable", mailboxFailuresBeforeDisable, 1, 10_000);
      atLeast("mailboxRetryDelay", mailboxRetryDelay, Duration.ofSeconds(1));
      Objects.requireNonNull(maxMailboxRetryDelay, "maxMailboxRetryDelay");
    }

    Reading withMailboxParallelism(int v) {
      return new Reading(v, mailboxFailuresBeforeDisable, mailboxRetryDelay, maxMailboxRetryDelay);
    }

    Reading withMailboxFailuresBeforeDisable(int v) {
      return new Reading(mailboxParallelism, v, mailboxRetryDelay, maxMailboxRetryDelay);
    }

    Reading withMailboxRetryDelay(Duration v) {
      return new Reading(mailboxParallelism, mailboxFailuresBeforeDisable, v, maxMailboxRetryDelay);
    }

    /** The mailboxes' backoff; a retry delay set beyond the cap is its own cap. */
    Backoff backoff(Random random) {
      return new Backoff(mailboxRetryDelay, maxMailboxRetryDelay.compareTo(mailboxRetryDelay) < 0 ? mailboxRetryDelay
          : maxMailboxRetryDelay, random);
    }
  }

  /**
   * Mailbox leases among engines (nodes) sharing the mailboxes.
   *
   * @param mailboxLeases where the leases live; {@link MailboxLeases#singleNode()}: this engine owns
   *     every mailbox
   * @param mailboxLeaseDuration how long a lease holds unless renewed, 2 seconds to 1 day
   * @param leaseOwner this engine's name as a holder of leases, 1 to 200 characters without control
   *     characters; {@code null} in the builder until {@link #withOwnerDrawn()} draws one at build
   */
  record Nodes(MailboxLeases mailboxLeases, Duration mailboxLeaseDuration, String leaseOwner) {
    static final Nodes DEFAULTS = new Nodes(MailboxLeases.singleNode(), Duration.ofMinutes(1), null);

    Nodes {
      Objects.requireNonNull(mailboxLeases, "mailboxLeases");
      Objects.requireNonNull(mailboxLeaseDuration, "mailboxLeaseDuration");
      if (mailboxLeaseDuration.compareTo(Duration.ofSeconds(2)) < 0
          || mailboxLeaseDuration.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException("mailboxLeaseDuration must be between 2 seconds and 1 day, was "
            + mailboxLeaseDuration);
      }
      if (leaseOwner != null && (leaseOwner.isEmpty() || leaseOwner.length() > 200
          || leaseOwner.chars().anyMatch(Character::isISOControl))) {
        throw new IllegalArgumentException("leaseOwner must be 1 to 200 characters without control characters, was \""
            + leaseOwner.replaceAll("\\p{Cntrl}", "?") + "\"");
      }
    }

    Nodes withMailboxLeases(MailboxLeases v) {
      return new Nodes(v, mailboxLeaseDuration, leaseOwner);
    }

    Nodes withMailboxLeaseDuration(Duration v) {
      return new Nodes(mailboxLeases, v, leaseOwner);
    }

    Nodes withLeaseOwner(String v) {
      return new Nodes(mailboxLeases, mailboxLeaseDuration, Objects.requireNonNull(v, "leaseOwner"));
    }

    /** These settings with an owner: the one set, or a random one, so a restarted engine is a new owner. */
    Nodes withOwnerDrawn() {
      return leaseOwner != null ? this
          : withLeaseOwner("engine-" + Long.toUnsignedString(new SecureRandom().nextLong(), 36));
    }

    /** Whether leases other than {@link MailboxLeases#singleNode()} decide who reads a mailbox. */
    boolean leasing() {
      return mailboxLeases != MailboxLeases.singleNode();
    }
  }

  /** Checks an int setting's range, naming the setting and the value. */
  static int range(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", was " + value);
    }
    return value;
  }

  /** Checks a duration setting's least value, naming the setting and the value. */
  static Duration atLeast(String name, Duration value, Duration min) {
    Objects.requireNonNull(value, name);
    if (value.compareTo(min) < 0) {
      throw new IllegalArgumentException(name + " must be at least " + min + ", was " + value);
    }
    return value;
  }
}
