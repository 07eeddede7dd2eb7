package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CR/LF injection from the CRM's own data: rows with line breaks in the subject, In-Reply-To,
 * References, a recorded Message-ID, display names, addresses and attachment names (written by
 * SQL, as a buggy or hostile CRM could), plus an SMTP-smuggling body. Each bad email fails with the
 * reason before anything of it reaches the wire; the good email of the same batch goes out; the
 * server sees no injected header, recipient or command.
 */
final class HeaderInjectionTest {
  private static final String EVIL = "evil.example.test";

  @TempDir
  Path dir;

  private World world;

  @BeforeEach
  void start() {
    world = new World(dir).withSink(SmtpSink.builder().keepContent().recordCommands().start());
  }

  @AfterEach
  void stop() {
    world.close();
  }

  @Test
  void tick_whenStoreDataCarriesLineBreaks_failsThoseEmailsBeforeTheWireAndSendsTheRest() {
    EmailAddress from = EmailAddress.of("seller@crm.example.test");
    EmailAddress to = EmailAddress.of("contact@example.test");
    world.crm.add(OutgoingEmail.builder("good", from).to(to).subject("Fine").textBody("ok").build());
    world.crm.add(OutgoingEmail.builder("subject", from).to(to)
        .subject("Hello\r\nBcc: victim@" + EVIL).textBody("x").build());
    world.crm.add(OutgoingEmail.builder("subject-lf", from).to(to)
        .subject("Hello\nX-Injected: " + EVIL).textBody("x").build());
    world.crm.add(OutgoingEmail.builder("in-reply-to", from).to(to).subject("Re")
        .inReplyTo("<a@example.test>\r\nBcc: victim@" + EVIL).textBody("x").build());
    world.crm.add(OutgoingEmail.builder("references", from).to(to).subject("Re")
        .references("<a@example.test>\r\nX-Injected:" + EVIL).textBody("x").build());
    world.crm.add(OutgoingEmail.builder("message-id", from).to(to).subject("Id").textBody("x").build());
    world.crm.execute("UPDATE email_activity SET message_id = ? WHERE id = 'message-id'",
        "<x@example.test>\r\nBcc: victim@" + EVIL);
    world.crm.add(OutgoingEmail.builder("display-name", from).to(to).subject("Name").textBody("x").build());
    world.crm.execute("UPDATE email_activity_party SET display_name = ? WHERE email_id = 'display-name'",
        "A Contact\r\nBcc: victim@" + EVIL);
    world.crm.add(OutgoingEmail.builder("sender-name", from).to(to).subject("Name").textBody("x").build());
    world.crm.execute("UPDATE email_activity SET sender_name = ? WHERE id = 'sender-name'",
        "Seller\rBcc: victim@" + EVIL);
    world.crm.add(OutgoingEmail.builder("address", from).to(to).subject("Address").textBody("x").build());
    world.crm.execute("UPDATE email_activity_party SET address = ? WHERE email_id = 'address'",
        "contact@example.test>\r\nRCPT TO:<victim@" + EVIL);
    world.crm.add(OutgoingEmail.builder("attachment", from).to(to).subject("File").textBody("x").build());
    world.crm.execute("INSERT INTO email_attachment (email_id, position, file_name, content_type, size, content)"
        + " VALUES ('attachment', 0, ?, 'text/plain', 3, ?)", "a.txt\r\nContent-Type: text/html",
        "abc".getBytes(StandardCharsets.US_ASCII));
    world.crm.add(OutgoingEmail.builder("smuggling", from).to(to).subject("Smuggle")
        .textBody("line\r\n.\r\nMAIL FROM:<spoof@" + EVIL + ">\r\nRCPT TO:<victim@" + EVIL + ">\r\nDATA\r\n"
            + "From: ceo@crm.example.test\r\n\r\nsend money\r\n.\r\n").build());
    World.Node node = world.node("node", new World.Options().engine(b -> b.batchPerSender(20)));

    node.tick();

    Map<String, Crm.Outgoing> rows = world.crm.outgoing();
    assertThat(rows.get("good").status()).isEqualTo(EmailStatus.SENT);
    assertThat(rows.get("smuggling").status()).as("a dot line in the body is data, not the end of it")
        .isEqualTo(EmailStatus.SENT);
    for (String bad : new String[] {"subject", "subject-lf", "in-reply-to", "references", "message-id",
        "display-name", "sender-name", "address", "attachment"}) {
      Crm.Outgoing row = rows.get(bad);
      assertThat(row.status()).as("status of %s", bad).isEqualTo(EmailStatus.FAILED);
      // router-jdbc keeps References as Message-IDs separated by white space, so the line break is gone by the
      // time the engine reads them back; what follows it is then no Message-ID, and refused as such.
      String[] reasons = bad.equals("references") ? new String[] {"must be a Message-ID"}
          : new String[] {"CR/LF", "control characters", "address must"};
      assertThat(row.lastReason()).as("reason of %s", bad).containsAnyOf(reasons);
    }
    assertThat(world.sink.received()).as("only the two clean emails reached the server").hasSize(2);
    for (SmtpSink.Received r : world.sink.received()) {
      String data = new String(r.content(), StandardCharsets.ISO_8859_1);
      String headerBlock = data.substring(0, data.indexOf("\r\n\r\n"));
      assertThat(r.recipients()).containsExactly("contact@example.test");
      assertThat(headerBlock).doesNotContain(EVIL);
    }
    assertThat(new String(world.sink.received().get(1).content(), StandardCharsets.ISO_8859_1))
        .as("the smuggled lines arrive as message data (the sink unstuffs the dot)")
        .contains("line\r\n.\r\nMAIL FROM:<spoof@");
    assertThat(world.sink.commands()).as("commands the server saw")
        .noneMatch(c -> c.contains(EVIL) && (c.startsWith("MAIL") || c.startsWith("RCPT")));
    assertThat(world.sink.authAttempts()).isEmpty();
    Figures.record(HeaderInjectionTest.class, "CR/LF from store data (9 fields) + SMTP smuggling body", 10, 11, 0, 0,
        "9 refused before the wire, 2 sent clean");
  }
}
