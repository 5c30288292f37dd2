package io.lovage.bench;

import io.lovage.TaskClient;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Workload 9: how soon an urgent task starts behind a backlog. 10,000 priority-0 tasks ({@code
 * demo.sleep(0.01)}, 8 at once: about 12 s of work) wait in the quorum queue of a running worker;
 * priority-9 no-op tasks are sent one at a time, each once the one before has started, and each
 * one's time from send to task-started event is taken ({@link StartLatencies}). RabbitMQ 4.x
 * delivers them first from the quorum queue's high level, on 3.x they go through the queue's urgent
 * lane.
 */
final class PriorityPickup {
  static final String QUEUE = "bench.priority.quorum";
  static final int BACKLOG = 10_000;
  static final int IO_CONCURRENCY = 8;
  private static final Duration WAIT = Duration.ofSeconds(30);

  private PriorityPickup() {}

  static void run(BenchContext ctx, Rows rows) {
    int samples = ctx.profile().urgentSamples();
    String settings =
        String.format(
            "behind %,d queued priority-0 tasks, quorum queue, %d samples", BACKLOG, samples);
    Lazy<List<Double>> latencies = Lazy.of(() -> measure(ctx, samples));
    for (int p : new int[] {50, 99}) {
      rows.measure(
          "Pickup latency p" + p + " of a priority-9 task (" + settings + ")",
          "ms",
          Goal.below(1000, "< 1 s"),
          () ->
              StartLatencies.percentile(
                  latencies.get(), p, Map.of("backlog", BACKLOG, "ioConcurrency", IO_CONCURRENCY)));
    }
  }

  private static List<Double> measure(BenchContext ctx, int samples) {
    TaskClient client = ctx.client(QueueType.QUORUM);
    LovageApp worker =
        LovageApp.workerOnOwnQueue(
            ctx,
            "worker-priority",
            QUEUE,
            Map.of("LOVAGE_IO_CONCURRENCY", String.valueOf(IO_CONCURRENCY)));
    try (StartLatencies latencies = new StartLatencies(ctx, samples)) {
      List<CompletableFuture<TaskMessage>> backlog = new ArrayList<>();
      for (int i = 0; i < BACKLOG; i++) {
        TaskMessage low =
            TaskMessage.builder("demo.sleep").args(0.01).priority(0).ignoreResult(true).build();
        backlog.add(client.send(low, QUEUE));
      }
      CompletableFuture.allOf(backlog.toArray(CompletableFuture[]::new)).join();
      for (int i = 0; i < samples; i++) {
        TaskMessage urgent = TaskMessage.builder("demo.noop").priority(9).build();
        latencies.sending(urgent.id());
        client.send(urgent, QUEUE).join();
        latencies.awaitSorted(i + 1, WAIT);
      }
      long left = ctx.queues().ready(QUEUE);
      if (left == 0) {
        throw new IllegalStateException("the backlog ran out before the last urgent task started");
      }
      List<Double> sorted = latencies.awaitSorted(samples, WAIT);
      System.out.printf(
          "  priority: %d urgent tasks, p50 %.2f ms, max %.2f ms, %,d of %,d low ones still"
              + " queued%n",
          samples, PickupLatency.at(sorted, 50), sorted.getLast(), left, BACKLOG);
      return sorted;
    } finally {
      ctx.queues().purge(QUEUE);
      worker.stop(ctx);
    }
  }
}
