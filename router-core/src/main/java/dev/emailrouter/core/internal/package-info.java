/**
 * Unsupported: the engine's own helpers. Anything here may change or vanish in any release; hosts
 * must not use it. What the protocol adapters share lives in {@code router-support}.
 */
package dev.emailrouter.core.internal;
