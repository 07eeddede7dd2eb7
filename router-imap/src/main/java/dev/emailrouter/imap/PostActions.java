package dev.emailrouter.imap;

import static java.util.Objects.requireNonNull;

import dev.emailrouter.api.Disposition;
import jakarta.mail.MessagingException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.eclipse.angus.mail.iap.CommandFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the post-actions to handled messages: the job behind {@link
 * dev.emailrouter.api.MailboxReader.Session#dispose}. In bulk per action: one {@code UID STORE},
 * {@code UID MOVE} (or {@code UID COPY} + {@code \Deleted} + expunge where the server lacks MOVE) per
 * set of messages; a destination folder the server says is missing is created once.
 *
 * <p>One per session, for one thread at a time.
 */
final class PostActions {

  private static final Logger log = LoggerFactory.getLogger(PostActions.class);

  private final ImapSettings settings;
  private final String mailbox;
  /** Folders this session created, so a failing transfer into one is not taken for a missing folder. */
  private final Set<String> createdFolders = new HashSet<>();

  PostActions(ImapSettings settings) {
    this.settings = settings;
    this.mailbox = settings.describe();
  }

  /**
   * Groups the dispositions by what the settings say to do with them; references that are not UIDs
   * this reader handed out are logged and left out.
   *
   * @throws NullPointerException if a disposition is {@code null}
   */
  Plan plan(Map<String, Disposition> dispositions) {
    TreeSet<Long> markSeen = new TreeSet<>();
    TreeSet<Long> delete = new TreeSet<>();
    Map<String, TreeSet<Long>> moves = new TreeMap<>();
    dispositions.forEach((ref, disposition) -> {
      requireNonNull(disposition, "disposition of " + ref);
      long uid = UidSets.parseRef(ref, mailbox);
      if (uid <= 0) {
        return;
      }
      ImapMailboxReader.PostAction action = switch (disposition) {
        case TRACKED -> settings.afterTracked();
        case REJECTED -> settings.afterRejected();
        case QUARANTINED -> ImapMailboxReader.PostAction.moveTo(settings.quarantineFolder());
      };
      switch (action.kind) {
        case LEAVE -> { }
        case MARK_SEEN -> markSeen.add(uid);
        case DELETE -> delete.add(uid);
        case MOVE -> moves.computeIfAbsent(action.folder, f -> new TreeSet<>()).add(uid);
        default -> throw new IllegalStateException("unknown post-action " + action);
      }
    });
    return new Plan(markSeen, delete, moves);
  }

  /** Sends the commands of a plan on the connection. */
  void apply(ImapConnection connection, Plan plan) throws MessagingException {
    boolean canMove = connection.hasCapability("MOVE");
    TreeSet<Long> expunge = new TreeSet<>(plan.delete());
    for (String set : UidSets.of(plan.markSeen(), UidSets.PER_COMMAND)) {
      connection.command("UID STORE " + set + " +FLAGS.SILENT (\\Seen)", null);
    }
    for (Map.Entry<String, TreeSet<Long>> move : plan.moves().entrySet()) {
      for (String set : UidSets.of(move.getValue(), UidSets.PER_COMMAND)) {
        transfer(connection, canMove ? "UID MOVE " : "UID COPY ", set, move.getKey());
      }
      if (!canMove) {
        expunge.addAll(move.getValue());
      }
    }
    if (!expunge.isEmpty()) {
      for (String set : UidSets.of(expunge, UidSets.PER_COMMAND)) {
        connection.command("UID STORE " + set + " +FLAGS.SILENT (\\Deleted)", null);
      }
      if (connection.hasCapability("UIDPLUS")) {
        for (String set : UidSets.of(expunge, UidSets.PER_COMMAND)) {
          connection.command("UID EXPUNGE " + set, null);
        }
      } else {
        connection.command("EXPUNGE", null);
      }
    }
    log.debug("{}: {} marked seen, {} moved, {} deleted", mailbox, plan.markSeen().size(),
        plan.moves().values().stream().mapToInt(Set::size).sum(), plan.delete().size());
  }

  /** {@code UID MOVE} or {@code UID COPY} to a folder, created first if the server says it is missing. */
  private void transfer(ImapConnection connection, String verb, String set, String destination)
      throws MessagingException {
    try {
      connection.command(verb + set, connection.mailboxName(destination));
    } catch (MessagingException e) {
      if (!(e.getCause() instanceof CommandFailedException) || createdFolders.contains(destination)
          || connection.folderExists(destination)) {
        throw e;
      }
      log.debug("{}: creating folder '{}'", mailbox, destination);
      connection.createFolder(destination);
      createdFolders.add(destination);
      connection.command(verb + set, connection.mailboxName(destination));
    }
  }

  /**
   * The UIDs to mark seen, to delete, and to move by destination folder, each in ascending order.
   *
   * @param markSeen UIDs to flag {@code \Seen}
   * @param delete UIDs to flag {@code \Deleted} and expunge
   * @param moves UIDs to move, by destination folder
   */
  record Plan(TreeSet<Long> markSeen, TreeSet<Long> delete, Map<String, TreeSet<Long>> moves) {
    Plan {
      requireNonNull(markSeen, "markSeen");
      requireNonNull(delete, "delete");
      requireNonNull(moves, "moves");
    }

    /** Whether the plan sends no command at all. */
    boolean isEmpty() {
      return markSeen.isEmpty() && delete.isEmpty() && moves.isEmpty();
    }
  }
}
