package dev.emailrouter.core;

import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.TrackingPolicy;
import java.util.Objects;

/**
 * A mailbox the engine reads, whose mail it is, and how its mail is tracked.
 *
 * <p>Three kinds, as in the E-mail Router: a user's mailbox (activities owned by that user), a
 * queue's mailbox (tracked into the queue), and a forward mailbox (server rules forward each
 * message there as a {@code message/rfc822} attachment; the engine unwraps the original and
 * attributes it to the user who forwarded it; a forward with several attached emails has each of
 * them decided on and tracked). Immutable.
 *
 * <p>The name is the mailbox's checkpoint key and its name in events, logs and {@link
 * RouterEngine#enableMailbox(String)}. The factories take the reader's {@link
 * MailboxReader#describe()} ({@code imap://user@host:port/folder}, {@code pop3://user@host:port}),
 * so changing the host, port, user or folder starts the mailbox over from its first message (no
 * duplicate activities: creation is idempotent by Message-ID, but every message still on the
 * server is looked at again). {@link #withName(String)} sets a name that stays put.
 *
 * @param name the key for checkpoints, reports and logs; by default the reader's description
 * @param reader reads the mailbox
 * @param kind the kind of mailbox
 * @param owner the user or queue the mail is tracked for; for a forward mailbox, a placeholder
 *     replaced per message by the forwarding user
 * @param policy the tracking policy, or {@code null} for the engine's default
 */
public record Mailbox(String name, MailboxReader reader, Kind kind, Party owner, TrackingPolicy policy) {

  /** The kinds of mailbox. */
  public enum Kind {
    /** A CRM user's own mailbox. */
    USER,
    /** A queue's mailbox. */
    QUEUE,
    /** A mailbox that receives other users' mail forwarded as attachments. */
    FORWARD
  }

  /**
   * Validates the components.
   *
   * @param name the key for checkpoints, reports and logs; by default the reader's description
   * @param reader reads the mailbox
   * @param kind the kind of mailbox
   * @param owner the user or queue the mail is tracked for; for a forward mailbox, a placeholder replaced per
   *     message by the forwarding user
   * @param policy the tracking policy, or {@code null} for the engine's default
   */
  public Mailbox {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(reader, "reader");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(owner, "owner");
    if (name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
  }

  /**
   * A CRM user's mailbox: its tracked mail is owned by that user. Named after {@code
   * reader.describe()}.
   *
   * @param userId the CRM id of the user who owns the mailbox
   * @param reader reads the mailbox
   * @return the mailbox, named after the reader
   */
  public static Mailbox ofUser(String userId, MailboxReader reader) {
    return new Mailbox(reader.describe(), reader, Kind.USER, new Party(Party.Type.USER, userId, ""), null);
  }

  /**
   * A queue's mailbox: its tracked mail goes to that queue. Named after {@code reader.describe()}.
   *
   * @param queueId the CRM id of the queue that owns the mailbox
   * @param reader reads the mailbox
   * @return the mailbox, named after the reader
   */
  public static Mailbox ofQueue(String queueId, MailboxReader reader) {
    return new Mailbox(reader.describe(), reader, Kind.QUEUE, new Party(Party.Type.QUEUE, queueId, ""), null);
  }

  /**
   * A forward mailbox: each tracked message is owned by the CRM user whose address forwarded it.
   * Named after {@code reader.describe()}.
   *
   * @param reader reads the mailbox
   * @return the mailbox, named after the reader
   */
  public static Mailbox forward(MailboxReader reader) {
    return new Mailbox(reader.describe(), reader, Kind.FORWARD, new Party(Party.Type.USER, "", "forward mailbox"),
        null);
  }

  /**
   * This mailbox with its own tracking policy.
   *
   * @param newPolicy the policy
   * @return a copy
   */
  public Mailbox withPolicy(TrackingPolicy newPolicy) {
    return new Mailbox(name, reader, kind, owner, Objects.requireNonNull(newPolicy, "newPolicy"));
  }

  /**
   * This mailbox under another name (the checkpoint key: keep it stable across restarts, and
   * across changes of host, port, user or folder that should not read the mailbox again).
   *
   * @param newName the name, not blank and unique in the engine
   * @return a copy
   * @throws NullPointerException if {@code newName} is null
   * @throws IllegalArgumentException if {@code newName} is blank
   */
  public Mailbox withName(String newName) {
    return new Mailbox(newName, reader, kind, owner, policy);
  }
}
