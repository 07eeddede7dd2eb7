package dev.emailrouter.smtp;

import dev.emailrouter.support.internal.SocketCapture;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPAddressSucceededException;
import org.eclipse.angus.mail.smtp.SMTPOutputStream;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPTransport;

/**
 * Angus's SMTP transport plus SMTP PIPELINING (RFC 2920), which Angus lacks: where the server
 * offers it, MAIL FROM, every RCPT TO and DATA go out in one write, and their replies are read
 * afterwards in order, so an email costs two round trips (the envelope, then the content) instead
 * of three plus one per recipient.
 *
 * <p>{@link #sendPipelined} throws exactly what Angus's {@code sendMessage} throws for the same
 * replies with {@code mail.smtp.reportsuccess} and {@code mail.smtp.sendpartial} on, so {@link
 * SmtpReplies} decides both paths alike.
 *
 * <p>Angus's {@code sendCommand} flushes each command and refuses a line break inside one, so
 * the group is written to Angus's own buffered server stream (its private {@code serverOutput},
 * reached once by reflection: that keeps Angus's write timeout and protocol trace). Where that
 * field can't be reached (another Angus version, a module layer that does not open it),
 * {@link #canPipeline()} is false and sessions send lock-step as before.
 *
 * <p>On both paths the reply to the end of data is awaited for the session property {@link
 * #DATA_END_TIMEOUT} instead of the read timeout, on the socket {@link SocketCapture} learnt while
 * connecting (RFC 5321 4.5.3.2.6). For one thread at a time, as every SMTP connection.
 */
final class PipeliningSmtpTransport extends SMTPTransport {
  /** The session property with the wait for the reply to the end of data, in milliseconds. */
  static final String DATA_END_TIMEOUT = "dev.emailrouter.smtp.dataEndTimeout";
  private static final byte[] END_OF_DATA = {'.', '\r', '\n'};
  private static final Field SERVER_OUTPUT = serverOutputField();

  private final int readTimeoutMillis;
  private final int dataEndTimeoutMillis;
  /** The connection's socket, learnt while connecting, or {@code null} if it could not be. */
  private Socket socket;

  PipeliningSmtpTransport(Session session, URLName url) {
    super(session, url);
    this.readTimeoutMillis = millis(session, "mail.smtp.timeout", 0);
    this.dataEndTimeoutMillis = millis(session, DATA_END_TIMEOUT, readTimeoutMillis);
  }

