package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingDecision.Reason;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.testfixtures.MutableClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile and unusual header encodings, through the engine: what reaches the store is decoded as
 * a mail client would show it, carries no control characters, and blocked files stay out however
 * their names are written.
 */
final class IncomingDecodingTest {
  private static final Party ANN = new Party(Party.Type.CONTACT, "contact-ann", "Ann");
  private static final Party BOB = new Party(Party.Type.CONTACT, "contact-bob", "Bob");

  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final FakeMailbox inbox = new FakeMailbox("user1-inbox");

  private RouterEngine engine(TrackingPolicy policy) {
    return RouterEngine.builder()
        .activityStore(store)
        .mailbox(Mailbox.ofUser("user-1", inbox))
        .trackingPolicy(policy)
        .clock(new MutableClock())
        .random(new Random(1))
        .build();
  }

  private ReceivedEmail trackOne(TestMail mail) {
    inbox.add(mail.build());
    assertThat(engine(TrackingPolicy.allEmail()).tick().tracked()).hasSize(1);
    return store.received().get(0);
  }

  private static String b64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  @Test
  void tick_storesAnEncodedSubjectAndDisplayNameWithoutTheirCrLf() {
    String injection = "=?UTF-8?B?" + b64("Hello\r\nBcc: x@evil.example".getBytes(StandardCharsets.UTF_8)) + "?=";

    ReceivedEmail r = trackOne(TestMail.message().subject(injection).from(injection + " <customer@example.org>"));

    assertThat(r.subject()).isEqualTo("Hello Bcc: x@evil.example").doesNotContain("\r", "\n");
    assertThat(r.from()).isEqualTo(EmailAddress.of("customer@example.org", "Hello Bcc: x@evil.example"));
  }

  @Test
  void tick_resolvesTheMembersOfAGroupAsParties() {
    store.addParty("ann@example.org", ANN);
    store.addParty("bob@example.org", BOB);
    List<Party> seen = new ArrayList<>();
    TrackingPolicy recipientsKnown = (message, context) -> {
      seen.addAll(context.recipientParties());
      return context.recipientParties().isEmpty()
          ? TrackingDecision.reject(Reason.NO_RECIPIENT_MATCH, "no recipient is in the CRM")
          : TrackingDecision.track(Reason.ACCEPT_ALL, "a recipient is in the CRM");
    };
    inbox.add(TestMail.message().to("Team: ann@example.org, \"Roe, Bob\" <bob@example.org>;")
        .cc("undisclosed-recipients:;").build());

    engine(recipientsKnown).tick();

    assertThat(seen).containsExactly(ANN, BOB);
    assertThat(store.received()).singleElement().satisfies(r -> {
      assertThat(r.to()).containsExactly(EmailAddress.of("ann@example.org"),
          EmailAddress.of("bob@example.org", "Roe, Bob"));
      assertThat(r.cc()).isEmpty();
    });
  }

  @Test
  void tick_decodesAUtf7Subject() {
    ReceivedEmail r = trackOne(TestMail.message().subject("=?UTF-7?Q?Angebot_f+APw-r_M+APw-ller?="));

    assertThat(r.subject()).isEqualTo("Angebot für Müller");
  }

  @Test
  void tick_decodesAUtf7TextBody() {
    ReceivedEmail r = trackOne(TestMail.message().text("Gr+APwA3w-e", "UTF-7"));

    assertThat(r.textBody()).isEqualTo("Grüße\r\n");
  }

  @Test
  void tick_decodesAMultibyteCharacterSplitBetweenTwoEncodedWords() {
    byte[] bytes = "Grüße".getBytes(StandardCharsets.UTF_8); // G r 0xC3 0xBC 0xC3 0x9F e
    String first = "=?UTF-8?B?" + b64(java.util.Arrays.copyOfRange(bytes, 0, 3)) + "?=";
    String second = "=?UTF-8?B?" + b64(java.util.Arrays.copyOfRange(bytes, 3, bytes.length)) + "?=";

    ReceivedEmail r = trackOne(TestMail.message().subject(first + "\r\n " + second));

    assertThat(r.subject()).isEqualTo("Grüße");
  }

  @Test
  void tick_decodesBrokenBase64InAnEncodedWordLeniently() {
    ReceivedEmail r = trackOne(TestMail.message().subject("=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4?=")); // padding missing

    assertThat(r.subject()).isEqualTo("Grüße aus Köln");
  }

  // --- blocked attachments ------------------------------------------------------------------------

  /** Each value: the raw Content-Type, then "|", then the raw Content-Disposition parameters. */
  @ParameterizedTest
  @ValueSource(strings = {
      "application/octet-stream|filename=\"payload.exe.\"",
      "application/octet-stream|filename=\"payload.exe. .\"",
      "application/octet-stream|filename=\"payload.exe::$DATA\"",
      "application/octet-stream|filename=\"payload.exe:stream\"",
      "application/octet-stream|filename*=utf-8''payload%2Eexe",
      "application/octet-stream|filename*=x-unknown''payload%2Eexe",
      "application/octet-stream|filename*0*=utf-8''payload%2E; filename*1*=exe",
      "application/octet-stream|filename*0*=payload%2E; filename*1*=exe",
      "application/octet-stream|filename*=utf-8''payload%2Eexe; filename=\"report.pdf\"",
      "application/octet-stream; name=\"=?UTF-8?B?cGF5bG9hZC5leGU=?=\"|size=3",
      "application/octet-stream; name=\"payload.exe\"|filename=\"report.pdf\"",
      "application/octet-stream|filename=\"PayLoad.ExE\"",
      "application/octet-stream|filename=\"..\\\\x\\\\payload.exe\"",
      "application/octet-stream|filename=\"/tmp/payload.exe\"",
      "text/javascript|filename=\"invoice.js\"",
      "application/java-archive|filename=\"tool.jar\""})
  void tick_dropsAndRecordsABlockedFile_howeverItsNameIsWritten(String spec) {
    String[] parts = spec.split("\\|", 2);
    ReceivedEmail r = trackOne(TestMail.message()
        .attach(parts[0], parts[1], "MZ-payload".getBytes(StandardCharsets.US_ASCII))
        .attach("application/pdf", "filename=\"report.pdf\"", "%PDF-1.4".getBytes(StandardCharsets.US_ASCII)));

    assertThat(r.attachments()).extracting(Attachment::fileName).containsExactly("report.pdf");
    assertThat(r.droppedAttachments()).singleElement().asString().contains("blocked file type .");
  }

  @Test
  void tick_keepsAHarmlessFile_andStoresItsNameWithoutPathOrControlCharacters() {
    ReceivedEmail r = trackOne(TestMail.message()
        .attach("application/pdf", "filename=\"C:\\\\Users\\\\ann\\\\report.pdf\"", "%PDF".getBytes(StandardCharsets.US_ASCII))
        .attach("text/plain", "filename=\"=?UTF-8?B?" + b64("notes\r\n.txt".getBytes(StandardCharsets.UTF_8)) + "?=\"",
            "x".getBytes(StandardCharsets.US_ASCII)));

    assertThat(r.attachments()).extracting(Attachment::fileName).containsExactly("report.pdf", "notes .txt");
    assertThat(r.droppedAttachments()).isEmpty();
  }
}
