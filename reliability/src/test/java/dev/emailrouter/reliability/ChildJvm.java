package dev.emailrouter.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A second JVM on the test class path, running a main class of this module. */
final class ChildJvm {
  private final Process process;
  private final Path output;

  private ChildJvm(Process process, Path output) {
    this.process = process;
    this.output = output;
  }

  /** Starts {@code main} with the JVM options and arguments; its output goes to a file. */
  static ChildJvm start(Class<?> main, List<String> jvmOptions, List<String> args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(args);
    Path output = Files.createTempFile("child-jvm-", ".log");
    output.toFile().deleteOnExit();
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    return new ChildJvm(process, output);
  }

  /** Waits for the end; returns the exit code, or throws when it outlives {@code timeout} (and kills it). */
  int await(Duration timeout) throws IOException, InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("the child JVM ran longer than " + timeout + "; its output:\n" + output());
    }
    return process.exitValue();
  }

  String output() throws IOException {
    return Files.readString(output, StandardCharsets.UTF_8);
  }

  /** The value of the last line {@code KEY=value} the child printed, or null. */
  String value(String key) throws IOException {
    String found = null;
    for (String line : output().split("\n")) {
      if (line.startsWith(key + "=")) {
        found = line.substring(key.length() + 1).strip();
      }
    }
    return found;
  }
}
