package dev.emailrouter.smtp;

import dev.emailrouter.api.Security;
import java.time.Duration;

/** The transport settings the tests share: plain text on loopback, short timeouts, a fixed EHLO name. */
final class TestTransports {
  private TestTransports() {}

  static SmtpTransport.Builder plain(int port) {
    return SmtpTransport.builder()
        .host("127.0.0.1")
        .port(port)
        .security(Security.PLAIN_TEXT_INSECURE)
        .connectTimeout(Duration.ofSeconds(5))
        .readTimeout(Duration.ofSeconds(10))
        .writeTimeout(Duration.ofSeconds(10))
        .ehloName("router.example.test");
  }
}
