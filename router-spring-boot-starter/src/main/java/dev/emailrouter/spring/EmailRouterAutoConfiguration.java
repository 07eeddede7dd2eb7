package dev.emailrouter.spring;

import dev.emailrouter.api.ActivityStore;
import dev.emailrouter.api.Credentials;
import dev.emailrouter.api.MailboxReader;
import dev.emailrouter.core.CheckpointStore;
import dev.emailrouter.core.Mailbox;
import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.RouterListener;
import dev.emailrouter.imap.ImapMailboxReader;
import dev.emailrouter.micrometer.RouterMetrics;
import dev.emailrouter.pop3.Pop3MailboxReader;
import dev.emailrouter.smtp.SmtpTransport;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Builds a {@link RouterEngine} from the {@code emailrouter.*} properties ({@link
 * EmailRouterProperties}) and the host's {@link ActivityStore} bean, and ticks it on a scheduler
 * of its own from the application's start until its shutdown.
 *
 * <p>Beans: {@code emailRouterEngine} (unless the host declares its own {@code RouterEngine});
 * {@code emailRouterTicker}, which ticks it every {@code emailrouter.tick-interval} and, at
 * shutdown, stops scheduling and waits up to {@code emailrouter.shutdown-timeout} for a running
 * tick; {@code emailRouterHealthIndicator} where Spring Boot's health module is on the classpath
 * (the health contributor {@code emailRouter}), with {@code emailRouterTestAccess}, which runs the
 * engine's Test Access in the background every {@code emailrouter.health.test-access-interval};
 * and {@code emailRouterMetrics}, a {@link
 * RouterMetrics} bound to the host's {@link MeterRegistry}, where Micrometer and {@code
 * router-micrometer} are on the classpath and a registry bean exists.
 *
 * <p>Every {@link RouterListener} bean of the host's hears the engine's events, and a {@link
 * CheckpointStore} bean keeps the mailboxes' checkpoints (unless {@code
 * emailrouter.checkpoint-directory} is set). {@code emailrouter.enabled=false} turns it all off.
 */
@AutoConfiguration(afterName = {
    "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
    "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
    "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"})
