package dev.emailrouter.spring;

import dev.emailrouter.api.Security;
import dev.emailrouter.api.TrackingPolicy;
import dev.emailrouter.core.RouterEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * The {@code emailrouter.*} properties the auto-configuration builds a {@link
 * dev.emailrouter.core.RouterEngine} from.
 *
 * <pre>{@code
 * emailrouter.transport.host=smtp.example.com
 * emailrouter.mailboxes[0].crm-id=user-42
 * emailrouter.mailboxes[0].host=imap.example.com
 * emailrouter.mailboxes[0].username=una@example.com
 * emailrouter.mailboxes[0].password=${IMAP_PASSWORD}
 * }</pre>
 *
 * <p>An unset engine or adapter setting keeps the builder's default (listed in the README's
 * configuration reference). Spring binds and then validates these properties at startup: a bad
 * value fails the application context with a message naming the property and the value. Mutable,
 * for Spring's binder; not thread-safe, and read once, when the engine is built.
 */
@ConfigurationProperties("emailrouter")
public class EmailRouterProperties implements Validator {

  /** The built-in tracking policies of {@link TrackingPolicy}, by name. */
  public enum Policy {
    /** {@link TrackingPolicy#responsesToCrmEmail()}: replies to email the CRM sent (the default). */
    RESPONSES_TO_CRM_EMAIL(TrackingPolicy::responsesToCrmEmail),
    /** {@link TrackingPolicy#fromLeadsContactsAndAccounts()}. */
    FROM_LEADS_CONTACTS_AND_ACCOUNTS(TrackingPolicy::fromLeadsContactsAndAccounts),
    /** {@link TrackingPolicy#fromEmailEnabledRecords()}. */
    FROM_EMAIL_ENABLED_RECORDS(TrackingPolicy::fromEmailEnabledRecords),
    /** {@link TrackingPolicy#allEmail()}. */
    ALL_EMAIL(TrackingPolicy::allEmail),
    /** {@link TrackingPolicy#none()}: nothing is tracked. */
    NONE(TrackingPolicy::none);

    private final Supplier<TrackingPolicy> factory;

    Policy(Supplier<TrackingPolicy> factory) {
      this.factory = factory;
    }

    /**
     * The policy this name stands for.
     *
     * @return the built-in policy; never {@code null}
     */
    public TrackingPolicy policy() {
      return factory.get();
    }
  }

  /** Whose mail a mailbox holds, as in {@link dev.emailrouter.core.Mailbox}. */
  public enum Kind {
    /** A CRM user's mailbox: {@link dev.emailrouter.core.Mailbox#ofUser}; needs {@code crm-id}. */
    USER,
    /** A CRM queue's mailbox: {@link dev.emailrouter.core.Mailbox#ofQueue}; needs {@code crm-id}. */
    QUEUE,
    /** A forward mailbox: {@link dev.emailrouter.core.Mailbox#forward}; no {@code crm-id}. */
    FORWARD
  }

  /** The protocol a mailbox is read with. */
  public enum Protocol {
    /** IMAP, with {@code dev.emailrouter.imap.ImapMailboxReader} (the default). */
    IMAP,
    /** POP3, with {@code dev.emailrouter.pop3.Pop3MailboxReader}. */
    POP3
  }

  private boolean enabled = true;
  private Duration tickInterval = Duration.ofSeconds(30);
  private Duration initialDelay = Duration.ZERO;
  private Duration shutdownTimeout = Duration.ofSeconds(30);
  private Policy trackingPolicy = Policy.RESPONSES_TO_CRM_EMAIL;
  private Path checkpointDirectory;
  private final Transport transport = new Transport();
  private List<MailboxProperties> mailboxes = new ArrayList<>();
  private final Engine engine = new Engine();
  private final Health health = new Health();

  /**
   * Whether the auto-configuration builds and ticks an engine; default {@code true}.
   *
   * @return {@code emailrouter.enabled}
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets {@code emailrouter.enabled}.
   *
   * @param enabled {@code false} to configure nothing
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * The delay between the end of one tick and the start of the next; default 30 s.
   *
   * @return {@code emailrouter.tick-interval}
   */
  public Duration getTickInterval() {
    return tickInterval;
  }

