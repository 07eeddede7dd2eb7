package dev.emailrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SendResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The promises every {@link MailTransport} must keep, as JUnit 5 tests: extend this class with a
 * {@link Fixture} that gives a transport to a test mail server and a way to read what the server
 * delivered, and every test below runs against it.
 *
 * <pre>{@code
 * final class MyTransportContractTest extends MailTransportContract {
 *   @Override
 *   protected Fixture newFixture() {
 *     TestMailServer server = TestMailServer.start();   // accepts mail for any address
 *     return new Fixture() {
 *       public MailTransport transport() { return MyTransport.to(server.address()); }
 *       public List<byte[]> receivedBy(String address) { return server.mailboxOf(address); }
 *       public void close() { server.stop(); }
 *     };
 *   }
 * }
 * }</pre>
 *
 * <p>The tests send ASCII emails to addresses at {@code example.test}; each gets a new fixture and
 * closes it afterwards.
 *
 * <p><b>Running it.</b> These are JUnit 5 (Jupiter) tests, so they run only where the build runs the
 * JUnit Platform: with Maven, maven-surefire-plugin (or failsafe) 3.x, which finds the Jupiter
 * engine by itself. Maven 3.8 binds Surefire 2.12.4 by default when a project pins no version; it
 * does not know the JUnit Platform, runs none of these tests and still reports success ("Tests run:
 * 0"). Nothing in this kit can notice that, since none of its code runs then, so pin the plugin and
 * make an empty run fail: {@code <version>3.5.4</version>} and {@code
 * <configuration><failIfNoTests>true</failIfNoTests></configuration>} on maven-surefire-plugin (or
 * {@code -DfailIfNoTests=true}, which old Surefire versions honour too). Surefire 2.22 also runs
 * them if {@code junit-jupiter-engine} is added as a test dependency.
 */
public abstract class MailTransportContract {

  private static final EmailAddress FROM = EmailAddress.of("crm@example.test", "CRM");

  private Fixture fixture;

  /** For subclasses. */
  protected MailTransportContract() {}

  /**
   * Creates the fixture for one test: a transport to a server that has delivered nothing yet.
   *
   * @return the fixture; the contract closes it after the test
   */
  protected abstract Fixture newFixture();

  /** A test mail server and a transport to it. Called from the test thread only. */
  public interface Fixture {

    /**
     * The transport under test.
     *
     * @return the transport; the same instance on every call
     */
    MailTransport transport();

    /**
     * What the server delivered to one recipient's mailbox so far, in arrival order; a Bcc
     * recipient gets a copy too.
     *
     * @param address a bare address, {@code local@domain}
     * @return the delivered messages as RFC 5322 bytes; empty when none
     */
    List<byte[]> receivedBy(String address);

    /**
     * Releases the fixture (stops the test server, say); called after each test.
     *
     * @throws Exception if releasing fails; the test then fails
     */
    default void close() throws Exception {}
  }

  @BeforeEach
  final void openFixture() {
    fixture = Objects.requireNonNull(newFixture(), "newFixture() returned null; return a Fixture for a test server");
  }

  @AfterEach
  final void closeFixture() throws Exception {
    if (fixture != null) {
      fixture.close();
    }
  }

  /**
   * The current test's fixture, for a subclass's own tests.
   *
   * @return the fixture
   */
  protected final Fixture fixture() {
    return fixture;
  }

  // --- helpers ----------------------------------------------------------------------------------

  private static String messageId(String id) {
    return "<" + id + ".contract@crm.example.test>";
  }

  private static OutgoingEmail.Builder email(String id, String to) {
    return OutgoingEmail.builder(id, FROM).to(EmailAddress.of(to)).subject("Subject of " + id)
        .textBody("Body of " + id + ".\r\n").messageId(messageId(id));
  }

  private static SendResult send(MailTransport.Session session, OutgoingEmail email) {
    SendResult result = session.send(email);
    if (result == null) {
      fail("send returned null for %s; return the server's answer as a SendResult", email.activityId());
    }
    return result;
  }

  /** The headers of a message, unfolded, by lower-case name. */
  static Map<String, List<String>> headers(byte[] message) {
    String text = new String(message, StandardCharsets.ISO_8859_1).replace("\r\n", "\n");
    int end = text.indexOf("\n\n");
    String block = end < 0 ? text : text.substring(0, end);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    String name = null;
    StringBuilder value = new StringBuilder();
    for (String line : block.split("\n")) {
      if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t') && name != null) {
        value.append(' ').append(line.strip());
        continue;
      }
      if (name != null) {
        headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value.toString().strip());
      }
      int colon = line.indexOf(':');
      name = colon < 0 ? null : line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      value = new StringBuilder(colon < 0 ? "" : line.substring(colon + 1));
    }
    if (name != null) {
      headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value.toString().strip());
    }
    return headers;
  }

  private static String header(Map<String, List<String>> headers, String name) {
    List<String> values = headers.getOrDefault(name, List.of());
    return values.isEmpty() ? null : values.get(0);
  }

  private byte[] onlyMessageTo(String address, String what) {
    List<byte[]> received = fixture.receivedBy(address);
    if (received.size() != 1) {
      fail("%s reached %s %d times; expected once", what, address, received.size());
    }
    return received.get(0);
  }

  // --- the tests ----------------------------------------------------------------------------------

  /** An email the server accepts arrives once for every recipient, with its Message-ID, subject and headers. */
  @Test
  public void send_whenTheServerAccepts_returnsAccepted_andTheEmailArrivesWithItsMessageIdSubjectAndRecipients() {
    OutgoingEmail email = OutgoingEmail.builder("t-1", FROM)
        .to(EmailAddress.of("anna@example.test", "Anna Example"), EmailAddress.of("bert@example.test"))
        .cc(EmailAddress.of("carl@example.test"))
        .bcc(EmailAddress.of("hidden@example.test"))
        .subject("Your quote [CRM:0001234]")
        .textBody("Dear Anna,\r\nhere is the quote.\r\n")
        .inReplyTo("<question.1@mail.example.test>")
        .references("<root.0@mail.example.test>", "<question.1@mail.example.test>")
        .messageId(messageId("t-1"))
        .build();

    SendResult result;
    try (MailTransport.Session session = fixture.transport().openSession()) {
      result = send(session, email);
    }

    if (result.outcome() != SendResult.Outcome.ACCEPTED) {
      fail("send returned %s; expected ACCEPTED from a server that accepts everything", result);
    }
    for (String recipient : List.of("anna@example.test", "bert@example.test", "carl@example.test",
        "hidden@example.test")) {
      Map<String, List<String>> h = headers(onlyMessageTo(recipient, "the accepted email t-1"));
      assertThat(header(h, "message-id")).as("the Message-ID header %s received (the one recorded for the email:"
          + " send it exactly as given, or a retry can't be recognised)", recipient).isEqualTo(messageId("t-1"));
      assertThat(header(h, "subject")).as("the Subject header %s received", recipient)
          .isEqualTo("Your quote [CRM:0001234]");
      assertThat(header(h, "from")).as("the From header %s received", recipient).contains("crm@example.test");
      assertThat(header(h, "to")).as("the To header %s received", recipient)
          .contains("anna@example.test", "bert@example.test");
      assertThat(header(h, "cc")).as("the Cc header %s received", recipient).contains("carl@example.test");
      assertThat(header(h, "in-reply-to")).as("the In-Reply-To header %s received", recipient)
          .isEqualTo("<question.1@mail.example.test>");
      assertThat(header(h, "references")).as("the References header %s received", recipient)
          .contains("<root.0@mail.example.test>", "<question.1@mail.example.test>");
      h.forEach((name, values) -> {
        if (values.stream().anyMatch(v -> v.contains("hidden@example.test"))) {
          fail("the %s header %s received names the Bcc recipient hidden@example.test: Bcc recipients go into the"
              + " envelope (RCPT TO) only, never into a header", name, recipient);
        }
      });
    }
  }

  /**
   * Recipients that accepted the email in an earlier attempt ({@link
   * OutgoingEmail#acceptedRecipients()}) are left out of the envelope, so they don't get it twice;
   * the headers still name them.
   */
  @Test
  public void send_leavesOutRecipientsThatAcceptedInAnEarlierAttempt_butNotOutOfTheHeaders() {
    OutgoingEmail email = OutgoingEmail.builder("again-1", FROM)
        .to(EmailAddress.of("first@example.test"), EmailAddress.of("second@example.test"))
        .subject("Subject of again-1")
        .textBody("Body of again-1.\r\n")
        .messageId(messageId("again-1"))
        .acceptedRecipients(EmailAddress.of("First@Example.TEST"))
        .build();

    SendResult result;
    try (MailTransport.Session session = fixture.transport().openSession()) {
      result = send(session, email);
    }

    if (result.outcome() != SendResult.Outcome.ACCEPTED) {
      fail("send returned %s; expected ACCEPTED from a server that accepts everything", result);
    }
    int again = fixture.receivedBy("first@example.test").size();
    if (again != 0) {
      fail("first@example.test, which accepted email again-1 in an earlier attempt (acceptedRecipients, compared"
          + " case-insensitively), received it %d more times: send the envelope (RCPT TO) to"
          + " email.pendingRecipients() only, and leave the headers as they are", again);
    }
    Map<String, List<String>> h = headers(onlyMessageTo("second@example.test", "email again-1"));
    assertThat(header(h, "to")).as("the To header second@example.test received (the headers name everybody)")
        .contains("first@example.test", "second@example.test");
  }

  /** One session sends several emails one after another, each arriving once. */
  @Test
  public void aSession_sendsSeveralEmailsOneAfterAnother() {
    List<SendResult> results = new ArrayList<>();
    try (MailTransport.Session session = fixture.transport().openSession()) {
      for (int i = 1; i <= 3; i++) {
        results.add(send(session, email("batch-" + i, "batch@example.test").build()));
      }
    }

    assertThat(results).as("the results of 3 sends on one session").extracting(SendResult::outcome)
        .containsOnly(SendResult.Outcome.ACCEPTED);
    List<String> ids = fixture.receivedBy("batch@example.test").stream()
        .map(m -> header(headers(m), "message-id")).toList();
    assertThat(ids).as("the Message-IDs batch@example.test received, in order")
        .containsExactly(messageId("batch-1"), messageId("batch-2"), messageId("batch-3"));
  }

  /**
   * Told the next email ({@link MailTransport.Session#send(OutgoingEmail, OutgoingEmail)}), a
   * session may begin it early, but delivers it only when it is sent: an email named as the next
   * one and then not sent, because the session was closed, never arrives.
   */
  @Test
  public void send_toldTheNextEmail_deliversEachEmailSent_andNeverTheOneNamedButNotSent() {
    OutgoingEmail first = email("next-1", "next@example.test").build();
    OutgoingEmail second = email("next-2", "next@example.test").build();
    OutgoingEmail never = email("next-3", "never@example.test").build();
    List<SendResult> results = new ArrayList<>();
    try (MailTransport.Session session = fixture.transport().openSession()) {
      results.add(session.send(first, second));
      results.add(session.send(second, never));
    }

    assertThat(results).as("the results of send(next-1, next-2) and send(next-2, next-3)")
        .extracting(SendResult::outcome).containsOnly(SendResult.Outcome.ACCEPTED);
    List<String> ids = fixture.receivedBy("next@example.test").stream()
        .map(m -> header(headers(m), "message-id")).toList();
    assertThat(ids).as("the Message-IDs next@example.test received, in order")
        .containsExactly(messageId("next-1"), messageId("next-2"));
    if (!fixture.receivedBy("never@example.test").isEmpty()) {
      fail("email next-3 was named as the next email but never sent (the session was closed instead), and it"
          + " arrived anyway: an email begun early must be dropped without the server delivering it (for SMTP,"
          + " close the connection before its end of data)");
    }
  }

  /**
   * A header value from the CRM with CR or LF is refused as a permanent failure of that email, and
   * nothing arrives; the session goes on to send the next email.
   */
  @Test
  public void send_whenAHeaderValueHasCrOrLf_refusesItPermanently_nothingArrives_andTheSessionGoesOn() {
    Map<String, OutgoingEmail> bad = new LinkedHashMap<>();
    bad.put("subject", email("inj-1", "victim1@example.test").subject("Hello\r\nBcc: spam@example.test").build());
    bad.put("Message-ID", email("inj-2", "victim2@example.test")
        .messageId("<inj-2.contract@crm.example.test>\r\nBcc: spam@example.test").build());
    bad.put("In-Reply-To", email("inj-3", "victim3@example.test")
        .inReplyTo("<a@example.test>\nBcc: spam@example.test").build());
    bad.put("References", email("inj-4", "victim4@example.test")
        .references("<a@example.test>", "<b@example.test>\rBcc: spam@example.test").build());

    try (MailTransport.Session session = fixture.transport().openSession()) {
      bad.forEach((field, email) -> {
        SendResult result = send(session, email);
        if (result.outcome() != SendResult.Outcome.PERMANENT) {
          fail("send of an email whose %s contains CR/LF returned %s; expected PERMANENT: check every header value"
              + " that comes from the CRM for CR and LF before anything reaches the wire (header injection)", field,
              result);
        }
      });
      SendResult good = send(session, email("after-inj", "good@example.test").build());
      assertThat(good.outcome()).as("a valid email sent on the same session after the refused ones")
          .isEqualTo(SendResult.Outcome.ACCEPTED);
    }

    for (String address : List.of("victim1@example.test", "victim2@example.test", "victim3@example.test",
        "victim4@example.test", "spam@example.test")) {
      assertThat(fixture.receivedBy(address)).as("what reached %s from the emails refused for CR/LF", address)
          .isEmpty();
    }
    onlyMessageTo("good@example.test", "the valid email after the refused ones");
  }

  /** Text, HTML and an attachment all arrive. */
  @Test
  public void send_withTextHtmlAndAnAttachment_deliversAllThree() {
    byte[] bytes = new byte[48];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 7 + 3);
    }
    OutgoingEmail email = email("parts-1", "parts@example.test")
        .textBody("Plain text part.\r\n")
        .htmlBody("<p>HTML part.</p>")
        .attachment(new Attachment("data.bin", "application/octet-stream", bytes.length, ContentSource.ofBytes(bytes)))
        .build();

    SendResult result;
    try (MailTransport.Session session = fixture.transport().openSession()) {
      result = send(session, email);
    }

    assertThat(result.outcome()).as("the outcome of sending parts-1").isEqualTo(SendResult.Outcome.ACCEPTED);
    String raw = new String(onlyMessageTo("parts@example.test", "parts-1"), StandardCharsets.ISO_8859_1);
    assertThat(raw).as("the message parts@example.test received")
        .contains("Plain text part.", "<p>HTML part.</p>", "data.bin", Base64.getEncoder().encodeToString(bytes));
  }

  /** Sessions may be opened from several threads at once, and each sends. */
  @Test
  public void openSession_isSafeToCallConcurrently() {
    MailTransport transport = fixture.transport();
    List<SendResult> results = Concurrently.run(4, "openSession and send", t -> {
      try (MailTransport.Session session = transport.openSession()) {
        return session.send(email("par-" + t, "par" + t + "@example.test").build());
      }
    });

    for (int t = 0; t < 4; t++) {
      assertThat(results.get(t).outcome()).as("the outcome of par-%d, sent on one of 4 sessions opened at once", t)
          .isEqualTo(SendResult.Outcome.ACCEPTED);
      assertThat(header(headers(onlyMessageTo("par" + t + "@example.test", "par-" + t)), "message-id"))
          .isEqualTo(messageId("par-" + t));
    }
  }

  /** A session closed without sending anything closes quietly. */
  @Test
  public void close_ofASessionThatSentNothing_neverThrows() {
    MailTransport.Session session = fixture.transport().openSession();
    try {
      session.close();
    } catch (RuntimeException e) {
      throw new AssertionError("close() of a session that sent nothing threw " + e + ": close must never throw", e);
    }
    assertThat(fixture.transport().describe()).as("describe()").isNotBlank();
  }
}
