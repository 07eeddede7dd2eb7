package dev.emailrouter.smtp;

import com.icegreen.greenmail.util.ServerSetup;

/** GreenMail server setups on 127.0.0.1 with a free port. */
final class Loopback {
  private Loopback() {}

  /**
   * A setup for one protocol; GreenMail's default 2 s start-up wait is too short on a busy 2-core
   * CI machine, so it gets 30 s.
   */
  static ServerSetup setup(String protocol) {
    ServerSetup setup = new ServerSetup(0, "127.0.0.1", protocol);
    setup.setServerStartupTimeout(30_000);
    return setup;
  }
}