  /**
   * Sets {@code emailrouter.tick-interval}; validated positive at startup.
   *
   * @param tickInterval the delay between ticks
   */
  public void setTickInterval(Duration tickInterval) {
    this.tickInterval = tickInterval;
  }

  /**
   * The delay from the application's start to the first tick; default none.
   *
   * @return {@code emailrouter.initial-delay}
   */
  public Duration getInitialDelay() {
    return initialDelay;
  }

  /**
   * Sets {@code emailrouter.initial-delay}; validated zero or positive at startup.
   *
   * @param initialDelay the delay before the first tick
   */
  public void setInitialDelay(Duration initialDelay) {
    this.initialDelay = initialDelay;
  }

  /**
   * How long the application's shutdown waits for a running tick to finish; default 30 s.
   *
   * @return {@code emailrouter.shutdown-timeout}
   */
  public Duration getShutdownTimeout() {
    return shutdownTimeout;
  }

  /**
   * Sets {@code emailrouter.shutdown-timeout}; validated zero or positive at startup.
   *
   * @param shutdownTimeout the longest wait for a running tick at shutdown
   */
  public void setShutdownTimeout(Duration shutdownTimeout) {
    this.shutdownTimeout = shutdownTimeout;
  }

  /**
   * The engine's default tracking policy; default {@link Policy#RESPONSES_TO_CRM_EMAIL}.
   *
   * @return {@code emailrouter.tracking-policy}
   */
  public Policy getTrackingPolicy() {
    return trackingPolicy;
  }

  /**
   * Sets {@code emailrouter.tracking-policy}.
   *
   * @param trackingPolicy one of the built-in policies
   */
  public void setTrackingPolicy(Policy trackingPolicy) {
    this.trackingPolicy = trackingPolicy;
  }

  /**
   * The directory mailbox checkpoints are kept in as JSON files; when unset, a {@code
   * CheckpointStore} bean of the host's, or else in memory (every mailbox read from its start after
   * a restart).
   *
   * @return {@code emailrouter.checkpoint-directory}, or {@code null}
   */
  public Path getCheckpointDirectory() {
    return checkpointDirectory;
  }

  /**
   * Sets {@code emailrouter.checkpoint-directory}.
   *
   * @param checkpointDirectory the directory, created if missing
   */
  public void setCheckpointDirectory(Path checkpointDirectory) {
    this.checkpointDirectory = checkpointDirectory;
  }

  /**
   * The outgoing SMTP server; no transport (incoming only) while its host is unset.
   *
   * @return {@code emailrouter.transport.*}
   */
  public Transport getTransport() {
    return transport;
  }

  /**
   * The mailboxes read, in order.
   *
   * @return {@code emailrouter.mailboxes[*]}
   */
  public List<MailboxProperties> getMailboxes() {
    return mailboxes;
  }

  /**
   * Sets {@code emailrouter.mailboxes}.
   *
   * @param mailboxes the mailboxes
   */
  public void setMailboxes(List<MailboxProperties> mailboxes) {
    this.mailboxes = mailboxes;
  }

  /**
   * The common {@code RouterEngine.Builder} settings.
   *
   * @return {@code emailrouter.engine.*}
   */
  public Engine getEngine() {
    return engine;
  }

  /**
   * The health indicator's settings.
   *
   * @return {@code emailrouter.health.*}
   */
  public Health getHealth() {
    return health;
  }

  /**
   * Whether this validator checks the given class.
   *
   * @param type the class of the object to validate
   * @return {@code true} for {@code EmailRouterProperties}
   */
  @Override
  public boolean supports(Class<?> type) {
    return EmailRouterProperties.class.isAssignableFrom(type);
  }

