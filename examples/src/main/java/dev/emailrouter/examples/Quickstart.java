package dev.emailrouter.examples;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.EmailAddress;
import dev.emailrouter.api.EmailStatus;
import dev.emailrouter.api.OutgoingEmail;
import dev.emailrouter.api.Party;
import dev.emailrouter.api.ReceivedEmail;
import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingDecision;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.TickReport;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.PrintStream;
import java.util.Map;
import java.util.Properties;

/**
 * The whole loop in one process: an embedded mail server (GreenMail: SMTP + IMAP on 127.0.0.1), an
 * in-memory CRM with one user and one contact, and a {@link RouterEngine} ticking.
 *
 * <ol>
 *   <li>The user's email goes Pending Send → Sent.
 *   <li>The contact replies (an ordinary mail client answering it); the reply is tracked as
 *       Received and correlated to the sent email.
 *   <li>An unrelated email to the user is rejected with its reason.
 * </ol>
 *
 * <p>Run it with {@code mvn -B -q -pl examples -am -DskipTests package exec:exec}. It exits 0 when
 * all of that happened, 1 otherwise.
 */
public final class Quickstart {
  private static final String PASSWORD = "secret";

  private Quickstart() {}

  /**
   * Runs the demo.
   *
   * @param args ignored
   * @throws Exception if the embedded mail server can't start
   */
  public static void main(String[] args) throws Exception {
    System.exit(run(System.out) ? 0 : 1);
  }

