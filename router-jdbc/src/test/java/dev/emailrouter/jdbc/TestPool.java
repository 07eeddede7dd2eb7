package dev.emailrouter.jdbc;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A minimal connection pool for the tests, as a host would put HikariCP in front of the store:
 * PostgreSQL forks a backend per connection, which would swamp what the tests measure.
 */
final class TestPool implements DataSource, AutoCloseable {
  private final DataSource target;
  private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();
  private final List<Connection> all = new ArrayList<>();
  private final Runnable afterClose;

  /** A pool over {@code target} that runs {@code afterClose} (drop the database) once its connections are closed. */
  TestPool(DataSource target, Runnable afterClose) {
    this.target = target;
    this.afterClose = afterClose;
  }

  @Override
  public Connection getConnection() throws SQLException {
    Connection real = idle.poll();
    if (real == null) {
      real = target.getConnection();
      synchronized (all) {
        all.add(real);
      }
    }
    Connection held = real;
    return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
        (proxy, method, args) -> {
          if (method.getName().equals("close")) {
            if (!held.getAutoCommit()) {
              held.rollback();
              held.setAutoCommit(true);
            }
            idle.add(held);
            return null;
          }
          try {
            return method.invoke(held, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  @Override
  public void close() throws SQLException {
    synchronized (all) {
      for (Connection c : all) {
        c.close();
      }
      all.clear();
    }
    idle.clear();
    afterClose.run();
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException();
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {}

  @Override
  public void setLoginTimeout(int seconds) {}

  @Override
  public int getLoginTimeout() {
    return 0;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    throw new SQLException("not a wrapper");
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) {
    return false;
  }
}
