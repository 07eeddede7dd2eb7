package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

final class ReceivedEmailTest {

  private static final Party OWNER = new Party(Party.Type.USER, "u1", "User One");
  private static final TrackingDecision DECISION = TrackingDecision.track(TrackingDecision.Reason.ACCEPT_ALL, "all");
  private static final Instant NOW = Instant.parse("2026-12-07T10:00:00Z");

  @Test
  void builder_setsEachComponentByName_andDefaultsListsAndSubjectToEmpty() {
    ReceivedEmail email = ReceivedEmail.builder()
        .dedupKey("<a@example.org>").messageId("<a@example.org>").mailbox("imap://sales@mail.example.org/INBOX")
        .owner(OWNER).from(EmailAddress.of("c@example.org")).receivedAt(NOW).decision(DECISION)
        .inReplyTo("<p@example.com>").textBody("hello")
        .build();

    assertThat(email.dedupKey()).isEqualTo("<a@example.org>");
    assertThat(email.mailbox()).isEqualTo("imap://sales@mail.example.org/INBOX");
    assertThat(email.from()).isEqualTo(EmailAddress.of("c@example.org"));
    assertThat(email.inReplyTo()).isEqualTo("<p@example.com>");
    assertThat(email.textBody()).isEqualTo("hello");
    assertThat(email.subject()).isEmpty();
    assertThat(email.to()).isEmpty();
    assertThat(email.attachments()).isEmpty();
    assertThat(email.references()).isEmpty();
    assertThat(email.contentDigest()).isNull();
  }

  @Test
  void toBuilder_copiesEveryComponent_soAChangedCopyKeepsTheRest() {
    ReceivedEmail email = ReceivedEmail.builder()
        .dedupKey("<a@example.org>").messageId("<a@example.org>").mailbox("mb").owner(OWNER)
        .to(List.of(EmailAddress.of("sales@example.com"))).cc(List.of(EmailAddress.of("cc@example.com")))
        .subject("Re: offer").sentAt(NOW.minusSeconds(60)).receivedAt(NOW).htmlBody("<p>hi</p>")
        .droppedAttachments(List.of("x.exe: blocked")).references(List.of("<r@example.com>"))
        .correlation(new Correlation("act-1", Correlation.Rule.IN_REPLY_TO, "<p@example.com>")).decision(DECISION)
        .contentDigest("sha256:" + "ab".repeat(32))
        .build();

    assertThat(email.toBuilder().build()).isEqualTo(email);
    ReceivedEmail changed = email.toBuilder().subject("other").build();
    assertThat(changed.subject()).isEqualTo("other");
    assertThat(changed.toBuilder().subject("Re: offer").build()).isEqualTo(email);
  }

  @Test
  void build_withoutARequiredComponent_namesIt() {
    assertThatThrownBy(() -> ReceivedEmail.builder().dedupKey("k").mailbox("mb").owner(OWNER).receivedAt(NOW).build())
        .isInstanceOf(NullPointerException.class).hasMessage("decision");
    assertThatThrownBy(() -> ReceivedEmail.builder().mailbox("mb").owner(OWNER).receivedAt(NOW).decision(DECISION)
        .build())
        .isInstanceOf(NullPointerException.class).hasMessage("dedupKey");
  }

  @Test
  void build_withAContentDigestNotSha256AndLowerCaseHex_refusesIt() {
    ReceivedEmail.Builder b = ReceivedEmail.builder().dedupKey("k").mailbox("mb").owner(OWNER).receivedAt(NOW)
        .decision(DECISION);
    assertThat(b.contentDigest("sha256:" + "0123456789abcdef".repeat(4)).build().contentDigest()).hasSize(71);
    for (String bad : List.of("sha256:" + "AB".repeat(32), "sha256:" + "ab".repeat(31), "sha256:" + "ab".repeat(33),
        "sha1:" + "ab".repeat(33), "sha256:" + "ab".repeat(31) + "ag", "")) {
      assertThatThrownBy(() -> b.contentDigest(bad).build()).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("contentDigest must be sha256:");
    }
  }
}
