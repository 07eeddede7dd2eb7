package dev.emailrouter.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.AccessReport;
import dev.emailrouter.api.AccessStep;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.api.PermanentRouterException;
import java.util.Map;
import org.junit.jupiter.api.Test;

final class TestAccessTest {

  @Test
  void testAccess_reportsTheTransportThenEachMailboxByName_withoutRunningATick() {
    InMemoryActivityStore store = new InMemoryActivityStore();
    FakeMailbox good = new FakeMailbox("good");
    good.add("Subject: waiting\r\n\r\nbody\r\n");
    FakeMailbox refusing = new FakeMailbox("refusing");
    refusing.failOpen(1, new PermanentRouterException("fake://refusing refused the login of user sales"));
    RecordingTransport transport = new RecordingTransport();
    RouterEngine engine = RouterEngine.builder().activityStore(store).transport(transport)
        .mailbox(Mailbox.ofQueue("q-1", good))
        .mailbox(Mailbox.ofQueue("q-2", refusing).withName("support"))
        .build();

    Map<String, AccessReport> reports = engine.testAccess();

    assertThat(reports.keySet()).containsExactly("transport", good.describe(), "support");
    assertThat(reports.get("transport").ok()).isTrue();
    assertThat(reports.get("transport").target()).isEqualTo("smtp://fake:25");
    assertThat(reports.get(good.describe()).ok()).isTrue();
    AccessStep failure = reports.get("support").firstFailure().orElseThrow();
    assertThat(failure.check()).isEqualTo(AccessStep.Check.LOGIN);
    assertThat(failure.detail()).contains("refused the login");
    // Nothing was read or sent: the message waits, and no tick ran.
    assertThat(good.size()).isEqualTo(1);
    assertThat(transport.attempts()).isEmpty();
    assertThat(engine.lastSuccessfulPass(good.describe())).isEmpty();
  }

  @Test
  void aReaderWhoseTestAccessThrows_isReportedAsFailed_andTheOthersStillRun() {
    FakeMailbox good = new FakeMailbox("good");
    MailboxReader broken = new MailboxReader() {
      @Override
      public String describe() {
        return "custom://broken";
      }

      @Override
      public Session open() {
        throw new UnsupportedOperationException();
      }

      @Override
      public AccessReport testAccess() {
        throw new IllegalStateException("bug in the host's reader");
      }
    };
    RouterEngine engine = RouterEngine.builder().activityStore(new InMemoryActivityStore())
        .mailbox(Mailbox.ofQueue("q-1", broken)).mailbox(Mailbox.ofQueue("q-2", good)).build();

    Map<String, AccessReport> reports = engine.testAccess();

    assertThat(reports.get(broken.describe()).firstFailure().orElseThrow().detail())
        .contains("IllegalStateException").contains("bug in the host's reader");
    assertThat(reports.get(good.describe()).ok()).isTrue();
  }
}