  /**
   * Runs the demo, printing what happens.
   *
   * @param out where to print
   * @return {@code true} when every step happened as expected
   * @throws Exception if the embedded mail server can't start
   */
  public static boolean run(PrintStream out) throws Exception {
    ServerSetup smtp = new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP);
    ServerSetup imap = new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_IMAP);
    smtp.setServerStartupTimeout(30_000);
    imap.setServerStartupTimeout(30_000);
    GreenMail mailServer = new GreenMail(new ServerSetup[] {smtp, imap});
    mailServer.start();
    try {
      mailServer.setUser("user@example.test", "user@example.test", PASSWORD);
      mailServer.setUser("contact@example.test", "contact@example.test", PASSWORD);
      int smtpPort = mailServer.getSmtp().getPort();
      int imapPort = mailServer.getImap().getPort();
      out.printf("Mail server: SMTP 127.0.0.1:%d, IMAP 127.0.0.1:%d%n", smtpPort, imapPort);

      // 1. The CRM: one user, one contact (a host implements ActivityStore over its own database).
      InMemoryActivityStore crm = new InMemoryActivityStore();
      crm.addParty("user@example.test", new Party(Party.Type.USER, "user-1", "Una User"));
      crm.addParty("contact@example.test", new Party(Party.Type.CONTACT, "contact-1", "Carl Contact"));

      // 2. The engine: SMTP out, the user's IMAP mailbox in, tracking replies to CRM email.
      RouterEngine engine = RouterEngine.builder()
          .activityStore(crm)
          .transport(SmtpTransport.builder()
              .host("127.0.0.1").port(smtpPort)
              .security(Security.PLAIN_TEXT_INSECURE) // the embedded server has no TLS; never do this in production
              .build())
          .mailbox(Mailbox.ofUser("user-1", ImapMailboxReader.builder()
              .host("127.0.0.1").port(imapPort)
              .security(Security.PLAIN_TEXT_INSECURE)
              .credentials(Credentials.password("user@example.test", PASSWORD))
              .build()))
          .trackingPolicy(TrackingPolicy.responsesToCrmEmail())
          .listener(event -> out.println("  event: " + describe(event)))
          .build();

      // Test Access (the E-mail Router's button): each server checked step by step, nothing sent or read.
      out.println("Test Access:");
      Map<String, AccessReport> access = engine.testAccess();
      access.values().forEach(report -> out.println("  " + report.toString().replace("\n", "\n  ")));
      boolean accessOk = access.size() == 2 && access.values().stream().allMatch(AccessReport::ok);

      // 3. The user writes to the contact and clicks Send: the activity is Pending Send.
      crm.add(OutgoingEmail.builder("email-1", EmailAddress.of("user@example.test", "Una User"))
          .to(EmailAddress.of("contact@example.test", "Carl Contact"))
          .subject("Our proposal")
          .textBody("Hello Carl,\n\nplease find our proposal below.\n\nUna")
          .build());
      out.println("email-1 is " + crm.status("email-1"));

      out.println("tick 1:");
      TickReport first = engine.tick();
      EmailStatus status = crm.status("email-1");
      String messageId = crm.find("email-1").orElseThrow().email().messageId();
      String subject = crm.find("email-1").orElseThrow().email().subject();
      out.printf("email-1 is %s, Message-ID %s, subject \"%s\"%n", status, messageId, subject);

      // 4. The contact's mail client answers it; a stranger writes too.
      reply(smtpPort, "contact@example.test", "user@example.test", "RE: " + subject, messageId,
          "Thanks Una, we accept.");
      reply(smtpPort, "stranger@example.org", "user@example.test", "Cheap watches", null, "Buy now!");

      out.println("tick 2:");
      TickReport second = engine.tick();
      engine.close();

      boolean sent = status == EmailStatus.SENT && first.sent().size() == 1;
      boolean replyTracked = second.tracked().size() == 1 && crm.received().size() == 1
          && "email-1".equals(crm.received().get(0).correlation().activityId());
      boolean strangerRejected = second.rejected().size() == 1
          && second.rejected().get(0).decision().reason() == TrackingDecision.Reason.NO_CORRELATION_MATCH;
      if (replyTracked) {
        ReceivedEmail r = crm.received().get(0);
        out.printf("Received activity from %s, \"%s\", correlated to %s by %s%n", r.from().address(), r.subject(),
            r.correlation().activityId(), r.correlation().rule());
      }
      out.println(check("Test Access passed for the transport and the mailbox", accessOk));
      out.println(check("the user's email was sent", sent));
      out.println(check("the contact's reply was tracked and correlated to it", replyTracked));
      out.println(check("the unrelated email was rejected (NO_CORRELATION_MATCH)", strangerRejected));
      return accessOk && sent && replyTracked && strangerRejected;
    } finally {
      mailServer.stop();
    }
  }

  /** What a contact's ordinary mail client does when it answers an email. */
  private static void reply(int smtpPort, String from, String to, String subject, String inReplyTo, String text)
      throws Exception {
    Properties props = new Properties();
    props.put("mail.smtp.host", "127.0.0.1");
    props.put("mail.smtp.port", Integer.toString(smtpPort));
    MimeMessage message = new MimeMessage(Session.getInstance(props));
    message.setFrom(new InternetAddress(from));
    message.setRecipient(Message.RecipientType.TO, new InternetAddress(to));
    message.setSubject(subject, "UTF-8");
    if (inReplyTo != null) {
      message.setHeader("In-Reply-To", inReplyTo);
      message.setHeader("References", inReplyTo);
    }
    message.setText(text, "UTF-8");
    Transport.send(message);
  }

  private static String describe(RouterEvent event) {
    if (event instanceof RouterEvent.EmailSent e) {
      return "sent " + e.activityId() + " (" + e.serverReply().strip() + ")";
    }
    if (event instanceof RouterEvent.MessageTracked e) {
      return "tracked " + e.messageId() + " as " + e.activityId() + ": " + e.decision().reason() + " "
          + e.decision().detail();
    }
    if (event instanceof RouterEvent.MessageRejected e) {
      return "rejected " + e.messageId() + ": " + e.decision().reason() + " (" + e.decision().detail() + ")";
    }
    return event.toString();
  }

  private static String check(String what, boolean ok) {
    return (ok ? "[ok]   " : "[FAIL] ") + what;
  }
}
