package dev.emailrouter.spring;

import dev.emailrouter.core.RouterEngine;
import dev.emailrouter.core.TickReport;

/** How the ticker calls {@code tick()}: straight, or through {@code RouterMetrics} to time it. */
@FunctionalInterface
interface TickCall {
  TickReport tick(RouterEngine engine);
}
