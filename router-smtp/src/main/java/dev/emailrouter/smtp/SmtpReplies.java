package dev.emailrouter.smtp;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.smtp.AttachmentDataSource.AttachmentReadException;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPAddressSucceededException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;

/**
 * Reads what Angus threw from {@code sendMessage} and decides the email's {@link SendResult} and
 * what to do with the connection. Stateless.
 *
 * <p>With {@code mail.smtp.reportsuccess} and {@code mail.smtp.sendpartial} on, Angus reports:
 * <ul>
 *   <li>a message the server took: an {@link SMTPSendFailedException} for command {@code "."} with
 *       the 250 reply, chaining one {@link SMTPAddressSucceededException} or {@link
 *       SMTPAddressFailedException} per recipient;
 *   <li>every recipient refused: a plain {@link SendFailedException} chaining the refusals (Angus
 *       has already sent RSET);
 *   <li>a refused MAIL FROM, DATA or end of data: an {@link SMTPSendFailedException} with that
 *       command and reply code;
 *   <li>a lost connection: reply code -1 ("[EOF]"), or a {@link MessagingException} wrapping an
 *       {@link IOException}.
 * </ul>
 */
final class SmtpReplies {

  private SmtpReplies() {}

  /** What to do with the connection once an email is decided. */
  enum Next {
    /** The connection is ready for the next email. */
    KEEP,
    /** A transaction may be half open: send RSET (close the connection if that fails). */
    RESET,
    /** The connection's state is unknown: close it; the next email reconnects. */
    DISCARD,
    /** The connection was lost before the email was decided: reconnect and try again once. */
    RECONNECT,
    /**
     * The server refuses to send anything on this session (530: a login is required), which is
     * the configuration's fault, not the email's: close the connection and fail the session.
     */
    LOGIN_REQUIRED
  }

  /**
   * The decision for one attempt.
   *
   * @param next what to do with the connection
   * @param result the email's result; for {@link Next#RECONNECT}, the result should the retry be
   *     used up
   */
  record Verdict(Next next, SendResult result) {}

  static Verdict classify(MessagingException e, MimeComposer.Composed composed) {
    AttachmentReadException unreadable = find(e, AttachmentReadException.class);
    if (unreadable != null) {
      // Angus dropped the connection mid-DATA, so the server discards the partial message.
      return new Verdict(Next.DISCARD, SendResult.transientFailure(unreadable.getMessage()));
    }
    if (e instanceof SMTPSendFailedException failed) {
      return commandRefused(failed, composed);
    }
    if (e instanceof SMTPAddressFailedException odd) {
      // Thrown directly only for a reply to RCPT that is neither 2xx, 4xx nor 5xx.
      if (isConnectionLoss(odd.getReturnCode())) {
        return lost("the connection was lost at RCPT TO: " + clean(odd.getMessage()));
      }
      return new Verdict(Next.DISCARD, SendResult.transientFailure("unexpected reply to RCPT TO: " + clean(odd.getMessage())));
    }
    if (e instanceof SendFailedException && hasRecipientReplies(e)) {
      return everyRecipientRefused(e, composed);
    }
    IOException io = find(e, IOException.class);
    if (io != null) {
      return lost(io instanceof SocketTimeoutException
          ? "the server did not answer in time (" + io.getMessage() + ")"
          : "the connection was lost (" + io + ")");
    }
    return new Verdict(Next.DISCARD, SendResult.transientFailure("SMTP error: " + clean(e.getMessage())));
  }

  private static Verdict commandRefused(SMTPSendFailedException e, MimeComposer.Composed composed) {
    int code = e.getReturnCode();
    String stage = stage(e.getCommand());
    String reply = clean(e.getMessage());
    if (".".equals(e.getCommand()) && code >= 200 && code < 300) {
      List<RecipientResult> recipients = recipientReplies(e.getNextException(), composed);
      return new Verdict(Next.KEEP, new SendResult(Outcome.ACCEPTED, reply, recipients));
    }
    if (isConnectionLoss(code)) {
      return lost("the connection was lost at " + stage + ": " + reply);
    }
    if (code == 530) {
      return new Verdict(Next.LOGIN_REQUIRED, SendResult.permanentFailure(stage + " refused: " + reply));
    }
    if (code >= 400 && code < 500) {
      return new Verdict(Next.RESET, SendResult.transientFailure(stage + " refused: " + reply));
    }
    if (code >= 500 && code < 600) {
      return new Verdict(Next.RESET, SendResult.permanentFailure(stage + " refused: " + reply));
    }
    return new Verdict(Next.DISCARD, SendResult.transientFailure("unexpected reply to " + stage + ": " + reply));
  }

