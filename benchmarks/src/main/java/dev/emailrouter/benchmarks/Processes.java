package dev.emailrouter.benchmarks;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Small helpers for external commands and ports. Stateless. */
final class Processes {

  private Processes() {}

  /** Runs a command to its end; returns its output (stdout and stderr); fails on a non-zero exit. */
  static String run(List<String> command, Map<String, String> env, long timeoutSeconds) {
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      pb.environment().putAll(env);
      Path out = java.nio.file.Files.createTempFile("bench-cmd-", ".log");
      try {
        pb.redirectOutput(out.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new IllegalStateException(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s");
        }
        String text = java.nio.file.Files.readString(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
          throw new IllegalStateException(String.join(" ", command) + " failed with exit code " + p.exitValue() + ":\n"
              + text);
        }
        return text;
      } finally {
        java.nio.file.Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      throw new IllegalStateException(command.get(0) + " can't run: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command.get(0), e);
    }
  }

  static String run(List<String> command) {
    return run(command, Map.of(), 600);
  }

  /** {@code count} distinct free TCP ports on 127.0.0.1 (held open together while chosen, so distinct). */
  static List<Integer> freePorts(int count) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        held.add(s);
        ports.add(s.getLocalPort());
      }
      return ports;
    } catch (IOException e) {
      throw new IllegalStateException("no free ports on 127.0.0.1: " + e, e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException e) {
          // ignored: the port is free either way
        }
      }
    }
  }

  /** Waits until something accepts connections on 127.0.0.1:port. */
  static void awaitPort(int port, long timeoutMillis) {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
        return;
      } catch (IOException e) {
        if (System.currentTimeMillis() > deadline) {
          throw new IllegalStateException("nothing accepts connections on 127.0.0.1:" + port + " after "
              + timeoutMillis + " ms", e);
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(ie);
        }
      }
    }
  }
}
