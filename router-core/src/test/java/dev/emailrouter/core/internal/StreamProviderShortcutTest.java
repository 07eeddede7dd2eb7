package dev.emailrouter.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.MailTransport;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import jakarta.mail.util.StreamProvider;
import org.junit.jupiter.api.Test;

final class StreamProviderShortcutTest {

  @Test
  void buildingAnEngine_namesTheProviderJakartaMailWouldFind_soItNoLongerScansForItEachTime() {
    RouterEngine.builder().activityStore(new InMemoryActivityStore())
        .transport(new MailTransport() {
          @Override
          public Session openSession() {
            throw new UnsupportedOperationException();
          }

          @Override
          public String describe() {
            return "none";
          }
        }).build();

    // Unless the test JVM was started with the property or the opt-out, the engine set it.
    if (!Boolean.getBoolean(StreamProviderShortcut.OPT_OUT)) {
      assertThat(System.getProperty(StreamProviderShortcut.PROPERTY))
          .isEqualTo("org.eclipse.angus.mail.util.MailStreamProvider");
    }
    assertThat(StreamProvider.provider().getClass().getName())
        .isEqualTo("org.eclipse.angus.mail.util.MailStreamProvider");
  }
}
