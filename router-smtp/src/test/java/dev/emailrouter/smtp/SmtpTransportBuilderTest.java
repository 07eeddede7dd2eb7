package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.Security;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import dev.emailrouter.api.ServerSettings;
import org.junit.jupiter.api.Test;

/** What the builder accepts, refuses, and defaults to; nothing here touches the network. */
final class SmtpTransportBuilderTest {

  @Test
  void build_withoutHost_failsNamingTheSetting() {
    assertThatThrownBy(() -> SmtpTransport.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("host is required, was not set: call host(\"mail.example.com\")");
  }

  @Test
  void host_whenAUrlOrBlank_failsNamingTheValue() {
    assertThatThrownBy(() -> SmtpTransport.builder().host("smtp://mail.example.com"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("host must be a host name or an IP address such as mail.example.com, was \"smtp://mail.example.com\"");
    assertThatThrownBy(() -> SmtpTransport.builder().host(" "))
        .hasMessageStartingWith("host must be");
    assertThatThrownBy(() -> SmtpTransport.builder().host("mail.example.com\r\nX-Evil: 1"))
        .hasMessageStartingWith("host must be");
  }

  @Test
  void port_outOfRange_failsNamingTheValue() {
    assertThatThrownBy(() -> SmtpTransport.builder().port(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port must be between 1 and 65535, was 0");
    assertThatThrownBy(() -> SmtpTransport.builder().port(65536))
        .hasMessage("port must be between 1 and 65535, was 65536");
  }

  @Test
  void timeouts_whenZeroNegativeOrBelowAMillisecond_failNamingTheSetting() {
    assertThatThrownBy(() -> SmtpTransport.builder().connectTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("connectTimeout must be between 1 ms and 1 hour (never infinite), was PT0S");
    assertThatThrownBy(() -> SmtpTransport.builder().readTimeout(Duration.ofSeconds(-5)))
        .hasMessage("readTimeout must be between 1 ms and 1 hour (never infinite), was PT-5S");
    // 0.5 ms would become 0 ms, which Jakarta Mail reads as "wait forever".
    assertThatThrownBy(() -> SmtpTransport.builder().writeTimeout(Duration.ofNanos(500_000)))
        .hasMessageStartingWith("writeTimeout must be between 1 ms and 1 hour");
    assertThatThrownBy(() -> SmtpTransport.builder().readTimeout(Duration.ofDays(30)))
        .hasMessageStartingWith("readTimeout must be between 1 ms and 1 hour");
  }

  @Test
  void dataEndTimeout_isValidatedLikeTheOtherTimeouts_andNamed() {
    assertThatThrownBy(() -> SmtpTransport.builder().dataEndTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dataEndTimeout must be between 1 ms and 1 hour (never infinite), was PT0S");
    assertThatThrownBy(() -> SmtpTransport.builder().dataEndTimeout(Duration.ofHours(2)))
        .hasMessageStartingWith("dataEndTimeout must be between 1 ms and 1 hour");
    assertThatThrownBy(() -> SmtpTransport.builder().dataEndTimeout(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("dataEndTimeout");
    assertThat(SmtpTransport.DEFAULT_DATA_END_TIMEOUT).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void maxSessions_outOfRange_failsNamingTheValue() {
    assertThatThrownBy(() -> SmtpTransport.builder().maxSessions(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxSessions must be between 1 and 1000, was 0");
  }

  @Test
  void ehloName_whenNotADomainNorAnAddressLiteral_failsNamingTheValue() {
    assertThatThrownBy(() -> SmtpTransport.builder().ehloName("crm host"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ehloName must be a domain name such as crm.example.com or an address literal such as"
            + " [192.0.2.1], was \"crm host\"");
    assertThatThrownBy(() -> SmtpTransport.builder().ehloName("192.0.2.1"))
        .hasMessageContaining("was \"192.0.2.1\"");
    assertThat(SmtpTransport.builder().ehloName("crm.example.com")).isNotNull();
    assertThat(SmtpTransport.builder().ehloName("[192.0.2.1]")).isNotNull();
    assertThat(SmtpTransport.builder().ehloName("[IPv6:2001:db8::1]")).isNotNull();
  }

  @Test
  void defaultEhloName_isADomainOrAnAddressLiteral() {
    assertThat(SmtpConnector.isValidEhloName(SmtpConnector.defaultEhloName())).isTrue();
  }

  @Test
  void trustedCertificates_whenTheFileIsMissing_failsNamingTheFile() {
    Path missing = Path.of("no", "such", "ca.pem");

    assertThatThrownBy(() -> SmtpTransport.builder().trustedCertificates(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("trusted certificates file " + missing);
  }

  @Test
  void build_defaultsThePortToTheSecurity() {
    assertThat(SmtpTransport.builder().host("smtp.example.com").build().describe())
        .isEqualTo("smtp://smtp.example.com:587 (STARTTLS)");
    assertThat(SmtpTransport.builder().host("smtp.example.com").security(Security.IMPLICIT_TLS).build().describe())
        .isEqualTo("smtp://smtp.example.com:465 (IMPLICIT_TLS)");
    assertThat(SmtpTransport.builder().host("smtp.example.com").security(Security.PLAIN_TEXT_INSECURE).build().describe())
        .isEqualTo("smtp://smtp.example.com:25 (PLAIN_TEXT_INSECURE)");
    assertThat(SmtpTransport.builder().host("smtp.example.com").port(2525).build().describe())
        .isEqualTo("smtp://smtp.example.com:2525 (STARTTLS)");
  }

  @Test
  void describe_bracketsAnIpv6Address() {
    assertThat(SmtpTransport.builder().host("[2001:db8::25]").build().describe())
        .isEqualTo("smtp://[2001:db8::25]:587 (STARTTLS)");
  }

  @Test
  void toString_neverShowsNorAsksForCredentials() {
    AtomicInteger asked = new AtomicInteger();
    SmtpTransport transport = SmtpTransport.builder()
        .host("smtp.example.com")
        .credentials(() -> {
          asked.incrementAndGet();
          return Credentials.password("crm-user", "s3cret");
        })
        .build();

    assertThat(transport.toString()).isEqualTo("SmtpTransport[smtp://smtp.example.com:587 (STARTTLS)]");
    assertThat(asked).hasValue(0);
  }

  @Test
  void build_withoutTimeouts_usesTheSharedDefaults() {
    ServerSettings server = SmtpTransport.builder().host("smtp.example.com").build().server();

    assertThat(server.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(server.readTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(server.writeTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(server.security()).isEqualTo(Security.STARTTLS);
    assertThat(server.credentials()).isEmpty();
  }

  @Test
  void build_whenUsernameDisagreesWithFixedCredentials_failsNamingBoth() {
    assertThatThrownBy(() -> SmtpTransport.builder().host("smtp.example.com").username("crm@example.com")
        .credentials(Credentials.password("other@example.com", "s3cret")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("username is \"crm@example.com\" but credentials(Credentials) is for user "
            + "\"other@example.com\"")
        .hasMessageNotContaining("s3cret");
  }
}