  private static int millis(Session session, String property, int otherwise) {
    String value = session.getProperty(property);
    if (value == null) {
      return otherwise;
    }
    try {
      return (int) Math.min(Integer.MAX_VALUE, Long.parseLong(value.trim()));
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }

  /** The socket this connection runs on (TLS after STARTTLS), or {@code null} if it was not learnt. */
  Socket socket() {
    return socket;
  }

  @Override
  protected synchronized boolean protocolConnect(String host, int port, String user, String password)
      throws MessagingException {
    SocketCapture.start();
    try {
      return super.protocolConnect(host, port, user, password);
    } finally {
      socket = SocketCapture.stop();
    }
  }

  /** Lock-step: Angus writes the "." and reads its reply here; that wait gets the data-end timeout. */
  @Override
  protected void finishData() throws IOException, MessagingException {
    int previous = awaitDataEnd();
    try {
      super.finishData();
    } finally {
      afterDataEnd(previous);
    }
  }

  /**
   * Gives the socket the data-end timeout (RFC 5321 4.5.3.2.6: servers may scan the content for
   * minutes before they answer the end of data, and a client that gives up sooner makes them get
   * the email twice); returns the timeout to restore, or -1 when the socket is unknown.
   */
  private int awaitDataEnd() {
    Socket s = socket;
    if (s == null || s.isClosed()) {
      return -1;
    }
    try {
      int previous = s.getSoTimeout();
      s.setSoTimeout(dataEndTimeoutMillis);
      return previous;
    } catch (SocketException e) {
      return -1; // the read that follows fails on the broken socket and says so
    }
  }

  private void afterDataEnd(int previous) {
    Socket s = socket;
    if (previous < 0 || s == null) {
      return;
    }
    try {
      s.setSoTimeout(previous == 0 ? readTimeoutMillis : previous);
    } catch (SocketException e) {
      // The socket is gone; the session discards this connection anyway.
    }
  }

  private static Field serverOutputField() {
    try {
      Field f = SMTPTransport.class.getDeclaredField("serverOutput");
      if (!OutputStream.class.isAssignableFrom(f.getType())) {
        return null;
      }
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** Whether the server offers PIPELINING and this Angus lets us write a group. */
  boolean canPipeline() {
    return SERVER_OUTPUT != null && supportsExtension("PIPELINING");
  }

  /**
   * Sends one message with MAIL FROM, RCPT TO and DATA pipelined, the content written as soon as
   * the server answered DATA with 354.
   *
   * @param message the message, for its From (the MAIL FROM) and, without {@code content}, to write
   *     itself
   * @param content the message's exact bytes with CRLF line ends only (not yet dot-stuffed),
   *     written as they are, or {@code null} to have the message write itself
   * @param envelope the recipients, each an {@link InternetAddress}
   * @throws MessagingException always with reportsuccess semantics: an {@link
   *     SMTPSendFailedException} for "." with the 250 reply on success
   */
  synchronized void sendPipelined(MimeMessage message, byte[] content, Address[] envelope) throws MessagingException {
    checkConnected();
    OutputStream out = serverOutput();
    Address[] from = message.getFrom();
    String mailCommand = "MAIL FROM:<" + ((InternetAddress) from[0]).getAddress() + ">";
    StringBuilder group = new StringBuilder(64 * (envelope.length + 2));
    group.append(mailCommand).append("\r\n");
    for (Address a : envelope) {
      group.append("RCPT TO:<").append(((InternetAddress) a).getAddress()).append(">\r\n");
    }
    group.append("DATA\r\n");
    String groupText = group.toString();
    for (int i = 0; i < groupText.length(); i++) {
      char c = groupText.charAt(i);
      if (c > 0x7e || (c < ' ' && c != '\r' && c != '\n')) {
        // Addresses were checked to be ASCII when composed; never put anything else on the wire.
        throw new MessagingException("SMTP command contains an illegal character: " + (int) c);
      }
    }
    write(out, groupText.getBytes(StandardCharsets.US_ASCII), true);

    int mailCode = readServerResponse();
    String mailReply = getLastServerResponse();
    if (mailCode != 250) {
      // The server refuses the RCPTs and DATA of a refused MAIL (503); read those replies so the
      // connection is in step again, unless it is closing (421) or closed (-1).
      if (mailCode != -1 && mailCode != 421) {
        if (drain(envelope.length) && readServerResponse() == 354) {
          endEmptyData(out);
        }
      }
      throw new SMTPSendFailedException(mailCommand, mailCode, mailReply, null, null, null, null);
    }

    MessagingException chain = null;
    int accepted = 0;
    int answered = 0;
    SMTPAddressFailedException unexpected = null;
    for (Address a : envelope) {
      int code = readServerResponse();
      String reply = getLastServerResponse();
      answered++;
      InternetAddress ia = (InternetAddress) a;
      String command = "RCPT TO:<" + ia.getAddress() + ">";
      MessagingException one;
      if (code == 250 || code == 251) {
        accepted++;
        one = new SMTPAddressSucceededException(ia, command, code, reply);
      } else if ((code >= 400 && code <= 499) || (code >= 500 && code <= 599)) {
        one = new SMTPAddressFailedException(ia, command, code, reply);
      } else {
        // As Angus: a reply that is neither 2xx, 4xx nor 5xx (or the end of the stream) is thrown
        // as it is, once the rest of the group is drained where the connection still stands.
        unexpected = new SMTPAddressFailedException(ia, command, code, reply);
        break;
      }
      if (chain == null) {
        chain = one;
      } else {
        chain.setNextException(one);
      }
    }
    if (unexpected != null) {
      if (unexpected.getReturnCode() != -1) {
        drain(envelope.length - answered + 1);
      }
      throw unexpected;
    }

    int dataCode = readServerResponse();
    String dataReply = getLastServerResponse();
    if (accepted == 0) {
      if (dataCode == 354) {
        endEmptyData(out);
      }
      if (dataCode != -1 && dataCode != 421) {
        // As Angus: end the transaction the server may still hold open.
        simpleCommand("RSET");
      }
      throw new SendFailedException("Invalid Addresses", chain);
    }
    if (dataCode != 354) {
      throw new SMTPSendFailedException("DATA", dataCode, dataReply, chain, null, null, null);
    }

    try {
      if (content != null) {
        writeDotStuffed(out, content);
      } else {
        SMTPOutputStream data = new SMTPOutputStream(out);
        message.writeTo(data, new String[] {"Bcc", "Content-Length"});
        data.ensureAtBOL();
        data.flush();
      }
      // Past the dot-stuffing stream, as Angus's finishData does.
      out.write(END_OF_DATA);
      out.flush();
    } catch (IOException e) {
      // The session closes the connection: the server never sees the end of data and drops it.
      throw new MessagingException("can't send the message content", e);
    }
    int previous = awaitDataEnd();
    int endCode;
    try {
      endCode = readServerResponse();
    } finally {
      afterDataEnd(previous);
    }
    String endReply = getLastServerResponse();
    throw new SMTPSendFailedException(".", endCode, endReply, chain, null, null, null);
  }

  /**
   * Writes content whose lines all end with CRLF in as few writes as it has lines starting with a
   * dot (RFC 5321 4.5.2 doubles that dot), ending it with CRLF if it lacks one.
   */
  static void writeDotStuffed(OutputStream out, byte[] content) throws IOException {
    int start = 0;
    boolean lineStart = true;
    for (int i = 0; i < content.length; i++) {
      byte b = content[i];
      if (lineStart && b == '.') {
        out.write(content, start, i - start);
        out.write('.');
        start = i;
      }
      lineStart = b == '\n';
    }
    out.write(content, start, content.length - start);
    if (!lineStart) {
      out.write('\r');
      out.write('\n');
    }
  }

  private OutputStream serverOutput() throws MessagingException {
    try {
      return (OutputStream) SERVER_OUTPUT.get(this);
    } catch (IllegalAccessException e) {
      throw new MessagingException("can't reach the SMTP connection's output", e);
    }
  }

  private void write(OutputStream out, byte[] bytes, boolean flush) throws MessagingException {
    try {
      out.write(bytes);
      if (flush) {
        out.flush();
      }
    } catch (IOException e) {
      throw new MessagingException("can't send command to SMTP host", e);
    }
  }

  /** A 354 with nothing to send (RFC 2920 3.1): end the empty data and take its reply. */
  private void endEmptyData(OutputStream out) throws MessagingException {
    write(out, END_OF_DATA, true);
    readServerResponse();
  }

  /** Reads and drops this many replies; false if the connection ended or is closing first. */
  private boolean drain(int replies) throws MessagingException {
    for (int i = 0; i < replies; i++) {
      int code = readServerResponse();
      if (code == -1 || code == 421) {
        return false;
      }
    }
    return true;
  }

}