  /**
   * Checks the bound values Spring's binder can't: ranges, and the settings a mailbox needs. Called
   * by Spring after binding; each error names the property and the value.
   *
   * @param target these properties
   * @param errors where each bad value is rejected
   */
  @Override
  public void validate(Object target, Errors errors) {
    EmailRouterProperties p = (EmailRouterProperties) target;
    positive(errors, "tickInterval", "emailrouter.tick-interval", p.tickInterval);
    notNegative(errors, "initialDelay", "emailrouter.initial-delay", p.initialDelay);
    notNegative(errors, "shutdownTimeout", "emailrouter.shutdown-timeout", p.shutdownTimeout);
    Duration testAccess = p.health.testAccessInterval;
    if (testAccess == null) {
      reject(errors, "health.testAccessInterval", "emailrouter.health.test-access-interval", null,
          "must be set (0 turns Test Access off)");
    } else if (testAccess.isNegative() || !testAccess.isZero() && testAccess.compareTo(Duration.ofSeconds(1)) < 0) {
      // Under a second would open connections to every server many times a second.
      reject(errors, "health.testAccessInterval", "emailrouter.health.test-access-interval", testAccess,
          "must be 0 (Test Access off) or at least 1s");
    }
    if (p.trackingPolicy == null) {
      reject(errors, "trackingPolicy", "emailrouter.tracking-policy", null, "must be set");
    }
    port(errors, "transport.port", "emailrouter.transport.port", p.transport.port);
    if (p.transport.host == null && (p.transport.username != null || p.transport.password != null)) {
      reject(errors, "transport.host", "emailrouter.transport.host", null,
          "must be set when emailrouter.transport.username or password is");
    }
    credentials(errors, "transport", "emailrouter.transport", p.transport.username, p.transport.password);
    for (int i = 0; i < p.mailboxes.size(); i++) {
      MailboxProperties m = p.mailboxes.get(i);
      String field = "mailboxes[" + i + "]";
      String property = "emailrouter.mailboxes[" + i + "]";
      if (m.host == null || m.host.isBlank()) {
        reject(errors, field + ".host", property + ".host", m.host, "must be set");
      }
      port(errors, field + ".port", property + ".port", m.port);
      if (m.kind == Kind.FORWARD) {
        if (m.crmId != null) {
          reject(errors, field + ".crmId", property + ".crm-id", m.crmId,
              "must be unset for a FORWARD mailbox (each message is owned by the user who forwarded it)");
        }
      } else if (m.crmId == null || m.crmId.isBlank()) {
        reject(errors, field + ".crmId", property + ".crm-id", m.crmId,
            "must be set for a " + m.kind + " mailbox: the CRM id of its user or queue");
      }
      if (m.protocol == Protocol.POP3 && m.folder != null) {
        reject(errors, field + ".folder", property + ".folder", m.folder, "must be unset for POP3 (it has no folders)");
      }
      if (m.username == null || m.username.isBlank()) {
        reject(errors, field + ".username", property + ".username", m.username, "must be set");
      }
      if (m.password == null) {
        reject(errors, field + ".password", property + ".password", null, "must be set");
      }
    }
    Engine e = p.engine;
    // Each engine setting is tried on a builder of its own, so the ranges are the engine's and
    // can't drift from it; the builder's sentence is kept and the property named in front of it.
    RouterEngine.Builder b = RouterEngine.builder();
    check(errors, "engine.batchPerSender", "emailrouter.engine.batch-per-sender", e.batchPerSender, b::batchPerSender);
    check(errors, "engine.maxPerTick", "emailrouter.engine.max-per-tick", e.maxPerTick, b::maxPerTick);
    check(errors, "engine.sendSessions", "emailrouter.engine.send-sessions", e.sendSessions, b::sendSessions);
    check(errors, "engine.lease", "emailrouter.engine.lease", e.lease, b::lease);
    check(errors, "engine.tickBudget", "emailrouter.engine.tick-budget", e.tickBudget, b::tickBudget);
    check(errors, "engine.maxAttempts", "emailrouter.engine.max-attempts", e.maxAttempts, b::maxAttempts);
    check(errors, "engine.retryDelay", "emailrouter.engine.retry-delay", e.retryDelay, b::retryDelay);
    check(errors, "engine.maxRetryDelay", "emailrouter.engine.max-retry-delay", e.maxRetryDelay, b::maxRetryDelay);
    check(errors, "engine.messageIdDomain", "emailrouter.engine.message-id-domain", e.messageIdDomain,
        b::messageIdDomain);
    check(errors, "engine.maxMessagesPerMailbox", "emailrouter.engine.max-messages-per-mailbox",
        e.maxMessagesPerMailbox, b::maxMessagesPerMailbox);
    check(errors, "engine.mailboxFailuresBeforeDisable", "emailrouter.engine.mailbox-failures-before-disable",
        e.mailboxFailuresBeforeDisable, b::mailboxFailuresBeforeDisable);
    check(errors, "engine.mailboxRetryDelay", "emailrouter.engine.mailbox-retry-delay", e.mailboxRetryDelay,
        b::mailboxRetryDelay);
    check(errors, "engine.mailboxParallelism", "emailrouter.engine.mailbox-parallelism", e.mailboxParallelism,
        b::mailboxParallelism);
  }

