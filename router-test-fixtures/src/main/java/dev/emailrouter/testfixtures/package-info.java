/**
 * The fakes the Email Router's own tests share across modules: a {@link
 * dev.emailrouter.testfixtures.MutableClock} moved by hand, a {@link
 * dev.emailrouter.testfixtures.ForwardingActivityStore} to inject store failures into, a {@link
 * dev.emailrouter.testfixtures.StoreOutage} whose CRM goes down and comes back, a {@link
 * dev.emailrouter.testfixtures.FakeTokenSource} for OAuth2 logins, {@link
 * dev.emailrouter.testfixtures.Loopback} GreenMail setups on 127.0.0.1, and {@link
 * dev.emailrouter.testfixtures.SmtpWire} and {@link dev.emailrouter.testfixtures.LoopbackListener}, the
 * line-level server end of an SMTP connection and the accept loop that the scripted SMTP servers share.
 *
 * <p><b>Internal and not published.</b> This module ({@code router-test-fixtures}) exists so that each
 * fixture is written once; modules take it in {@code test} scope only, it is not in {@code router-bom},
 * and nothing in it is a promise: it changes whenever a test needs it to. A host that wants to check its
 * own {@code ActivityStore}, {@code MailTransport} or {@code MailboxReader} uses the public contract
 * tests of {@code router-testkit} instead.
 *
 * <p>It depends on {@code router-api} and, optionally, GreenMail (for {@code Loopback}), never on {@code
 * router-core}: the protocol adapters use these fixtures, and an adapter must not see core. A fixture
 * that needs core's types stays in core's tests (e.g. {@code FakeMailbox}, {@code TestMail}), and a
 * fixture only one module uses stays in that module (the scripted IMAP and POP3 servers, the wire
 * proxies, reliability's crash-point store). The two scripted SMTP servers (router-smtp's, with canned
 * replies per command, and reliability's sink, which counts by Message-ID and checks logins) keep their
 * scripts in their modules and share {@code SmtpWire} and {@code LoopbackListener}.
 *
 * <p>Each type states its own thread-safety; all of them may be shared by an engine's workers and the
 * test thread.
 */
package dev.emailrouter.testfixtures;
