package dev.emailrouter.support.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.PermanentRouterException;
import dev.emailrouter.api.TokenSource;
import dev.emailrouter.api.TransientRouterException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The one "log in; on a refused OAuth2 token invalidate it and retry once" loop of SMTP, IMAP and POP3. */
final class LoginCredentialsTest {

  /** Hands out token-1, token-2, ... and records what it was told. */
  private static final class Tokens implements TokenSource {
    final AtomicInteger issued = new AtomicInteger();
    final List<String> invalidated = new ArrayList<>();

    @Override
    public Credentials get() {
      return Credentials.oauth2("sales", "token-" + issued.incrementAndGet());
    }

    @Override
    public void invalidate(String rejectedToken) {
      invalidated.add(rejectedToken);
    }
  }

  private static PermanentRouterException refusal(Credentials c, boolean retry) {
    return new PermanentRouterException("refused the token of " + c.username() + (retry ? ", also fresh" : ""));
  }

  @Test
  void logIn_whenTheTokenIsRefusedOnce_invalidatesItAndLogsInWithAFreshOne() {
    Tokens tokens = new Tokens();
    List<String> tried = new ArrayList<>();

    String result = new LoginCredentials(tokens, "imap://h", "sales").logIn((c, retry) -> {
      tried.add(c.secret() + (retry ? " (retry)" : ""));
      if (!retry) {
        throw new LoginCredentials.TokenRefused(refusal(c, false));
      }
      return "logged in with " + c.secret();
    });

    assertThat(result).isEqualTo("logged in with token-2");
    assertThat(tried).containsExactly("token-1", "token-2 (retry)");
    assertThat(tokens.invalidated).containsExactly("token-1");
  }

  @Test
  void logIn_whenTheFreshTokenIsRefusedToo_throwsTheSecondRefusalWithoutAThirdTry() {
    Tokens tokens = new Tokens();
    AtomicInteger attempts = new AtomicInteger();

    assertThatThrownBy(() -> new LoginCredentials(tokens, "imap://h", null).logIn((c, retry) -> {
      attempts.incrementAndGet();
      throw new LoginCredentials.TokenRefused(refusal(c, retry));
    }))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessage("refused the token of sales, also fresh");
    assertThat(attempts).hasValue(2);
    assertThat(tokens.invalidated).containsExactly("token-1");
  }

  @Test
  void logIn_withAPlainSupplier_throwsTheFirstRefusal_asNothingCanRefreshTheToken() {
    AtomicInteger attempts = new AtomicInteger();

    assertThatThrownBy(() -> new LoginCredentials(() -> Credentials.oauth2("sales", "t"), "imap://h", null)
        .logIn((c, retry) -> {
          attempts.incrementAndGet();
          throw new LoginCredentials.TokenRefused(refusal(c, retry));
        }))
        .isInstanceOf(PermanentRouterException.class)
        .hasMessage("refused the token of sales");
    assertThat(attempts).hasValue(1);
  }

  @Test
  void logIn_whenAnotherFailure_isNotRetried() {
    Tokens tokens = new Tokens();

    assertThatThrownBy(() -> new LoginCredentials(tokens, "imap://h", null).logIn((c, retry) -> {
      throw new TransientRouterException("server unavailable");
    })).isInstanceOf(TransientRouterException.class);
    assertThat(tokens.issued).hasValue(1);
    assertThat(tokens.invalidated).isEmpty();
  }

  @Test
  void get_whenTheSupplierFails_isTransientWithoutItsMessage() {
    LoginCredentials credentials = new LoginCredentials(() -> {
      throw new IllegalStateException("vault said s3cret");
    }, "pop3://sales@h:110", null);

    assertThatThrownBy(credentials::get)
        .isInstanceOf(TransientRouterException.class)
        .hasMessage("credentials for pop3://sales@h:110 could not be obtained: the credentials supplier failed with "
            + "java.lang.IllegalStateException; retrying later")
        .hasRootCauseMessage("vault said s3cret");
  }

  @Test
  void get_whenNullOrAnotherUser_isPermanent() {
    assertThatThrownBy(() -> new LoginCredentials(() -> null, "imap://h", null).get())
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("returned null");
    assertThatThrownBy(() -> new LoginCredentials(() -> Credentials.password("other", "pw"), "imap://h", "sales").get())
        .isInstanceOf(PermanentRouterException.class)
        .hasMessageContaining("returned user other but the reader was built for user sales")
        .hasMessageNotContaining("pw");
  }
}
