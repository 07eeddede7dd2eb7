package dev.emailrouter.reliability;

import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.jdbc.JdbcActivityStore;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.h2.jdbcx.JdbcConnectionPool;

/**
 * The second JVM of {@code ConcurrentEnginesIT}: one engine on the shared H2 database (AUTO_SERVER)
 * and the shared SMTP sink, ticking until nothing is left to send. Prints {@code SENT=n} and
 * {@code CLAIM_LOST=n}.
 */
public final class EngineProcess {

  private EngineProcess() {}

  /**
   * Runs the engine.
   *
   * @param args the JDBC URL, the sink's port, a seed
   */
  public static void main(String[] args) {
    JdbcConnectionPool pool = JdbcConnectionPool.create(args[0], "sa", "");
    pool.setMaxConnections(16);
    AtomicInteger claimLost = new AtomicInteger();
    try (RouterEngine engine = Fleet.engine(new JdbcActivityStore(pool), Integer.parseInt(args[1]), Clock.systemUTC(),
        Long.parseLong(args[2]))) {
      int sent = Fleet.drain(engine, pool, claimLost, Duration.ofMinutes(4));
      System.out.println("SENT=" + sent);
      System.out.println("CLAIM_LOST=" + claimLost.get());
    } finally {
      pool.dispose();
    }
  }
}
