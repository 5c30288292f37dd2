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

  /** A line PerfTest prints every second: {@code time 2.002 s, sent: …, received: 4825 msg/s}. */
  private static final Pattern SECOND =
      Pattern.compile("time (\\d+\\.\\d+) s, sent: .*?, received: (\\d+) msg/s");

  private PerfTestCeiling() {}

  static Row run(BenchContext ctx, Rows rows) {
    Duration warmup = ctx.profile().perfTestWarmup();
    Duration timed = ctx.profile().perfTestTimed();
    int size = bodyBytes();
    return rows.measure(
        String.format(
            "PerfTest ceiling: 1 producer, 1 consumer, quorum queue, %d-byte persistent messages (%d s after %d s)",
            size, timed.toSeconds(), warmup.toSeconds()),
        "msg/s",
        Goal.NONE,
        () -> measure(ctx, warmup, timed, size));
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

  /**
   * PerfTest publishes and consumes for {@code warmup + timed}; the rate is the mean of the seconds
   * after the warm-up, as the no-op rows time theirs after a warm-up: both sides' JIT has done its
   * work. (Its own average would count the JIT's first seconds; and the end of a run with a message
   * count is a drain of the backlog with no publisher, faster than the steady state.)
   */
  private static Rows.Measured measure(
      BenchContext ctx, Duration warmup, Duration timed, int size) {
    long seconds = warmup.plus(timed).toSeconds();
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
            "-z",
            String.valueOf(seconds));
    command.addAll(args);
    System.out.printf("  PerfTest: %d s of %d-byte messages…%n", seconds, size);
    String output;
    try {
      output = ctx.processes().run("perf-test", command, Map.of(), Duration.ofMinutes(5));
    } finally {
      // Its producer outruns its consumer: what is left (over 100,000 messages in a full run)
      // would weigh on the broker, and on every row after this one, until the bench ends.
      try {
        ctx.queues().purge(QUEUE);
      } catch (RuntimeException notDeclared) {
        // PerfTest failed before it declared its queue: nothing is left.
      }
    }
    double sending = rate(SENDING, output);
    double receiving = rate(RECEIVING, output);
    double steady = steadyRate(output, warmup);
    System.out.printf(
        "  PerfTest: receiving %,.0f msg/s after %d s (on average over all %d s: sending %,.0f,"
            + " receiving %,.0f)%n",
        steady, warmup.toSeconds(), seconds, sending, receiving);
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("seconds", seconds);
    raw.put("warmupSeconds", warmup.toSeconds());
    raw.put("receivingRateAfterWarmup", steady);
    raw.put("bodyBytes", size);
    raw.put("lovageHeaderBytesAsJson", headerBytes());
    raw.put("sendingRateAvg", sending);
    raw.put("receivingRateAvg", receiving);
    raw.put("arguments", String.join(" ", args).replace(ctx.rabbitUri(), "<uri>"));
    return new Rows.Measured(
        steady,
        String.format(
            "mean receiving rate of the seconds after the first %d (average of all %d s: received"
                + " %,.0f, sent %,.0f); confirms %,d in flight, -q %d; Lovage's headers add ~%d"
                + " bytes",
            warmup.toSeconds(),
            seconds,
            receiving,
            sending,
            BenchContext.CONFIRM_WINDOW,
            BenchContext.PREFETCH,
            headerBytes()),
        raw);
  }

  /** The mean of PerfTest's per-second receiving rates after {@code warmup}. */
  static double steadyRate(String output, Duration warmup) {
    double sum = 0;
    int count = 0;
    Matcher second = SECOND.matcher(output);
    while (second.find()) {
      if (Double.parseDouble(second.group(1)) > warmup.toSeconds() + 0.5) {
        sum += Long.parseLong(second.group(2));
        count++;
      }
    }
    if (count == 0) {
      throw new IllegalStateException(
          "PerfTest printed no per-second rate after its " + warmup.toSeconds() + " s warm-up");
    }
    return sum / count;
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