  private static Verdict everyRecipientRefused(MessagingException e, MimeComposer.Composed composed) {
    List<RecipientResult> recipients = recipientReplies(e.getNextException(), composed);
    boolean anyTransient = recipients.stream().anyMatch(r -> r.outcome() == Outcome.TRANSIENT);
    boolean closing = recipients.stream().anyMatch(r -> r.serverReply().startsWith("421"));
    String summary = recipients.stream()
        .map(r -> r.recipient().address() + ": " + r.serverReply())
        .collect(Collectors.joining("; ", "every recipient was refused: ", ""));
    return new Verdict(closing ? Next.DISCARD : Next.KEEP,
        new SendResult(anyTransient ? Outcome.TRANSIENT : Outcome.PERMANENT, summary, recipients));
  }

  private static List<RecipientResult> recipientReplies(Exception chain, MimeComposer.Composed composed) {
    List<RecipientResult> results = new ArrayList<>();
    Map<Object, Boolean> seen = new IdentityHashMap<>();
    Exception next = chain;
    while (next != null && seen.put(next, Boolean.TRUE) == null) {
      if (next instanceof SMTPAddressSucceededException ok) {
        add(results, composed, ok.getAddress(), Outcome.ACCEPTED, ok.getMessage());
      } else if (next instanceof SMTPAddressFailedException refused) {
        add(results, composed, refused.getAddress(), outcomeOf(refused.getReturnCode()), refused.getMessage());
      }
      next = next instanceof MessagingException m ? m.getNextException() : null;
    }
    return results;
  }

  private static void add(List<RecipientResult> results, MimeComposer.Composed composed, Address address,
      Outcome outcome, String reply) {
    EmailAddress recipient = composed.recipient(address);
    if (recipient != null) {
      results.add(new RecipientResult(recipient, outcome, clean(reply)));
    }
  }

  private static boolean hasRecipientReplies(MessagingException e) {
    Exception next = e.getNextException();
    return next instanceof SMTPAddressFailedException || next instanceof SMTPAddressSucceededException;
  }

  private static Outcome outcomeOf(int code) {
    if (code >= 200 && code < 300) {
      return Outcome.ACCEPTED;
    }
    return code >= 400 && code < 500 ? Outcome.TRANSIENT : Outcome.PERMANENT;
  }

  private static boolean isConnectionLoss(int code) {
    // -1: end of stream ("[EOF]"); 421: the server is closing the connection (RFC 5321 3.8).
    return code == -1 || code == 421;
  }

  private static Verdict lost(String reason) {
    return new Verdict(Next.RECONNECT, SendResult.transientFailure(reason));
  }

  /** Names the SMTP stage of a command for a reason: "MAIL FROM", "DATA", "end of data". */
  static String stage(String command) {
    if (command == null || command.isEmpty()) {
      return "the server";
    }
    if (".".equals(command)) {
      return "end of data";
    }
    String upper = command.toUpperCase(java.util.Locale.ROOT);
    if (upper.startsWith("MAIL")) {
      return "MAIL FROM";
    }
    if (upper.startsWith("RCPT")) {
      return "RCPT TO";
    }
    int cut = command.indexOf(' ');
    return cut < 0 ? command : command.substring(0, cut);
  }

  /** A server reply on one line, without the trailing line break. */
  static String clean(String reply) {
    if (reply == null || reply.isBlank()) {
      return "(no reply)";
    }
    return reply.strip().replace("\r", "").replace('\n', ' ');
  }

  /** The first throwable of the given type among the causes and nested exceptions of {@code top}. */
  static <T extends Throwable> T find(Throwable top, Class<T> type) {
    Map<Object, Boolean> seen = new IdentityHashMap<>();
    Throwable t = top;
    while (t != null && seen.put(t, Boolean.TRUE) == null) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
      Throwable next = t.getCause();
      if (next == null && t instanceof MessagingException m) {
        next = m.getNextException();
      }
      t = next;
    }
    return null;
  }
}
