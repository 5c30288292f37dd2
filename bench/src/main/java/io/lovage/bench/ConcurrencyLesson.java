package io.lovage.bench;

import io.lovage.TaskClient;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * Workload 6, the classic concurrency lesson: IO-bound tasks ({@code demo.sleep(0.5)}) want many
 * threads, CPU-bound ones ({@code demo.primes(n)}, n calibrated so one takes about a second on the
 * Lovage worker) want one process per core. Wall time from the first publish to the last
 * completion, for one Lovage worker with its default pools (IO on virtual threads, CPU on a
 * platform pool of the cores) and for Celery prefork -c 2 and threads -c 8. Classic queues for all,
 * no results.
 */
final class ConcurrencyLesson {
  static final double SLEEP_SECONDS = 0.5;
  private static final Duration TIMEOUT = Duration.ofMinutes(5);

  private ConcurrencyLesson() {}

  static void run(BenchContext ctx, Rows rows) {
    int io = ctx.profile().ioTasks();
    int cpu = ctx.profile().cpuTasks();
    double target = ctx.profile().cpuTaskSeconds();
    TaskClient client = ctx.client(QueueType.CLASSIC);
    String ioName =
        String.format(
            "IO lesson: %d × demo.sleep(%.1f)%s, wall time, ",
            io, SLEEP_SECONDS, io < 400 ? " (" + ctx.profile().name() + ": 400 in full)" : "");
    String cpuName =
        String.format(
            "CPU lesson: %d × demo.primes(n ≈ %.1f s on Lovage)%s, wall time, ",
            cpu, target, cpu < 8 ? " (" + ctx.profile().name() + ": 8 × 1 s in full)" : "");

    Names names = new Names(ioName, cpuName, io, cpu);

    String lovageQueue = "bench.lesson.lovage";
    Lazy<LovageApp> lovage =
        Lazy.of(
            () -> {
              ctx.queues().usedTaskQueue(lovageQueue);
              System.out.println("  starting worker-lesson (default pools)");
              LovageApp worker =
                  LovageApp.worker(
                      ctx, "worker-lesson", lovageQueue, Map.of("LOVAGE_QUEUE_TYPE", "classic"));
              NoopThroughput.warmUp(ctx, client, lovageQueue, java.util.List.of(worker));
              return worker;
            });
    // Measured on the Lovage worker, then used for every system.
    Lazy<Calibration> calibration =
        Lazy.of(() -> calibrate(client, lovageQueue, lovage.get(), target));
    Lazy<Runner> lovageRunner =
        Lazy.of(
            () -> {
              LovageApp worker = lovage.get();
              return new Runner(
                  lovageQueue,
                  worker::succeeded,
                  "IO pool: virtual threads, 200 at once",
                  "CPU pool: platform threads, one per core",
                  () -> worker.stop(ctx));
            });
    measure(
        rows,
        client,
        "Lovage, 1 worker, default pools",
        lovageRunner,
        calibration,
        names,
        Goal.below(2, "< 2 s (400 tasks)"));

    for (String pool : new String[] {"prefork", "threads"}) {
      int concurrency = pool.equals("prefork") ? 2 : 8;
      String system = "Celery 5.2 " + pool + " -c " + concurrency;
      String queue = "bench.lesson.celery-" + pool;
      Lazy<Runner> celery =
          Lazy.of(
              () -> {
                System.out.println("  starting " + system);
                CeleryWorker worker =
                    CeleryWorker.start(
                        ctx, queue, pool, concurrency, BenchContext.PREFETCH / concurrency);
                return new Runner(
                    queue,
                    worker::finished,
                    worker.description(),
                    worker.description(),
                    () -> worker.stop(ctx));
              });
      measure(rows, client, system, celery, calibration, names, Goal.NONE);
    }
  }

  /**
   * One system of the lesson, Lovage or Celery.
   *
   * @param finished tasks finished since it started
   * @param ioHow how it runs IO-bound tasks, for the row's note
   * @param cpuHow how it runs CPU-bound tasks
   */
  private record Runner(
      String queue, LongSupplier finished, String ioHow, String cpuHow, Runnable stop) {}

  /** The start of the IO and CPU rows' names (the system follows) and their task counts. */
  private record Names(String io, String cpu, int ioTasks, int cpuTasks) {}

