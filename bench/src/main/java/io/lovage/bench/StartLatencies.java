package io.lovage.bench;

import io.lovage.result.EventStreamResultStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The time from just before a task's send to its worker's task-started event, read back from the
 * event stream with {@link EventStreamResultStore}. Sender and worker share this machine's clock.
 */
final class StartLatencies implements AutoCloseable {
  private final Map<String, Instant> sent = new ConcurrentHashMap<>();
  private final Map<String, Double> millis = new ConcurrentHashMap<>();
  private final EventStreamResultStore events;

  /**
   * Follows the events of the last 10 s only: the workloads before left hundreds of thousands of
   * events in the stream, and catching up on them would compete with the worker for the CPU.
   * Latencies are taken as each task-started event arrives, so the short expiry loses none.
   */
  StartLatencies(BenchContext ctx, int tasks) {
    events =
        new EventStreamResultStore(tasks * 2 + 10_000, Duration.ofSeconds(10), Clock.systemUTC());
    events.onChange(
        record -> {
          Instant at = sent.get(record.id());
          if (at != null && record.started() != null) {
            millis.putIfAbsent(record.id(), Duration.between(at, record.started()).toNanos() / 1e6);
          }
        });
    events.follow(ctx.broker());
  }

  /** Call just before sending the task. */
  void sending(String taskId) {
    sent.put(taskId, Instant.now());
  }

  /** Tasks started so far. */
  int started() {
    return millis.size();
  }

  /** Waits until {@code tasks} have started, or fails after {@code timeout}; their latencies. */
  List<Double> awaitSorted(int tasks, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (millis.size() < tasks) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            String.format(
                "only %,d of %,d tasks had a task-started event within %s",
                millis.size(), tasks, timeout));
      }
      Pause.millis(20);
    }
    List<Double> sorted = new ArrayList<>(millis.values());
    sorted.sort(Double::compare);
    return sorted;
  }

  /** A percentile of sorted latencies as a row's value, with how they were taken. */
  static Rows.Measured percentile(List<Double> sorted, int p, Map<String, Object> settings) {
    Map<String, Object> raw = new LinkedHashMap<>(settings);
    raw.put("tasks", sorted.size());
    raw.put("minMillis", sorted.get(0));
    raw.put("p50Millis", PickupLatency.at(sorted, 50));
    raw.put("p90Millis", PickupLatency.at(sorted, 90));
    raw.put("p99Millis", PickupLatency.at(sorted, 99));
    raw.put("maxMillis", sorted.get(sorted.size() - 1));
    return new Rows.Measured(
        PickupLatency.at(sorted, p),
        String.format(
            "%,d tasks; min %,.2f, p90 %,.2f, max %,.2f ms",
            sorted.size(),
            sorted.get(0),
            PickupLatency.at(sorted, 90),
            sorted.get(sorted.size() - 1)),
        raw);
  }

  @Override
  public void close() {
    events.close();
  }
}