  private static <T> void check(Errors errors, String field, String property, T value, Consumer<T> setter) {
    if (value == null) {
      return;
    }
    try {
      setter.accept(value);
    } catch (IllegalArgumentException e) {
      errors.rejectValue(field, "emailrouter.invalid", property + "=" + value + " is refused: " + e.getMessage());
    }
  }

  private static void credentials(Errors errors, String field, String property, String username, String password) {
    if ((username == null) != (password == null)) {
      String missing = username == null ? "username" : "password";
      // The rejected value is never the password: only which half is missing.
      reject(errors, field + "." + missing, property + "." + missing, null,
          "must be set together with " + property + "." + (username == null ? "password" : "username"));
    }
  }

  private static void port(Errors errors, String field, String property, Integer port) {
    range(errors, field, property, port, 1, 65535);
  }

  private static void range(Errors errors, String field, String property, Integer value, int min, int max) {
    if (value != null && (value < min || value > max)) {
      reject(errors, field, property, value, "must be between " + min + " and " + max);
    }
  }

  private static void positive(Errors errors, String field, String property, Duration value) {
    if (value != null && (value.isNegative() || value.isZero())) {
      reject(errors, field, property, value, "must be positive");
    }
  }

  private static void notNegative(Errors errors, String field, String property, Duration value) {
    if (value != null && value.isNegative()) {
      reject(errors, field, property, value, "must not be negative");
    }
  }

  private static void reject(Errors errors, String field, String property, Object value, String what) {
    errors.rejectValue(field, "emailrouter.invalid", property + " " + what + ", was " + value);
  }

  /** {@code emailrouter.health.*}: how the health indicator checks the servers. */
  public static class Health {
    private Duration testAccessInterval = Duration.ofMinutes(10);

    /** Made by Spring's binder. */
    public Health() {
    }

    /**
     * How often the health indicator runs Test Access ({@code RouterEngine.testAccess()}, which
     * logs in to every server) in the background, starting when the application has started;
     * default 10 minutes. {@code 0} turns it off: the health is then the last tick's outcome alone.
     *
     * @return {@code emailrouter.health.test-access-interval}
     */
    public Duration getTestAccessInterval() {
      return testAccessInterval;
    }

    /**
     * Sets {@code emailrouter.health.test-access-interval}; validated 0 or at least 1 s at startup.
     *
     * @param testAccessInterval the delay from the end of one Test Access to the start of the next, or 0
     */
    public void setTestAccessInterval(Duration testAccessInterval) {
      this.testAccessInterval = testAccessInterval;
    }
  }

  /** {@code emailrouter.transport.*}: the SMTP server outgoing email is sent through. */
  public static class Transport {
    private String host;
    private Integer port;
    private Security security = Security.STARTTLS;
    private String username;
    private String password;
    private Path trustedCertificates;
    private Duration connectTimeout;
    private Duration readTimeout;
    private Integer maxSessions;

    /**
     * The SMTP server's host; unset for no transport.
     *
     * @return the host, or {@code null}
     */
    public String getHost() {
      return host;
    }

    /**
     * Sets the host.
     *
     * @param host the SMTP server's host name or address
     */
    public void setHost(String host) {
      this.host = host;
    }

    /**
     * The port; unset for the security's default (587, or 465 for implicit TLS).
     *
     * @return the port, or {@code null}
     */
    public Integer getPort() {
      return port;
    }

    /**
     * Sets the port.
     *
     * @param port 1 to 65535
     */
    public void setPort(Integer port) {
      this.port = port;
    }

    /**
     * How the connection is protected; default {@link Security#STARTTLS}.
     *
     * @return the security
     */
    public Security getSecurity() {
      return security;
    }

    /**
     * Sets the security ({@code starttls}, {@code implicit-tls}, {@code plain-text-insecure}).
     *
     * @param security the security
     */
    public void setSecurity(Security security) {
      this.security = security;
    }

    /**
     * The SMTP login; unset for a relay without AUTH.
     *
     * @return the user name, or {@code null}
     */
    public String getUsername() {
      return username;
    }

