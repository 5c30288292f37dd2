package io.lovage.bench;

import io.lovage.TaskClient;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Workload 5: how soon an idle-ish worker starts a task. At a light steady 100 tasks/s, the time
 * from just before {@code TaskClient.send} to the worker's task-started event ({@link
 * StartLatencies}).
 */
final class PickupLatency {
  static final String QUEUE = "bench.pickup.quorum";
  static final int RATE = 100;
  private static final Duration WAIT_FOR_EVENTS = Duration.ofSeconds(60);

  private PickupLatency() {}

  static void run(BenchContext ctx, Rows rows) {
    Duration duration = ctx.profile().pickupDuration();
    int tasks = (int) (RATE * duration.toSeconds());
    String settings =
        String.format(
            "%d tasks/s for %d s, quorum queue, results recorded", RATE, duration.toSeconds());
    Lazy<List<Double>> latencies = Lazy.of(() -> measure(ctx, tasks));
    rows.measure(
        "Pickup latency p50: publish to task start (" + settings + ")",
        "ms",
        Goal.below(5, "< 5 ms"),
        () -> percentile(latencies.get(), 50));
    rows.measure(
        "Pickup latency p99: publish to task start (" + settings + ")",
        "ms",
        Goal.NONE,
        () -> percentile(latencies.get(), 99));
  }

  private static List<Double> measure(BenchContext ctx, int tasks) {
    TaskClient client = ctx.client(QueueType.QUORUM);
    LovageApp worker =
        LovageApp.workerOnOwnQueue(
            ctx,
            "worker-pickup",
            QUEUE,
            Map.of("LOVAGE_PREFETCH", String.valueOf(BenchContext.PREFETCH)));
    try (StartLatencies latencies = new StartLatencies(ctx, tasks)) {
      NoopThroughput.warmUp(ctx, client, QUEUE, List.of(worker));
      long start = System.nanoTime();
      long interval = 1_000_000_000L / RATE;
      for (int i = 0; i < tasks; i++) {
        LockSupport.parkNanos(start + i * interval - System.nanoTime());
        TaskMessage task = TaskMessage.builder("demo.noop").build();
        latencies.sending(task.id());
        client.send(task, QUEUE);
        if (i > 0 && i % RATE == 0) {
          System.out.printf(
              "  pickup: published %,d/%,d, started %,d%n", i, tasks, latencies.started());
        }
      }
      List<Double> sorted = latencies.awaitSorted(tasks, WAIT_FOR_EVENTS);
      System.out.printf(
          "  pickup: %,d tasks, p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
          tasks, at(sorted, 50), at(sorted, 99), sorted.get(sorted.size() - 1));
      return sorted;
    } finally {
      worker.stop(ctx);
    }
  }

  private static Rows.Measured percentile(List<Double> sorted, int p) {
    return StartLatencies.percentile(sorted, p, Map.of("ratePerSecond", RATE));
  }

  /** The nearest-rank percentile of sorted values. */
  static double at(List<Double> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }
}
