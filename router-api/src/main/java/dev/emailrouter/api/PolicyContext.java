package dev.emailrouter.api;

import java.util.List;
import java.util.Optional;

/**
 * What the engine knows about a message when it asks the policy, with lookups in the store made
 * only when the policy asks for them (and then at most once per message).
 *
 * <p>For one thread at a time, valid only during {@link TrackingPolicy#decide}.
 */
public interface PolicyContext {

  /**
   * The CRM email this message answers, found by In-Reply-To, References, then tracking token.
   *
   * @return the correlation, or empty
   */
  Optional<Correlation> correlation();

  /**
   * The CRM records the sender's address belongs to.
   *
   * @return the parties, empty for an unknown or invalid sender
   */
  List<Party> senderParties();

  /**
   * The CRM records the To and Cc addresses belong to.
   *
   * @return the parties, empty when none is known
   */
  List<Party> recipientParties();

  /**
   * Whether the message went between CRM users and queues only: the sender and every To and Cc
   * address belong to a user or a queue.
   *
   * @return {@code true} for internal mail
   */
  boolean isInternal();

  /**
   * Who the mailbox tracks mail for: the user of a user's or forward mailbox, the queue of a
   * queue's mailbox.
   *
   * @return the owner
   */
  Party owner();
}