    /**
     * Sets the login.
     *
     * @param username the user name
     */
    public void setUsername(String username) {
      this.username = username;
    }

    /**
     * The SMTP password, set together with the user name.
     *
     * @return the password, or {@code null}
     */
    public String getPassword() {
      return password;
    }

    /**
     * Sets the password.
     *
     * @param password the password
     */
    public void setPassword(String password) {
      this.password = password;
    }

    /**
     * A PEM file of certificates to trust instead of the JDK's; unset for the JDK's.
     *
     * @return the file, or {@code null}
     */
    public Path getTrustedCertificates() {
      return trustedCertificates;
    }

    /**
     * Sets the trusted certificates.
     *
     * @param trustedCertificates a PEM file
     */
    public void setTrustedCertificates(Path trustedCertificates) {
      this.trustedCertificates = trustedCertificates;
    }

    /**
     * The connect timeout; unset for the builder's default.
     *
     * @return the timeout, or {@code null}
     */
    public Duration getConnectTimeout() {
      return connectTimeout;
    }

    /**
     * Sets the connect timeout.
     *
     * @param connectTimeout the timeout
     */
    public void setConnectTimeout(Duration connectTimeout) {
      this.connectTimeout = connectTimeout;
    }

    /**
     * The read timeout for each reply; unset for the builder's default.
     *
     * @return the timeout, or {@code null}
     */
    public Duration getReadTimeout() {
      return readTimeout;
    }

    /**
     * Sets the read timeout.
     *
     * @param readTimeout the timeout
     */
    public void setReadTimeout(Duration readTimeout) {
      this.readTimeout = readTimeout;
    }

    /**
     * Sessions open at once; unset for the builder's default.
     *
     * @return the number, or {@code null}
     */
    public Integer getMaxSessions() {
      return maxSessions;
    }

    /**
     * Sets the sessions open at once.
     *
     * @param maxSessions the number
     */
    public void setMaxSessions(Integer maxSessions) {
      this.maxSessions = maxSessions;
    }
  }

  /** {@code emailrouter.mailboxes[n].*}: one mailbox read by IMAP or POP3. */
  public static class MailboxProperties {
    private String name;
    private Kind kind = Kind.USER;
    private String crmId;
    private Protocol protocol = Protocol.IMAP;
    private String host;
    private Integer port;
    private Security security = Security.STARTTLS;
    private String username;
    private String password;
    private String folder;
    private Path trustedCertificates;

    /**
     * The mailbox's name (its checkpoint key); unset for the reader's description.
     *
     * @return the name, or {@code null}
     */
    public String getName() {
      return name;
    }

    /**
     * Sets the name; a stable name keeps the checkpoint when the server moves.
     *
     * @param name the name, unique in the engine
     */
    public void setName(String name) {
      this.name = name;
    }

    /**
     * Whose mail it holds; default {@link Kind#USER}.
     *
     * @return the kind
     */
    public Kind getKind() {
      return kind;
    }

    /**
     * Sets the kind ({@code user}, {@code queue}, {@code forward}).
     *
     * @param kind the kind
     */
    public void setKind(Kind kind) {
      this.kind = kind;
    }

    /**
     * The CRM id of the user or queue that owns the mail; unset for a forward mailbox.
     *
     * @return the CRM id, or {@code null}
     */
    public String getCrmId() {
      return crmId;
    }

    /**
     * Sets the CRM id.
     *
     * @param crmId the CRM id of the user or queue
     */
    public void setCrmId(String crmId) {
      this.crmId = crmId;
    }

    /**
     * The protocol; default {@link Protocol#IMAP}.
     *
     * @return the protocol
     */
    public Protocol getProtocol() {
      return protocol;
    }

    /**
     * Sets the protocol ({@code imap}, {@code pop3}).
     *
     * @param protocol the protocol
     */
    public void setProtocol(Protocol protocol) {
      this.protocol = protocol;
    }

    /**
     * The mail server's host.
     *
     * @return the host, or {@code null} before binding
     */
    public String getHost() {
      return host;
    }

    /**
     * Sets the host.
     *
     * @param host the host name or address
     */
    public void setHost(String host) {
      this.host = host;
    }

    /**
     * The port; unset for the protocol's and security's default.
     *
     * @return the port, or {@code null}
     */
    public Integer getPort() {
      return port;
    }

