package dev.emailrouter.examples;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.CheckpointStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import java.nio.file.Path;
import java.util.function.Function;

/**
 * The README's embedding example, compiled: what a host writes to wire the router into its own
 * application. Building connects to nothing; the first {@code tick()} does.
 */
public final class EmbeddingExample {
  private EmbeddingExample() {}

  /**
   * Builds the engine of the README.
   *
   * @param crm the host's store
   * @param secrets looks up a secret by name (a vault, the environment...)
   * @param state a directory for mailbox checkpoints
   * @return the engine; drive it with {@code scheduler.scheduleWithFixedDelay(engine::tick, ...)}
   */
  public static RouterEngine engine(ActivityStore crm, Function<String, String> secrets, Path state) {
    return RouterEngine.builder()
        .activityStore(crm)                                          // the one interface you implement
        .transport(SmtpTransport.builder()
            .host("smtp.example.com")                                // STARTTLS required by default
            // optional: leave credentials out for a relay that takes mail without AUTH; with them,
            // a server that offers no AUTH is a permanent failure
            .credentials(() -> Credentials.password("router@example.com", secrets.apply("smtp")))
            .build())
        .mailbox(Mailbox.ofUser("user-42", ImapMailboxReader.builder()
            .host("imap.example.com")
            .credentials(Credentials.password("una@example.com", secrets.apply("imap")))
            .afterTracked(ImapMailboxReader.PostAction.MARK_SEEN)
            .build()))
        .trackingPolicy(TrackingPolicy.responsesToCrmEmail())       // the default
        .checkpointStore(CheckpointStore.directory(state))
        .build();
  }
}
