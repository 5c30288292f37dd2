package io.lovage.bench;

import io.lovage.TaskClient;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Workload 3: the same no-op tasks, sent the same way (Java TaskClient, Celery protocol v2), run by
 * Python Celery 5.2: prefork with 2 processes and threads with 8. Celery 5.2 cannot consume a
 * quorum queue, so these use classic queues, and Lovage runs once more on a classic queue for the
 * like-for-like ratio. No results on either side (Celery ignores them, Lovage tasks carry {@code
 * ignore_result}); everything holds 200 unacknowledged messages (Celery: concurrency × prefetch
 * multiplier); every system gets the same untimed warm-up first.
 */
final class CeleryComparison {
  static final String LOVAGE_QUEUE = "bench.noop.classic";

  private CeleryComparison() {}

  record Result(Row lovageClassic, Row prefork, Row threads) {}

  static Result run(BenchContext ctx, Rows rows) {
    int tasks = ctx.profile().noopTasks();
    TaskClient client = ctx.client(QueueType.CLASSIC);
    Row lovage =
        rows.measure(
            NoopThroughput.name(1, "classic", false, tasks),
            "tasks/s",
            Goal.NONE,
            () -> lovageOnClassic(ctx, client, tasks));
    Row prefork =
        rows.measure(
            String.format(
                "No-op: Celery 5.2 prefork -c 2, classic queue, no results (%,d tasks)", tasks),
            "tasks/s",
            Goal.NONE,
            () -> celery(ctx, client, "prefork", 2, tasks));
    Row threads =
        rows.measure(
            String.format(
                "No-op: Celery 5.2 threads -c 8, classic queue, no results (%,d tasks)", tasks),
            "tasks/s",
            Goal.NONE,
            () -> celery(ctx, client, "threads", 8, tasks));
    return new Result(lovage, prefork, threads);
  }

  private static Rows.Measured lovageOnClassic(BenchContext ctx, TaskClient client, int tasks) {
    ctx.queues().usedTaskQueue(LOVAGE_QUEUE);
    System.out.println("  starting worker-noop-classic");
    LovageApp worker =
        LovageApp.worker(
            ctx,
            "worker-noop-classic",
            LOVAGE_QUEUE,
            Map.of(
                "LOVAGE_QUEUE_TYPE",
                "classic",
                "LOVAGE_PREFETCH",
                String.valueOf(BenchContext.PREFETCH)));
    try {
      NoopThroughput.warmUp(ctx, client, LOVAGE_QUEUE, List.of(worker));
      return NoopThroughput.measure(
          ctx, client, LOVAGE_QUEUE, List.of(worker), false, tasks, "classic");
    } finally {
      worker.stop(ctx);
    }
  }

  private static Rows.Measured celery(
      BenchContext ctx, TaskClient client, String pool, int concurrency, int tasks) {
    String queue = "bench.noop.celery-" + pool;
    int multiplier = BenchContext.PREFETCH / concurrency;
    System.out.println("  starting Celery " + pool + " -c " + concurrency);
    CeleryWorker worker = CeleryWorker.start(ctx, queue, pool, concurrency, multiplier);
    try {
      long warmup = ctx.profile().warmupTasks();
      Blast.run(
          "warm-up celery " + pool,
          client,
          queue,
          (int) warmup,
          i -> TaskMessage.builder("demo.noop").ignoreResult(true).build(),
          worker::finished,
          Blast.timeoutFor((int) warmup));
      long before = worker.finished();
      Blast.Result result =
          Blast.run(
              "celery " + pool + " -c " + concurrency,
              client,
              queue,
              tasks,
              i -> TaskMessage.builder("demo.noop").ignoreResult(true).build(),
              () -> worker.finished() - before,
              Blast.timeoutFor(tasks));
      Map<String, Object> raw = new LinkedHashMap<>();
      raw.put("tasks", result.tasks());
      raw.put("seconds", result.seconds());
      raw.put("pool", pool);
      raw.put("concurrency", concurrency);
      raw.put("prefetchMultiplier", multiplier);
      raw.put("queueType", "classic");
      raw.put("readyAfter", ctx.queues().ready(queue));
      return new Rows.Measured(
          result.perSecond(),
          String.format(
              "%,d tasks in %.2f s; prefetch %d × %d, acks late",
              result.tasks(), result.seconds(), concurrency, multiplier),
          raw);
    } finally {
      worker.stop(ctx);
    }
  }
}
