/**
 * Micrometer metrics for the router: {@link dev.emailrouter.micrometer.RouterMetrics} counts a
 * {@link dev.emailrouter.core.RouterEngine}'s events, times its ticks and gauges its mailboxes and
 * in-flight emails, with tags bounded by configuration and by the router's own codes.
 */
package dev.emailrouter.micrometer;
