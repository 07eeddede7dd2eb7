package dev.emailrouter.imap;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.eclipse.angus.mail.iap.Argument;
import org.eclipse.angus.mail.iap.ByteArray;
import org.eclipse.angus.mail.iap.ProtocolException;
import org.eclipse.angus.mail.iap.Response;
import org.eclipse.angus.mail.imap.protocol.IMAPProtocol;
import org.eclipse.angus.mail.imap.protocol.IMAPResponse;
import org.eclipse.angus.mail.util.MailLogger;

/**
 * Angus's IMAP protocol plus one {@code AUTHENTICATE} exchange of our own, for the logins Angus
 * does not do as we need (OAUTHBEARER and XOAUTH2 with their error challenge; PLAIN with SASL-IR).
 * The exchange runs with the protocol trace suspended, since it carries the secret. Plus a FETCH
 * command whose untagged FETCH responses we parse ourselves ({@link #fetch}).
 */
abstract class AuthenticatingProtocol extends IMAPProtocol {
  private static final byte[] CRLF = {'\r', '\n'};
  private boolean loggedIn;

  AuthenticatingProtocol(String host, int port, Properties props, boolean ssl, MailLogger logger)
      throws IOException, ProtocolException {
    super("imap", host, port, props, ssl, logger);
  }

  /**
   * Takes the greeting as Angus does, unless it is not an IMAP greeting at all ({@code * OK},
   * {@code * PREAUTH}, {@code * BYE}): a POP3 or SMTP server on the configured port answers with
   * {@code +OK} or {@code 220}, which Angus would report like a connection failure and the reader
   * would retry forever, though only the configuration can fix it.
   */
  @Override
  protected void processGreeting(Response r) throws ProtocolException {
    if (!r.isUnTagged() || !(r.isOK() || r.isBYE() || isPreauth(r))) {
      disconnect();
      throw new ForeignGreetingException(r.toString());
    }
    super.processGreeting(r);
  }

  private static boolean isPreauth(Response r) {
    String text = r.toString();
    return text.regionMatches(true, 0, "* PREAUTH", 0, "* PREAUTH".length());
  }

  /** The server's greeting was not an IMAP greeting: another protocol's server answered. */
  /** A login on behalf of a user that the server can't carry: configuration, not a passing fault. */
  static final class NoAuthorizationIdentityException extends ProtocolException {
    private static final long serialVersionUID = 1L;

    NoAuthorizationIdentityException(String message) {
      super(message);
    }
  }

  static final class ForeignGreetingException extends ProtocolException {
    private static final long serialVersionUID = 1L;
    private final String greeting;

    ForeignGreetingException(String greeting) {
      super("the server's greeting is not an IMAP greeting: " + greeting);
      this.greeting = greeting;
    }

    /** The greeting line as the server sent it, without its line end. */
    String greeting() {
      return greeting;
    }
  }

  /**
   * The longest response {@link #fetch} reads, literals included: far beyond any header block (a
   * message's References with thousands of IDs is some hundred kilobytes), and far below what would
   * exhaust the heap when a broken or hostile server announces a literal of 2 GB.
   */
  static final int MAX_FETCH_RESPONSE = 16 << 20;

  /**
   * The longest answer to a {@code UID SEARCH} {@link #search} reads: the UIDs of some eight million
   * messages, where a broken or hostile server's endless line would otherwise grow the buffer until
   * the heap is gone.
   */
  static final int MAX_SEARCH_RESPONSE = 64 << 20;

  @Override
  public boolean isAuthenticated() {
    return loggedIn || super.isAuthenticated();
  }

