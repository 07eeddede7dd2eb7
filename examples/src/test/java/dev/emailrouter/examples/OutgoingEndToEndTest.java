package dev.emailrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.Attachment;
import dev.emailrouter.api.ContentSource;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.InMemoryActivityStore.StoredEmail;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.smtp.SmtpTransport;
import dev.emailrouter.testfixtures.MutableClock;
import jakarta.mail.BodyPart;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The outgoing flow end to end: in-memory CRM → engine → SmtpTransport → GreenMail's SMTP server. */
final class OutgoingEndToEndTest {
  private TestMailServer server;
  private final InMemoryActivityStore store = new InMemoryActivityStore();
  private final MutableClock clock = new MutableClock();
  private final List<RouterEngine> engines = new ArrayList<>();

  @BeforeEach
  void startServer() {
    server = new TestMailServer();
  }

  @AfterEach
  void stopServer() {
    engines.forEach(RouterEngine::close);
    server.close();
  }

  @Test
  void tick_sendsAnEmailThatArrivesAsTheCrmWroteIt() throws Exception {
    byte[] pdf = new byte[100_000];
    new Random(3).nextBytes(pdf);
    store.add(OutgoingEmail.builder("email-1", EmailAddress.of("una@example.test", "Una Üser"))
        .to(EmailAddress.of("carl@example.test", "Carl Contact"), EmailAddress.of("dora@partner.test"))
        .cc(EmailAddress.of("cecil@example.test", "Cecil"))
        .bcc(EmailAddress.of("boss@example.test"))
        .subject("Our proposal – Größe")
        .textBody("Hello Carl,\r\nplease find our proposal attached.\r\nUna")
        .htmlBody("<p>Hello Carl,</p><p>please find our <b>proposal</b> attached.</p>")
        .inReplyTo("<question-1@partner.test>")
        .references("<thread-0@partner.test>", "<question-1@partner.test>")
        .attachment(new Attachment("Angebot – Größe.pdf", "application/pdf", pdf.length, ContentSource.ofBytes(pdf)))
        .build());

    TickReport report = engine(server.smtp().build()).tick();

    StoredEmail stored = store.find("email-1").orElseThrow();
    assertThat(stored.status()).isEqualTo(EmailStatus.SENT);
    assertThat(stored.attempts()).isEqualTo(1);
    assertThat(report.sent()).singleElement().satisfies(e -> {
      assertThat(e.activityId()).isEqualTo("email-1");
      assertThat(e.messageId()).isEqualTo(stored.email().messageId());
      assertThat(e.serverReply()).startsWith("250");
      assertThat(e.refusedRecipients()).isEmpty();
    });
    assertThat(stored.email().subject()).isEqualTo("Our proposal – Größe CRM:0000001");
    assertThat(server.greenMail().getReceivedMessages()).hasSize(4); // one copy per recipient, Bcc included

    MimeMessage copy = received("carl@example.test");
    InternetAddress from = (InternetAddress) copy.getFrom()[0];
    assertThat(from.getAddress()).isEqualTo("una@example.test");
    assertThat(from.getPersonal()).isEqualTo("Una Üser");
    assertThat(addresses(copy, RecipientType.TO)).containsExactly("carl@example.test", "dora@partner.test");
    assertThat(((InternetAddress) copy.getRecipients(RecipientType.TO)[0]).getPersonal()).isEqualTo("Carl Contact");
    assertThat(addresses(copy, RecipientType.CC)).containsExactly("cecil@example.test");
    assertThat(copy.getHeader("Bcc")).isNull();
    assertThat(copy.getSubject()).isEqualTo("Our proposal – Größe CRM:0000001");
    assertThat(copy.getMessageID()).isEqualTo(stored.email().messageId());
    assertThat(copy.getHeader("In-Reply-To")).containsExactly("<question-1@partner.test>");
    assertThat(copy.getHeader("References", " ")).isEqualTo("<thread-0@partner.test> <question-1@partner.test>");

    List<Part> leaves = new ArrayList<>();
    collectLeaves(copy, leaves);
    assertThat(leaves).hasSize(3);
    assertThat(leaves.get(0).isMimeType("text/plain")).isTrue();
    assertThat(((String) leaves.get(0).getContent()).strip())
        .isEqualTo("Hello Carl,\r\nplease find our proposal attached.\r\nUna");
    assertThat(leaves.get(1).isMimeType("text/html")).isTrue();
    assertThat(((String) leaves.get(1).getContent()).strip())
        .isEqualTo("<p>Hello Carl,</p><p>please find our <b>proposal</b> attached.</p>");
    Part attachment = leaves.get(2);
    assertThat(attachment.isMimeType("application/pdf")).isTrue();
    assertThat(attachment.getDisposition()).isEqualToIgnoringCase(Part.ATTACHMENT);
    assertThat(attachment.getFileName()).isEqualTo("Angebot – Größe.pdf");
    try (InputStream in = attachment.getInputStream()) {
      assertThat(in.readAllBytes()).isEqualTo(pdf);
    }
    assertThat(received("boss@example.test").getMessageID()).isEqualTo(stored.email().messageId());
  }

