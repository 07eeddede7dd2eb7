package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Security;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import org.junit.jupiter.api.Test;

final class SmtpSessionBoundTest {

  private static SmtpTransport transport(int maxSessions) {
    return SmtpTransport.builder().host("127.0.0.1").port(2525).security(Security.PLAIN_TEXT_INSECURE)
        .maxSessions(maxSessions).build();
  }

  @Test
  void maxSessions_isReportedToTheEngine_defaultFour() {
    assertThat(SmtpTransport.builder().host("127.0.0.1").build().maxSessions()).hasValue(4);
    assertThat(transport(7).maxSessions()).hasValue(7);
  }

  @Test
  void anEngineWithMoreSendSessionsThanMaxSessions_isRefusedAtBuild_namingBoth() {
    assertThatThrownBy(() -> RouterEngine.builder().activityStore(new InMemoryActivityStore())
        .transport(transport(4)).sendSessions(8).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sendSessions (8)").hasMessageContaining("maxSessions (4)");
  }
}
