package dev.emailrouter.imap;

import static java.util.Objects.requireNonNull;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.ServerSettings;
import dev.emailrouter.support.internal.Uris;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * Everything an {@link ImapMailboxReader} was built with, checked once by its builder and never
 * changed afterwards; every part of the reader (login, header fetch, download, post-actions, failure
 * messages) reads its settings from here. The server part is the shared {@link ServerSettings}
 * value (with credentials and user name present); the accessors below read it, so no field is
 * copied.
 *
 * @param shared host, security, trust, credentials, user name and timeouts
 * @param port the server's port, the security's default already applied
 * @param folder the folder read
 * @param afterTracked what happens to a message once its activity exists
 * @param afterRejected what happens to a message the policy rejected
 * @param quarantineFolder where quarantined messages go
 * @param processReceivedAfter on a first sync, messages received before this are skipped; {@code null}: none
 * @param keepIdle how long a kept connection may stay unused; {@code null}: none is kept
 * @param clock times a kept connection's idle timeout
 */
record ImapSettings(
    ServerSettings shared,
    int port,
    String folder,
    ImapMailboxReader.PostAction afterTracked,
    ImapMailboxReader.PostAction afterRejected,
    String quarantineFolder,
    Instant processReceivedAfter,
    Duration keepIdle,
    Clock clock) {

  ImapSettings {
    requireNonNull(shared, "shared");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be between 1 and 65535, was " + port);
    }
    if (shared.credentials().isEmpty() || shared.username().isEmpty()) {
      throw new IllegalArgumentException("an IMAP mailbox needs credentials and a user name, was " + shared);
    }
    requireNonNull(folder, "folder");
    requireNonNull(afterTracked, "afterTracked");
    requireNonNull(afterRejected, "afterRejected");
    requireNonNull(quarantineFolder, "quarantineFolder");
    requireNonNull(clock, "clock");
  }

  /** The IMAP port for a security where none was set: 993 for implicit TLS, else 143. */
  static int port(ServerSettings server) {
    return server.port().orElse(server.security() == Security.IMPLICIT_TLS ? 993 : 143);
  }

  String host() {
    return shared.host();
  }

  Security security() {
    return shared.security();
  }

  /** The trusted certificates, or {@code null} for the JVM's default. */
  KeyStore trustStore() {
    return shared.trustStore().orElse(null);
  }

  Duration connectTimeout() {
    return shared.connectTimeout();
  }

  Duration readTimeout() {
    return shared.readTimeout();
  }

  Duration writeTimeout() {
    return shared.writeTimeout();
  }

  /** The login name, which names the mailbox. */
  String username() {
    return shared.username().orElseThrow();
  }

  /** Asked for the credentials at each login. */
  Supplier<Credentials> credentials() {
    return shared.credentials().orElseThrow();
  }

  /** The same settings with another read timeout, e.g. for a connection that waits in IDLE. */
  ImapSettings withReadTimeout(Duration timeout) {
    return new ImapSettings(shared.toBuilder().readTimeout(timeout).build(), port, folder, afterTracked,
        afterRejected, quarantineFolder, processReceivedAfter, keepIdle, clock);
  }

  /** The mailbox as {@code imap://user@host:port/folder}, never with the secret. */
  String describe() {
    return "imap://" + Uris.userPart(username()) + Uris.hostPart(host()) + ":" + port + "/" + folder;
  }

  /** The address of the server alone, for messages about the connection. */
  String server() {
    return "imap://" + Uris.hostPart(host()) + ":" + port;
  }

  /** Names the mailbox and the security; never the credentials. */
  @Override
  public String toString() {
    return "ImapSettings[" + describe() + ", security=" + security() + "]";
  }
}
