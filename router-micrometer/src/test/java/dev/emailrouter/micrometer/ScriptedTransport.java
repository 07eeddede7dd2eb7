package dev.emailrouter.micrometer;

import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.TransientRouterException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A {@link MailTransport} that answers each activity with the result scripted for it (accepted by
 * default), can be switched to unreachable, and runs a hook before each send. Thread-safe.
 */
final class ScriptedTransport implements MailTransport {
  private final Map<String, SendResult> results = new HashMap<>();
  private final List<String> sent = new ArrayList<>();
  private volatile boolean down;
  private volatile Runnable beforeSend = () -> {};

  synchronized void answer(String activityId, SendResult result) {
    results.put(activityId, result);
  }

  void down(boolean value) {
    down = value;
  }

  void beforeSend(Runnable hook) {
    beforeSend = hook;
  }

  synchronized List<String> sent() {
    return List.copyOf(sent);
  }

  @Override
  public Session openSession() {
    if (down) {
      throw new TransientRouterException("connect to smtp.example.test:587 refused");
    }
    return new Session() {
      @Override
      public SendResult send(OutgoingEmail email) {
        beforeSend.run();
        Supplier<SendResult> accepted = () -> SendResult.accepted("250 2.0.0 Ok: queued");
        synchronized (ScriptedTransport.this) {
          sent.add(email.activityId());
          SendResult r = results.get(email.activityId());
          return r != null ? r : accepted.get();
        }
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public String describe() {
    return "smtp://smtp.example.test:587";
  }
}
