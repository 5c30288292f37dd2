package io.lovage.bench;

import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Python Celery 5.2 worker (Debian's python3-celery) running {@code bench/celery/bench_tasks.py}
 * on a classic queue shaped as Lovage declares it.
 *
 * <p>Completion is exact: the app's {@code task_postrun} handler appends one byte per finished task
 * to a file, whose size the bench polls (one {@code write(2)} per task, far below Celery's own cost
 * per task).
 */
final class CeleryWorker {
  static final String PYTHON = System.getenv().getOrDefault("BENCH_PYTHON", "/usr/bin/python3");
  private static final Duration STARTUP = Duration.ofSeconds(60);

  private final Processes.Child child;
  private final Path doneFile;
  private final String description;

  private CeleryWorker(Processes.Child child, Path doneFile, String description) {
    this.child = child;
    this.doneFile = doneFile;
    this.description = description;
  }

  /**
   * @param pool {@code prefork} or {@code threads}
   * @param prefetchMultiplier Celery's {@code worker_prefetch_multiplier}: the worker holds
   *     concurrency × this many unacknowledged messages
   */
  static CeleryWorker start(
      BenchContext ctx, String queue, String pool, int concurrency, int prefetchMultiplier) {
    return start(ctx, queue, pool, concurrency, prefetchMultiplier, Map.of());
  }

  /**
   * @param settings more environment variables of {@code bench_tasks.py}, e.g. {@code
   *     BENCH_RESULT_BACKEND}
   */
  static CeleryWorker start(
      BenchContext ctx,
      String queue,
      String pool,
      int concurrency,
      int prefetchMultiplier,
      Map<String, String> settings) {
    // Declared first with Lovage's arguments, so that the worker's own declaration matches.
    ctx.broker().declare(LovageTopology.taskQueue(queue, QueueType.CLASSIC));
    ctx.queues().usedTaskQueue(queue);
    String name = "celery-" + pool + "-c" + concurrency;
    try {
      Path doneFile = ctx.repo().resolve("bench/target/celery/" + queue + ".done");
      Files.createDirectories(doneFile.getParent());
      Files.deleteIfExists(doneFile);
      Files.createFile(doneFile);
      Map<String, String> env = new HashMap<>(settings);
      env.put("RABBITMQ_URI", ctx.rabbitUri());
      env.put("BENCH_QUEUE", queue);
      env.put("BENCH_PREFETCH_MULTIPLIER", String.valueOf(prefetchMultiplier));
      env.put("BENCH_DONE_FILE", doneFile.toString());
      env.put("PYTHONDONTWRITEBYTECODE", "1");
      Processes.Child child =
          ctx.processes()
              .start(
                  name,
                  List.of(
                      PYTHON,
                      "-m",
                      "celery",
                      "-A",
                      "bench_tasks",
                      "worker",
                      "-Q",
                      queue,
                      "-P",
                      pool,
                      "-c",
                      String.valueOf(concurrency),
                      "--without-mingle",
                      "--without-gossip",
                      "--without-heartbeat",
                      "-n",
                      name + "@%h",
                      "--loglevel=WARNING"),
                  env,
                  ctx.celeryDir());
      CeleryWorker worker =
          new CeleryWorker(
              child,
              doneFile,
              "Celery 5.2 "
                  + pool
                  + " -c "
                  + concurrency
                  + ", prefetch multiplier "
                  + prefetchMultiplier);
      worker.awaitConsuming(ctx, queue);
      return worker;
    } catch (IOException e) {
      throw new IllegalStateException("cannot prepare " + name + ": " + e, e);
    }
  }

  private void awaitConsuming(BenchContext ctx, String queue) {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!child.isAlive()) {
        throw new IllegalStateException(
            child.name() + " exited at start; its log " + child.log() + ":\n" + child.tail(30));
      }
      if (ctx.queues().consumers(queue) > 0) {
        return;
      }
      Pause.millis(200);
    }
    throw new IllegalStateException(
        child.name() + " did not consume " + queue + " within " + STARTUP + "; log " + child.log());
  }

  /** Tasks finished since the worker started. */
  long finished() {
    try {
      return Files.size(doneFile);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + doneFile + ": " + e, e);
    }
  }

  String description() {
    return description;
  }

  void stop(BenchContext ctx) {
    ctx.processes().stop(child);
  }
}