  @Test
  void tick_withTwelveEmailsFromOneSender_sendsSixPerTick() throws Exception {
    for (int i = 1; i <= 12; i++) {
      store.add(OutgoingEmail.builder("email-" + i, EmailAddress.of("una@example.test"))
          .to(EmailAddress.of("carl@example.test"))
          .subject("Note " + i)
          .textBody("Note number " + i)
          .build());
    }
    RouterEngine engine = engine(server.smtp().build());

    TickReport first = engine.tick();
    TickReport second = engine.tick();

    assertThat(first.sent()).extracting(RouterEvent.EmailSent::activityId)
        .containsExactly("email-1", "email-2", "email-3", "email-4", "email-5", "email-6");
    assertThat(second.sent()).extracting(RouterEvent.EmailSent::activityId)
        .containsExactly("email-7", "email-8", "email-9", "email-10", "email-11", "email-12");
    assertThat(first.problems()).isEmpty();
    assertThat(second.problems()).isEmpty();
    List<String> sentIds = new ArrayList<>();
    for (int i = 1; i <= 12; i++) {
      assertThat(store.status("email-" + i)).isEqualTo(EmailStatus.SENT);
      sentIds.add(store.find("email-" + i).orElseThrow().email().messageId());
    }
    MimeMessage[] arrived = server.greenMail().getReceivedMessages();
    List<String> arrivedIds = new ArrayList<>();
    for (MimeMessage m : arrived) {
      arrivedIds.add(m.getMessageID());
    }
    assertThat(arrivedIds).containsExactlyInAnyOrderElementsOf(sentIds);
    assertThat(engine.tick().sent()).isEmpty();
  }

  @Test
  void tick_whenTheSmtpPasswordIsWrong_reportsTheServerUnavailableAndKeepsTheEmailPendingWithoutAnAttempt()
      throws Exception {
    server.greenMail().getUserManager().setAuthRequired(true);
    server.greenMail().setUser("crm@example.test", "crm-user", "right-password");
    AtomicReference<String> password = new AtomicReference<>("wrong-s3cret");
    SmtpTransport transport = server.smtp()
        .credentials(() -> Credentials.password("crm-user", password.get()))
        .build();
    store.add(OutgoingEmail.builder("email-1", EmailAddress.of("una@example.test"))
        .to(EmailAddress.of("carl@example.test"))
        .subject("Hello")
        .textBody("Hello Carl")
        .build());
    RouterEngine engine = engine(transport);

    TickReport report = engine.tick();

    assertThat(report.sent()).isEmpty();
    assertThat(report.problems()).singleElement().isInstanceOfSatisfying(RouterEvent.ServerUnavailable.class, e -> {
      assertThat(e.server()).isEqualTo(transport.describe()).contains("127.0.0.1:" + server.greenMail().getSmtp().getPort());
      assertThat(e.reason()).contains("refused the login").contains("crm-user").doesNotContain("wrong-s3cret");
      assertThat(e.retryAt()).isAfter(clock.instant());
    });
    RouterEvent.ServerUnavailable unavailable = (RouterEvent.ServerUnavailable) report.problems().get(0);
    assertThat(report.retried()).singleElement().satisfies(e -> assertThat(e.attempts()).isZero());
    StoredEmail stored = store.find("email-1").orElseThrow();
    assertThat(stored.status()).isEqualTo(EmailStatus.PENDING_SEND);
    assertThat(stored.attempts()).isZero();
    assertThat(stored.nextAttemptAt()).isEqualTo(unavailable.retryAt());
    assertThat(server.greenMail().getReceivedMessages()).isEmpty();

    // The host fixes the password; once the backoff is over the email goes out.
    password.set("right-password");
    clock.set(unavailable.retryAt().plus(Duration.ofSeconds(1)));
    TickReport later = engine.tick();

    assertThat(later.sent()).extracting(RouterEvent.EmailSent::activityId).containsExactly("email-1");
    assertThat(store.find("email-1").orElseThrow().attempts()).isEqualTo(1);
    assertThat(server.greenMail().getReceivedMessages()).hasSize(1);
  }

  private RouterEngine engine(SmtpTransport transport) {
    RouterEngine engine = RouterEngine.builder()
        .activityStore(store)
        .transport(transport)
        .clock(clock)
        .random(new Random(5))
        .build();
    engines.add(engine);
    return engine;
  }

  private MimeMessage received(String recipient) {
    return server.greenMail().findReceivedMessages(u -> u.getEmail().equals(recipient), m -> true)
        .findFirst().orElseThrow(() -> new AssertionError("nothing arrived for " + recipient));
  }

  private static List<String> addresses(MimeMessage m, RecipientType type) throws Exception {
    return Arrays.stream(m.getRecipients(type)).map(a -> ((InternetAddress) a).getAddress()).toList();
  }

  private static void collectLeaves(Part part, List<Part> leaves) throws Exception {
    if (part.isMimeType("multipart/*")) {
      Multipart multipart = (Multipart) part.getContent();
      for (int i = 0; i < multipart.getCount(); i++) {
        BodyPart child = multipart.getBodyPart(i);
        collectLeaves(child, leaves);
      }
    } else {
      leaves.add(part);
    }
  }
}
