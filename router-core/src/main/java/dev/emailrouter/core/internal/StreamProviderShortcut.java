package dev.emailrouter.core.internal;

import jakarta.mail.util.StreamProvider;
import java.util.Iterator;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spares Jakarta Mail API 2.1.x a {@link ServiceLoader} scan of the class path on every MIME
 * operation (jakartaee/mail-api#861: {@code StreamProvider.provider()} looks the provider up
 * afresh each time; about a third of the router's CPU when it reads mail). Jakarta Mail looks at
 * the system property {@value #PROPERTY} before it scans, so naming there the very provider the
 * scan finds changes nothing but the cost.
 *
 * <p>It is set once, and only when the host has not set it itself, the scan finds a provider, and
 * the host has not opted out with {@code -D}{@value #OPT_OUT}{@code =true} or with {@code
 * RouterEngine.Builder.nameStreamProvider(false)}. Not for hosts' use: internal to the router's
 * modules.
 */
public final class StreamProviderShortcut {
  /** The system property Jakarta Mail reads before it scans. */
  public static final String PROPERTY = "jakarta.mail.util.StreamProvider";
  /** Set to {@code true} to keep Jakarta Mail's scan on every operation. */
  public static final String OPT_OUT = "emailrouter.keepStreamProviderLookup";

  private static final Logger LOG = LoggerFactory.getLogger(StreamProviderShortcut.class);
  private static final Object LOCK = new Object();
  private static String provider;
  private static boolean scanned;
  private static boolean logged;

  private StreamProviderShortcut() {}

  /**
   * Names the provider in {@value #PROPERTY} unless it is set already or was opted out of. The
   * class path is scanned at most once per class loader.
   */
  public static void apply() {
    if (System.getProperty(PROPERTY) != null || Boolean.getBoolean(OPT_OUT)) {
      return;
    }
    synchronized (LOCK) {
      if (!scanned) {
        provider = firstProvider();
        scanned = true;
      }
      if (provider == null || System.getProperty(PROPERTY) != null) {
        return;
      }
      System.setProperty(PROPERTY, provider);
      if (!logged) {
        logged = true;
        LOG.debug("set the system property {}={} (the provider Jakarta Mail's scan finds), so Jakarta Mail 2.1 "
            + "does not scan the class path for it on every MIME operation (jakartaee/mail-api#861); "
            + "RouterEngine.Builder.nameStreamProvider(false) or -D{}=true keeps the scan", PROPERTY, provider,
            OPT_OUT);
      }
    }
  }

  private static String firstProvider() {
    try {
      Iterator<StreamProvider> found = ServiceLoader.load(StreamProvider.class).iterator();
      return found.hasNext() ? found.next().getClass().getName() : null;
    } catch (ServiceConfigurationError | RuntimeException e) {
      LOG.debug("no StreamProvider found by a scan ({}); Jakarta Mail keeps looking it up itself", e.toString());
      return null;
    }
  }
}
