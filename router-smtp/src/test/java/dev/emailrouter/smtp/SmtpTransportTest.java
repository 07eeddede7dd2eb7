package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.MailTransport;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.SendResult;
import dev.emailrouter.api.SendResult.Outcome;
import dev.emailrouter.api.TransientRouterException;
import dev.emailrouter.testfixtures.FakeTokenSource;
import dev.emailrouter.testfixtures.Loopback;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** SmtpTransport against GreenMail: what arrives, one connection per batch, failures. */
final class SmtpTransportTest {

  @RegisterExtension
  static final GreenMailExtension greenMail =
      new GreenMailExtension(Loopback.setup(ServerSetup.PROTOCOL_SMTP));

  private static final Instant NOW = Instant.parse("2026-03-14T15:09:26Z");

  private CountingProxy proxy;

  @AfterEach
  void closeProxy() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
  }

  private int smtpPort() {
    return greenMail.getSmtp().getPort();
  }

  private SmtpTransport.Builder transport(int port) {
    return TestTransports.plain(port).clock(Clock.fixed(NOW, ZoneOffset.UTC));
  }

  private SmtpTransport viaProxy() throws IOException {
    proxy = CountingProxy.to("127.0.0.1", smtpPort());
    return transport(proxy.port()).build();
  }

  private static SendResult sendOne(MailTransport transport, OutgoingEmail email) {
    try (MailTransport.Session session = transport.openSession()) {
      return session.send(email);
    }
  }

  private static MimeMessage receivedBy(String address) {
    MimeMessage[] found = greenMail.findReceivedMessages(u -> u.getEmail().equalsIgnoreCase(address), m -> true)
        .toArray(MimeMessage[]::new);
    assertThat(found).as("messages delivered to %s", address).hasSize(1);
    return found[0];
  }

  @Test
  void send_withDisplayNamesCcBccAndThreading_deliversTheRightHeaders() throws Exception {
    OutgoingEmail email = OutgoingEmail.builder("A-1", EmailAddress.of("sales@example.test", "Zoë Müller, Sales"))
        .to(EmailAddress.of("anna@example.test", "Anna Ångström"))
        .cc(EmailAddress.of("carl@example.test"))
        .bcc(EmailAddress.of("hidden@example.test"))
        .subject("Re: Angebot für Größen – 東京 [CRM:0001234]")
        .textBody("Hallo")
        .inReplyTo("<original.1@mail.example.test>")
        .references("<root.0@mail.example.test>", "<original.1@mail.example.test>")
        .messageId("<A-1.router@crm.example.test>")
        .build();

    SendResult result = sendOne(transport(smtpPort()).build(), email);

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(result.serverReply()).startsWith("250");
    assertThat(greenMail.getReceivedMessages()).hasSize(3); // one copy per recipient, Bcc included
    MimeMessage received = receivedBy("anna@example.test");
    InternetAddress from = (InternetAddress) received.getFrom()[0];
    assertThat(from.getAddress()).isEqualTo("sales@example.test");
    assertThat(from.getPersonal()).isEqualTo("Zoë Müller, Sales");
    assertThat(received.getHeader("From", null)).doesNotContain("ë").contains("=?UTF-8?");
    InternetAddress to = (InternetAddress) received.getRecipients(RecipientType.TO)[0];
    assertThat(to.getAddress()).isEqualTo("anna@example.test");
    assertThat(to.getPersonal()).isEqualTo("Anna Ångström");
    assertThat(Arrays.stream(received.getRecipients(RecipientType.CC)).map(a -> ((InternetAddress) a).getAddress()))
        .containsExactly("carl@example.test");
    assertThat(received.getHeader("Bcc")).isNull();
    assertThat(received.getSubject()).isEqualTo("Re: Angebot für Größen – 東京 [CRM:0001234]");
    assertThat(received.getHeader("Subject", null)).startsWith("=?UTF-8?");
    assertThat(received.getHeader("Message-ID", null)).isEqualTo("<A-1.router@crm.example.test>");
    assertThat(received.getSentDate().toInstant()).isEqualTo(NOW);
    assertThat(received.getHeader("Date", null)).isEqualTo("Sat, 14 Mar 2026 15:09:26 +0000");
    assertThat(received.getHeader("In-Reply-To", null)).isEqualTo("<original.1@mail.example.test>");
    assertThat(received.getHeader("References", null).replaceAll("\\s+", " "))
        .isEqualTo("<root.0@mail.example.test> <original.1@mail.example.test>");
    assertThat(received.getHeader("MIME-Version", null)).isEqualTo("1.0");
    // The Bcc recipient got the same message, still without a Bcc header.
    MimeMessage hidden = receivedBy("hidden@example.test");
    assertThat(hidden.getHeader("Bcc")).isNull();
    assertThat(hidden.getHeader("Message-ID", null)).isEqualTo("<A-1.router@crm.example.test>");
    receivedBy("carl@example.test");
  }

  @Test
  void send_dateHeader_usesTheClocksZone() throws Exception {
    Clock paris = Clock.fixed(NOW, ZoneId.of("Europe/Paris"));

    sendOne(transport(smtpPort()).clock(paris).build(), TestEmails.email("D-1").build());

    MimeMessage received = greenMail.getReceivedMessages()[0];
    assertThat(received.getHeader("Date", null)).isEqualTo("Sat, 14 Mar 2026 16:09:26 +0100");
    assertThat(received.getSentDate().toInstant()).isEqualTo(NOW);
  }

  @Test
  void send_textOnly_isTextPlainInUtf8() throws Exception {
    // Without a final line break: GreenMail drops the one before the closing dot.
    String text = "Grüße aus Köln\r\nZweite Zeile – mit Gedankenstrich";

    sendOne(transport(smtpPort()).build(), TestEmails.email("T-1").textBody(text).build());

    MimeMessage received = greenMail.getReceivedMessages()[0];
    assertThat(received.getContentType()).startsWith("text/plain").containsIgnoringCase("charset=UTF-8");
    assertThat(received.getEncoding()).isIn("quoted-printable", "base64");
    assertThat((String) received.getContent()).isEqualTo(text);
  }

  @Test
  void send_asciiText_isSevenBit() throws Exception {
    sendOne(transport(smtpPort()).build(), TestEmails.email("T-2").textBody("Plain ASCII.").build());

    MimeMessage received = greenMail.getReceivedMessages()[0];
    assertThat(received.getEncoding()).isEqualTo("7bit");
    assertThat((String) received.getContent()).isEqualTo("Plain ASCII.");
  }

  @Test
  void send_htmlOnly_isTextHtml() throws Exception {
    String html = "<p>Grüße, <b>Anna</b></p>";

    sendOne(transport(smtpPort()).build(), TestEmails.email("H-1").textBody(null).htmlBody(html).build());

    MimeMessage received = greenMail.getReceivedMessages()[0];
    assertThat(received.getContentType()).startsWith("text/html").containsIgnoringCase("charset=UTF-8");
    assertThat((String) received.getContent()).isEqualTo(html);
  }

  @Test
  void send_textAndHtml_isMultipartAlternativeTextFirst() throws Exception {
    sendOne(transport(smtpPort()).build(),
        TestEmails.email("H-2").textBody("Grüße").htmlBody("<p>Grüße</p>").build());

    MimeMessage received = greenMail.getReceivedMessages()[0];
    assertThat(received.getContentType()).startsWith("multipart/alternative");
    Multipart alternative = (Multipart) received.getContent();
    assertThat(alternative.getCount()).isEqualTo(2);
    assertThat(alternative.getBodyPart(0).getContentType()).startsWith("text/plain");
    assertThat(alternative.getBodyPart(0).getContent()).isEqualTo("Grüße");
    assertThat(alternative.getBodyPart(1).getContentType()).startsWith("text/html");
    assertThat(alternative.getBodyPart(1).getContent()).isEqualTo("<p>Grüße</p>");
  }

  @Test
  void send_withAttachments_isMultipartMixedWithExactBytesAndUtf8FileNames() throws Exception {
    byte[] pdf = "%PDF-1.4 \u0000\u00ff binary".getBytes(StandardCharsets.ISO_8859_1);
    int bigSize = 5 * 1024 * 1024;
    AtomicInteger opened = new AtomicInteger();
    Attachment big = new Attachment("Größe – 東京 report with a rather long file name.bin",
        "application/octet-stream", bigSize, () -> {
          opened.incrementAndGet();
          return new PatternStream(bigSize);
        });
    OutgoingEmail email = TestEmails.email("M-1")
        .textBody("See attached.")
        .htmlBody("<p>See attached.</p>")
        .attachment(new Attachment("Angebot.pdf", "application/pdf", pdf.length, () -> new java.io.ByteArrayInputStream(pdf)))
        .attachment(big)
        .build();

    SendResult result = sendOne(transport(smtpPort()).build(), email);

    assertThat(result.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(opened).hasValue(1); // streamed once, as the message was written
    MimeMessage received = greenMail.getReceivedMessages()[0];
    assertThat(received.getContentType()).startsWith("multipart/mixed");
    MimeMultipart mixed = (MimeMultipart) received.getContent();
    assertThat(mixed.getCount()).isEqualTo(3);
    assertThat(mixed.getBodyPart(0).getContentType()).startsWith("multipart/alternative");

    MimeBodyPart first = (MimeBodyPart) mixed.getBodyPart(1);
    assertThat(first.getDisposition()).isEqualTo(Part.ATTACHMENT);
    assertThat(first.getFileName()).isEqualTo("Angebot.pdf");
    assertThat(first.getContentType()).startsWith("application/pdf");
    assertThat(first.getEncoding()).isEqualTo("base64");
    assertThat(first.getInputStream().readAllBytes()).isEqualTo(pdf);

    MimeBodyPart second = (MimeBodyPart) mixed.getBodyPart(2);
    assertThat(second.getFileName()).isEqualTo("Größe – 東京 report with a rather long file name.bin");
    assertThat(second.getHeader("Content-Disposition", null)).contains("filename*").contains("UTF-8''");
    assertThat(second.getEncoding()).isEqualTo("base64");
    assertThat(digest(second.getInputStream())).isEqualTo(digest(new PatternStream(bigSize)));
  }

  @Test
  void send_withoutBodyButWithAttachment_sendsTheAttachmentAlone() throws Exception {
    byte[] csv = "a;b\r\n1;2\r\n".getBytes(StandardCharsets.US_ASCII);

    sendOne(transport(smtpPort()).build(), TestEmails.email("M-2").textBody(null)
        .attachment(new Attachment("data.csv", "text/csv", csv.length, () -> new java.io.ByteArrayInputStream(csv)))
        .build());

    MimeMultipart mixed = (MimeMultipart) greenMail.getReceivedMessages()[0].getContent();
    assertThat(mixed.getCount()).isEqualTo(1);
    assertThat(mixed.getBodyPart(0).getFileName()).isEqualTo("data.csv");
    assertThat(mixed.getBodyPart(0).getInputStream().readAllBytes()).isEqualTo(csv);
  }

  @Test
  void send_batchOnOneSession_usesOneConnection() throws Exception {
    SmtpTransport transport = viaProxy();

    try (MailTransport.Session session = transport.openSession()) {
      assertThat(proxy.connections()).as("openSession connects lazily").isZero();
      for (int i = 0; i < 6; i++) {
        assertThat(session.send(TestEmails.email("B-" + i).build()).outcome()).isEqualTo(Outcome.ACCEPTED);
      }
    }

    assertThat(proxy.connections()).isEqualTo(1);
    assertThat(greenMail.getReceivedMessages()).hasSize(6);
  }

  @Test
  void send_twoSessions_useTwoConnections() throws Exception {
    SmtpTransport transport = viaProxy();

    sendOne(transport, TestEmails.email("S-1").build());
    sendOne(transport, TestEmails.email("S-2").build());

    assertThat(proxy.connections()).isEqualTo(2);
  }

  @Test
  void send_whenConnectionDroppedMidBatch_reconnectsOnceAndSendsTheRest() throws Exception {
    SmtpTransport transport = viaProxy();
    List<SendResult> results = new java.util.ArrayList<>();

    try (MailTransport.Session session = transport.openSession()) {
      results.add(session.send(TestEmails.email("R-1").build()));
      results.add(session.send(TestEmails.email("R-2").build()));
      proxy.cutAll();
      for (int i = 3; i <= 5; i++) {
        results.add(session.send(TestEmails.email("R-" + i).build()));
      }
    }

    assertThat(results).extracting(SendResult::outcome).containsOnly(Outcome.ACCEPTED);
    assertThat(proxy.connections()).isEqualTo(2);
    assertThat(greenMail.getReceivedMessages()).extracting(m -> m.getHeader("Message-ID", null))
        .containsExactly(TestEmails.messageId("R-1"), TestEmails.messageId("R-2"), TestEmails.messageId("R-3"),
            TestEmails.messageId("R-4"), TestEmails.messageId("R-5"));
  }

  @Test
  void send_whenConnectionDropsInTheMiddleOfAnEmail_sendsThatEmailOnceMore() throws Exception {
    SmtpTransport transport = viaProxy();

    try (MailTransport.Session session = transport.openSession()) {
      assertThat(session.send(TestEmails.email("C-1").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
      proxy.cutWhenClientSends("DATA\r\n");
      assertThat(session.send(TestEmails.email("C-2").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
      assertThat(session.send(TestEmails.email("C-3").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
    }

    assertThat(proxy.connections()).isEqualTo(2);
    assertThat(greenMail.getReceivedMessages()).extracting(m -> m.getHeader("Message-ID", null))
        .containsExactly(TestEmails.messageId("C-1"), TestEmails.messageId("C-2"), TestEmails.messageId("C-3"));
  }

  @Test
  void send_whenTheServerIsGoneAfterADrop_throwsTransient() throws Exception {
    SmtpTransport transport = viaProxy();

    try (MailTransport.Session session = transport.openSession()) {
      session.send(TestEmails.email("G-1").build());
      proxy.refuseNew();
      proxy.cutAll();

      assertThatThrownBy(() -> session.send(TestEmails.email("G-2").build()))
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining(transport.describe())
          .hasMessageContaining("reconnecting failed");
    }
    assertThat(greenMail.getReceivedMessages()).hasSize(1);
  }

  @Test
  void send_whenNobodyListens_throwsTransientQuickly() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      closedPort = socket.getLocalPort();
    }
    SmtpTransport transport = transport(closedPort).connectTimeout(Duration.ofMillis(500)).build();

    try (MailTransport.Session session = transport.openSession()) {
      assertThatThrownBy(() -> session.send(TestEmails.email("N-1").build()))
          .isInstanceOf(TransientRouterException.class)
          .hasMessageContaining("can't connect to SMTP server smtp://127.0.0.1:" + closedPort);
    }
  }

  @Test
  void send_whenPasswordIsWrong_throwsPermanentNamingServerAndUserButNotThePassword() {
    greenMail.setUser("crm@example.test", "crm-user", "right-password");
    SmtpTransport transport = transport(smtpPort())
        .credentials(() -> Credentials.password("crm-user", "wrong-s3cret"))
        .build();

    try (MailTransport.Session session = transport.openSession()) {
      assertThatThrownBy(() -> session.send(TestEmails.email("P-1").build()))
          .isInstanceOf(PermanentRouterException.class)
          .hasMessageStartingWith("SMTP server smtp://127.0.0.1:" + smtpPort() + " (PLAIN_TEXT_INSECURE) refused the login"
              + " for user crm-user: 535")
          .hasMessageEndingWith("check the credentials")
          .hasMessageNotContaining("wrong-s3cret");
    }
    assertThat(greenMail.getReceivedMessages()).isEmpty();
  }

  @Test
  void send_withTheRightPassword_logsInAndAsksTheSupplierAtEveryLogin() {
    greenMail.setUser("crm@example.test", "crm-user", "right-password");
    AtomicInteger asked = new AtomicInteger();
    SmtpTransport transport = transport(smtpPort())
        .credentials(() -> {
          asked.incrementAndGet();
          return Credentials.password("crm-user", "right-password");
        })
        .build();

    try (MailTransport.Session session = transport.openSession()) {
      assertThat(session.send(TestEmails.email("P-2").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
      assertThat(session.send(TestEmails.email("P-3").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
    }
    sendOne(transport, TestEmails.email("P-4").build());

    assertThat(asked).hasValue(2); // two logins
    assertThat(transport.toString()).doesNotContain("right-password");
  }

  @Test
  void send_withAnOAuth2Token_logsInWithXoauth2() {
    greenMail.setUser("crm@example.test", "crm-user", "token-123");
    SmtpTransport transport = transport(smtpPort())
        .credentials(() -> Credentials.oauth2("crm-user", "token-123"))
        .build();

    assertThat(sendOne(transport, TestEmails.email("O-1").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
  }

  @Test
  void send_whenTheServerRefusesTheToken_tellsTheTokenSource_andLogsInOnceMoreWithAFreshToken() {
    greenMail.setUser("crm@example.test", "crm-user", "token-fresh");
    FakeTokenSource tokens = new FakeTokenSource("crm-user", "token-stale", "token-fresh");
    SmtpTransport transport = transport(smtpPort()).credentials(tokens).build();

    assertThat(sendOne(transport, TestEmails.email("O-2").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(tokens.invalidated()).containsExactly("token-stale");
  }

  @Test
  void send_whenTheFreshTokenIsRefusedToo_throwsPermanentNamingTheUser_afterOneRefreshOnly() {
    greenMail.setUser("crm@example.test", "crm-user", "token-right");
    FakeTokenSource tokens = new FakeTokenSource("crm-user", "token-stale1", "token-stale2", "token-right");
    SmtpTransport transport = transport(smtpPort()).credentials(tokens).build();

    assertThatThrownBy(() -> sendOne(transport, TestEmails.email("O-3").build()))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("refused the OAuth2 login of user crm-user")
        .hasMessageContaining("also with a freshly fetched token")
        .hasMessageNotContaining("token-stale");
    assertThat(tokens.invalidated()).containsExactly("token-stale1");
  }

  @Test
  void send_whenSubjectHasCrLf_failsPermanentlyWithNothingOnTheWire() throws Exception {
    SmtpTransport transport = viaProxy();

    SendResult result = sendOne(transport, TestEmails.email("I-1").subject("Hello\r\nBcc: victim@example.test").build());

    assertThat(result.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(result.serverReply()).contains("header Subject contains CR/LF").contains("Hello\\r\\nBcc");
    assertThat(proxy.connections()).isZero();
    assertThat(greenMail.getReceivedMessages()).isEmpty();
  }

  @Test
  void send_whenInReplyToHasALineFeed_failsPermanentlyAndTheBatchGoesOn() throws Exception {
    SmtpTransport transport = viaProxy();

    try (MailTransport.Session session = transport.openSession()) {
      assertThat(session.send(TestEmails.email("I-2").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
      SendResult bad = session.send(TestEmails.email("I-3").inReplyTo("<a@b>\nX-Injected: yes").build());
      assertThat(bad.outcome()).isEqualTo(Outcome.PERMANENT);
      assertThat(bad.serverReply()).contains("header In-Reply-To contains CR/LF");
      assertThat(session.send(TestEmails.email("I-4").build()).outcome()).isEqualTo(Outcome.ACCEPTED);
    }

    assertThat(proxy.connections()).isEqualTo(1);
    assertThat(greenMail.getReceivedMessages()).extracting(m -> m.getHeader("Message-ID", null))
        .containsExactly(TestEmails.messageId("I-2"), TestEmails.messageId("I-4"));
  }

  @Test
  void send_whenMessageIdIsMalformedOrMissing_failsPermanentlyNamingTheHeader() {
    SmtpTransport transport = transport(smtpPort()).build();

    SendResult spaces = sendOne(transport, TestEmails.email("I-5").messageId("<with space@example.test>").build());
    SendResult brackets = sendOne(transport, TestEmails.email("I-6").messageId("no-brackets@example.test").build());
    SendResult reference = sendOne(transport, TestEmails.email("I-7").references("<ok@example.test>", "bad").build());
    SendResult missing = sendOne(transport, TestEmails.email("I-8").messageId(null).build());

    assertThat(spaces.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(spaces.serverReply()).contains("header Message-ID must be a Message-ID like <id@domain>");
    assertThat(brackets.serverReply()).contains("header Message-ID");
    assertThat(reference.serverReply()).contains("header References").contains("\"bad\"");
    assertThat(missing.outcome()).isEqualTo(Outcome.PERMANENT);
    assertThat(missing.serverReply()).contains("no Message-ID recorded");
    assertThat(greenMail.getReceivedMessages()).isEmpty();
  }

  @Test
  void send_whenAnAttachmentCantBeRead_answersTransientForThatEmailAndTheBatchGoesOn() throws Exception {
    SmtpTransport transport = viaProxy();
    Attachment broken = new Attachment("missing.pdf", "application/pdf", -1, () -> {
      throw new java.io.FileNotFoundException("/store/missing.pdf");
    });

    SendResult bad;
    SendResult next;
    try (MailTransport.Session session = transport.openSession()) {
      bad = session.send(TestEmails.email("X-1").attachment(broken).build());
      next = session.send(TestEmails.email("X-2").build());
    }

    assertThat(bad.outcome()).isEqualTo(Outcome.TRANSIENT);
    assertThat(bad.serverReply()).contains("attachment \"missing.pdf\" can't be read").contains("/store/missing.pdf");
    assertThat(next.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(greenMail.getReceivedMessages()).extracting(m -> m.getHeader("Message-ID", null))
        .containsExactly(TestEmails.messageId("X-2"));
  }

  private static byte[] digest(InputStream in) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    byte[] buffer = new byte[64 * 1024];
    int n;
    try (in) {
      while ((n = in.read(buffer)) != -1) {
        sha.update(buffer, 0, n);
      }
    }
    return sha.digest();
  }

  /** Deterministic pseudo-random bytes made on the fly, so a large attachment never sits in memory. */
  static final class PatternStream extends InputStream {
    private final long size;
    private long position;
    private int state = 0x12345678;

    PatternStream(long size) {
      this.size = size;
    }

    @Override
    public int read() {
      if (position >= size) {
        return -1;
      }
      position++;
      state = state * 1103515245 + 12345;
      return (state >>> 16) & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (position >= size) {
        return -1;
      }
      int n = (int) Math.min(len, size - position);
      for (int i = 0; i < n; i++) {
        b[off + i] = (byte) read();
      }
      return n;
    }
  }
}
