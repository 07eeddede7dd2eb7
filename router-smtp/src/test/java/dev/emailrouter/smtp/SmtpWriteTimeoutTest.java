package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.SendResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A server that answers DATA with 354 and then stops reading: the socket's buffers fill, the
 * client's write blocks, and only the write timeout can end it (the read timeout is far longer and
 * no read is pending).
 */
final class SmtpWriteTimeoutTest {
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();
  private final AtomicInteger stalls = new AtomicInteger();
  private ServerSocket server;

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
    for (Socket s : accepted) {
      s.close();
    }
  }

  private int startStallingServer(boolean pipelining) throws IOException {
    server = new ServerSocket();
    server.setReceiveBufferSize(4096);
    server.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          accepted.add(s);
          Thread talk = new Thread(() -> talk(s, pipelining), "stalling-smtp");
          talk.setDaemon(true);
          talk.start();
        } catch (IOException e) {
          return;
        }
      }
    }, "stalling-smtp-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    return server.getLocalPort();
  }

  private void talk(Socket s, boolean pipelining) {
    try {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream out = s.getOutputStream();
      reply(out, "220 stall.test ESMTP");
      String line;
      while ((line = in.readLine()) != null) {
        String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase() : line;
        switch (verb) {
          case "EHLO" -> reply(out, pipelining ? "250-stall.test\r\n250 PIPELINING" : "250 stall.test");
          case "DATA" -> {
            reply(out, "354 go ahead");
            stalls.incrementAndGet();
            return; // reads nothing more; the socket stays open until the test ends
          }
          case "QUIT" -> {
            reply(out, "221 bye");
            return;
          }
          default -> reply(out, "250 ok");
        }
      }
    } catch (IOException e) {
      // the client gave up
    }
  }

  private static void reply(OutputStream out, String text) throws IOException {
    out.write((text + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  @ParameterizedTest(name = "pipelining {0}")
  @ValueSource(booleans = {false, true})
  void send_whenTheServerStopsReading_failsOnceTheWriteTimeoutPassed(boolean pipelining) throws Exception {
    int port = startStallingServer(pipelining);
    SmtpTransport transport = TestTransports.plain(port)
        .readTimeout(Duration.ofMinutes(10))
        .writeTimeout(Duration.ofMillis(300))
        .build();
    // Far more than the socket buffers of both ends hold.
    String body = ("x".repeat(76) + "\r\n").repeat(200_000);

    long start = System.nanoTime();
    SendResult result = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      try (MailTransport.Session session = transport.openSession()) {
        return session.send(TestEmails.email("W-1").textBody(body).build());
      }
    });
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    // Stalled, reconnected once, stalled again: a transient failure, the email to be sent later.
    assertThat(result.outcome()).isEqualTo(SendResult.Outcome.TRANSIENT);
    assertThat(stalls).hasValue(2);
    assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(600)).isLessThan(Duration.ofSeconds(20));
  }

  @Test
  void send_onTwoSessionsAtOnce_bothStalledWritesEndByTheTransportsOneWatchdog() throws Exception {
    int port = startStallingServer(true);
    SmtpTransport transport = TestTransports.plain(port)
        .readTimeout(Duration.ofMinutes(10))
        .writeTimeout(Duration.ofMillis(300))
        .build();
    String body = ("y".repeat(76) + "\r\n").repeat(200_000);
    java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      List<java.util.concurrent.Future<SendResult>> results = new java.util.ArrayList<>();
      for (int i = 0; i < 2; i++) {
        String id = "W2-" + i;
        results.add(two.submit(() -> {
          try (MailTransport.Session session = transport.openSession()) {
            return session.send(TestEmails.email(id).textBody(body).build());
          }
        }));
      }
      for (java.util.concurrent.Future<SendResult> result : results) {
        assertThat(result.get(60, java.util.concurrent.TimeUnit.SECONDS).outcome())
            .isEqualTo(SendResult.Outcome.TRANSIENT);
      }
    } finally {
      two.shutdownNow();
    }
    // Each session stalled, reconnected once and stalled again.
    assertThat(stalls).hasValue(4);
    assertThat(Thread.getAllStackTraces().keySet()).filteredOn(t -> t.getName().startsWith(
        "email-router-smtp-write-timeout smtp://127.0.0.1:" + port)).hasSizeLessThanOrEqualTo(1);
  }
}
