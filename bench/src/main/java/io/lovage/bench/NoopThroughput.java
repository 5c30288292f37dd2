package io.lovage.bench;

import io.lovage.RateLimit;
import io.lovage.TaskClient;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import io.lovage.limits.LimitBook;
import io.lovage.limits.TaskLimits;
import io.lovage.protocol.TaskMessage;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Workload 1: end-to-end no-op throughput on a quorum queue. The Java TaskClient publishes {@code
 * demo.noop} tasks (persistent, confirmed, 2,000 in flight); Lovage worker JVMs run them and
 * acknowledge each after it ran. Tasks/s from the first publish to the last success counted at the
 * workers' {@code /prometheus}. Once with results recorded (the worker publishes task events,
 * confirmed, before it acknowledges), once without ({@code ignore_result}); with one worker JVM,
 * then two.
 */
final class NoopThroughput {
  static final String QUEUE = "bench.noop.quorum";

  /** The queue of the run with a global rate limit: its worker alone consumes it. */
  static final String LIMITED_QUEUE = "bench.noop.limited.quorum";

  /** A global limit far above what one worker runs: what is measured is the limit's own cost. */
  static final String FAR_ABOVE = "100000/s";

  private NoopThroughput() {}

  /**
   * The one-worker rows, which the ratios to PerfTest and Celery divide, the two-worker rows beside
   * them, the same with each worker held to {@link #HELD_CORES} of a core (not measured where no
   * process can be held here), and the one with a global rate limit far above the rate.
   */
  record Result(Scaling shared, Scaling held, Row beforeLimit, Row globallyLimited) {
    Row withResults() {
      return shared.oneWith();
    }

    Row withoutResults() {
      return shared.oneWithout();
    }
  }

  /** One worker JVM and two, each with results recorded and without. */
  record Scaling(Row oneWith, Row oneWithout, Row twoWith, Row twoWithout) {}

  /**
   * What each worker JVM of the held rows may use: little enough that two of them, the broker and
   * the client still fit in 2 cores, so that the rows measure the workers, not the machine.
   */
  static final double HELD_CORES = 0.15;

  static Result run(BenchContext ctx, Rows rows) {
    int tasks = ctx.profile().noopTasks();
    TaskClient client = ctx.client(QueueType.QUORUM);
    Map<String, String> settings = Map.of("LOVAGE_PREFETCH", String.valueOf(BenchContext.PREFETCH));
    ctx.queues().usedTaskQueue(QUEUE);
    List<LovageApp> started = new ArrayList<>();
    Workers workers = new Workers(ctx, client, "worker-noop", QUEUE, settings);
    try {
      Scaling shared = measured(ctx, client, rows, workers, "", tasks);
      rows.measure(
          "Worker JVM resident memory (RSS) after the no-op rows",
          "MiB",
          Goal.NONE,
          () -> {
            LovageApp first = workers.first(1).get(0);
            return Resident.of(
                first.child(),
                String.format(
                    "after %,d tasks run (results recorded for some); default heap settings",
                    first.succeeded()));
          });
      // The unheld workers stop first, and held ones take their place on the same queue.
      workers.close();
      Scaling held = held(ctx, client, rows, settings);
      // Then one fresh worker runs the blast twice, back to back: without a limit, and with a
      // global limit far above its rate set over the book of limits, so that the two differ by the
      // limit alone.
      ctx.queues().usedTaskQueue(LIMITED_QUEUE);
      ctx.queues().usedQueue(LovageTopology.rateTokens("demo.noop"));
      Lazy<LovageApp> fresh =
          Lazy.of(
              () -> {
                System.out.println("  starting worker-noop-limit");
                LovageApp worker =
                    LovageApp.worker(ctx, "worker-noop-limit", LIMITED_QUEUE, settings);
                started.add(worker);
                warmUp(ctx, client, LIMITED_QUEUE, List.of(worker));
                return worker;
              });
      Row unlimited =
          rows.measure(
              name(1, "quorum", false, tasks) + ", the same worker before its global limit",
              "tasks/s",
              Goal.NONE,
              () ->
                  measure(
                      ctx, client, LIMITED_QUEUE, List.of(fresh.get()), false, tasks, "quorum"));
      Row limited;
      try (LimitBook book = new LimitBook(ctx.broker(), Clock.systemUTC()).follow()) {
        limited =
            rows.measure(
                name(1, "quorum", false, tasks) + ", global rate limit " + FAR_ABOVE,
                "tasks/s",
                Goal.NONE,
                () -> {
                  book.put(TaskLimits.of("demo.noop").withRate(RateLimit.parse(FAR_ABOVE).global()))
                      .join();
                  awaitSharing(ctx, fresh.get());
                  // The limit's own code warms up too: the row before ran without it.
                  warmUp(ctx, client, LIMITED_QUEUE, List.of(fresh.get()));
                  return measure(
                      ctx, client, LIMITED_QUEUE, List.of(fresh.get()), false, tasks, "quorum");
                });
        book.delete("demo.noop").join();
      }
      return new Result(shared, held, unlimited, limited);
    } finally {
      workers.close();
      started.forEach(worker -> worker.stop(ctx));
    }
  }

