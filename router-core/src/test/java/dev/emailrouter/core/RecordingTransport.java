package dev.emailrouter.core;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.api.TransientRouterException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A {@link MailTransport} that records every email handed to it and answers from a script: per
 * activity id (a sequence of answers, one per attempt; the last one repeats) or per recipient
 * (combined the way an SMTP server's per-RCPT replies are, for the recipients that have not
 * accepted the email in an earlier attempt, as a transport must). Unscripted emails are accepted.
 * Thread-safe.
 */
final class RecordingTransport implements MailTransport {

  /** What the fake server does with one email: answer, or throw. */
  @FunctionalInterface
  interface Answer {
    SendResult answer(OutgoingEmail email);
  }

  static Answer accept() {
    return e -> SendResult.accepted("250 2.0.0 Ok: queued as " + e.activityId());
  }

  static Answer transientFailure() {
    return e -> SendResult.transientFailure("451 4.3.0 try again later");
  }

  static Answer permanentFailure() {
    return e -> SendResult.permanentFailure("550 5.1.1 mailbox unavailable");
  }

  static Answer unreachable() {
    return e -> {
      throw new TransientRouterException("smtp://fake:25 can't be reached: connection refused");
    };
  }

  static Answer loginRefused() {
    return e -> {
      throw new PermanentRouterException("smtp://fake:25 refused the login: 535 5.7.8 authentication failed");
    };
  }

  static Answer crash() {
    return e -> {
      throw new IllegalStateException("bug in the transport");
    };
  }

  /** A session that failed to open, as openSession's failure. */
  private volatile RuntimeException openFailure;
  private final AtomicInteger openFailuresLeft = new AtomicInteger();

  private final Map<String, Deque<Answer>> byActivity = new ConcurrentHashMap<>();
  private final Map<String, Deque<Answer>> byRecipient = new ConcurrentHashMap<>();
  private final List<OutgoingEmail> attempts = new CopyOnWriteArrayList<>();
  private final List<OutgoingEmail> accepted = new CopyOnWriteArrayList<>();
  private final AtomicInteger sessionsOpened = new AtomicInteger();
  private final AtomicInteger sessionsClosed = new AtomicInteger();
  private final AtomicInteger openNow = new AtomicInteger();
  private final AtomicInteger maxOpenAtOnce = new AtomicInteger();
  private volatile Consumer<OutgoingEmail> beforeSend = e -> {};
  private volatile Answer defaultAnswer = accept();

  /** Scripts the answers for one activity, one per attempt; the last repeats. */
  RecordingTransport answer(String activityId, Answer... answers) {
    byActivity.put(activityId, new ArrayDeque<>(List.of(answers)));
    return this;
  }

  /** Scripts the answers for one recipient, one per attempt; the last repeats. */
  RecordingTransport answerFor(String recipient, Answer... answers) {
    byRecipient.put(recipient.toLowerCase(Locale.ROOT), new ArrayDeque<>(List.of(answers)));
    return this;
  }

  /** The answer for every email not otherwise scripted. */
  RecordingTransport answerAll(Answer answer) {
    defaultAnswer = answer;
    return this;
  }

  /** Makes the next {@code times} openSession calls throw. */
  RecordingTransport failOpen(int times, RuntimeException failure) {
    openFailure = failure;
    openFailuresLeft.set(times);
    return this;
  }

  /** Runs before each send, on the sending thread (to simulate what happens meanwhile). */
  RecordingTransport beforeSend(Consumer<OutgoingEmail> hook) {
    beforeSend = hook;
    return this;
  }

  /** Every email handed to send, in order, including refused ones. */
  List<OutgoingEmail> attempts() {
    return List.copyOf(attempts);
  }

  /** The emails the fake server accepted (for at least one recipient). */
  List<OutgoingEmail> accepted() {
    return List.copyOf(accepted);
  }

  List<String> acceptedIds() {
    return accepted.stream().map(OutgoingEmail::activityId).toList();
  }

  int sessionsOpened() {
    return sessionsOpened.get();
  }

  int sessionsClosed() {
    return sessionsClosed.get();
  }

  int maxSessionsAtOnce() {
    return maxOpenAtOnce.get();
  }

  @Override
  public Session openSession() {
    if (openFailuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw openFailure;
    }
    sessionsOpened.incrementAndGet();
    maxOpenAtOnce.accumulateAndGet(openNow.incrementAndGet(), Math::max);
    return new Session() {
      private boolean closed;

      @Override
      public SendResult send(OutgoingEmail email) {
        if (closed) {
          throw new IllegalStateException("send on a closed session");
        }
        beforeSend.accept(email);
        attempts.add(email);
        SendResult result = resultFor(email);
        if (result.outcome() == Outcome.ACCEPTED) {
          accepted.add(email);
        }
        return result;
      }

      @Override
      public void close() {
        if (!closed) {
          closed = true;
          openNow.decrementAndGet();
          sessionsClosed.incrementAndGet();
        }
      }
    };
  }

  private SendResult resultFor(OutgoingEmail email) {
    Deque<Answer> script = byActivity.get(email.activityId());
    if (script != null) {
      return next(script).answer(email);
    }
    boolean anyScripted = email.pendingRecipients().stream()
        .anyMatch(r -> byRecipient.containsKey(r.normalized()));
    if (!anyScripted) {
      return defaultAnswer.answer(email);
    }
    List<RecipientResult> results = new ArrayList<>();
    for (EmailAddress r : email.pendingRecipients()) {
      Deque<Answer> s = byRecipient.get(r.normalized());
      SendResult one = s == null ? accept().answer(email) : next(s).answer(email);
      results.add(new RecipientResult(r, one.outcome(), one.serverReply()));
    }
    if (results.stream().anyMatch(r -> r.outcome() == Outcome.ACCEPTED)) {
      return new SendResult(Outcome.ACCEPTED, "250 2.0.0 Ok: queued as " + email.activityId(), results);
    }
    Outcome all = results.stream().anyMatch(r -> r.outcome() == Outcome.TRANSIENT) ? Outcome.TRANSIENT
        : Outcome.PERMANENT;
    return new SendResult(all, results.get(0).serverReply(), results);
  }

  private static Answer next(Deque<Answer> script) {
    synchronized (script) {
      return script.size() > 1 ? script.pollFirst() : script.peekFirst();
    }
  }

  @Override
  public String describe() {
    return "smtp://fake:25";
  }
}
