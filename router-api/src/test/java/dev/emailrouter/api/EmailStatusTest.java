package dev.emailrouter.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

final class EmailStatusTest {

  @ParameterizedTest
  @CsvSource({
      "DRAFT, 1",
      "COMPLETED, 2",
      "SENT, 3",
      "RECEIVED, 4",
      "CANCELED, 5",
      "PENDING_SEND, 6",
      "SENDING, 7",
      "FAILED, 8"})
  void code_isTheDynamicsStatusCode(EmailStatus status, int code) {
    assertThat(status.code()).isEqualTo(code);
  }

  @Test
  void values_areExactlyTheEightDynamicsStatuses() {
    assertThat(EmailStatus.values()).hasSize(8);
  }

  @ParameterizedTest
  @EnumSource(EmailStatus.class)
  void ofCode_roundTripsEveryStatus(EmailStatus status) {
    assertThat(EmailStatus.ofCode(status.code())).isSameAs(status);
  }

  @ParameterizedTest
  @ValueSource(ints = {9, 0, -1})
  void ofCode_whenNoStatusHasTheCode_isRefusedNamingTheValue(int code) {
    assertThatThrownBy(() -> EmailStatus.ofCode(code))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("code must be an email statuscode between 1 and 8, was " + code);
  }
}