    /**
     * Sets the port.
     *
     * @param port 1 to 65535
     */
    public void setPort(Integer port) {
      this.port = port;
    }

    /**
     * How the connection is protected; default {@link Security#STARTTLS}.
     *
     * @return the security
     */
    public Security getSecurity() {
      return security;
    }

    /**
     * Sets the security.
     *
     * @param security the security
     */
    public void setSecurity(Security security) {
      this.security = security;
    }

    /**
     * The login.
     *
     * @return the user name, or {@code null} before binding
     */
    public String getUsername() {
      return username;
    }

    /**
     * Sets the login.
     *
     * @param username the user name
     */
    public void setUsername(String username) {
      this.username = username;
    }

    /**
     * The password.
     *
     * @return the password, or {@code null} before binding
     */
    public String getPassword() {
      return password;
    }

    /**
     * Sets the password.
     *
     * @param password the password
     */
    public void setPassword(String password) {
      this.password = password;
    }

    /**
     * The IMAP folder read; unset for {@code INBOX}. POP3 has none.
     *
     * @return the folder, or {@code null}
     */
    public String getFolder() {
      return folder;
    }

    /**
     * Sets the IMAP folder.
     *
     * @param folder the folder's full name
     */
    public void setFolder(String folder) {
      this.folder = folder;
    }

    /**
     * A PEM file of certificates to trust instead of the JDK's; unset for the JDK's.
     *
     * @return the file, or {@code null}
     */
    public Path getTrustedCertificates() {
      return trustedCertificates;
    }

    /**
     * Sets the trusted certificates.
     *
     * @param trustedCertificates a PEM file
     */
    public void setTrustedCertificates(Path trustedCertificates) {
      this.trustedCertificates = trustedCertificates;
    }
  }

  /**
   * {@code emailrouter.engine.*}: the common {@code RouterEngine.Builder} settings; each unset one
   * keeps the builder's default.
   */
  public static class Engine {
    private Integer batchPerSender;
    private Integer maxPerTick;
    private Integer sendSessions;
    private Duration lease;
    private Duration tickBudget;
    private Integer maxAttempts;
    private Duration retryDelay;
    private Duration maxRetryDelay;
    private String messageIdDomain;
    private Integer maxMessagesPerMailbox;
    private Integer mailboxFailuresBeforeDisable;
    private Duration mailboxRetryDelay;
    private Integer mailboxParallelism;

    /**
     * {@code RouterEngine.Builder.batchPerSender}: emails claimed per sender and tick.
     *
     * @return the value, or {@code null} for the default
     */
    public Integer getBatchPerSender() {
      return batchPerSender;
    }

    /**
     * Sets {@code batch-per-sender}.
     *
     * @param batchPerSender 1 to 1000
     */
    public void setBatchPerSender(Integer batchPerSender) {
      this.batchPerSender = batchPerSender;
    }

    /**
     * {@code RouterEngine.Builder.maxPerTick}: emails sent per tick in all.
     *
     * @return the value, or {@code null} for the default
     */
    public Integer getMaxPerTick() {
      return maxPerTick;
    }

    /**
     * Sets {@code max-per-tick}.
     *
     * @param maxPerTick at least 1
     */
    public void setMaxPerTick(Integer maxPerTick) {
      this.maxPerTick = maxPerTick;
    }

    /**
     * {@code RouterEngine.Builder.sendSessions}: SMTP sessions sending in parallel.
     *
     * @return the value, or {@code null} for the default
     */
    public Integer getSendSessions() {
      return sendSessions;
    }

    /**
     * Sets {@code send-sessions}.
     *
     * @param sendSessions 1 to 64
     */
    public void setSendSessions(Integer sendSessions) {
      this.sendSessions = sendSessions;
    }

    /**
     * {@code RouterEngine.Builder.lease}: how long a claim holds an email.
     *
     * @return the value, or {@code null} for the default
     */
    public Duration getLease() {
      return lease;
    }

    /**
     * Sets {@code lease}.
     *
     * @param lease positive
     */
    public void setLease(Duration lease) {
      this.lease = lease;
    }

    /**
     * {@code RouterEngine.Builder.tickBudget}: the longest a tick works.
     *
     * @return the value, or {@code null} for the default
     */
    public Duration getTickBudget() {
      return tickBudget;
    }

