package dev.emailrouter.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.emailrouter.api.MailTransport;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import jakarta.mail.util.StreamProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;

@DisabledIfSystemProperty(named = StreamProviderShortcut.OPT_OUT, matches = "true")
final class StreamProviderShortcutTest {

  private final String before = System.getProperty(StreamProviderShortcut.PROPERTY);

  @AfterEach
  void restoreProperty() {
    if (before == null) {
      System.clearProperty(StreamProviderShortcut.PROPERTY);
    } else {
      System.setProperty(StreamProviderShortcut.PROPERTY, before);
    }
  }

  @Test
  void buildingAnEngine_namesTheProviderJakartaMailWouldFind_soItNoLongerScansForItEachTime() {
    System.clearProperty(StreamProviderShortcut.PROPERTY);

    engine().build();

    assertThat(System.getProperty(StreamProviderShortcut.PROPERTY))
        .isEqualTo("org.eclipse.angus.mail.util.MailStreamProvider");
    assertThat(StreamProvider.provider().getClass().getName())
        .isEqualTo("org.eclipse.angus.mail.util.MailStreamProvider");
  }

  @Test
  void nameStreamProviderFalse_leavesTheJvmWidePropertyAlone() {
    System.clearProperty(StreamProviderShortcut.PROPERTY);

    engine().nameStreamProvider(false).build();

    assertThat(System.getProperty(StreamProviderShortcut.PROPERTY)).isNull();
  }

  @Test
  void aPropertyTheHostSet_isNeverReplaced() {
    System.setProperty(StreamProviderShortcut.PROPERTY, "host.Choice");

    engine().build();

    assertThat(System.getProperty(StreamProviderShortcut.PROPERTY)).isEqualTo("host.Choice");
  }

  private static RouterEngine.Builder engine() {
    return RouterEngine.builder().activityStore(new InMemoryActivityStore())
        .transport(new MailTransport() {
          @Override
          public Session openSession() {
            throw new UnsupportedOperationException();
          }

          @Override
          public String describe() {
            return "none";
          }
        });
  }
}