  /** One of the four rows of {@link Scaling}, under its name. */
  private interface ScalingRow {
    Row of(String name, int workers, boolean results);
  }

  /** The four rows of one worker JVM and two, with results recorded and without. */
  private static Scaling scaling(String where, int tasks, ScalingRow row) {
    Row[] made = new Row[4];
    int i = 0;
    for (int count : List.of(1, 2)) {
      for (boolean results : List.of(true, false)) {
        made[i++] = row.of(name(count, "quorum", results, where, tasks), count, results);
      }
    }
    return new Scaling(made[0], made[1], made[2], made[3]);
  }

  /** The four rows, measured with these workers. */
  private static Scaling measured(
      BenchContext ctx, TaskClient client, Rows rows, Workers workers, String where, int tasks) {
    return scaling(
        where,
        tasks,
        (name, count, results) ->
            rows.measure(
                name,
                "tasks/s",
                Goal.NONE,
                () -> measure(ctx, client, QUEUE, workers.first(count), results, tasks, "quorum")));
  }

  /**
   * The same four rows with each worker JVM held to {@link #HELD_CORES} of a core: where the
   * workers' own CPU is the limit, as on a machine or a container of their own, what a second JVM
   * adds. Marked not measured here where this machine cannot hold a process to a CPU quota.
   */
  private static Scaling held(
      BenchContext ctx, TaskClient client, Rows rows, Map<String, String> settings) {
    int tasks = ctx.profile().noopTasks();
    String where = String.format(", each held to %.2f core (CPU quota)", HELD_CORES);
    Optional<String> unavailable = CpuQuota.unavailable();
    if (unavailable.isPresent()) {
      return scaling(
          where,
          tasks,
          (name, count, results) ->
              rows.add(Row.notMeasuredHere(name, "tasks/s", Goal.NONE, unavailable.get())));
    }
    try (Workers held = new Workers(ctx, client, "worker-held", QUEUE, settings, HELD_CORES)) {
      return measured(ctx, client, rows, held, where, tasks);
    }
  }

  /**
   * Worker JVMs consuming one queue, started as the measurements need more of them (those that join
   * together start in parallel), then warmed up with those already running ({@link #warmUp}). If
   * starting or warming up failed, every later call fails with the same reason, so each row that
   * needs them is reported missing.
   */
  static final class Workers implements AutoCloseable {
    private final BenchContext ctx;
    private final TaskClient client;
    private final String prefix;
    private final String queue;
    private final Map<String, String> settings;
    private final double heldCores;
    private final List<LovageApp> running = new ArrayList<>();
    private final List<CpuQuota> holds = new ArrayList<>();
    private RuntimeException failure;

    /**
     * @param prefix their names: {@code prefix-1}, {@code prefix-2}, …
     */
    Workers(
        BenchContext ctx,
        TaskClient client,
        String prefix,
        String queue,
        Map<String, String> settings) {
      this(ctx, client, prefix, queue, settings, 0);
    }

    /**
     * Workers each held to {@code heldCores} of CPU ({@link CpuQuota}), or unheld if 0. They warm
     * up unheld (held, a JVM compiles its hot code for minutes), then once more held, until their
     * JIT compilers, which share the quota, are quiet.
     */
    Workers(
        BenchContext ctx,
        TaskClient client,
        String prefix,
        String queue,
        Map<String, String> settings,
        double heldCores) {
      this.ctx = ctx;
      this.client = client;
      this.prefix = prefix;
      this.queue = queue;
      this.settings = Map.copyOf(settings);
      this.heldCores = heldCores;
    }

    /** The first {@code count} workers, warmed up, starting those not running yet. */
    synchronized List<LovageApp> first(int count) {
      if (failure != null) {
        throw failure;
      }
      if (running.size() < count) {
        try {
          int before = running.size();
          start(count - before);
          warmUp(ctx, client, queue, List.copyOf(running));
          if (heldCores > 0) {
            for (LovageApp worker : running.subList(before, running.size())) {
              holds.add(
                  CpuQuota.hold(
                      worker.child().name(), worker.child().process().toHandle(), heldCores));
            }
            // What the JIT compilers still do shares the quota now: until they are quiet.
            warmUp(ctx, client, queue, List.copyOf(running));
          }
        } catch (RuntimeException e) {
          failure = e;
          throw e;
        }
      }
      return List.copyOf(running.subList(0, count));
    }

