package dev.emailrouter.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetup;
import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Security;
import dev.emailrouter.core.InMemoryActivityStore;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterEvent;
import dev.emailrouter.core.RouterListener;
import dev.emailrouter.micrometer.RouterMetrics;
import dev.emailrouter.smtp.SmtpTransport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.health.registry.HealthContributorRegistry;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

final class EmailRouterAutoConfigurationTest {

  @RegisterExtension
  static final GreenMailExtension greenMail = new GreenMailExtension(
      new ServerSetup[] {loopback(ServerSetup.PROTOCOL_IMAP), loopback(ServerSetup.PROTOCOL_SMTP)});

  /**
   * Ticks only when a test calls tickNow(): the schedule's first tick is an hour away; and runs
   * Test Access only when a test calls runDue() on the scheduler bean.
   */
  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(EmailRouterAutoConfiguration.class))
      .withBean(TestAccessScheduler.class, ManualTestAccessScheduler::new)
      .withPropertyValues("emailrouter.initial-delay=1h");

  private static ServerSetup loopback(String protocol) {
    ServerSetup setup = new ServerSetup(0, "127.0.0.1", protocol);
    setup.setServerStartupTimeout(30_000);
    return setup;
  }

  private ApplicationContextRunner withStore() {
    // An empty store: the transport is never connected to.
    return runner.withBean(ActivityStore.class, InMemoryActivityStore::new)
        .withPropertyValues("emailrouter.transport.host=smtp.example.test");
  }

  private String[] imapMailbox(String password) {
    greenMail.setUser("una@example.test", "una", "right-password");
    return new String[] {
        "emailrouter.mailboxes[0].name=una-inbox",
        "emailrouter.mailboxes[0].crm-id=user-42",
        "emailrouter.mailboxes[0].host=127.0.0.1",
        "emailrouter.mailboxes[0].port=" + greenMail.getImap().getPort(),
        "emailrouter.mailboxes[0].security=plain-text-insecure",
        "emailrouter.mailboxes[0].username=una",
        "emailrouter.mailboxes[0].password=" + password};
  }

  /** The transport on GreenMail's SMTP server, without AUTH. */
  private static String[] greenMailTransport() {
    return new String[] {
        "emailrouter.transport.host=127.0.0.1",
        "emailrouter.transport.port=" + greenMail.getSmtp().getPort(),
        "emailrouter.transport.security=plain-text-insecure"};
  }

  private static ManualTestAccessScheduler testAccess(AssertableApplicationContext context) {
    return (ManualTestAccessScheduler) context.getBean(TestAccessScheduler.class);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> detail(Health health, String... path) {
    Map<String, Object> d = health.getDetails();
    for (String key : path) {
      assertThat(d).containsKey(key);
      d = (Map<String, Object>) d.get(key);
    }
    return d;
  }

  /** The startup failure and its causes, as one string. */
  private static String failureText(Throwable failure) {
    List<String> messages = new ArrayList<>();
    for (Throwable t = failure; t != null; t = t.getCause()) {
      messages.add(String.valueOf(t.getMessage()));
    }
    return String.join(" | ", messages);
  }

  @Test
  void context_withTheCommonProperties_bindsThemAndBuildsTheEngine() {
    withStore()
        .withPropertyValues("emailrouter.transport.host=smtp.example.test", "emailrouter.transport.port=2525",
            "emailrouter.transport.security=implicit-tls", "emailrouter.transport.username=router",
            "emailrouter.transport.password=secret", "emailrouter.tick-interval=45s",
            "emailrouter.tracking-policy=from-email-enabled-records", "emailrouter.engine.batch-per-sender=3",
            "emailrouter.engine.mailbox-retry-delay=2m", "emailrouter.mailboxes[1].kind=queue",
            "emailrouter.mailboxes[1].crm-id=queue-7", "emailrouter.mailboxes[1].protocol=pop3",
            "emailrouter.mailboxes[1].host=pop.example.test", "emailrouter.mailboxes[1].username=support",
            "emailrouter.mailboxes[1].password=pw")
        .withPropertyValues(imapMailbox("right-password"))
        .run(context -> {
          assertThat(context.getStartupFailure()).isNull();
          EmailRouterProperties p = context.getBean(EmailRouterProperties.class);
          assertThat(p.getTransport().getHost()).isEqualTo("smtp.example.test");
          assertThat(p.getTransport().getPort()).isEqualTo(2525);
          assertThat(p.getTransport().getSecurity()).isEqualTo(Security.IMPLICIT_TLS);
          assertThat(p.getTickInterval()).isEqualTo(Duration.ofSeconds(45));
          assertThat(p.getTrackingPolicy()).isEqualTo(EmailRouterProperties.Policy.FROM_EMAIL_ENABLED_RECORDS);
          assertThat(p.getEngine().getBatchPerSender()).isEqualTo(3);
          assertThat(p.getEngine().getMailboxRetryDelay()).isEqualTo(Duration.ofMinutes(2));
          assertThat(p.getMailboxes()).hasSize(2);
          assertThat(p.getMailboxes().get(1).getKind()).isEqualTo(EmailRouterProperties.Kind.QUEUE);
          assertThat(p.getMailboxes().get(1).getProtocol()).isEqualTo(EmailRouterProperties.Protocol.POP3);
          RouterEngine engine = context.getBean(RouterEngine.class);
          assertThat(engine.mailboxNames()).containsExactly("una-inbox", "pop3://support@pop.example.test:110");
          assertThat(context.getBean(RouterTicker.class).isRunning()).isTrue();
        });
  }

  @Test
  void context_withoutAnActivityStoreBean_failsSayingToDeclareOne() {
    runner.withPropertyValues("emailrouter.transport.host=smtp.example.test").run(context -> {
      assertThat(context.getStartupFailure()).isNotNull();
      assertThat(failureText(context.getStartupFailure()))
          .contains("needs an ActivityStore bean", "declare a @Bean of type dev.emailrouter.api.ActivityStore");
      FailureAnalysis analysis = new MissingActivityStoreFailureAnalyzer().analyze(context.getStartupFailure());
      assertThat(analysis).isNotNull();
      assertThat(analysis.getAction()).contains("Declare a bean of type 'dev.emailrouter.api.ActivityStore'");
    });
  }

  @Test
  void failureAnalyzer_isRegisteredForSpringBootsStartupReport() throws Exception {
    String factories = new String(getClass().getResourceAsStream("/META-INF/spring.factories").readAllBytes(),
        StandardCharsets.UTF_8);
    assertThat(factories).contains("org.springframework.boot.diagnostics.FailureAnalyzer",
        MissingActivityStoreFailureAnalyzer.class.getName());
  }

  @Test
  void context_withANegativeTickInterval_failsNamingThePropertyAndValue() {
    withStore().withPropertyValues("emailrouter.tick-interval=-5s").run(context ->
        assertThat(failureText(context.getStartupFailure()))
            .contains("emailrouter.tick-interval must be positive, was PT-5S"));
  }

  @Test
  void context_withAnUnknownSecurity_failsNamingThePropertyAndValue() {
    withStore().withPropertyValues("emailrouter.transport.host=smtp.example.test",
        "emailrouter.transport.security=ssl").run(context ->
        assertThat(failureText(context.getStartupFailure()))
            .contains("emailrouter.transport.security", "ssl"));
  }

  @Test
  void context_withPortZero_failsNamingThePropertyAndValue() {
    withStore().withPropertyValues(imapMailbox("right-password"))
        .withPropertyValues("emailrouter.mailboxes[0].port=0").run(context ->
            assertThat(failureText(context.getStartupFailure()))
                .contains("emailrouter.mailboxes[0].port must be between 1 and 65535, was 0"));
  }

  @Test
  void context_withAnEngineSettingTheBuilderRefuses_failsNamingThePropertyAndValue() {
    withStore().withPropertyValues("emailrouter.engine.batch-per-sender=0").run(context ->
        assertThat(failureText(context.getStartupFailure()))
            .contains("emailrouter.engine.batch-per-sender=0 is refused: batchPerSender must be between 1 and 1000"));
  }

  @Test
  void context_withAUserMailboxWithoutCrmId_failsNamingTheProperty() {
    withStore().withPropertyValues(imapMailbox("right-password"))
        .withPropertyValues("emailrouter.mailboxes[0].crm-id=").run(context ->
            assertThat(failureText(context.getStartupFailure()))
                .contains("emailrouter.mailboxes[0].crm-id must be set for a USER mailbox"));
  }

  @Test
  void context_withABadPassword_neverPutsItInTheFailure() {
    withStore().withPropertyValues(imapMailbox("hunter2-secret"))
        .withPropertyValues("emailrouter.mailboxes[0].port=0").run(context ->
            assertThat(failureText(context.getStartupFailure())).doesNotContain("hunter2-secret"));
  }

  @Test
  void health_afterATickWithAWrongPassword_isDownWithThatMailboxsDetail() {
    withStore().withPropertyValues(imapMailbox("wrong-password")).run(context -> {
      RouterHealthIndicator health = context.getBean(RouterHealthIndicator.class);
      assertThat(health.health().getStatus()).isEqualTo(Status.UNKNOWN);

      context.getBean(RouterTicker.class).tickNow();

      Health after = health.health();
      assertThat(after.getStatus()).isEqualTo(Status.DOWN);
      @SuppressWarnings("unchecked")
      Map<String, Map<String, Object>> mailboxes = (Map<String, Map<String, Object>>) after.getDetails().get("mailboxes");
      assertThat(mailboxes.get("una-inbox")).containsEntry("status", "DOWN").containsEntry("state", "failing")
          .containsEntry("consecutiveFailures", 1).containsKey("reason");
      assertThat(after.toString()).doesNotContain("wrong-password");
    });
  }

  @Test
  void health_afterATickWithTheRightPassword_isUp() {
    withStore().withPropertyValues(imapMailbox("right-password")).run(context -> {
      context.getBean(RouterTicker.class).tickNow();

      Health after = context.getBean(RouterHealthIndicator.class).health();
      assertThat(after.getStatus()).isEqualTo(Status.UP);
      @SuppressWarnings("unchecked")
      Map<String, Map<String, Object>> mailboxes = (Map<String, Map<String, Object>>) after.getDetails().get("mailboxes");
      assertThat(mailboxes.get("una-inbox")).containsEntry("state", "ok").containsKey("lastSuccessfulPass");
    });
  }

  @Test
  void health_whenAMailboxIsDisabled_isDown() {
    withStore().withPropertyValues(imapMailbox("wrong-password"))
        .withPropertyValues("emailrouter.engine.mailbox-failures-before-disable=1").run(context -> {
          context.getBean(RouterTicker.class).tickNow();

          assertThat(context.getBean(RouterEngine.class).isMailboxDisabled("una-inbox")).isTrue();
          Health after = context.getBean(RouterHealthIndicator.class).health();
          assertThat(after.getStatus()).isEqualTo(Status.DOWN);
          @SuppressWarnings("unchecked")
          Map<String, Map<String, Object>> mailboxes =
              (Map<String, Map<String, Object>>) after.getDetails().get("mailboxes");
          assertThat(mailboxes.get("una-inbox")).containsEntry("state", "disabled");
        });
  }

  @Test
  void health_withSpringBootsHealthRegistry_isTheContributorNamedEmailRouter() {
    withStore().withConfiguration(AutoConfigurations.of(HealthContributorRegistryAutoConfiguration.class))
        .run(context -> assertThat(context.getBean(HealthContributorRegistry.class).getContributor("emailRouter"))
            .isSameAs(context.getBean(RouterHealthIndicator.class)));
  }

  @Test
  void readme_withSpringBootsFiveProperties_startsWithTheirMailbox() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    String section = readme.substring(readme.indexOf("## With Spring Boot"));
    String block = section.substring(section.indexOf("```properties") + "```properties".length(),
        section.indexOf("```", section.indexOf("```properties") + 3));
    String[] properties = block.strip().split("\\R");
    assertThat(properties).hasSize(5);
    runner.withBean(ActivityStore.class, InMemoryActivityStore::new).withPropertyValues(properties)
        .withPropertyValues("IMAP_PASSWORD=from-the-environment").run(context -> {
          assertThat(context.getStartupFailure()).isNull();
          assertThat(context.getBean(EmailRouterProperties.class).getMailboxes().get(0).getPassword())
              .isEqualTo("from-the-environment");
          assertThat(context.getBean(RouterEngine.class).mailboxNames())
              .containsExactly("imap://una%40example.com@imap.example.com:143/INBOX");
        });
  }

  @Test
  void health_withoutSpringBootsHealthModule_isNotConfigured() {
    withStore().withClassLoader(new FilteredClassLoader("org.springframework.boot.health")).run(context -> {
      assertThat(context.getStartupFailure()).isNull();
      assertThat(context.getBeansOfType(RouterHealthIndicator.class)).isEmpty();
    });
  }

  @Test
  void metrics_withAMeterRegistryBean_areBoundAndTimeTheTick() {
    withStore().withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
      assertThat(context.getBeansOfType(RouterMetrics.class)).hasSize(1);
      context.getBean(RouterTicker.class).tickNow();
      MeterRegistry registry = context.getBean(MeterRegistry.class);
      assertThat(registry.get("emailrouter.tick").timer().count()).isEqualTo(1);
      assertThat(registry.get("emailrouter.flow").tag("flow", "outgoing").timer().count()).isEqualTo(1);
      // watch() ran on the engine: its gauges are registered.
      assertThat(registry.get("emailrouter.emails.in.flight").gauge().value()).isZero();
    });
  }

  @Test
  void metrics_withoutAMeterRegistryBean_areNotConfigured() {
    withStore().run(context -> {
      assertThat(context.getStartupFailure()).isNull();
      assertThat(context.getBeansOfType(RouterMetrics.class)).isEmpty();
      assertThat(context.getBeansOfType(TickCall.class)).isEmpty();
    });
  }

  @Test
  void metrics_withoutMicrometerOnTheClasspath_areNotConfigured() {
    withStore().withClassLoader(new FilteredClassLoader("io.micrometer", "dev.emailrouter.micrometer")).run(context -> {
      assertThat(context.getStartupFailure()).isNull();
      assertThat(context.getBeansOfType(TickCall.class)).isEmpty();
    });
  }

  @Test
  void context_withNeitherTransportNorMailbox_failsNamingTheProperties() {
    runner.withBean(ActivityStore.class, InMemoryActivityStore::new).run(context ->
        assertThat(failureText(context.getStartupFailure()))
            .contains("emailrouter.transport.host must be set, or emailrouter.mailboxes given"));
  }

  @Test
  void context_withTheHostsOwnEngine_ticksThatOneWithoutAnyProperty() {
    RouterEngine own = RouterEngine.builder().activityStore(new InMemoryActivityStore())
        .transport(SmtpTransport.builder().host("smtp.example.test").build()).build();
    runner.withBean(RouterEngine.class, () -> own).run(context -> {
      assertThat(context.getStartupFailure()).isNull();
      context.getBean(RouterTicker.class).tickNow();
      assertThat(context.getBean(RouterHealthIndicator.class).health().getStatus()).isEqualTo(Status.UP);
      assertThat(context.getBean(RouterEngine.class)).isSameAs(own);
    });
  }

  @Test
  void context_withRouterListenerBeans_tellsEachTheEnginesEvents() {
    List<RouterEvent> first = new CopyOnWriteArrayList<>();
    List<RouterEvent> second = new CopyOnWriteArrayList<>();
    withStore().withPropertyValues(imapMailbox("wrong-password"))
        .withBean("first", RouterListener.class, () -> first::add)
        .withBean("second", RouterListener.class, () -> second::add).run(context -> {
          context.getBean(RouterTicker.class).tickNow();

          assertThat(first).hasAtLeastOneElementOfType(RouterEvent.MailboxFailed.class);
          assertThat(second).containsExactlyElementsOf(first);
        });
  }

  @Test
  void context_withACheckpointDirectory_keepsTheMailboxCheckpointThere(@TempDir Path directory) throws Exception {
    withStore().withPropertyValues(imapMailbox("right-password"))
        .withPropertyValues("emailrouter.checkpoint-directory=" + directory).run(context -> {
          context.getBean(RouterTicker.class).tickNow();

          try (var files = Files.list(directory)) {
            assertThat(files).isNotEmpty();
          }
        });
  }

  @Test
  void context_withEnabledFalse_configuresNothing() {
    runner.withPropertyValues("emailrouter.enabled=false").run(context -> {
      assertThat(context.getStartupFailure()).isNull();
      assertThat(context.getBeansOfType(RouterEngine.class)).isEmpty();
    });
  }

  @Test
  void health_whenTestAccessFindsAWrongPassword_isDownBeforeAnyTick() {
    runner.withBean(ActivityStore.class, InMemoryActivityStore::new).withPropertyValues(greenMailTransport())
        .withPropertyValues(imapMailbox("wrong-password")).run(context -> {
          RouterHealthIndicator health = context.getBean(RouterHealthIndicator.class);
          assertThat(health.health().getStatus()).isEqualTo(Status.UNKNOWN);

          testAccess(context).runDue();

          assertThat(context.getBean(RouterTicker.class).lastOutcome()).isEmpty();
          Health after = health.health();
          assertThat(after.getStatus()).isEqualTo(Status.DOWN);
          assertThat(detail(after, "mailboxes", "una-inbox")).containsEntry("status", "DOWN")
              .containsEntry("state", "not read yet");
          assertThat(detail(after, "mailboxes", "una-inbox", "testAccess")).containsEntry("status", "DOWN")
              .containsEntry("check", "LOGIN").containsEntry("setting", "credentials")
              .containsEntry("checkedAt", ManualTestAccessScheduler.T0.toString()).containsKey("detail");
          assertThat(detail(after, "transport", "testAccess")).containsEntry("status", "UP");
          assertThat(after.toString()).doesNotContain("wrong-password");
        });
  }

  @Test
  void health_whenTestAccessPassesEverywhere_isUpBeforeAnyTick() {
    runner.withBean(ActivityStore.class, InMemoryActivityStore::new).withPropertyValues(greenMailTransport())
        .withPropertyValues(imapMailbox("right-password")).run(context -> {
          testAccess(context).runDue();

          Health after = context.getBean(RouterHealthIndicator.class).health();
          assertThat(after.getStatus()).isEqualTo(Status.UP);
          assertThat(detail(after, "transport")).containsEntry("status", "UP");
          assertThat(detail(after, "mailboxes", "una-inbox")).containsEntry("status", "UP")
              .containsEntry("state", "not read yet");
          assertThat(detail(after, "mailboxes", "una-inbox", "testAccess")).containsEntry("status", "UP")
              .containsKey("checkedAt").doesNotContainKey("check");
          assertThat(detail(after, "testAccess")).containsEntry("interval", "PT10M")
              .containsEntry("lastRun", ManualTestAccessScheduler.T0.toString());
        });
  }

  @Test
  void health_whenTestAccessPassedButATickDisabledTheMailbox_isDown() {
    withStore().withPropertyValues(imapMailbox("right-password"))
        .withPropertyValues("emailrouter.engine.mailbox-failures-before-disable=1").run(context -> {
          testAccess(context).runDue();
          // The password changes on the server after Test Access passed: the next tick fails.
          greenMail.getUserManager().getUser("una").setPassword("changed-on-the-server");

          context.getBean(RouterTicker.class).tickNow();

          Health after = context.getBean(RouterHealthIndicator.class).health();
          assertThat(after.getStatus()).isEqualTo(Status.DOWN);
          assertThat(detail(after, "mailboxes", "una-inbox")).containsEntry("status", "DOWN")
              .containsEntry("state", "disabled");
          assertThat(detail(after, "mailboxes", "una-inbox", "testAccess")).containsEntry("status", "UP");
        });
  }

  @Test
  void health_whenTestAccessCannotReachTheTransport_isDownNamingThePort() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    runner.withBean(ActivityStore.class, InMemoryActivityStore::new)
        .withPropertyValues("emailrouter.transport.host=127.0.0.1", "emailrouter.transport.port=" + closedPort,
            "emailrouter.transport.security=plain-text-insecure").run(context -> {
              testAccess(context).runDue();

              Health after = context.getBean(RouterHealthIndicator.class).health();
              assertThat(after.getStatus()).isEqualTo(Status.DOWN);
              assertThat(detail(after, "transport", "testAccess")).containsEntry("status", "DOWN")
                  .containsEntry("check", "CONNECT").containsEntry("setting", "port");
            });
  }

  @Test
  void testAccess_startsWithTheApplicationOnTheConfiguredInterval() {
    withStore().withPropertyValues("emailrouter.health.test-access-interval=30s").run(context -> {
      assertThat(context.getStartupFailure()).isNull();
      assertThat(testAccess(context).started()).isTrue();
      assertThat(testAccess(context).interval()).isEqualTo(Duration.ofSeconds(30));
      assertThat(context.getBean(TestAccessRunner.class).latest()).isEmpty();
    });
  }

  @Test
  void health_withTestAccessOff_isTheLastTicksOutcome() {
    withStore().withPropertyValues(imapMailbox("wrong-password"))
        .withPropertyValues("emailrouter.health.test-access-interval=0").run(context -> {
          assertThat(testAccess(context).started()).isFalse();
          RouterHealthIndicator health = context.getBean(RouterHealthIndicator.class);
          assertThat(health.health().getStatus()).isEqualTo(Status.UNKNOWN);
          assertThat(detail(health.health(), "testAccess")).containsEntry("state", "off");

          context.getBean(RouterTicker.class).tickNow();

          Health after = health.health();
          assertThat(after.getStatus()).isEqualTo(Status.DOWN);
          assertThat(detail(after, "mailboxes", "una-inbox")).containsEntry("state", "failing")
              .doesNotContainKey("testAccess");
        });
  }

  @Test
  void context_withANegativeTestAccessInterval_failsNamingThePropertyAndValue() {
    withStore().withPropertyValues("emailrouter.health.test-access-interval=-5s").run(context ->
        assertThat(failureText(context.getStartupFailure()))
            .contains("emailrouter.health.test-access-interval must be 0 (Test Access off) or at least 1s, was PT-5S"));
  }

  @Test
  void context_withATestAccessIntervalUnderASecond_failsNamingThePropertyAndValue() {
    withStore().withPropertyValues("emailrouter.health.test-access-interval=500ms").run(context ->
        assertThat(failureText(context.getStartupFailure()))
            .contains("emailrouter.health.test-access-interval must be 0 (Test Access off) or at least 1s, was PT0.5S"));
  }

  @Test
  void context_withATestAccessIntervalThatIsNoDuration_failsNamingThePropertyAndValue() {
    withStore().withPropertyValues("emailrouter.health.test-access-interval=ten-minutes").run(context ->
        assertThat(failureText(context.getStartupFailure()))
            .contains("emailrouter.health.test-access-interval", "ten-minutes"));
  }
}
