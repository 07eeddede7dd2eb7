package dev.emailrouter.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ~50 MB message through an engine whose JVM has 256 MB of heap, and again with 48 MB (less than
 * the message itself): read over IMAP (in 1 MB
 * pieces) and over POP3 (one streamed RETR) from GreenMail in this JVM, its 36 MB attachment
 * streamed into the store and checked by SHA-256; and a ~50 MB email sent over SMTP with an
 * attachment made as it is read. No OutOfMemoryError; the child reports its peak heap. Runs with
 * {@code -Pconformance}.
 */
final class LargeMessageIT {
  static final long ATTACHMENT = 36L << 20;
  static final long SEED = 50;

  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"-Xmx256m", "-Xmx48m"})
  void tick_withA50MbMessageAndASmallHeap_readsAndSendsItWithoutRunningOutOfMemory(String heap) throws Exception {
    byte[] raw = message("imap");
    String expected = ATTACHMENT + ":" + Noise.sha256(SEED, ATTACHMENT);
    try (World world = new World(dir).withGreenMail(); SmtpSink sink = SmtpSink.start()) {
      world.deliverImap(raw);
      world.deliverPop3(message("pop3")); // its own Message-ID, or it would be a duplicate of the IMAP one
      ChildJvm child = ChildJvm.start(LargeMessageProcess.class, List.of(heap),
          List.of(Integer.toString(world.greenMail.getImap().getPort()), Integer.toString(world.greenMail.getPop3().getPort()),
              Integer.toString(sink.port()), Long.toString(ATTACHMENT), Long.toString(SEED)));
      int exit = child.await(Duration.ofMinutes(10));
      String output = child.output();
      System.out.println(output);

      assertThat(exit).as("exit code of the %s JVM:\n%s", heap, output).isZero();
      assertThat(output).doesNotContain("OutOfMemoryError");
      assertThat(child.value("TRACKED")).isEqualTo("2");
      assertThat(child.value("SENT")).isEqualTo("1");
      assertThat(child.value("ATTACHMENT_imap")).as("the attachment read over IMAP").isEqualTo(expected);
      assertThat(child.value("ATTACHMENT_pop3")).as("the attachment read over POP3").isEqualTo(expected);
      assertThat(sink.received()).singleElement().satisfies(r -> assertThat(r.size()).isGreaterThan(ATTACHMENT * 4 / 3));
      String peak = child.value("PEAK_HEAP_SAMPLED_MB");
      Figures.record(LargeMessageIT.class, "~" + raw.length / 1_000_000 + " MB message in, ~" + sink.received().get(0).size()
          / 1_000_000 + " MB email out, " + heap, 0, 3, 0, 0, "peak heap " + peak + " MB sampled, "
          + child.value("PEAK_HEAP_POOLS_MB") + " MB sum of pool peaks, of " + child.value("HEAP_MAX_MB") + " MB");
    }
  }

  /** A message with a short text and a 36 MB attachment in base64: about 50 MB on the wire. */
  private static byte[] message(String id) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) (ATTACHMENT * 14 / 10));
    out.writeBytes(("Message-ID: <large-50mb-" + id + "@example.test>\r\n"
        + "From: Ann Contact <ann@example.test>\r\n"
        + "To: sales@crm.example.test\r\n"
        + "Subject: the big file\r\n"
        + "MIME-Version: 1.0\r\n"
        + "Content-Type: multipart/mixed; boundary=\"big\"\r\n\r\n"
        + "--big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere it is.\r\n"
        + "--big\r\nContent-Type: application/octet-stream; name=big.bin\r\n"
        + "Content-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    try (Noise noise = new Noise(SEED, ATTACHMENT);
         OutputStream b64 = Base64.getMimeEncoder().wrap(new NonClosing(out))) {
      noise.transferTo(b64);
    }
    out.writeBytes("\r\n--big--\r\n".getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  /** Keeps the wrapped stream open when the base64 encoder is closed. */
  private static final class NonClosing extends java.io.FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() {
      // the message goes on after the attachment
    }
  }
}
