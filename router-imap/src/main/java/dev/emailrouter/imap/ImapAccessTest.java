package dev.emailrouter.imap;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.support.internal.AccessProbe;
import jakarta.mail.MessagingException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test Access of an IMAP reader: the shared probe (resolve, connect, TLS, greeting), the login and
 * SELECT exactly as a tick does them, then whether the folders the post-actions and the quarantine
 * name exist. It reads no message, sets no flag and creates no folder; the connection is logged out.
 */
final class ImapAccessTest {
  private final ImapSettings settings;
  private final ImapLogin login;

  ImapAccessTest(ImapSettings settings, ImapLogin login) {
    this.settings = settings;
    this.login = login;
  }

  AccessReport run() {
    AccessProbe.Result probe = AccessProbe.probe(AccessProbe.Protocol.IMAP, settings.host(), settings.port(),
        settings.security(), settings.trustStore(), settings.connectTimeout(), settings.readTimeout());
    List<AccessStep> steps = new ArrayList<>(probe.steps());
    String description = settings.describe();
    if (!probe.reachable()) {
      steps.add(AccessStep.skipped(AccessStep.Check.LOGIN, "the server was not reached"));
      steps.add(AccessStep.skipped(AccessStep.Check.FOLDER, "the server was not reached"));
      return new AccessReport(description, steps);
    }
    ImapConnection connection;
    Credentials credentials;
    try {
      credentials = login.credentials();
      connection = login.connect();
    } catch (RouterException e) {
      String text = String.valueOf(e.getMessage());
      if (text.contains("IMAP folder '")) {
        steps.add(AccessStep.passed(AccessStep.Check.LOGIN, "logged in as " + settings.username()));
        steps.add(AccessStep.failed(AccessStep.Check.FOLDER, text, "folder"));
      } else {
        steps.add(AccessStep.failed(AccessStep.Check.LOGIN, text,
            text.contains("refused") || text.contains("credentials") || text.contains("behalf") ? "credentials"
                : null));
        steps.add(AccessStep.skipped(AccessStep.Check.FOLDER, "not logged in"));
      }
      return new AccessReport(description, steps);
    }
    try {
      String how = credentials.kind() == Credentials.Kind.OAUTH2_TOKEN ? "an OAuth2 token"
          : credentials.authorizationId() != null ? "AUTHENTICATE PLAIN on behalf of " + credentials.authorizationId()
          : "a password";
      steps.add(AccessStep.passed(AccessStep.Check.LOGIN, "logged in as " + credentials.username() + " with " + how));
      steps.add(AccessStep.passed(AccessStep.Check.FOLDER, "'" + settings.folder() + "' selected for reading and "
          + "writing"));
      for (Map.Entry<String, String> target : targets().entrySet()) {
        try {
          steps.add(connection.folderExists(target.getKey())
              ? AccessStep.passed(AccessStep.Check.FOLDER, "'" + target.getKey() + "' (" + target.getValue()
                  + ") exists")
              : AccessStep.passed(AccessStep.Check.FOLDER, "'" + target.getKey() + "' (" + target.getValue()
                  + ") does not exist yet: it is created the first time a message goes there"));
        } catch (MessagingException | RuntimeException e) {
          steps.add(AccessStep.failed(AccessStep.Check.FOLDER, "can't tell whether '" + target.getKey()
              + "' exists: " + ImapFailures.detail(e, credentials.secret()), null));
        }
      }
    } finally {
      connection.logout();
    }
    return new AccessReport(description, steps);
  }

  /** The folders messages may be moved to, each with the setting that names it. */
  private Map<String, String> targets() {
    Map<String, String> targets = new LinkedHashMap<>();
    if (settings.afterTracked().kind == ImapMailboxReader.PostAction.Kind.MOVE) {
      targets.put(settings.afterTracked().folder, "afterTracked");
    }
    if (settings.afterRejected().kind == ImapMailboxReader.PostAction.Kind.MOVE) {
      targets.merge(settings.afterRejected().folder, "afterRejected", (a, b) -> a + ", " + b);
    }
    if (settings.quarantineFolder() != null) {
      targets.merge(settings.quarantineFolder(), "quarantineFolder", (a, b) -> a + ", " + b);
    }
    return targets;
  }
}
