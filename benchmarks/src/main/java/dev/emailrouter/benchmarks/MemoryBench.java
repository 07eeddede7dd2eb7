package dev.emailrouter.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Bar 6: memory. A ~50 MB message (a 37 MB attachment, base64) sent through the engine into
 * smtp-sink and ingested from Dovecot through the engine, each in a child JVM with {@code -Xmx256m};
 * reports the peak heap and whether an OutOfMemoryError happened.
 */
final class MemoryBench {
  static final String USER = "large";
  static final String HEAP = "-Xmx256m";
  private static final long ATTACHMENT_BYTES = 37_000_000L;
  private final Context ctx;
  private long messageBytes;
  private Path attachment;

  MemoryBench(Context ctx) {
    this.ctx = ctx;
  }

  void load() throws IOException {
    Path message = ctx.work().resolve("large.eml");
    long lfSize = Messages.writeLarge(message, Lab.address(USER), ATTACHMENT_BYTES);
    long lines;
    try (var s = Files.lines(message, StandardCharsets.US_ASCII)) {
      lines = s.count();
    }
    messageBytes = lfSize + lines; // as sent and served: CRLF line ends
    ctx.lab().loadFile(USER, message);
    attachment = ctx.work().resolve("drawing.bin");
    Messages.writeRandom(attachment, ATTACHMENT_BYTES);
    System.out.printf("prepared a %.1f MB message (%.1f MB attachment)%n", messageBytes / 1e6, ATTACHMENT_BYTES / 1e6);
  }

  void run() throws Exception {
    System.out.printf("%n== Memory: a %.1f MB message with %s%n", messageBytes / 1e6, HEAP);
    ctx.report().note("Memory: each phase in a child JVM with " + HEAP + " (G1): peak heap = the sum of the heap "
        + "pools' peak usage (MemoryPoolMXBean, an upper bound: garbage included), live = the most heap in use "
        + "after any GC. Sent with SmtpTransport into smtp-sink; ingested over IMAP with maxMessageSize and "
        + "maxAttachmentSize raised, into a store that streams the attachment away instead of keeping it.");
    for (String mode : List.of("send", "ingest")) {
      Samples poolPeak = new Samples();
      Samples live = new Samples();
      Samples seconds = new Samples();
      boolean oom = false;
      String failure = null;
      for (int run = 0; run < ctx.bigRuns(); run++) {
        Map<String, String> result = child(mode);
        if (result.containsKey("error")) {
          failure = result.get("error");
          oom |= "true".equals(result.get("oom"));
          break;
        }
        poolPeak.add(Double.parseDouble(result.get("poolPeakSum")) / 1e6);
        live.add(Double.parseDouble(result.get("maxAfterGc")) / 1e6);
        seconds.add(Double.parseDouble(result.get("seconds")));
        System.out.printf(Locale.ROOT, "  memory %s run %d: pool peaks %.0f MB, max after GC %.0f MB, max before GC "
            + "%.0f MB, %s GCs, %.1f s%n", mode, run + 1, Double.parseDouble(result.get("poolPeakSum")) / 1e6,
            Double.parseDouble(result.get("maxAfterGc")) / 1e6, Double.parseDouble(result.get("maxBeforeGc")) / 1e6,
            result.get("gcs"), Double.parseDouble(result.get("seconds")));
      }
      double size = messageBytes / 1e6;
      String scenario = String.format(Locale.ROOT, "Memory: %s a %.0f MB message with %s", mode.equals("send")
          ? "send" : "ingest (IMAP, tracked)", size, HEAP);
      if (failure != null) {
        ctx.report().add(new Report.Row(scenario, (oom ? "OutOfMemoryError: " : "failed: ") + failure, "message size",
            String.format(Locale.ROOT, "%.1f MB", size), "—", "≤ 2×, no OOM", Report.Verdict.MISS));
        continue;
      }
      Samples ratio = new Samples();
      ratio.add(poolPeak.median() / size);
      String ours = "peak heap " + poolPeak.describe("MB", Samples::millis) + " (sum of heap pool peaks); live after GC "
          + "at most " + live.describe("MB", Samples::millis) + "; " + seconds.describe("s", Samples::millis)
          + "; no OOM";
      ctx.report().add(new Report.Row(scenario, ours, "message size", String.format(Locale.ROOT, "%.1f MB", size),
          Samples.ratio(poolPeak.median() / size) + " (live " + Samples.ratio(live.median() / size) + ")",
          "≤ 2×, no OOM", poolPeak.median() <= 2 * size ? Report.Verdict.PASS : Report.Verdict.MISS));
    }
  }

  private Map<String, String> child(String mode) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String arg = mode.equals("send") ? attachment.toString() : USER;
    int port = mode.equals("send") ? ctx.sink().port() : ctx.lab().imapPort();
    Path log = ctx.work().resolve("memory-" + mode + ".log");
    Process p = new ProcessBuilder(java, HEAP, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-cp", System.getProperty("java.class.path"), MemoryProbe.class.getName(), mode, Integer.toString(port), arg)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      return Map.of("error", "the child JVM did not finish in 10 minutes");
    }
    Map<String, String> result = new HashMap<>();
    String out = Files.readString(log, StandardCharsets.UTF_8);
    for (String line : out.split("\n")) {
      if (line.startsWith("result ")) {
        String[] kv = line.substring(7).split("=", 2);
        result.put(kv[0], kv[1].strip());
      }
    }
    if (p.exitValue() != 0 || !result.containsKey("poolPeakSum")) {
      String tail = out.length() > 2000 ? out.substring(out.length() - 2000) : out;
      result.put("error", "exit " + p.exitValue() + ": " + tail.replace('\n', ' '));
    }
    return result;
  }
}
