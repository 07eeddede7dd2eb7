package dev.emailrouter.spring;

/** The application context has no single {@code ActivityStore} bean for the engine. */
final class MissingActivityStoreException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private final long found;

  MissingActivityStoreException(long found) {
    super(found == 0
        ? "The Email Router needs an ActivityStore bean (your CRM's emails) and the application context has none: "
            + "declare a @Bean of type dev.emailrouter.api.ActivityStore, or set emailrouter.enabled=false"
        : "The Email Router needs one ActivityStore bean and the application context has " + found
            + ": mark the one to use @Primary");
    this.found = found;
  }

  long found() {
    return found;
  }
}
