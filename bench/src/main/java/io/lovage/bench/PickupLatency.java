package io.lovage.bench;

import io.lovage.TaskClient;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Workload 5: how soon an idle-ish worker starts a task. At a light steady 100 tasks/s, the time
 * from just before {@code TaskClient.send} to the worker's task-started event, read back from the
 * event stream with {@link EventStreamResultStore}. Sender and worker share this machine's clock.
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
    ctx.queues().usedTaskQueue(QUEUE);
    TaskClient client = ctx.client(QueueType.QUORUM);
    System.out.println("  starting worker-pickup");
    LovageApp worker =
        LovageApp.worker(
            ctx,
            "worker-pickup",
            QUEUE,
            Map.of("LOVAGE_PREFETCH", String.valueOf(BenchContext.PREFETCH)));
    Map<String, Instant> published = new ConcurrentHashMap<>();
    Map<String, Double> latencies = new ConcurrentHashMap<>();
    // Read from 10 s back only: the workloads before this one left hundreds of thousands of events
    // in the stream, and catching up on them would compete with the worker for the CPU. Latencies
    // are taken as each task-started event arrives, so the short expiry loses none.
    try (EventStreamResultStore events =
        new EventStreamResultStore(tasks * 2 + 10_000, Duration.ofSeconds(10), Clock.systemUTC())) {
      events.onChange(
          record -> {
            Instant sent = published.get(record.id());
            if (sent != null && record.started() != null) {
              latencies.putIfAbsent(
                  record.id(), Duration.between(sent, record.started()).toNanos() / 1e6);
            }
          });
      events.follow(ctx.broker());
      NoopThroughput.warmUp(ctx, client, QUEUE, List.of(worker));
      long start = System.nanoTime();
      long interval = 1_000_000_000L / RATE;
      for (int i = 0; i < tasks; i++) {
        LockSupport.parkNanos(start + i * interval - System.nanoTime());
        TaskMessage task = TaskMessage.builder("demo.noop").build();
        published.put(task.id(), Instant.now());
        client.send(task, QUEUE);
        if (i > 0 && i % RATE == 0) {
          System.out.printf(
              "  pickup: published %,d/%,d, started %,d%n", i, tasks, latencies.size());
        }
      }
      long deadline = System.nanoTime() + WAIT_FOR_EVENTS.toNanos();
      while (latencies.size() < tasks) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              String.format(
                  "only %,d of %,d tasks had a task-started event within %s",
                  latencies.size(), tasks, WAIT_FOR_EVENTS));
        }
        Pause.millis(100);
      }
      List<Double> sorted = new ArrayList<>(latencies.values());
      sorted.sort(Double::compare);
      System.out.printf(
          "  pickup: %,d tasks, p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
          tasks, at(sorted, 50), at(sorted, 99), sorted.get(sorted.size() - 1));
      return sorted;
    } finally {
      worker.stop(ctx);
    }
  }

  private static Rows.Measured percentile(List<Double> sorted, int p) {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("tasks", sorted.size());
    raw.put("ratePerSecond", RATE);
    raw.put("minMillis", sorted.get(0));
    raw.put("p50Millis", at(sorted, 50));
    raw.put("p90Millis", at(sorted, 90));
    raw.put("p99Millis", at(sorted, 99));
    raw.put("maxMillis", sorted.get(sorted.size() - 1));
    return new Rows.Measured(
        at(sorted, p),
        String.format(
            "%,d tasks; min %,.2f, p90 %,.2f, max %,.2f ms",
            sorted.size(), sorted.get(0), at(sorted, 90), sorted.get(sorted.size() - 1)),
        raw);
  }

  /** The nearest-rank percentile of sorted values. */
  static double at(List<Double> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }
}
