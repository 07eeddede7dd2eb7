package dev.emailrouter.testfixtures;

import com.icegreen.greenmail.util.ServerSetup;

/**
 * GreenMail server setups on 127.0.0.1 with a free port: a test binds nothing beyond the loopback
 * interface and never collides with another test's fixed port.
 *
 * <p>Needs GreenMail on the test classpath; this module declares it optional, so a module calling
 * {@code Loopback} declares GreenMail itself. Stateless, so thread-safe.
 */
public final class Loopback {
  private Loopback() {}

  /**
   * A setup for one protocol on 127.0.0.1, port 0 (the system chooses one), with a 30 s start-up wait:
   * GreenMail's default 2 s is too short on a busy 2-core CI machine.
   *
   * @param protocol GreenMail's protocol name, e.g. {@code ServerSetup.PROTOCOL_IMAP}, not null
   * @return a new setup, which the caller may change further
   */
  public static ServerSetup setup(String protocol) {
    ServerSetup setup = new ServerSetup(0, "127.0.0.1", protocol);
    setup.setServerStartupTimeout(30_000);
    return setup;
  }
}
