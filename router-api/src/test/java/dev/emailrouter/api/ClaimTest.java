package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ClaimRequest, Claim and ClaimedEmail: the values of the claim protocol. */
final class ClaimTest {

  private static final Instant NOW = Instant.parse("2024-03-01T08:00:00Z");
  private static final Duration LEASE = Duration.ofMinutes(30);

  @Test
  void claimRequest_leaseUntil_isNowPlusTheLease() {
    ClaimRequest request = new ClaimRequest(NOW, LEASE, 6, 30, "");

    assertThat(request.leaseUntil()).isEqualTo(Instant.parse("2024-03-01T08:30:00Z"));
  }

  @Test
  void claimRequest_whenValid_keepsItsComponents() {
    ClaimRequest request = new ClaimRequest(NOW, Duration.ofMillis(1), 1, 1, "alice@example.com");

    assertThat(request.now()).isEqualTo(NOW);
    assertThat(request.lease()).isEqualTo(Duration.ofMillis(1));
    assertThat(request.perSender()).isEqualTo(1);
    assertThat(request.max()).isEqualTo(1);
    assertThat(request.resumeAfterSender()).isEqualTo("alice@example.com");
  }

  @Test
  void claimRequest_whenTheLeaseIsZero_isRefusedNamingTheValue() {
    assertThatThrownBy(() -> new ClaimRequest(NOW, Duration.ZERO, 6, 30, ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("lease must be positive, was PT0S");
  }

  @Test
  void claimRequest_whenTheLeaseIsNegative_isRefusedNamingTheValue() {
    assertThatThrownBy(() -> new ClaimRequest(NOW, Duration.ofSeconds(-5), 6, 30, ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("lease must be positive, was PT-5S");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1})
  void claimRequest_whenPerSenderIsBelowOne_isRefusedNamingTheValue(int perSender) {
    assertThatThrownBy(() -> new ClaimRequest(NOW, LEASE, perSender, 30, ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("perSender must be at least 1, was " + perSender);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1})
  void claimRequest_whenMaxIsBelowOne_isRefusedNamingTheValue(int max) {
    assertThatThrownBy(() -> new ClaimRequest(NOW, LEASE, 6, max, ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("max must be at least 1, was " + max);
  }

  @Test
  void claimRequest_whenAComponentIsNull_throwsNullPointerNamingIt() {
    assertThatThrownBy(() -> new ClaimRequest(null, LEASE, 6, 30, "")).hasMessage("now");
    assertThatThrownBy(() -> new ClaimRequest(NOW, null, 6, 30, "")).hasMessage("lease");
    assertThatThrownBy(() -> new ClaimRequest(NOW, LEASE, 6, 30, null)).hasMessage("resumeAfterSender");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "\t"})
  void claim_whenTheTokenIsBlank_isRefused(String token) {
    assertThatThrownBy(() -> new Claim("email-1", token, NOW))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("token must not be blank");
  }

  @Test
  void claim_whenAComponentIsNull_throwsNullPointerNamingIt() {
    assertThatThrownBy(() -> new Claim(null, "t", NOW)).hasMessage("activityId");
    assertThatThrownBy(() -> new Claim("e", null, NOW)).hasMessage("token");
    assertThatThrownBy(() -> new Claim("e", "t", null)).hasMessage("leaseUntil");
  }

  @Test
  void claimedEmail_whenTheClaimIsForTheEmail_keepsBoth() {
    OutgoingEmail email = email("email-1");
    Claim claim = new Claim("email-1", "tok-1", NOW);

    ClaimedEmail claimed = new ClaimedEmail(email, claim);

    assertThat(claimed.email()).isSameAs(email);
    assertThat(claimed.claim()).isSameAs(claim);
  }

  @Test
  void claimedEmail_whenTheActivityIdsDiffer_isRefusedNamingBoth() {
    assertThatThrownBy(() -> new ClaimedEmail(email("email-1"), new Claim("email-2", "tok-1", NOW)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("claim is for activity email-2 but the email is activity email-1");
  }

  @Test
  void claimedEmail_whenAComponentIsNull_throwsNullPointerNamingIt() {
    assertThatThrownBy(() -> new ClaimedEmail(null, new Claim("e", "t", NOW))).hasMessage("email");
    assertThatThrownBy(() -> new ClaimedEmail(email("e"), null)).hasMessage("claim");
  }

  private static OutgoingEmail email(String activityId) {
    return OutgoingEmail.builder(activityId, EmailAddress.of("sales@example.com"))
        .to(EmailAddress.of("customer@example.org")).build();
  }
}
