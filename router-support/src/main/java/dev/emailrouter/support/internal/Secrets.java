package dev.emailrouter.support.internal;

import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.TransientRouterException;
import jakarta.mail.MessagingException;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Unsupported. Keeps a secret out of the causes the adapters chain to their exceptions: a careless
 * server may quote the password it was sent in its refusal, and Jakarta Mail's exception carries
 * that text. The adapters scrub their own messages; this replaces a cause whose chain quotes the
 * secret with a copy that masks it.
 */
public final class Secrets {

  private Secrets() {}

  /**
   * The failure as it is, or, when a message in its cause chain contains {@code secret}, the same
   * kind of failure with the same message and a cause whose text has the secret masked.
   *
   * @param failure the exception an adapter is about to throw
   * @param secret the password or token just used, or {@code null}
   * @return an exception safe to throw and log
   */
  public static RouterException withoutSecretInCause(RouterException failure, String secret) {
    Throwable cause = failure.getCause();
    if (secret == null || secret.isEmpty() || cause == null) {
      return failure;
    }
    StringBuilder chain = new StringBuilder();
    boolean quoted = false;
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    for (Throwable t = cause; t != null && seen.put(t, Boolean.TRUE) == null; t = next(t)) {
      String message = String.valueOf(t.getMessage());
      quoted |= message.contains(secret);
      chain.append(chain.length() == 0 ? "" : "; caused by ").append(t.getClass().getName()).append(": ")
          .append(message.replace(secret, "***"));
    }
    if (!quoted) {
      return failure;
    }
    Exception masked = new Exception(chain.toString());
    masked.setStackTrace(cause.getStackTrace());
    RouterException copy = failure.isTransient()
        ? new TransientRouterException(failure.getMessage(), masked)
        : new PermanentRouterException(failure.getMessage(), masked);
    copy.setStackTrace(failure.getStackTrace());
    return copy;
  }

  private static Throwable next(Throwable t) {
    if (t.getCause() != null) {
      return t.getCause();
    }
    return t instanceof MessagingException m ? m.getNextException() : null;
  }
}
