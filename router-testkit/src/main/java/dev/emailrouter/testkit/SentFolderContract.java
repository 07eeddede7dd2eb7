package dev.emailrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.SentFolder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The promises every {@link SentFolder} must keep, as JUnit 5 tests: extend this class with a
 * {@link Fixture} that gives a Sent folder on a test server and a way to read what a sender's Sent
 * folder holds, and every test below runs against it.
 *
 * <pre>{@code
 * final class MySentFolderContractTest extends SentFolderContract {
 *   @Override
 *   protected Fixture newFixture() {
 *     TestImapServer server = TestImapServer.start();   // a Sent folder for every user
 *     return new Fixture() {
 *       public SentFolder sentFolder() { return MySentFolder.on(server.address()); }
 *       public List<byte[]> sentBy(String address) { return server.folder(address, "Sent"); }
 *       public void close() { server.stop(); }
 *     };
 *   }
 * }
 * }</pre>
 *
 * <p>The tests copy ASCII messages of senders at {@code example.test} (see {@link #SENDER}); each
 * test gets a new fixture and closes it afterwards. Like the other contracts of this kit they run
 * only on the JUnit Platform (see the package documentation).
 */
public abstract class SentFolderContract {

  /** The sender every test copies for; its mailbox must exist with an empty Sent folder. */
  public static final EmailAddress SENDER = EmailAddress.of("una@example.test", "Una User");

  private Fixture fixture;

  /** For subclasses. */
  protected SentFolderContract() {}

  /**
   * Creates the fixture for one test: a Sent folder whose sender's folder holds nothing yet.
   *
   * @return the fixture; the contract closes it after the test
   */
  protected abstract Fixture newFixture();

  /** A test server with the sender's Sent folder, and the {@link SentFolder} under test. */
  public interface Fixture {

    /**
     * The Sent folder under test.
     *
     * @return the Sent folder; the same instance on every call
     */
    SentFolder sentFolder();

    /**
     * What a sender's Sent folder holds now, in the order the messages were added.
     *
     * @param address a bare address, {@code local@domain}
     * @return the messages as the server keeps them (RFC 5322 bytes); empty when none
     */
    List<byte[]> sentBy(String address);

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

  private static OutgoingEmail email(String id) {
    return OutgoingEmail.builder(id, SENDER).to(EmailAddress.of("ann@example.test")).subject("Subject of " + id)
        .textBody("Body of " + id + ".\r\n").messageId(messageId(id)).build();
  }

  private static String messageId(String id) {
    return "<" + id + ".sent-contract@crm.example.test>";
  }

  private static byte[] message(String id) {
    return ("Date: Fri, 1 Mar 2024 10:00:00 +0100\r\n"
        + "From: Una User <una@example.test>\r\n"
        + "To: ann@example.test\r\n"
        + "Message-ID: " + messageId(id) + "\r\n"
        + "Subject: Subject of " + id + "\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: text/plain; charset=us-ascii\r\n"
        + "\r\n"
        + "Body of " + id + ".\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  private List<String> sentTexts() {
    return fixture.sentBy(SENDER.address()).stream().map(b -> new String(b, StandardCharsets.US_ASCII)).toList();
  }

  @Test
  void keepCopy_putsTheBytesSentIntoTheSendersSentFolder() {
    fixture.sentFolder().keepCopy(email("s1"), ContentSource.ofBytes(message("s1")));

    assertThat(sentTexts()).as("the sender's Sent folder").singleElement()
        .satisfies(m -> assertThat(m).contains("Message-ID: " + messageId("s1")).contains("Body of s1."));
  }

  @Test
  void keepCopy_ofTheSameEmailAgain_leavesOneCopy() {
    fixture.sentFolder().keepCopy(email("s2"), ContentSource.ofBytes(message("s2")));
    fixture.sentFolder().keepCopy(email("s2"), ContentSource.ofBytes(message("s2")));

    assertThat(sentTexts()).as("copies of the same Message-ID").hasSize(1);
  }

  @Test
  void keepCopy_ofTwoEmails_keepsBoth() {
    fixture.sentFolder().keepCopy(email("s3"), ContentSource.ofBytes(message("s3")));
    fixture.sentFolder().keepCopy(email("s4"), ContentSource.ofBytes(message("s4")));

    assertThat(sentTexts()).hasSize(2).anySatisfy(m -> assertThat(m).contains(messageId("s3")))
        .anySatisfy(m -> assertThat(m).contains(messageId("s4")));
  }

  @Test
  void keepCopy_readsTheMessageFromItsFirstByte_evenWhenOpenedBefore() throws Exception {
    ContentSource source = ContentSource.ofBytes(message("s5"));
    source.open().close();

    fixture.sentFolder().keepCopy(email("s5"), source);

    assertThat(sentTexts()).singleElement().satisfies(m -> assertThat(m).startsWith("Date: "));
  }
}
