package dev.emailrouter.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a missing {@code ActivityStore} bean into Spring Boot's startup report with what to do. */
final class MissingActivityStoreFailureAnalyzer extends AbstractFailureAnalyzer<MissingActivityStoreException> {

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, MissingActivityStoreException cause) {
    String action = cause.found() == 0
        ? "Declare a bean of type 'dev.emailrouter.api.ActivityStore': your implementation over your CRM, "
            + "or router-jdbc's JdbcActivityStore. To run without the Email Router, set emailrouter.enabled=false."
        : "Mark one of the ActivityStore beans @Primary, or declare the RouterEngine bean yourself.";
    return new FailureAnalysis(cause.getMessage(), action, cause);
  }
}
