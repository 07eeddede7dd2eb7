/**
 * Contract tests a host runs against its own implementations of the router's SPIs: extend {@link
 * dev.emailrouter.testkit.ActivityStoreContract}, {@link dev.emailrouter.testkit.MailTransportContract},
 * {@link dev.emailrouter.testkit.MailboxReaderContract} or {@link
 * dev.emailrouter.testkit.SentFolderContract} in your test sources and return a fixture.
 *
 * <p>The contracts are JUnit 5 (Jupiter) tests and run only on the JUnit Platform. With Maven that
 * takes maven-surefire-plugin (or failsafe) 3.x; Surefire 2.22 works only with {@code
 * junit-jupiter-engine} added as a test dependency. The Surefire 2.12.4 that Maven 3.8 uses when a
 * project pins no version runs none of them and reports "Tests run: 0" with a successful build. This
 * kit can't detect that from the inside (none of its code runs), so pin the plugin's version and set
 * {@code failIfNoTests} to {@code true} in its configuration (or pass {@code -DfailIfNoTests=true}):
 * a build that runs no test then fails instead of passing silently.
 */
package dev.emailrouter.testkit;
