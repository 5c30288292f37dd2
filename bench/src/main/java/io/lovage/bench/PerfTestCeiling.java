package io.lovage.bench;

import io.lovage.broker.Message;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Workload 2: the raw broker ceiling. RabbitMQ PerfTest, one producer and one consumer, with what
 * Lovage asks of the broker: persistent messages of a no-op task's body size, publisher confirms
 * with the same window, manual acknowledgements, the same prefetch, a quorum queue. Lovage's
 * messages carry their protocol headers besides (about {@link #headerBytes()} bytes as JSON),
 * PerfTest's do not.
 */
final class PerfTestCeiling {
  static final String QUEUE = "bench.perftest.quorum";
  static final String EXCHANGE = "bench.perftest";

  private static final Pattern SENDING = Pattern.compile("sending rate avg: (\\d+) msg/s");
  private static final Pattern RECEIVING = Pattern.compile("receiving rate avg: (\\d+) msg/s");

  private PerfTestCeiling() {}

  static Row run(BenchContext ctx, Rows rows) {
    int messages = ctx.profile().perfTestMessages();
    int size = bodyBytes();
    return rows.measure(
        String.format(
            "PerfTest ceiling: 1 producer, 1 consumer, quorum queue, %d-byte persistent messages (%,d messages)",
            size, messages),
        "msg/s",
        Goal.NONE,
        () -> measure(ctx, messages, size));
  }

  /** The body of a no-op task as Lovage sends it: {@code [[], {}, {embed}]}. */
  static int bodyBytes() {
    return noopMessage().body().length;
  }

  /** Lovage's AMQP headers of the same task, as JSON: what PerfTest's messages lack. */
  static int headerBytes() {
    return Json.MAPPER.writeValueAsBytes(noopMessage().headers()).length;
  }

  private static Message noopMessage() {
    return TaskMessageCodec.encode(
        TaskMessage.builder("demo.noop").ignoreResult(true).origin("lovage-bench").build());
  }

  private static Rows.Measured measure(BenchContext ctx, int messages, int size) {
    ctx.queues().usedQueue(QUEUE);
    ctx.queues().usedExchange(EXCHANGE);
    List<String> command = new ArrayList<>();
    command.add(ctx.java().toString());
    command.add("-cp");
    command.add(ctx.perfTestClasspath().resolve("*").toString());
    command.add("com.rabbitmq.perf.PerfTest");
    List<String> args =
        List.of(
            "--id",
            "lovage-bench",
            "-h",
            ctx.rabbitUri(),
            "-x",
            "1",
            "-y",
            "1",
            "-s",
            String.valueOf(size),
            "-f",
            "persistent",
            "-c",
            String.valueOf(BenchContext.CONFIRM_WINDOW),
            "-q",
            String.valueOf(BenchContext.PREFETCH),
            "--quorum-queue",
            "--auto-delete",
            "false",
            "-u",
            QUEUE,
            "-e",
            EXCHANGE,
            "-C",
            String.valueOf(messages),
            "-D",
            String.valueOf(messages));
    command.addAll(args);
    System.out.printf("  PerfTest: %,d messages of %d bytes…%n", messages, size);
    String output = ctx.processes().run("perf-test", command, Map.of(), Duration.ofMinutes(5));
    double sending = rate(SENDING, output);
    double receiving = rate(RECEIVING, output);
    System.out.printf(
        "  PerfTest: sending %,.0f msg/s, receiving %,.0f msg/s%n", sending, receiving);
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("messages", messages);
    raw.put("bodyBytes", size);
    raw.put("lovageHeaderBytesAsJson", headerBytes());
    raw.put("sendingRateAvg", sending);
    raw.put("receivingRateAvg", receiving);
    raw.put("arguments", String.join(" ", args).replace(ctx.rabbitUri(), "<uri>"));
    return new Rows.Measured(
        receiving,
        String.format(
            "receiving rate avg (sending %,.0f); confirms %,d in flight, -q %d; Lovage's headers add ~%d bytes",
            sending, BenchContext.CONFIRM_WINDOW, BenchContext.PREFETCH, headerBytes()),
        raw);
  }

  static double rate(Pattern pattern, String output) {
    Matcher m = pattern.matcher(output);
    if (!m.find()) {
      throw new IllegalStateException(
          "PerfTest printed no '"
              + pattern.pattern()
              + "' line; its output ends:\n"
              + tail(output));
    }
    return Double.parseDouble(m.group(1));
  }

  private static String tail(String output) {
    return output.length() > 2000 ? output.substring(output.length() - 2000) : output;
  }
}
