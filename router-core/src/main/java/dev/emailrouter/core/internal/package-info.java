/**
 * Unsupported: code the router's own modules share. Anything here may change or vanish in any
 * release; hosts must not use it.
 */
package dev.emailrouter.core.internal;