@ConditionalOnClass(RouterEngine.class)
@ConditionalOnProperty(prefix = "emailrouter", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(EmailRouterProperties.class)
public class EmailRouterAutoConfiguration {

  /** Made by Spring. */
  public EmailRouterAutoConfiguration() {
  }

  @Bean
  @ConditionalOnMissingBean
  RouterEngine emailRouterEngine(EmailRouterProperties properties, ObjectProvider<ActivityStore> store,
      ObjectProvider<CheckpointStore> checkpoints, ObjectProvider<RouterListener> listeners) {
    if (properties.getTransport().getHost() == null && properties.getMailboxes().isEmpty()) {
      // Checked here, not with the other properties: a host with its own RouterEngine bean sets none.
      throw new IllegalStateException("emailrouter.transport.host must be set, or emailrouter.mailboxes given: "
          + "the engine needs a transport, a mailbox or both");
    }
    ActivityStore activityStore = store.getIfUnique();
    if (activityStore == null) {
      throw new MissingActivityStoreException(store.stream().count());
    }
    RouterEngine.Builder builder = RouterEngine.builder()
        .activityStore(activityStore)
        .trackingPolicy(properties.getTrackingPolicy().policy());
    List<RouterListener> all = listeners.orderedStream().toList();
    if (!all.isEmpty()) {
      RouterListener combined = all.get(0);
      for (int i = 1; i < all.size(); i++) {
        combined = RouterListener.both(combined, all.get(i));
      }
      builder.listener(combined);
    }
    if (properties.getCheckpointDirectory() != null) {
      builder.checkpointStore(CheckpointStore.directory(properties.getCheckpointDirectory()));
    } else {
      checkpoints.ifUnique(builder::checkpointStore);
    }
    EmailRouterProperties.Transport t = properties.getTransport();
    if (t.getHost() != null) {
      builder.transport(transport(t));
    }
    for (EmailRouterProperties.MailboxProperties m : properties.getMailboxes()) {
      builder.mailbox(mailbox(m));
    }
    engine(builder, properties.getEngine());
    return builder.build();
  }

  @Bean
  @ConditionalOnMissingBean
  RouterTicker emailRouterTicker(RouterEngine engine, EmailRouterProperties properties,
      ObjectProvider<TickCall> tickCall) {
    return new RouterTicker(engine, tickCall.getIfAvailable(() -> RouterEngine::tick), properties.getInitialDelay(),
        properties.getTickInterval(), properties.getShutdownTimeout());
  }

  private static SmtpTransport transport(EmailRouterProperties.Transport t) {
    SmtpTransport.Builder b = SmtpTransport.builder().host(t.getHost()).security(t.getSecurity());
    if (t.getPort() != null) {
      b.port(t.getPort());
    }
    if (t.getUsername() != null) {
      b.credentials(Credentials.password(t.getUsername(), t.getPassword()));
    }
    if (t.getTrustedCertificates() != null) {
      b.trustedCertificates(t.getTrustedCertificates());
    }
    if (t.getConnectTimeout() != null) {
      b.connectTimeout(t.getConnectTimeout());
    }
    if (t.getReadTimeout() != null) {
      b.readTimeout(t.getReadTimeout());
    }
    if (t.getMaxSessions() != null) {
      b.maxSessions(t.getMaxSessions());
    }
    return b.build();
  }

  private static Mailbox mailbox(EmailRouterProperties.MailboxProperties m) {
    MailboxReader reader = m.getProtocol() == EmailRouterProperties.Protocol.POP3 ? pop3(m) : imap(m);
    Mailbox mailbox = switch (m.getKind()) {
      case USER -> Mailbox.ofUser(m.getCrmId(), reader);
      case QUEUE -> Mailbox.ofQueue(m.getCrmId(), reader);
      case FORWARD -> Mailbox.forward(reader);
    };
    return m.getName() == null ? mailbox : mailbox.withName(m.getName());
  }

  private static ImapMailboxReader imap(EmailRouterProperties.MailboxProperties m) {
    ImapMailboxReader.Builder b = ImapMailboxReader.builder().host(m.getHost()).security(m.getSecurity())
        .credentials(Credentials.password(m.getUsername(), m.getPassword()));
    if (m.getPort() != null) {
      b.port(m.getPort());
    }
    if (m.getFolder() != null) {
      b.folder(m.getFolder());
    }
    if (m.getTrustedCertificates() != null) {
      b.trustedCertificates(m.getTrustedCertificates());
    }
    return b.build();
  }

  private static Pop3MailboxReader pop3(EmailRouterProperties.MailboxProperties m) {
    Pop3MailboxReader.Builder b = Pop3MailboxReader.builder().host(m.getHost()).security(m.getSecurity())
        .credentials(Credentials.password(m.getUsername(), m.getPassword()));
    if (m.getPort() != null) {
      b.port(m.getPort());
    }
    if (m.getTrustedCertificates() != null) {
      b.trustedCertificates(m.getTrustedCertificates());
    }
    return b.build();
  }

  private static void engine(RouterEngine.Builder b, EmailRouterProperties.Engine e) {
    if (e.getBatchPerSender() != null) {
      b.batchPerSender(e.getBatchPerSender());
    }
    if (e.getMaxPerTick() != null) {
      b.maxPerTick(e.getMaxPerTick());
    }
    if (e.getSendSessions() != null) {
      b.sendSessions(e.getSendSessions());
    }
    if (e.getLease() != null) {
      b.lease(e.getLease());
    }
    if (e.getTickBudget() != null) {
      b.tickBudget(e.getTickBudget());
    }
    if (e.getMaxAttempts() != null) {
      b.maxAttempts(e.getMaxAttempts());
    }
    if (e.getRetryDelay() != null) {
      b.retryDelay(e.getRetryDelay());
    }
    if (e.getMaxRetryDelay() != null) {
      b.maxRetryDelay(e.getMaxRetryDelay());
    }
    if (e.getMessageIdDomain() != null) {
      b.messageIdDomain(e.getMessageIdDomain());
    }
    if (e.getMaxMessagesPerMailbox() != null) {
      b.maxMessagesPerMailbox(e.getMaxMessagesPerMailbox());
    }
    if (e.getMailboxFailuresBeforeDisable() != null) {
      b.mailboxFailuresBeforeDisable(e.getMailboxFailuresBeforeDisable());
    }
    if (e.getMailboxRetryDelay() != null) {
      b.mailboxRetryDelay(e.getMailboxRetryDelay());
    }
    if (e.getMailboxParallelism() != null) {
      b.mailboxParallelism(e.getMailboxParallelism());
    }
  }

  /**
   * The health indicator and the Test Access it is built on, where Spring Boot's health module is
   * on the classpath.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(HealthIndicator.class)
  static class HealthConfiguration {
    @Bean
    @ConditionalOnMissingBean
    TestAccessRunner emailRouterTestAccess(RouterEngine engine, EmailRouterProperties properties,
        ObjectProvider<TestAccessScheduler> scheduler) {
      return new TestAccessRunner(engine, properties.getHealth().getTestAccessInterval(),
          scheduler.getIfAvailable(TestAccessScheduler::daemonThread));
    }

    @Bean
    @ConditionalOnMissingBean(name = "emailRouterHealthIndicator")
    RouterHealthIndicator emailRouterHealthIndicator(RouterEngine engine, RouterTicker ticker,
        TestAccessRunner testAccess) {
      return new RouterHealthIndicator(engine, ticker, testAccess);
    }
  }

  /** Micrometer metrics, where router-micrometer is on the classpath and the host has a registry. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({MeterRegistry.class, RouterMetrics.class})
  @ConditionalOnBean(MeterRegistry.class)
  static class MetricsConfiguration {
    @Bean
    @ConditionalOnMissingBean
    RouterMetrics emailRouterMetrics(MeterRegistry registry) {
      return RouterMetrics.bindTo(registry);
    }

    @Bean
    TickCall emailRouterTimedTick(RouterMetrics metrics, RouterEngine engine) {
      // watch() before the first tick, which the ticker starts only once every singleton exists.
      metrics.watch(engine);
      return metrics::tick;
    }
  }
}
