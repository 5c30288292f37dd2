package io.lovage.bench;

import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import io.lovage.broker.Topology;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Python Celery worker running {@code bench/celery/bench_tasks.py}: Debian bookworm's Celery 5.2
 * ({@code python3-celery}), or trixie's Celery 5.5 in the chroot of {@code .ci/rabbitmq4}, on a
 * queue of one of the {@link QueueShape}s.
 *
 * <p>Completion is exact: the app's {@code task_postrun} handler appends one byte per finished task
 * to a file, whose size the bench polls (one {@code write(2)} per task, far below Celery's own cost
 * per task).
 */
final class CeleryWorker {
  static final String PYTHON = System.getenv().getOrDefault("BENCH_PYTHON", "/usr/bin/python3");

  /** A Celery release and the Python command that runs it. */
  record Release(String name, List<String> python) {
    static final Release CELERY_5_2 = new Release("Celery 5.2", List.of(PYTHON));

    /**
     * Trixie's Celery 5.5, in the chroot that {@code .ci/rabbitmq4 setup} builds (CI builds it for
     * its RabbitMQ 4.0 pass); empty where that chroot is not there or this is not root.
     */
    static java.util.Optional<Release> celery55(BenchContext ctx) {
      Path root = Path.of(System.getenv().getOrDefault("LOVAGE_TRIXIE_ROOT", "/srv/lovage-trixie"));
      boolean there = Files.isDirectory(root.resolve("usr/lib/python3/dist-packages/celery"));
      boolean root0 = "root".equals(System.getProperty("user.name"));
      return there && root0
          ? java.util.Optional.of(
              new Release(
                  "Celery 5.5",
                  List.of("bash", ctx.repo().resolve(".ci/rabbitmq4").toString(), "python3")))
          : java.util.Optional.empty();
    }
  }

  /** How the queue a Celery worker consumes is declared ({@code BENCH_QUEUE_SHAPE}). */
  enum QueueShape {
    /** As Lovage declares a classic task queue: with priorities 0-9. */
    LOVAGE_CLASSIC("classic"),
    /**
     * As Celery declares a queue by default, without arguments (so without priorities), in Lovage's
     * topology otherwise (its dead letters, the delay ladder's binding).
     */
    PLAIN_CLASSIC("plain"),
    /** As Lovage declares a quorum task queue. */
    LOVAGE_QUORUM("quorum");

    final String env;

    QueueShape(String env) {
      this.env = env;
    }

    /** Declares {@code queue} so shaped, with the rest of Lovage's topology of a task queue. */
    void declare(BenchContext ctx, String queue) {
      Topology lovage =
          LovageTopology.taskQueue(
              queue, this == LOVAGE_QUORUM ? QueueType.QUORUM : QueueType.CLASSIC);
      if (this == PLAIN_CLASSIC) {
        lovage =
            new Topology(
                lovage.exchanges(),
                lovage.queues().stream()
                    .map(q -> q.name().equals(queue) ? new Topology.Queue(queue, Map.of()) : q)
                    .toList(),
                lovage.bindings());
      }
      ctx.broker().declare(lovage);
      ctx.queues().usedTaskQueue(queue);
    }
  }

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

  static CeleryWorker start(
      BenchContext ctx,
      String queue,
      String pool,
      int concurrency,
      int prefetchMultiplier,
      Map<String, String> settings) {
    return start(
        ctx,
        Release.CELERY_5_2,
        QueueShape.LOVAGE_CLASSIC,
        queue,
        pool,
        concurrency,
        prefetchMultiplier,
        settings);
  }

  /**
   * @param settings more environment variables of {@code bench_tasks.py}, e.g. {@code
   *     BENCH_RESULT_BACKEND}
   */
  static CeleryWorker start(
      BenchContext ctx,
      Release release,
      QueueShape shape,
      String queue,
      String pool,
      int concurrency,
      int prefetchMultiplier,
      Map<String, String> settings) {
    // Declared first as the worker will declare it, so that its own declaration matches.
    shape.declare(ctx, queue);
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
      env.put("BENCH_QUEUE_SHAPE", shape.env);
      env.put("PYTHONDONTWRITEBYTECODE", "1");
      List<String> command = new java.util.ArrayList<>(release.python());
      command.addAll(
          List.of(
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
              "--loglevel=WARNING"));
      Processes.Child child = ctx.processes().start(name, command, env, ctx.celeryDir());
      CeleryWorker worker =
          new CeleryWorker(
              child,
              doneFile,
              release.name()
                  + " "
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
