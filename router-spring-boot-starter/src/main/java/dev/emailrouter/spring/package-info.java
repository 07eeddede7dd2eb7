/**
 * Spring Boot auto-configuration of the Email Router: a {@code RouterEngine} from {@code
 * emailrouter.*} properties and the host's {@code ActivityStore} bean, ticked by a scheduler of its
 * own, with an Actuator health indicator and Micrometer metrics where those are on the classpath.
 * The public types are {@link dev.emailrouter.spring.EmailRouterAutoConfiguration} and {@link
 * dev.emailrouter.spring.EmailRouterProperties}; everything else is package-private.
 */
package dev.emailrouter.spring;
