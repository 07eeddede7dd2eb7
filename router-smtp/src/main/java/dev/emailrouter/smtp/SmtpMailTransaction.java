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
 * <p>With PIPELINING the next email's MAIL FROM, RCPT TO and DATA may also go out behind this
 * email's end of data, in the same write (RFC 2920 3.1: the end of data may start a group of
 * commands, DATA must end it), so a session sending many emails needs one round trip an email, as
 * Postfix's own client does: see {@link Behind}.
 * Its content goes only after its 354, so if the session stops before that, the server never
 * receives an end of data for it and delivers nothing: closing the connection ends it.
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
   * Writes another email's commands behind an end of data, before it is sent. The transaction
   * calls it at most once, where it can be its email's last: only with PIPELINING, once the content
   * and end of data are written, and when no recipient answered 452 (those get another transaction
   * of this email, which must not queue behind another email's).
   */
  @FunctionalInterface
  interface Behind {

    /**
     * Writes the commands, with {@link #begin}; nothing may be sent or read.
     *
     * @param connection the connection, its buffer holding this email's end of data
     * @throws IOException if the connection fails
     */
    void write(SmtpConnection connection) throws IOException;
  }

  /**
   * Runs the transaction.
   *
   * @param connection a connected, logged-in connection with no transaction open
   * @param composed the email's message and envelope
   * @param envelope the recipients of this transaction
   * @param dsn whether to ask for delivery status notifications where the server offers DSN
   * @param messageId the email's recorded Message-ID, for the ENVID
   * @param begun whether {@link #begin} already wrote this transaction's commands behind the
   *     previous email's end of data on this connection, and they were sent: only their replies
   *     are read
   * @param behind writes the next email's commands behind this one's end of data; {@code null} for
   *     none
   */
  static Verdict run(SmtpConnection connection, MimeComposer.Composed composed, Address[] envelope, boolean dsn,
      String messageId, boolean begun, Behind behind) {
    try {
      if (!connection.capabilities().pipelining()) {
        String[] commands = commands(connection.capabilities(), composed, envelope, dsn, messageId);
        return lockStep(connection, composed, envelope, commands);
      }
      if (!begun) {
        begin(connection, composed, envelope, dsn, messageId);
        connection.flush();
      }
      return pipelined(connection, composed, envelope, behind);
    } catch (IOException e) {
      return failed(e);
    } catch (MessagingException e) {
      // The message could not write itself; the server never got the end of data.
      return new Verdict(Next.DISCARD, SendResult.transientFailure("the message could not be written: "
          + e.getMessage()));
    }
  }

  /**
   * Writes MAIL FROM, a RCPT TO per recipient and DATA into the buffer of a connection whose server
   * offers PIPELINING; nothing is sent.
   *
   * @param connection the connection, with no transaction open by the time the server reads these
   * @param composed the email's message and envelope
   * @param envelope the recipients of this transaction
   * @param dsn whether to ask for delivery status notifications where the server offers DSN
   * @param messageId the email's recorded Message-ID, for the ENVID
   * @throws IOException if the connection fails
   * @throws IllegalArgumentException if a command would hold a control character; nothing was
   *     written then
   */
  static void begin(SmtpConnection connection, MimeComposer.Composed composed, Address[] envelope, boolean dsn,
      String messageId) throws IOException {
    connection.commands(commands(connection.capabilities(), composed, envelope, dsn, messageId));
  }

  /** MAIL FROM, a RCPT TO per recipient, DATA. */
  private static String[] commands(SmtpCapabilities offered, MimeComposer.Composed composed, Address[] envelope,
      boolean dsn, String messageId) {
    boolean notify = dsn && offered.dsn();
    String[] commands = new String[envelope.length + 2];
    commands[0] = mailFrom(composed, envelope, offered, notify, messageId);
    for (int i = 0; i < envelope.length; i++) {
      String address = ((InternetAddress) envelope[i]).getAddress();
      commands[i + 1] = notify ? "RCPT TO:<" + address + "> NOTIFY=FAILURE,DELAY ORCPT=rfc822;"
          + Xtext.encode(address) : "RCPT TO:<" + address + ">";
    }
    commands[envelope.length + 1] = "DATA";
    return commands;
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

  /** Reads the replies to the commands {@link #begin} wrote and sent, and goes on. */
  private static Verdict pipelined(SmtpConnection c, MimeComposer.Composed composed, Address[] envelope,
      Behind behind) throws IOException, MessagingException {
    SmtpReply mailReply = c.readReply();
    if (!mailReply.positive()) {
      // The server refuses the RCPTs and DATA of a refused MAIL (503); read those replies so the
      // connection is in step again, unless it is closing.
      if (!mailReply.closing() && drain(c, envelope.length)) {
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
    boolean again = false;
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
      again |= reply.code() == 452;
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
    return content(c, composed, recipients, again ? null : behind);
  }

  private static Verdict lockStep(SmtpConnection c, MimeComposer.Composed composed, Address[] envelope,
      String[] commands) throws IOException, MessagingException {
    SmtpReply mailReply = c.execute(commands[0]);
    if (!mailReply.positive()) {
      return refused("MAIL FROM", mailReply);
    }
    List<RecipientResult> recipients = new ArrayList<>(envelope.length);
    int accepted = 0;
    for (int i = 0; i < envelope.length; i++) {
      SmtpReply reply = c.execute(commands[i + 1]);
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
    return content(c, composed, recipients, null);
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

  /**
   * Writes the content and the end of data, then what {@code behind} writes, sends it all, and
   * decides on the server's reply to the end of data.
   */
  private static Verdict content(SmtpConnection c, MimeComposer.Composed composed, List<RecipientResult> recipients,
      Behind behind) throws IOException, MessagingException {
    byte[] content = composed.content();
    if (content != null) {
      c.writeData(content, composed.mayHaveLeadingDot());
    } else {
      SmtpConnection.DataStream data = c.dataStream();
      composed.message().writeTo(data, NOT_WRITTEN);
      data.endUnsent();
    }
    if (behind != null) {
      behind.write(c);
    }
    c.flush();
    SmtpReply end = c.readDataEndReply();
    if (end.positive()) {
      return new Verdict(Next.KEEP, new SendResult(Outcome.ACCEPTED, end.text(), recipients));
    }
    Verdict refused = refused("end of data", end);
    // The reply to the end of data ends the transaction, whatever it says (RFC 5321 4.1.1.4): no
    // RSET, which behind another email's pipelined DATA would become that email's content.
    return refused.next() == Next.RESET ? new Verdict(Next.KEEP, refused.result()) : refused;
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
