package dev.emailrouter.examples;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A {@link MailTransport} that accepts every email and records it, reading each attachment's bytes
 * the way a real transport streams them. Thread-safe; several engines may share one.
 */
final class RecordingTransport implements MailTransport {
  private final List<OutgoingEmail> sent = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> timesByActivity = new ConcurrentHashMap<>();
  private final Map<String, List<byte[]>> attachmentBytes = new ConcurrentHashMap<>();
  private volatile Consumer<OutgoingEmail> beforeSend = e -> {};

  /** Runs on the sending thread before each email is accepted (to block or observe a send). */
  RecordingTransport beforeSend(Consumer<OutgoingEmail> hook) {
    beforeSend = hook;
    return this;
  }

  /** Every email handed to {@code send}, in order. */
  List<OutgoingEmail> sent() {
    return List.copyOf(sent);
  }

  /** How often each activity was handed to {@code send}. */
  Map<String, Integer> timesByActivity() {
    Map<String, Integer> out = new java.util.HashMap<>();
    timesByActivity.forEach((id, n) -> out.put(id, n.get()));
    return out;
  }

  /** The bytes of an email's attachments as the transport read them. */
  List<byte[]> attachmentBytes(String activityId) {
    return attachmentBytes.getOrDefault(activityId, List.of());
  }

  @Override
  public Session openSession() {
    return new Session() {
      @Override
      public SendResult send(OutgoingEmail email) {
        beforeSend.accept(email);
        List<byte[]> bytes = new CopyOnWriteArrayList<>();
        for (Attachment a : email.attachments()) {
          try (InputStream in = a.content().open()) {
            bytes.add(in.readAllBytes());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
        attachmentBytes.put(email.activityId(), bytes);
        sent.add(email);
        timesByActivity.computeIfAbsent(email.activityId(), k -> new AtomicInteger()).incrementAndGet();
        return SendResult.accepted("250 2.0.0 Ok: queued as " + email.activityId());
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public String describe() {
    return "smtp://recording:25";
  }
}
