package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class OutgoingEmailTest {

  private static final EmailAddress FROM = EmailAddress.of("sales@example.com", "Sales");
  private static final EmailAddress TO_1 = EmailAddress.of("to1@example.org");
  private static final EmailAddress TO_2 = EmailAddress.of("to2@example.org");
  private static final EmailAddress CC = EmailAddress.of("cc@example.org");
  private static final EmailAddress BCC = EmailAddress.of("bcc@example.org");
  private static final Attachment PDF =
      new Attachment("offer.pdf", "application/pdf", 3, ContentSource.ofBytes(new byte[] {1, 2, 3}));

  @Test
  void build_whenThereIsNoRecipient_isRefusedNamingTheActivity() {
    OutgoingEmail.Builder builder = OutgoingEmail.builder("email-7", FROM).subject("Hello");

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("an email needs at least one recipient in to, cc or bcc; activity email-7 has none");
  }

  @Test
  void build_whenTheOnlyRecipientIsCcOrBcc_isAccepted() {
    assertThat(OutgoingEmail.builder("e", FROM).cc(CC).build().recipients()).containsExactly(CC);
    assertThat(OutgoingEmail.builder("e", FROM).bcc(BCC).build().recipients()).containsExactly(BCC);
  }

  @Test
  void builder_defaultsToAnEmptySubjectNoBodyNoIdentityAndZeroAttempts() {
    OutgoingEmail email = OutgoingEmail.builder("email-1", FROM).to(TO_1).build();

    assertThat(email.activityId()).isEqualTo("email-1");
    assertThat(email.from()).isEqualTo(FROM);
    assertThat(email.to()).containsExactly(TO_1);
    assertThat(email.cc()).isEmpty();
    assertThat(email.bcc()).isEmpty();
    assertThat(email.subject()).isEmpty();
    assertThat(email.textBody()).isNull();
    assertThat(email.htmlBody()).isNull();
    assertThat(email.attachments()).isEmpty();
    assertThat(email.inReplyTo()).isNull();
    assertThat(email.references()).isEmpty();
    assertThat(email.messageId()).isNull();
    assertThat(email.trackingToken()).isNull();
    assertThat(email.attempts()).isZero();
  }

  @Test
  void builder_setsEveryComponent_addingRepeatedListCallsInOrder() {
    OutgoingEmail email = OutgoingEmail.builder("email-2", FROM)
        .to(TO_1).to(TO_2).cc(CC).bcc(BCC)
        .subject("Offer")
        .textBody("text")
        .htmlBody("<p>html</p>")
        .attachment(PDF)
        .inReplyTo("<parent@example.org>")
        .references("<root@example.org>").references("<parent@example.org>")
        .messageId("<m1@example.com>")
        .trackingToken("CRM:0001")
        .attempts(3)
        .build();

    assertThat(email.to()).containsExactly(TO_1, TO_2);
    assertThat(email.cc()).containsExactly(CC);
    assertThat(email.bcc()).containsExactly(BCC);
    assertThat(email.subject()).isEqualTo("Offer");
    assertThat(email.textBody()).isEqualTo("text");
    assertThat(email.htmlBody()).isEqualTo("<p>html</p>");
    assertThat(email.attachments()).containsExactly(PDF);
    assertThat(email.inReplyTo()).isEqualTo("<parent@example.org>");
    assertThat(email.references()).containsExactly("<root@example.org>", "<parent@example.org>");
    assertThat(email.messageId()).isEqualTo("<m1@example.com>");
    assertThat(email.trackingToken()).isEqualTo("CRM:0001");
    assertThat(email.attempts()).isEqualTo(3);
  }

  @Test
  void recipients_listsToThenCcThenBcc() {
    OutgoingEmail email = OutgoingEmail.builder("e", FROM).bcc(BCC).cc(CC).to(TO_1, TO_2).build();

    assertThat(email.recipients()).containsExactly(TO_1, TO_2, CC, BCC);
    assertThatThrownBy(() -> email.recipients().add(TO_1)).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void build_whenTheBuilderChangesAfterwards_theBuiltEmailDoesNotChange() {
    OutgoingEmail.Builder builder = OutgoingEmail.builder("e", FROM).to(TO_1).references("<r1@x>").attachment(PDF);
    OutgoingEmail email = builder.build();

    builder.to(TO_2).cc(CC).bcc(BCC).references("<r2@x>").attachment(PDF).subject("changed").attempts(9);

    assertThat(email.to()).containsExactly(TO_1);
    assertThat(email.cc()).isEmpty();
    assertThat(email.bcc()).isEmpty();
    assertThat(email.references()).containsExactly("<r1@x>");
    assertThat(email.attachments()).containsExactly(PDF);
    assertThat(email.subject()).isEmpty();
    assertThat(email.attempts()).isZero();
    assertThat(builder.build().to()).containsExactly(TO_1, TO_2);
  }

  @Test
  void new_whenTheSourceListsChangeAfterwards_theEmailDoesNotChange() {
    List<EmailAddress> to = new ArrayList<>(List.of(TO_1));
    List<EmailAddress> cc = new ArrayList<>();
    List<EmailAddress> bcc = new ArrayList<>();
    List<Attachment> attachments = new ArrayList<>();
    List<String> references = new ArrayList<>(List.of("<r1@x>"));
    OutgoingEmail email = new OutgoingEmail("e", FROM, to, cc, bcc, "s", null, null, attachments, null, references,
        null, null, 0);

    to.add(TO_2);
    cc.add(CC);
    bcc.add(BCC);
    attachments.add(PDF);
    references.add("<r2@x>");

    assertThat(email.to()).containsExactly(TO_1);
    assertThat(email.cc()).isEmpty();
    assertThat(email.bcc()).isEmpty();
    assertThat(email.attachments()).isEmpty();
    assertThat(email.references()).containsExactly("<r1@x>");
  }

  @Test
  void lists_areUnmodifiable() {
    OutgoingEmail email = OutgoingEmail.builder("e", FROM).to(TO_1).cc(CC).bcc(BCC).attachment(PDF)
        .references("<r@x>").build();

    assertThatThrownBy(() -> email.to().add(TO_2)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> email.cc().clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> email.bcc().remove(0)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> email.attachments().add(PDF)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> email.references().add("<s@x>")).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void withIdentity_setsMessageIdTokenAndSubject_andKeepsEverythingElse() {
    OutgoingEmail email = fullyPopulated().subject("Offer").build();

    OutgoingEmail sent = email.withIdentity("<id@example.com>", "CRM:0042", "Offer CRM:0042");

    assertThat(sent).isEqualTo(fullyPopulated()
        .subject("Offer CRM:0042").messageId("<id@example.com>").trackingToken("CRM:0042").build());
    assertThat(email.messageId()).isNull();
    assertThat(email.trackingToken()).isNull();
    assertThat(email.subject()).isEqualTo("Offer");
  }

  private static OutgoingEmail.Builder fullyPopulated() {
    return OutgoingEmail.builder("email-3", FROM)
        .to(TO_1, TO_2).cc(CC).bcc(BCC).textBody("t").htmlBody("h").attachment(PDF)
        .inReplyTo("<p@x>").references("<r1@x>", "<r2@x>").attempts(2);
  }

  @Test
  void withIdentity_whenTokensAreOff_acceptsANullToken_butNotANullMessageId() {
    OutgoingEmail email = OutgoingEmail.builder("e", FROM).to(TO_1).build();

    assertThat(email.withIdentity("<id@x>", null, "").trackingToken()).isNull();
    assertThatThrownBy(() -> email.withIdentity(null, null, ""))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("newMessageId");
  }

  @Test
  void new_whenTheActivityIdIsBlank_isRefused() {
    assertThatThrownBy(() -> OutgoingEmail.builder(" ", FROM).to(TO_1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("activityId must not be blank");
  }

  @Test
  void new_whenAttemptsAreNegative_isRefusedNamingTheValue() {
    assertThatThrownBy(() -> OutgoingEmail.builder("e", FROM).to(TO_1).attempts(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("attempts must be at least 0, was -1");
  }

  @Test
  void new_whenARequiredComponentIsNull_throwsNullPointerNamingIt() {
    assertThatThrownBy(() -> OutgoingEmail.builder(null, FROM).to(TO_1).build()).hasMessage("activityId");
    assertThatThrownBy(() -> OutgoingEmail.builder("e", null).to(TO_1).build()).hasMessage("from");
    assertThatThrownBy(() -> OutgoingEmail.builder("e", FROM).to(TO_1).subject(null).build()).hasMessage("subject");
  }

  @Test
  void acceptedRecipients_areKeptOncePerAddress_andLeftOutOfThePendingRecipients_caseInsensitively() {
    OutgoingEmail email = OutgoingEmail.builder("e", FROM).to(TO_1, TO_2).cc(CC).bcc(BCC)
        .acceptedRecipients(EmailAddress.of("TO1@example.org"), EmailAddress.of("to1@EXAMPLE.org", "Again"), BCC)
        .build();

    assertThat(email.acceptedRecipients()).containsExactly(EmailAddress.of("TO1@example.org"), BCC);
    assertThat(email.pendingRecipients()).containsExactly(TO_2, CC);
    assertThat(email.isAccepted(TO_1)).isTrue();
    assertThat(email.isAccepted(CC)).isFalse();
    assertThat(email.to()).as("the headers still name everybody").containsExactly(TO_1, TO_2);
  }

  @Test
  void theConstructorWithoutAcceptedRecipients_andWithIdentity_keepWhatTheyShould() {
    OutgoingEmail plain = new OutgoingEmail("e", FROM, List.of(TO_1, TO_1), List.of(), List.of(), "s", null, null,
        List.of(), null, List.of(), null, null, 2);
    OutgoingEmail partly = plain.withAcceptedRecipients(List.of(TO_1)).withIdentity("<id@example.com>", null, "s");

    assertThat(plain.acceptedRecipients()).isEmpty();
    assertThat(plain.pendingRecipients()).containsExactly(TO_1);
    assertThat(partly.acceptedRecipients()).containsExactly(TO_1);
    assertThat(partly.pendingRecipients()).isEmpty();
    assertThat(partly.attempts()).isEqualTo(2);
  }
}