    /**
     * Sets {@code tick-budget}.
     *
     * @param tickBudget positive
     */
    public void setTickBudget(Duration tickBudget) {
      this.tickBudget = tickBudget;
    }

    /**
     * {@code RouterEngine.Builder.maxAttempts}: send attempts before an email fails.
     *
     * @return the value, or {@code null} for the default
     */
    public Integer getMaxAttempts() {
      return maxAttempts;
    }

    /**
     * Sets {@code max-attempts}.
     *
     * @param maxAttempts at least 1
     */
    public void setMaxAttempts(Integer maxAttempts) {
      this.maxAttempts = maxAttempts;
    }

    /**
     * {@code RouterEngine.Builder.retryDelay}: the first delay before a retry.
     *
     * @return the value, or {@code null} for the default
     */
    public Duration getRetryDelay() {
      return retryDelay;
    }

    /**
     * Sets {@code retry-delay}.
     *
     * @param retryDelay positive
     */
    public void setRetryDelay(Duration retryDelay) {
      this.retryDelay = retryDelay;
    }

    /**
     * {@code RouterEngine.Builder.maxRetryDelay}: the longest delay between retries.
     *
     * @return the value, or {@code null} for the default
     */
    public Duration getMaxRetryDelay() {
      return maxRetryDelay;
    }

    /**
     * Sets {@code max-retry-delay}.
     *
     * @param maxRetryDelay positive
     */
    public void setMaxRetryDelay(Duration maxRetryDelay) {
      this.maxRetryDelay = maxRetryDelay;
    }

    /**
     * {@code RouterEngine.Builder.messageIdDomain}: the domain of generated Message-IDs.
     *
     * @return the value, or {@code null} for the default
     */
    public String getMessageIdDomain() {
      return messageIdDomain;
    }

    /**
     * Sets {@code message-id-domain}.
     *
     * @param messageIdDomain a domain name
     */
    public void setMessageIdDomain(String messageIdDomain) {
      this.messageIdDomain = messageIdDomain;
    }

    /**
     * {@code RouterEngine.Builder.maxMessagesPerMailbox}: new messages read per mailbox and tick.
     *
     * @return the value, or {@code null} for the default
     */
    public Integer getMaxMessagesPerMailbox() {
      return maxMessagesPerMailbox;
    }

    /**
     * Sets {@code max-messages-per-mailbox}.
     *
     * @param maxMessagesPerMailbox at least 1
     */
    public void setMaxMessagesPerMailbox(Integer maxMessagesPerMailbox) {
      this.maxMessagesPerMailbox = maxMessagesPerMailbox;
    }

    /**
     * {@code RouterEngine.Builder.mailboxFailuresBeforeDisable}: failures in a row before a mailbox
     * is disabled.
     *
     * @return the value, or {@code null} for the default
     */
    public Integer getMailboxFailuresBeforeDisable() {
      return mailboxFailuresBeforeDisable;
    }

    /**
     * Sets {@code mailbox-failures-before-disable}.
     *
     * @param mailboxFailuresBeforeDisable at least 1
     */
    public void setMailboxFailuresBeforeDisable(Integer mailboxFailuresBeforeDisable) {
      this.mailboxFailuresBeforeDisable = mailboxFailuresBeforeDisable;
    }

    /**
     * {@code RouterEngine.Builder.mailboxRetryDelay}: the first delay before a failed mailbox is
     * read again.
     *
     * @return the value, or {@code null} for the default
     */
    public Duration getMailboxRetryDelay() {
      return mailboxRetryDelay;
    }

    /**
     * Sets {@code mailbox-retry-delay}.
     *
     * @param mailboxRetryDelay at least 1 s (the builder refuses less)
     */
    public void setMailboxRetryDelay(Duration mailboxRetryDelay) {
      this.mailboxRetryDelay = mailboxRetryDelay;
    }

    /**
     * {@code RouterEngine.Builder.mailboxParallelism}: mailboxes read at once.
     *
     * @return the value, or {@code null} for the default
     */
    public Integer getMailboxParallelism() {
      return mailboxParallelism;
    }

    /**
     * Sets {@code mailbox-parallelism}.
     *
     * @param mailboxParallelism 1 to 64
     */
    public void setMailboxParallelism(Integer mailboxParallelism) {
      this.mailboxParallelism = mailboxParallelism;
    }
  }
}