  /**
   * Sends {@code AUTHENTICATE args}, answers each continuation with the line {@code answer} gives
   * for it, and takes the result as Angus's own logins do: capabilities, response handlers, and a
   * {@link ProtocolException} for a refusal.
   *
   * @param args the mechanism, and its initial response where the server takes one (SASL-IR)
   * @param answer the line (without CRLF) that answers a continuation; "*" cancels the exchange
   * @param done sees the final response before a refusal is thrown
   */
  final void authenticate(Argument args, Function<Response, String> answer, Consumer<Response> done)
      throws ProtocolException {
    boolean tracing = isTracing();
    if (tracing) {
      suspendTracing();
    }
    List<Response> responses = new ArrayList<>();
    Response last = null;
    try {
      String tag = null;
      try {
        tag = writeCommand("AUTHENTICATE", args);
      } catch (IOException | ProtocolException e) {
        last = Response.byeResponse(e);
      }
      while (last == null) {
        Response r;
        try {
          r = readResponse();
        } catch (IOException e) {
          last = Response.byeResponse(e);
          break;
        }
        if (r.isContinuation()) {
          try {
            OutputStream out = getOutputStream();
            out.write(answer.apply(r).getBytes(StandardCharsets.US_ASCII));
            out.write(CRLF);
            out.flush();
          } catch (IOException e) {
            last = Response.byeResponse(e);
          }
        } else if ((r.isTagged() && r.getTag().equals(tag)) || r.isBYE()) {
          last = r;
        } else {
          responses.add(r);
        }
      }
    } finally {
      if (tracing) {
        resumeTracing();
      }
    }
    done.accept(last);
    responses.add(last);
    Response[] all = responses.toArray(new Response[0]);
    handleCapabilityResponse(all);
    notifyResponseHandlers(all);
    handleLoginResult(last);
    setCapabilities(last);
    loggedIn = true;
  }

  /**
   * Sends {@code command} (a {@code UID FETCH}) and hands each untagged FETCH response to {@code
   * each} as it is read, parsed by {@link FetchItems} straight from the bytes Angus's framing read,
   * without Angus's response objects: for the header stage, where building a {@code FetchResponse}
   * per message (and parsing each INTERNALDATE with a date format) cost more than the rest of our
   * reading. A FETCH response that does not parse reaches {@code each} as {@code null}. The other
   * responses (EXISTS, EXPUNGE, OK, the tagged result) come back as Angus builds them, for its
   * handlers and {@link #handleResult}; the protocol is then in the same state as after {@link
   * #command}, ready for the next command.
   *
   * <p>Synchronized on this protocol like {@link #command}.
   *
   * @param each takes each FETCH response's items; valid only during the call (the header bytes are
   *     in the read buffer); must not throw
   * @return the other responses in the order they came, with the tagged result or a BYE last, as
   *     {@link #command} returns them (a failure to write or read becomes a BYE)
   */
  final synchronized Response[] fetch(String command, Consumer<FetchItems> each) {
    return exchange(command, "UID FETCH", MAX_FETCH_RESPONSE, (bytes, end) -> {
      long number = FetchItems.fetchNumber(bytes, end);
      if (number < 0) {
        return false;
      }
      each.accept(FetchItems.parse(bytes, end, number));
      return true;
    });
  }

  /**
   * Sends {@code command} (a {@code UID SEARCH}) and hands each number of its untagged SEARCH
   * responses to {@code each}, read straight from the bytes: a first sync of a large mailbox
   * answers with one line of every UID, which Angus would copy into a string and box number by
   * number. FETCH responses amid the answer (another client's flag change) are dropped, as {@link
   * ImapConnection#command} drops them; the other responses come back as {@link #fetch} returns
   * them.
   *
   * <p>Synchronized on this protocol like {@link #command}.
   *
   * @param each takes each number, in the order the server wrote them; must not throw
   * @return the other responses, with the tagged result or a BYE last, as {@link #fetch} returns them
   */
  final synchronized Response[] search(String command, LongConsumer each) {
    return exchange(command, "UID SEARCH", MAX_SEARCH_RESPONSE, (bytes, end) -> {
      if (FetchItems.fetchNumber(bytes, end) >= 0) {
        return true;
      }
      if (end < 8 || bytes[0] != '*' || bytes[1] != ' ' || !"SEARCH".equalsIgnoreCase(
          new String(bytes, 2, 6, StandardCharsets.ISO_8859_1)) || end > 8 && bytes[8] != ' ') {
        return false;
      }
      int i = 8;
      while (i < end) {
        while (i < end && bytes[i] == ' ') {
          i++;
        }
        long n = 0;
        int digits = 0;
        while (i < end && bytes[i] >= '0' && bytes[i] <= '9' && digits < 11) {
          n = n * 10 + (bytes[i++] - '0');
          digits++;
        }
        if (digits == 0 || digits > 10) {
          break; // "(MODSEQ n)" and whatever else follows the numbers: not a number we asked for
        }
        each.accept(n);
      }
      return true;
    });
  }