    private void start(int more) {
      List<java.util.concurrent.Future<LovageApp>> starting = new ArrayList<>();
      try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
        for (int i = 0; i < more; i++) {
          String name = prefix + "-" + (running.size() + i + 1);
          System.out.println("  starting " + name);
          starting.add(pool.submit(() -> LovageApp.worker(ctx, name, queue, settings)));
        }
      }
      RuntimeException failed = null;
      for (var future : starting) {
        try {
          running.add(future.get());
        } catch (java.util.concurrent.ExecutionException e) {
          if (failed == null) {
            failed =
                e.getCause() instanceof RuntimeException cause
                    ? cause
                    : new IllegalStateException(e.getCause());
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while starting workers", e);
        }
      }
      if (failed != null) {
        throw failed;
      }
    }

    /** Stops every worker, all at once. */
    @Override
    public synchronized void close() {
      try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
        running.forEach(worker -> pool.submit(() -> worker.stop(ctx)));
      }
      running.clear();
      holds.forEach(CpuQuota::close);
      holds.clear();
    }
  }

  /** Waits until the worker consumes the limit's token queue: the book's limit reached it. */
  private static void awaitSharing(BenchContext ctx, LovageApp worker) {
    String tokens = LovageTopology.rateTokens("demo.noop");
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (ctx.broker().inspect(tokens).map(c -> c.consumers()).orElse(0) < 1) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(worker + " did not take up the global limit in 30 s");
      }
      Pause.millis(50);
    }
  }

  static String name(int workers, String queueType, boolean results, int tasks) {
    return name(workers, queueType, results, "", tasks);
  }

  /**
   * @param where e.g. {@code ", three-node cluster"}, or empty
   */
  static String name(int workers, String queueType, boolean results, String where, int tasks) {
    return String.format(
        "No-op: Lovage, %d worker JVM%s, %s queue, %s%s (%,d tasks)",
        workers,
        workers == 1 ? "" : "s",
        queueType,
        results ? "results recorded" : "no results",
        where,
        tasks);
  }

  /**
   * Untimed no-op tasks first, half of them with results recorded and half without (the code of
   * both rows warms up), in rounds of a quarter of the profile's warm-up: the workers' JIT,
   * connections and pools warm up. After the profile's warm-up, more rounds while the JIT compilers
   * of the workers and of this client still used over a tenth of their CPU in the last one (on 2
   * cores a compiler takes its CPU from the broker and the worker alike), up to four times the
   * profile's warm-up in all.
   */
  static void warmUp(BenchContext ctx, TaskClient client, String queue, List<LovageApp> workers) {
    int least = ctx.profile().warmupTasks();
    int round = Math.max(1_000, least / 4);
    int done = 0;
    while (true) {
      long before = succeeded(workers);
      CpuUse cpu = CpuUse.of(workers);
      Blast.run(
          "warm-up",
          client,
          queue,
          round,
          i -> TaskMessage.builder("demo.noop").ignoreResult(i % 2 == 1).build(),
          () -> succeeded(workers) - before,
          Blast.timeoutFor(round));
      done += round;
      Map<String, Object> per1000 = cpu.per1000(round);
      System.out.printf("  warm-up, %,d tasks: %s%n", done, CpuUse.describe(per1000));
      if (done >= least && (!CpuUse.compiling(per1000) || done >= 4 * least)) {
        return;
      }
    }
  }

  /** One timed blast of no-op tasks at these workers. */
  static Rows.Measured measure(
      BenchContext ctx,
      TaskClient client,
      String queue,
      List<LovageApp> workers,
      boolean results,
      int tasks,
      String queueType) {
    long before = succeeded(workers);
    CpuUse cpu = CpuUse.of(workers);
    Blast.Result result =
        Blast.run(
            workers.size() + " worker(s), " + queueType + (results ? ", results" : ", no results"),
            client,
            queue,
            tasks,
            i -> TaskMessage.builder("demo.noop").ignoreResult(!results).build(),
            () -> succeeded(workers) - before,
            Blast.timeoutFor(tasks));
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("tasks", result.tasks());
    raw.put("seconds", result.seconds());
    raw.put("workers", workers.size());
    raw.put("queueType", queueType);
    raw.put("resultsRecorded", results);
    raw.put("prefetch", BenchContext.PREFETCH);
    raw.put("confirmWindow", BenchContext.CONFIRM_WINDOW);
    Map<String, Object> per1000 = cpu.per1000(result.tasks());
    raw.putAll(per1000);
    System.out.println("  " + CpuUse.describe(per1000));
    return new Rows.Measured(
        result.perSecond(),
        String.format(
            "%,d tasks in %.2f s; prefetch %d, %,d publishes in flight; %s",
            result.tasks(),
            result.seconds(),
            BenchContext.PREFETCH,
            BenchContext.CONFIRM_WINDOW,
            CpuUse.describe(per1000)),
        raw);
  }

  static long succeeded(List<LovageApp> workers) {
    return workers.stream().mapToLong(LovageApp::succeeded).sum();
  }
}
