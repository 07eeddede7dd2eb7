package dev.emailrouter.imap;

import static java.util.Objects.requireNonNull;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import dev.emailrouter.support.internal.Uris;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * Everything an {@link ImapMailboxReader} was built with, checked once by its builder and never
 * changed afterwards; every part of the reader (login, header fetch, download, post-actions, failure
 * messages) reads its settings from here.
 *
 * @param host the server's host name or address
 * @param port the server's port, the security's default already applied
 * @param security how the connection is protected
 * @param trustStore the certificates trusted instead of the JVM's default ones, or {@code null}
 * @param connectTimeout the connect timeout
 * @param readTimeout the timeout of each read
 * @param writeTimeout the timeout of each write
 * @param username the login name, which names the mailbox
 * @param credentials asked for the credentials at each login
 * @param folder the folder read
 * @param afterTracked what happens to a message once its activity exists
 * @param afterRejected what happens to a message the policy rejected
 * @param quarantineFolder where quarantined messages go
 * @param processReceivedAfter on a first sync, messages received before this are skipped; {@code null}: none
 * @param keepIdle how long a kept connection may stay unused; {@code null}: none is kept
 * @param clock times a kept connection's idle timeout
 */
record ImapSettings(
    String host,
    int port,
    Security security,
    KeyStore trustStore,
    Duration connectTimeout,
    Duration readTimeout,
    Duration writeTimeout,
    String username,
    Supplier<Credentials> credentials,
    String folder,
    ImapMailboxReader.PostAction afterTracked,
    ImapMailboxReader.PostAction afterRejected,
    String quarantineFolder,
    Instant processReceivedAfter,
    Duration keepIdle,
    Clock clock) {

  ImapSettings {
    requireNonNull(host, "host");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be between 1 and 65535, was " + port);
    }
    requireNonNull(security, "security");
    requireNonNull(connectTimeout, "connectTimeout");
    requireNonNull(readTimeout, "readTimeout");
    requireNonNull(writeTimeout, "writeTimeout");
    requireNonNull(username, "username");
    requireNonNull(credentials, "credentials");
    requireNonNull(folder, "folder");
    requireNonNull(afterTracked, "afterTracked");
    requireNonNull(afterRejected, "afterRejected");
    requireNonNull(quarantineFolder, "quarantineFolder");
    requireNonNull(clock, "clock");
  }

  /** The same settings with another read timeout, e.g. for a connection that waits in IDLE. */
  ImapSettings withReadTimeout(Duration timeout) {
    return new ImapSettings(host, port, security, trustStore, connectTimeout, timeout, writeTimeout, username,
        credentials, folder, afterTracked, afterRejected, quarantineFolder, processReceivedAfter, keepIdle, clock);
  }

  /** The mailbox as {@code imap://user@host:port/folder}, never with the secret. */
  String describe() {
    return "imap://" + Uris.userPart(username) + Uris.hostPart(host) + ":" + port + "/" + folder;
  }

  /** The address of the server alone, for messages about the connection. */
  String server() {
    return "imap://" + Uris.hostPart(host) + ":" + port;
  }

  /** Names the mailbox and the security; never the credentials. */
  @Override
  public String toString() {
    return "ImapSettings[" + describe() + ", security=" + security + "]";
  }
}
