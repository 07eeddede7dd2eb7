package dev.emailrouter.smtp;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.SendResult.RecipientResult;
import dev.emailrouter.support.internal.mime.AttachmentReadException;
import dev.emailrouter.support.internal.mime.MimeComposer;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.InternetAddress;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One mail transaction (MAIL FROM, RCPT TO per recipient, DATA, the content, the end of data) on a
 * connection, and what its replies mean: the email's {@link SendResult} and what to do with the
 * connection next ({@link Verdict}). Where the server offers PIPELINING (RFC 2920), MAIL FROM, every
 * RCPT TO and DATA go out in one write and their replies are read afterwards in order (two round
 * trips an email, whatever the number of recipients); elsewhere each command waits for its reply.
 * Both ways decide every reply alike. Stateless.
 *
 * <p>MAIL FROM carries SIZE (RFC 1870) where the server offers it and the size is known, BODY=8BITMIME
 * (RFC 6152) where offered and the content has 8-bit octets, SMTPUTF8 (RFC 6531) where offered and
 * an address needs it, and RET=HDRS with the ENVID ({@link Xtext#envid}) where DSN (RFC 3461) is
 * offered and wanted; each RCPT TO then asks NOTIFY=FAILURE,DELAY with the ORCPT.
 */
final class SmtpMailTransaction {
  private static final byte[] NO_DATA = new byte[0];
  /** Headers never written into the message: Bcc is the envelope's secret. */
  static final String[] NOT_WRITTEN = {"Bcc", "Content-Length"};

  private SmtpMailTransaction() {}

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

  /**
   * Runs the transaction.
   *
   * @param connection a connected, logged-in connection with no transaction open
   * @param composed the email's message and envelope
   * @param envelope the recipients of this transaction
   * @param dsn whether to ask for delivery status notifications where the server offers DSN
   * @param messageId the email's recorded Message-ID, for the ENVID
   */
  static Verdict run(SmtpConnection connection, MimeComposer.Composed composed, Address[] envelope, boolean dsn,
      String messageId) {
    SmtpCapabilities offered = connection.capabilities();
    boolean notify = dsn && offered.dsn();
    String mail = mailFrom(composed, envelope, offered, notify, messageId);
    String[] rcpts = new String[envelope.length];
    for (int i = 0; i < envelope.length; i++) {
      String address = ((InternetAddress) envelope[i]).getAddress();
      rcpts[i] = notify ? "RCPT TO:<" + address + "> NOTIFY=FAILURE,DELAY ORCPT=rfc822;" + Xtext.encode(address)
          : "RCPT TO:<" + address + ">";
    }
    try {
      return offered.pipelining() ? pipelined(connection, composed, envelope, mail, rcpts)
          : lockStep(connection, composed, envelope, mail, rcpts);
    } catch (IOException e) {
      return failed(e);
    } catch (MessagingException e) {
      // The message could not write itself; the server never got the end of data.
      return new Verdict(Next.DISCARD, SendResult.transientFailure("the message could not be written: "
          + e.getMessage()));
    }
  }

  private static String mailFrom(MimeComposer.Composed composed, Address[] envelope, SmtpCapabilities offered,
      boolean notify, String messageId) {
    StringBuilder mail = new StringBuilder(96).append("MAIL FROM:<").append(composed.mailFrom()).append('>');
    byte[] content = composed.content();
    if (offered.sizeLimit() >= 0 && content != null) {
      mail.append(" SIZE=").append(content.length);
    }
    if (offered.eightBitMime() && content != null && composed.mayBeEightBit() && SmtpConnection.hasEightBit(content)) {
      mail.append(" BODY=8BITMIME");
    }
    if (offered.smtpUtf8() && needsUtf8(composed.mailFrom(), envelope)) {
      mail.append(" SMTPUTF8");
    }
    if (notify) {
      mail.append(" RET=HDRS");
      String envid = messageId == null ? null : Xtext.envid(messageId);
      if (envid != null) {
        mail.append(" ENVID=").append(envid);
      }
    }
    return mail.toString();
  }


  private static boolean needsUtf8(String from, Address[] envelope) {
    if (!isAscii(from)) {
      return true;
    }
    for (Address a : envelope) {
      if (!isAscii(((InternetAddress) a).getAddress())) {
        return true;
      }
    }
    return false;
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 0x7e) {
        return false;
      }
    }
    return true;
  }

  private static Verdict pipelined(SmtpConnection c, MimeComposer.Composed composed, Address[] envelope, String mail,
      String[] rcpts) throws IOException, MessagingException {
    c.command(mail);
    for (String rcpt : rcpts) {
      c.command(rcpt);
    }
    c.command("DATA");
    c.flush();

    SmtpReply mailReply = c.readReply();
    if (!mailReply.positive()) {
      // The server refuses the RCPTs and DATA of a refused MAIL (503); read those replies so the
      // connection is in step again, unless it is closing.
      if (!mailReply.closing() && drain(c, rcpts.length)) {
        SmtpReply data = c.readReply();
        if (data.code() == 354) {
          c.data(NO_DATA); // RFC 2920 3.1: nothing to send, end the data at once
          c.readReply();
        }
      }
      return refused("MAIL FROM", mailReply);
    }
    List<RecipientResult> recipients = new ArrayList<>(envelope.length);
    int accepted = 0;
    for (int i = 0; i < envelope.length; i++) {
      SmtpReply reply = c.readReply();
      Verdict odd = recipient(reply, envelope[i], composed, recipients);
      if (odd != null) {
        if (!reply.closing()) {
          drain(c, envelope.length - i); // the rest of the RCPTs and DATA
        }
        return odd;
      }
      accepted += reply.positive() ? 1 : 0;
    }
    SmtpReply data = c.readReply();
    if (accepted == 0) {
      if (data.code() == 354) {
        c.data(NO_DATA);
        c.readReply();
      }
      return everyRecipientRefused(recipients, data.closing());
    }
    if (data.code() != 354) {
      return refused("DATA", data);
    }
    return content(c, composed, recipients);
  }

  private static Verdict lockStep(SmtpConnection c, MimeComposer.Composed composed, Address[] envelope, String mail,
      String[] rcpts) throws IOException, MessagingException {
    SmtpReply mailReply = c.execute(mail);
    if (!mailReply.positive()) {
      return refused("MAIL FROM", mailReply);
    }
    List<RecipientResult> recipients = new ArrayList<>(envelope.length);
    int accepted = 0;
    for (int i = 0; i < envelope.length; i++) {
      SmtpReply reply = c.execute(rcpts[i]);
      Verdict odd = recipient(reply, envelope[i], composed, recipients);
      if (odd != null) {
        return odd;
      }
      accepted += reply.positive() ? 1 : 0;
    }
    if (accepted == 0) {
      return everyRecipientRefused(recipients, false);
    }
    SmtpReply data = c.execute("DATA");
    if (data.code() != 354) {
      return refused("DATA", data);
    }
    return content(c, composed, recipients);
  }

  /**
   * Records a reply to RCPT TO; a verdict for the email when the reply ends the transaction (421
   * closing, or a reply that is neither 2xx, 4xx nor 5xx), else {@code null}.
   */
  private static Verdict recipient(SmtpReply reply, Address address, MimeComposer.Composed composed,
      List<RecipientResult> recipients) {
    if (reply.closing()) {
      return lost("the connection was lost at RCPT TO: " + reply.text());
    }
    Outcome outcome;
    if (reply.code() == 250 || reply.code() == 251) {
      outcome = Outcome.ACCEPTED;
    } else if (reply.transientNegative()) {
      outcome = Outcome.TRANSIENT;
    } else if (reply.permanentNegative()) {
      outcome = Outcome.PERMANENT;
    } else {
      return new Verdict(Next.DISCARD, SendResult.transientFailure("unexpected reply to RCPT TO: " + reply.text()));
    }
    EmailAddress recipient = composed.recipient(address);
    if (recipient != null) {
      recipients.add(new RecipientResult(recipient, outcome, reply.text()));
    }
    return null;
  }

  /** Writes the content and the end of data, and decides on the server's reply to it. */
  private static Verdict content(SmtpConnection c, MimeComposer.Composed composed, List<RecipientResult> recipients)
      throws IOException, MessagingException {
    byte[] content = composed.content();
    if (content != null) {
      c.data(content, composed.mayHaveLeadingDot());
    } else {
      SmtpConnection.DataStream data = c.dataStream();
      composed.message().writeTo(data, NOT_WRITTEN);
      data.end();
    }
    SmtpReply end = c.readDataEndReply();
    if (end.positive()) {
      return new Verdict(Next.KEEP, new SendResult(Outcome.ACCEPTED, end.text(), recipients));
    }
    return refused("end of data", end);
  }

  private static Verdict everyRecipientRefused(List<RecipientResult> recipients, boolean closing) {
    boolean anyTransient = recipients.stream().anyMatch(r -> r.outcome() == Outcome.TRANSIENT);
    String summary = recipients.stream()
        .map(r -> r.recipient().address() + ": " + r.serverReply())
        .collect(Collectors.joining("; ", "every recipient was refused: ", ""));
    // The server may still hold the transaction open: RSET ends it before the next MAIL FROM.
    return new Verdict(closing ? Next.DISCARD : Next.RESET,
        new SendResult(anyTransient ? Outcome.TRANSIENT : Outcome.PERMANENT, summary, recipients));
  }

  /** A negative (or unexpected) reply to MAIL FROM, DATA or the end of data. */
  private static Verdict refused(String stage, SmtpReply reply) {
    String text = reply.text();
    if (reply.closing()) {
      return lost("the connection was lost at " + stage + ": " + text);
    }
    if (reply.code() == 530) {
      return new Verdict(Next.LOGIN_REQUIRED, SendResult.permanentFailure(stage + " refused: " + text));
    }
    if (reply.transientNegative()) {
      return new Verdict(Next.RESET, SendResult.transientFailure(stage + " refused: " + text));
    }
    if (reply.permanentNegative()) {
      return new Verdict(Next.RESET, SendResult.permanentFailure(stage + " refused: " + text));
    }
    return new Verdict(Next.DISCARD, SendResult.transientFailure("unexpected reply to " + stage + ": " + text));
  }

  /** Reads and drops this many replies; false if the server is closing the connection first. */
  private static boolean drain(SmtpConnection c, int replies) throws IOException {
    for (int i = 0; i < replies; i++) {
      if (c.readReply().closing()) {
        return false;
      }
    }
    return true;
  }

  /** An I/O failure mid-transaction: the connection is lost (or its state unknown). */
  private static Verdict failed(IOException e) {
    AttachmentReadException unreadable = find(e, AttachmentReadException.class);
    if (unreadable != null) {
      // The connection is dropped mid-DATA, so the server discards the partial message.
      return new Verdict(Next.DISCARD, SendResult.transientFailure(unreadable.getMessage()));
    }
    if (e instanceof SmtpConnection.WriteTimeoutException) {
      return lost("the server did not take the data in time (" + e.getMessage() + ")");
    }
    if (e instanceof SocketTimeoutException) {
      return lost("the server did not answer in time (" + e.getMessage() + ")");
    }
    return lost("the connection was lost (" + e + ")");
  }

  private static Verdict lost(String reason) {
    return new Verdict(Next.RECONNECT, SendResult.transientFailure(reason));
  }

  /** The first throwable of the given type among {@code top} and its causes. */
  private static <T extends Throwable> T find(Throwable top, Class<T> type) {
    for (Throwable t = top; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }
}