  /** The IO row and the CPU row of one system, then stops it. */
  private static void measure(
      Rows rows,
      TaskClient client,
      String system,
      Lazy<Runner> runner,
      Lazy<Calibration> calibration,
      Names names,
      Goal ioGoal) {
    try {
      rows.measure(
          names.io() + system,
          "s",
          ioGoal,
          () ->
              timed(
                  system + " io",
                  client,
                  runner.get(),
                  names.ioTasks(),
                  ConcurrencyLesson::sleep,
                  true));
      rows.measure(
          names.cpu() + system,
          "s",
          Goal.NONE,
          () -> {
            Calibration n = calibration.get();
            return withN(
                timed(
                    system + " cpu",
                    client,
                    runner.get(),
                    names.cpuTasks(),
                    i -> primes(n.n()),
                    false),
                n);
          });
    } finally {
      if (runner.isMade()) {
        runner.get().stop().run();
      }
    }
  }

  /**
   * @param n the input of demo.primes
   * @param seconds what one demo.primes(n) took, from submit to result, on the Lovage worker
   */
  record Calibration(long n, double seconds) {}

  /**
   * Times single {@code demo.primes(n)} on the Lovage worker, from submit to result, and moves n
   * until one takes about {@code target} seconds. The sieve grows faster than n once its bits leave
   * the CPU's caches, so each step fits {@code t = c·n^k} through the last two points (a secant in
   * log-log) instead of assuming a straight line.
   */
  private static Calibration calibrate(
      TaskClient client, String queue, LovageApp worker, double target) {
    timeOne(client, queue, 5_000_000); // JIT warm-up
    long previousN = 10_000_000;
    double previousSeconds = fastestOfTwo(client, queue, previousN);
    long n = 40_000_000;
    double seconds = fastestOfTwo(client, queue, n);
    for (int round = 0; round < 4 && Math.abs(seconds - target) >= 0.15 * target; round++) {
      System.out.printf("  calibration: demo.primes(%,d) took %.3f s%n", n, seconds);
      double k = Math.log(seconds / previousSeconds) / Math.log((double) n / previousN);
      k = Double.isFinite(k) ? Math.max(0.8, Math.min(2, k)) : 1;
      double factor = Math.max(1 / 4.0, Math.min(4, Math.pow(target / seconds, 1 / k)));
      previousN = n;
      previousSeconds = seconds;
      n = Math.max(1_000_000, Math.min(400_000_000, Math.round(n * factor)));
      seconds = fastestOfTwo(client, queue, n);
    }
    System.out.printf("  calibration: demo.primes(%,d) took %.3f s%n", n, seconds);
    return new Calibration(n, seconds);
  }

  /** The faster of two runs: other processes on the machine only ever make a run slower. */
  private static double fastestOfTwo(TaskClient client, String queue, long n) {
    return Math.min(timeOne(client, queue, n), timeOne(client, queue, n));
  }

  private static double timeOne(TaskClient client, String queue, long n) {
    long start = System.nanoTime();
    try {
      client
          .submit(TaskMessage.builder("demo.primes").args(n).build(), queue)
          .get(TIMEOUT, long.class);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while calibrating", e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("demo.primes(" + n + ") on the Lovage worker: " + e, e);
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static TaskMessage sleep(int i) {
    return TaskMessage.builder("demo.sleep").args(SLEEP_SECONDS).ignoreResult(true).build();
  }

  private static TaskMessage primes(long n) {
    return TaskMessage.builder("demo.primes").args(n).ignoreResult(true).build();
  }

  private static Rows.Measured timed(
      String label,
      TaskClient client,
      Runner runner,
      int tasks,
      IntFunction<TaskMessage> task,
      boolean io) {
    long before = runner.finished().getAsLong();
    Blast.Result result =
        Blast.run(
            label,
            client,
            runner.queue(),
            tasks,
            task,
            () -> runner.finished().getAsLong() - before,
            TIMEOUT);
    String how = io ? runner.ioHow() : runner.cpuHow();
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("tasks", tasks);
    raw.put("seconds", result.seconds());
    raw.put("how", how);
    return new Rows.Measured(result.seconds(), how, raw);
  }

  private static Rows.Measured withN(Rows.Measured measured, Calibration calibration) {
    Map<String, Object> raw = new LinkedHashMap<>(measured.raw());
    raw.put("n", calibration.n());
    raw.put("calibrationSeconds", calibration.seconds());
    return new Rows.Measured(
        measured.value(),
        String.format(
            "n = %,d (one took %.2f s on Lovage); %s",
            calibration.n(), calibration.seconds(), measured.note()),
        raw);
  }
}
