package dev.emailrouter.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Postfix's {@code smtp-sink} (a fast SMTP server that accepts and discards everything) on a free
 * port of 127.0.0.1, and {@code smtp-source} (a fast SMTP client), the protocol-limit baseline.
 */
final class SmtpSink implements AutoCloseable {
  private final Process process;
  private final int port;

  private SmtpSink(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static SmtpSink start(Path log) throws IOException {
    return start(log, null);
  }

  /**
   * A sink that also appends every message it receives to {@code dump} (smtp-sink's {@code -D}), so
   * a scenario can count what arrived by Message-ID; {@code dump}'s folder must be writable by the
   * user nobody. Without {@code dump}, nothing is kept.
   */
  static SmtpSink start(Path log, Path dump) throws IOException {
    int port = Processes.freePorts(1).get(0);
    List<String> command = new java.util.ArrayList<>(List.of("smtp-sink", "-u", "nobody"));
    if (dump != null) {
      command.addAll(List.of("-D", dump.toString()));
    }
    command.addAll(List.of("127.0.0.1:" + port, "1024"));
    Process p = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    try {
      Processes.awaitPort(port, 10_000);
    } catch (RuntimeException e) {
      p.destroyForcibly();
      throw e;
    }
    return new SmtpSink(p, port);
  }

  int port() {
    return port;
  }

  /**
   * Sends {@code count} messages of {@code bodyBytes} with {@code sessions} parallel sessions, each
   * keeping its connection ({@code -d}), with smtp-source to {@code port}.
   *
   * @return messages per second, timed around the process
   */
  static Stopwatch.Figure source(int port, int sessions, int bodyBytes, int count) {
    List<String> command = List.of("smtp-source", "-d", "-s", Integer.toString(sessions), "-l",
        Integer.toString(bodyBytes), "-m", Integer.toString(count), "-f", "sender@crm.test", "-t",
        "user@example.test", "127.0.0.1:" + port);
    Stopwatch watch = Stopwatch.start();
    Processes.run(command, Map.of(), 600);
    return watch.externalRate(count);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
