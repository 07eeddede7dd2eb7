package dev.emailrouter.benchmarks;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * Counts the database round trips a store makes: a {@link DataSource} wrapped by {@link #wrap}
 * hands out connections whose statements count every {@code execute...} call (a batch counts once:
 * the driver sends it in one go) and whose {@code commit} and {@code rollback} calls count too.
 * Opening a transaction costs nothing of its own with the PostgreSQL driver (its BEGIN travels with
 * the first statement), so statements + commits + rollbacks is the number of round trips. Plain
 * {@link Proxy} instances over the JDBC interfaces; nothing of the driver's is touched. Thread-safe.
 */
final class CountingJdbc {
  private final LongAdder statements = new LongAdder();
  private final LongAdder commits = new LongAdder();

  /** {@code dataSource} with every statement and commit counted here. */
  DataSource wrap(DataSource dataSource) {
    return proxy(DataSource.class, dataSource, (method, result) -> method.getName().equals("getConnection")
        ? connection((Connection) result) : result);
  }

  void reset() {
    statements.reset();
    commits.reset();
  }

  long statements() {
    return statements.sum();
  }

  /** Commits and rollbacks. */
  long commits() {
    return commits.sum();
  }

  long roundTrips() {
    return statements() + commits();
  }

  private Connection connection(Connection c) {
    return proxy(Connection.class, c, (method, result) -> {
      switch (method.getName()) {
        case "commit", "rollback" -> commits.increment();
        case "createStatement" -> {
          return statement(Statement.class, (Statement) result);
        }
        case "prepareStatement" -> {
          return statement(PreparedStatement.class, (PreparedStatement) result);
        }
        case "prepareCall" -> {
          return statement(CallableStatement.class, (CallableStatement) result);
        }
        default -> {
          // passed through
        }
      }
      return result;
    });
  }

  private <T extends Statement> T statement(Class<T> type, T s) {
    return proxy(type, s, (method, result) -> {
      if (method.getName().startsWith("execute")) {
        statements.increment();
      }
      return result;
    });
  }

  /** What to do with a call's result once the real object returned it. */
  private interface After {
    Object apply(Method method, Object result);
  }

  private static <T> T proxy(Class<T> type, T target, After after) {
    InvocationHandler handler = (p, method, args) -> {
      if (method.getDeclaringClass() == Object.class) {
        return switch (method.getName()) {
          case "equals" -> p == args[0];
          case "hashCode" -> System.identityHashCode(p);
          default -> "counting " + target;
        };
      }
      Object result;
      try {
        result = method.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
      return after.apply(method, result);
    };
    return type.cast(Proxy.newProxyInstance(CountingJdbc.class.getClassLoader(), new Class<?>[] {type}, handler));
  }
}
