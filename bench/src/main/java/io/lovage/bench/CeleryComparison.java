package io.lovage.bench;

import io.lovage.TaskClient;
import io.lovage.bench.CeleryWorker.QueueShape;
import io.lovage.bench.CeleryWorker.Release;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Workload 3: the same no-op tasks, sent the same way (Java TaskClient, Celery protocol v2), run by
 * Python Celery: 5.2 prefork with 2 processes and threads with 8 on classic queues (5.2 cannot
 * consume a quorum queue), and Lovage once more on a classic queue for the like-for-like ratio. No
 * results on either side (Celery ignores them, Lovage tasks carry {@code ignore_result});
 * everything holds 200 unacknowledged messages (Celery: concurrency × prefetch multiplier); every
 * system gets the same untimed warm-up first.
 *
 * <p>Like for like: Lovage and Celery 5.2 prefork one after the other on the same classic queue,
 * declared as Celery declares a queue by default (no priorities, which cost a classic queue its
 * speed); and Celery 5.5 prefork (trixie's, in {@code .ci/rabbitmq4}'s chroot) on a quorum queue
 * declared as Lovage declares it, beside Lovage's own quorum row.
 */
final class CeleryComparison {
  static final String LOVAGE_QUEUE = "bench.noop.classic";
  static final String PLAIN_QUEUE = "bench.noop.plain";
  static final String QUORUM_QUEUE = "bench.noop.celery55";

  private CeleryComparison() {}

  record Result(
      Row lovageClassic,
      Row prefork,
      Row threads,
      Row lovagePlain,
      Row preforkPlain,
      Row celery55) {}

  static Result run(BenchContext ctx, Rows rows) {
    int tasks = ctx.profile().noopTasks();
    TaskClient client = ctx.client(QueueType.CLASSIC);
    Row lovage =
        rows.measure(
            NoopThroughput.name(1, "classic", false, tasks),
            "tasks/s",
            Goal.NONE,
            () -> lovageOn(ctx, client, LOVAGE_QUEUE, Map.of(), tasks, "classic"));
    Row prefork =
        rows.measure(
            celeryName(Release.CELERY_5_2, "prefork -c 2", "classic queue", tasks),
            "tasks/s",
            Goal.NONE,
            () ->
                celery(
                    ctx,
                    client,
                    Release.CELERY_5_2,
                    QueueShape.LOVAGE_CLASSIC,
                    "prefork",
                    2,
                    tasks,
                    "bench.noop.celery-prefork"));
    Row threads =
        rows.measure(
            celeryName(Release.CELERY_5_2, "threads -c 8", "classic queue", tasks),
            "tasks/s",
            Goal.NONE,
            () ->
                celery(
                    ctx,
                    client,
                    Release.CELERY_5_2,
                    QueueShape.LOVAGE_CLASSIC,
                    "threads",
                    8,
                    tasks,
                    "bench.noop.celery-threads"));
    // The plain queue exists before either consumes it; Lovage's worker and client only check
    // it (LOVAGE_TOPOLOGY=verify), as they would a queue that Celery made.
    QueueShape.PLAIN_CLASSIC.declare(ctx, PLAIN_QUEUE);
    // "plain classic queue": declared as Celery declares one by default, without priorities.
    String plain = "plain classic";
    Row lovagePlain =
        rows.measure(
            NoopThroughput.name(1, plain, false, tasks),
            "tasks/s",
            Goal.NONE,
            () ->
                lovageOn(
                    ctx,
                    ctx.verifyingClient(),
                    PLAIN_QUEUE,
                    Map.of("LOVAGE_TOPOLOGY", "verify"),
                    tasks,
                    plain));
    Row preforkPlain =
        rows.measure(
            celeryName(Release.CELERY_5_2, "prefork -c 2", "the same plain classic queue", tasks),
            "tasks/s",
            Goal.NONE,
            () ->
                celery(
                    ctx,
                    ctx.verifyingClient(),
                    Release.CELERY_5_2,
                    QueueShape.PLAIN_CLASSIC,
                    "prefork",
                    2,
                    tasks,
                    PLAIN_QUEUE));
    String celery55Name =
        String.format(
            "No-op: Celery 5.5 prefork -c 2, quorum queue as Lovage's, no results (%,d tasks)",
            tasks);
    Row celery55 =
        Release.celery55(ctx)
            .map(
                release ->
                    rows.measure(
                        celery55Name,
                        "tasks/s",
                        Goal.NONE,
                        () ->
                            celery(
                                ctx,
                                ctx.client(QueueType.QUORUM),
                                release,
                                QueueShape.LOVAGE_QUORUM,
                                "prefork",
                                2,
                                tasks,
                                QUORUM_QUEUE)))
            .orElseGet(
                () ->
                    rows.add(
                        Row.notMeasuredHere(
                            celery55Name,
                            "tasks/s",
                            Goal.NONE,
                            "no Celery 5.5; as root, bash .ci/rabbitmq4 setup installs it")));
    return new Result(lovage, prefork, threads, lovagePlain, preforkPlain, celery55);
  }

  private static String celeryName(Release release, String pool, String queue, int tasks) {
    return String.format(
        "No-op: %s %s, %s, no results (%,d tasks)", release.name(), pool, queue, tasks);
  }

  private static Rows.Measured lovageOn(
      BenchContext ctx,
      TaskClient client,
      String queue,
      Map<String, String> more,
      int tasks,
      String queueType) {
    ctx.queues().usedTaskQueue(queue);
    String name = "worker-" + queue.replace("bench.", "").replace('.', '-');
    System.out.println("  starting " + name);
    Map<String, String> settings = new LinkedHashMap<>(more);
    settings.put("LOVAGE_QUEUE_TYPE", "classic");
    settings.put("LOVAGE_PREFETCH", String.valueOf(BenchContext.PREFETCH));
    LovageApp worker = LovageApp.worker(ctx, name, queue, settings);
    try {
      NoopThroughput.warmUp(ctx, client, queue, List.of(worker));
      return NoopThroughput.measure(ctx, client, queue, List.of(worker), false, tasks, queueType);
    } finally {
      worker.stop(ctx);
    }
  }

  private static Rows.Measured celery(
      BenchContext ctx,
      TaskClient client,
      Release release,
      QueueShape shape,
      String pool,
      int concurrency,
      int tasks,
      String queue) {
    int multiplier = BenchContext.PREFETCH / concurrency;
    System.out.println("  starting " + release.name() + " " + pool + " -c " + concurrency);
    CeleryWorker worker =
        CeleryWorker.start(ctx, release, shape, queue, pool, concurrency, multiplier, Map.of());
    try {
      long warmup = ctx.profile().warmupTasks();
      Blast.run(
          "warm-up " + release.name() + " " + pool,
          client,
          queue,
          (int) warmup,
          i -> TaskMessage.builder("demo.noop").ignoreResult(true).build(),
          worker::finished,
          Blast.timeoutFor((int) warmup));
      long before = worker.finished();
      Blast.Result result =
          Blast.run(
              release.name() + " " + pool + " -c " + concurrency,
              client,
              queue,
              tasks,
              i -> TaskMessage.builder("demo.noop").ignoreResult(true).build(),
              () -> worker.finished() - before,
              Blast.timeoutFor(tasks));
      Map<String, Object> raw = new LinkedHashMap<>();
      raw.put("tasks", result.tasks());
      raw.put("seconds", result.seconds());
      raw.put("celery", release.name());
      raw.put("pool", pool);
      raw.put("concurrency", concurrency);
      raw.put("prefetchMultiplier", multiplier);
      raw.put("queueShape", shape.env);
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
