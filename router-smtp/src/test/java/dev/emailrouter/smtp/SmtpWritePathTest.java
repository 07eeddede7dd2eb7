package dev.emailrouter.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;
import org.eclipse.angus.mail.smtp.SMTPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The per-email hot path of the SMTP client, which reads eight bytes at a time and parses replies
 * by hand: it must give exactly what the plain byte-by-byte and regular-expression forms gave.
 */
final class SmtpWritePathTest {

  /** Angus's SMTP data stream over CRLF content, with the end of data our data() adds. */
  private static String angus(byte[] content) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    SMTPOutputStream reference = new SMTPOutputStream(bytes);
    reference.write(content);
    reference.ensureAtBOL();
    reference.flush();
    return bytes.toString(StandardCharsets.ISO_8859_1);
  }

  private static String stuffed(byte[] content) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    SmtpConnection.writeDotStuffed(bytes, content);
    return bytes.toString(StandardCharsets.ISO_8859_1);
  }

  @Test
  void writeDotStuffed_doublesEveryLeadingDot_atEveryPlaceInAnEightByteWord() throws Exception {
    for (int offset = 0; offset < 24; offset++) {
      String text = "x".repeat(offset) + "\r\n.a.b\r\n..\r\n.\r\n" + "y".repeat(offset) + ".\r\nz.";
      byte[] content = text.getBytes(StandardCharsets.US_ASCII);
      assertThat(stuffed(content)).as("offset %d", offset).isEqualTo(angus(content));
    }
  }

  @Test
  void writeDotStuffed_matchesAngusOnRandomCrlfText() throws Exception {
    Random random = new Random(7);
    byte[] alphabet = ".....a\r\n".getBytes(StandardCharsets.US_ASCII);
    for (int round = 0; round < 500; round++) {
      StringBuilder text = new StringBuilder();
      int n = random.nextInt(70);
      for (int i = 0; i < n; i++) {
        byte b = alphabet[random.nextInt(alphabet.length)];
        // CRLF content only, as the composer gives it: a CR is always followed by its LF.
        if (b == '\r' || b == '\n') {
          text.append("\r\n");
        } else {
          text.append((char) b);
        }
      }
      byte[] content = text.toString().getBytes(StandardCharsets.US_ASCII);
      assertThat(stuffed(content)).as("%s", text).isEqualTo(angus(content));
    }
  }

  @Test
  void writeDotStuffed_endsAnOpenLastLine_andWritesNothingForNothing() throws Exception {
    assertThat(stuffed(new byte[0])).isEmpty();
    assertThat(stuffed("abcdefghij".getBytes(StandardCharsets.US_ASCII))).isEqualTo("abcdefghij\r\n");
    assertThat(stuffed(".".getBytes(StandardCharsets.US_ASCII))).isEqualTo("..\r\n");
  }

  @Test
  void hasEightBit_findsAHighByteAtAnyPlace_andNoneInAscii() {
    for (int length = 0; length < 40; length++) {
      byte[] ascii = "a".repeat(length).getBytes(StandardCharsets.US_ASCII);
      assertThat(SmtpConnection.hasEightBit(ascii)).isFalse();
      for (int at = 0; at < length; at++) {
        byte[] eight = ascii.clone();
        eight[at] = (byte) (at % 2 == 0 ? 0x80 : 0xff);
        assertThat(SmtpConnection.hasEightBit(eight)).as("length %d, at %d", length, at).isTrue();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', nullValues = "null", value = {
      "250 2.0.0 Ok | 2.0.0",
      "250 2.0.0 | 2.0.0",
      "550 5.1.1 <a@b>: unknown | 5.1.1",
      "452 4.5.3 Too many | 4.5.3",
      "250 2.123.456 x | 2.123.456",
      "250-2.1.0 first of many | 2.1.0",
      "250 2.1234.0 x | null",
      "250 2.0.1234 x | null",
      "250 2.0 x | null",
      "250 2.0. x | null",
      "250 2..0 x | null",
      "250 2.0.0.0 x | null",
      "250 3.0.0 x | null",
      "250 4.0.0 class unlike the code | null",
      "250 2.0.0x | null",
      "250 x2.0.0 | null",
      "250 Ok | null",
      "250 | null",
      "250 2.a.0 | null",
  })
  void reply_readsTheEnhancedStatusAsRfc3463WritesIt(String line, String status) {
    assertThat(SmtpReply.of(Integer.parseInt(line.substring(0, 3)), List.of(line)).enhancedStatus())
        .isEqualTo(status);
  }

  @Test
  void data_sendsAFiftyKilobyteEmailWithItsEndOfDataInOneSocketWrite() throws Exception {
    AtomicInteger writes = new AtomicInteger();
    SocketFactory counting = new SocketFactory() {
      @Override
      public Socket createSocket() {
        return new Socket() {
          @Override
          public OutputStream getOutputStream() throws IOException {
            return new FilterOutputStream(super.getOutputStream()) {
              @Override
              public void write(byte[] b, int off, int len) throws IOException {
                writes.incrementAndGet();
                out.write(b, off, len);
              }
            };
          }
        };
      }

      @Override
      public Socket createSocket(String host, int port) {
        throw new UnsupportedOperationException();
      }

      @Override
      public Socket createSocket(String host, int port, InetAddress local, int localPort) {
        throw new UnsupportedOperationException();
      }

      @Override
      public Socket createSocket(InetAddress host, int port) {
        throw new UnsupportedOperationException();
      }

      @Override
      public Socket createSocket(InetAddress address, int port, InetAddress local, int localPort) {
        throw new UnsupportedOperationException();
      }
    };
    byte[] content = "x".repeat(76).concat("\r\n").repeat(50 * 1024 / 78).getBytes(StandardCharsets.US_ASCII);
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread reader = new Thread(() -> {
        try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
          in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
          // the test ends the connection
        }
      });
      reader.start();
      SmtpConnection.Settings settings = new SmtpConnection.Settings("127.0.0.1", server.getLocalPort(), "test",
          counting, null, 5_000, 5_000, 5_000, 5_000_000_000L, new WriteWatchdog("test-watchdog"));
      try (SmtpConnection connection = SmtpConnection.open(settings, false)) {
        connection.command("MAIL FROM:<a@example.test>");
        connection.command("RCPT TO:<b@example.test>");
        connection.command("DATA");
        connection.flush();
        writes.set(0);

        connection.data(content);

        assertThat(writes.get()).isEqualTo(1);
      }
      reader.join(5_000);
    }
  }
}
