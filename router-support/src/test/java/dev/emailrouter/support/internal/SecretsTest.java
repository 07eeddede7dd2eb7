package dev.emailrouter.support.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.RouterException;
import dev.emailrouter.api.TransientRouterException;
import jakarta.mail.AuthenticationFailedException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

final class SecretsTest {

  @Test
  void withoutSecretInCause_whenTheServerQuotedThePassword_masksItInTheCauseAndKeepsTheKindAndMessage() {
    RouterException failure = new PermanentRouterException("login refused for user crm",
        new AuthenticationFailedException("535 password 'hunter2' is wrong"));

    RouterException safe = Secrets.withoutSecretInCause(failure, "hunter2");

    assertThat(safe).isInstanceOf(PermanentRouterException.class).hasMessage("login refused for user crm");
    assertThat(safe.getCause()).hasMessageContaining("AuthenticationFailedException")
        .hasMessageContaining("535 password '***' is wrong");
    StringWriter trace = new StringWriter();
    safe.printStackTrace(new PrintWriter(trace));
    assertThat(trace.toString()).doesNotContain("hunter2");
  }

  @Test
  void withoutSecretInCause_whenADeeperCauseQuotesIt_masksTheWholeChain() {
    RouterException failure = new TransientRouterException("lost", new IOException("outer",
        new IOException("inner hunter2")));

    RouterException safe = Secrets.withoutSecretInCause(failure, "hunter2");

    assertThat(safe).isInstanceOf(TransientRouterException.class);
    assertThat(safe.getCause().getMessage()).contains("outer").contains("inner ***").doesNotContain("hunter2");
  }

  @Test
  void withoutSecretInCause_whenNoCauseQuotesIt_returnsTheSameException() {
    RouterException failure = new TransientRouterException("lost", new IOException("connection reset"));

    assertThat(Secrets.withoutSecretInCause(failure, "hunter2")).isSameAs(failure);
    assertThat(Secrets.withoutSecretInCause(failure, null)).isSameAs(failure);
  }
}