  /** Takes one untagged response as bytes ({@code end} excludes the CRLF), or declines it. */
  private interface RawResponse {
    /** @return true when taken, false to have it built as Angus's response and returned */
    boolean take(byte[] bytes, int end);
  }

  /**
   * Sends one command and reads its answer with Angus's framing into one reused buffer; each
   * response {@code raw} does not take is built as Angus's response and returned.
   *
   * @param what the command's name, for the error when a response is too long
   * @param max the longest response read, literals included; a longer one closes the connection
   */
  private Response[] exchange(String command, String what, int max, RawResponse raw) {
    List<Response> others = new ArrayList<>();
    String tag;
    try {
      tag = writeCommand(command, null);
    } catch (IOException | ProtocolException e) {
      others.add(Response.byeResponse(e));
      return others.toArray(new Response[0]);
    }
    boolean utf8 = supportsUtf8();
    ByteArray buffer = new BoundedBuffer(1 << 13, max);
    Response bye = null;
    while (true) {
      ByteArray read;
      try {
        read = getInputStream().readResponse(buffer);
      } catch (IOException e) {
        if (bye == null) {
          bye = Response.byeResponse(e);
        }
        break;
      } catch (TooLong e) {
        // The rest of the literal is still on the wire: the connection can't serve another command.
        disconnect();
        bye = Response.byeResponse(new IOException("the server announced a response to " + what + " of more than "
            + max + " bytes (it would take " + e.length + "), more than this reader reads; the connection was "
            + "closed"));
        break;
      }
      buffer = read;
      byte[] bytes = read.getBytes();
      int end = Math.max(0, read.getCount() - 2); // without the CRLF
      if (raw.take(bytes, end)) {
        continue;
      }
      Response r;
      try {
        r = new IMAPResponse(new String(bytes, 0, end,
            utf8 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1), utf8);
      } catch (IOException | ProtocolException e) {
        continue; // as Angus's command does with a response it can't parse
      }
      if (r.isBYE()) {
        bye = r;
        continue;
      }
      others.add(r);
      if (r.isTagged() && tag.equals(r.getTag())) {
        break;
      }
    }
    if (bye != null) {
      others.add(bye);
    }
    return others.toArray(new Response[0]);
  }

  /**
   * Angus's framing reads a literal of the length the server announces into one array, which it
   * grows first: here the growth stops at a bound, before the allocation.
   */
  private static final class BoundedBuffer extends ByteArray {
    private final int max;

    BoundedBuffer(int size, int max) {
      super(new byte[size], 0, size);
      this.max = max;
    }

    @Override
    public void grow(int increment) {
      long length = (long) getBytes().length + increment;
      if (increment < 0 || length > max) {
        throw new TooLong(length);
      }
      super.grow(increment);
    }
  }

  /** A response would grow past the bound; thrown out of Angus's framing, caught by {@link #fetch}. */
  private static final class TooLong extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final long length;

    TooLong(long length) {
      super(null, null, false, false);
      this.length = length;
    }
  }
}
